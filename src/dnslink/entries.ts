// Turns the TXT records of one name into the dnslink.dev result: keeps values starting with
// `dnslink=`, validates them (no trimming, no URL decoding), logs the invalid ones, and sorts
// links and txtEntries in UTF-16 code-unit order. No I/O.

/** One TXT resource record, its character-strings already concatenated and UTF-8 decoded. */
export interface TxtRecord {
  value: string;
  ttl: number;
}

const DNSLINK_TXT_PREFIX = 'dnslink=';

/** In order of precedence: the first that applies is reported. */
const INVALID_ENTRY_REASONS = [
  'WRONG_START',
  'INVALID_CHARACTER',
  'NAMESPACE_MISSING',
  'NO_IDENTIFIER',
] as const;
export type InvalidEntryReason = (typeof INVALID_ENTRY_REASONS)[number];

export interface DnslinkLink {
  identifier: string;
  ttl: number;
}

export interface DnslinkTxtEntry {
  /** `/<namespace>/<identifier>` */
  value: string;
  ttl: number;
}

export interface FallbackLogEntry {
  code: 'FALLBACK';
}

export interface InvalidEntryLogEntry {
  code: 'INVALID_ENTRY';
  entry: string;
  reason: InvalidEntryReason;
}

export type DnslinkLogEntry = FallbackLogEntry | InvalidEntryLogEntry;

export interface DnslinkEntries {
  links: Record<string, DnslinkLink[]>;
  log: DnslinkLogEntry[];
  txtEntries: DnslinkTxtEntry[];
}

export type ParsedEntry =
  | { namespace: string; identifier: string }
  | { reason: InvalidEntryReason };

/** Parses one TXT value that starts with `dnslink=`. */
export function parseDnslinkEntry(txtValue: string): ParsedEntry {
  const body = txtValue.slice(DNSLINK_TXT_PREFIX.length);
  if (!body.startsWith('/')) {
    return { reason: 'WRONG_START' };
  }
  if (!/^[\u0020-\u007e]*$/.test(body)) {
    return { reason: 'INVALID_CHARACTER' };
  }
  const separator = body.indexOf('/', 1);
  const namespace = separator === -1 ? body.slice(1) : body.slice(1, separator);
  if (namespace === '') {
    return { reason: 'NAMESPACE_MISSING' };
  }
  const identifier = separator === -1 ? '' : body.slice(separator + 1);
  if (identifier === '') {
    return { reason: 'NO_IDENTIFIER' };
  }
  return { namespace, identifier };
}

/** Compares strings by UTF-16 code units, the order the reference implementation uses. */
export function compareCodeUnits(left: string, right: string): number {
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}

export function collectDnslinkEntries(records: readonly TxtRecord[]): DnslinkEntries {
  const linksByNamespace = new Map<string, DnslinkLink[]>();
  const log: DnslinkLogEntry[] = [];
  for (const record of records) {
    if (!record.value.startsWith(DNSLINK_TXT_PREFIX)) {
      continue;
    }
    const parsed = parseDnslinkEntry(record.value);
    if ('reason' in parsed) {
      log.push({ code: 'INVALID_ENTRY', entry: record.value, reason: parsed.reason });
      continue;
    }
    const link: DnslinkLink = { identifier: parsed.identifier, ttl: record.ttl };
    const existing = linksByNamespace.get(parsed.namespace);
    if (existing === undefined) {
      linksByNamespace.set(parsed.namespace, [link]);
    } else {
      existing.push(link);
    }
  }

  const sortedNamespaces = [...linksByNamespace.keys()].sort(compareCodeUnits);
  const txtEntries: DnslinkTxtEntry[] = [];
  const sortedLinks: Array<[string, DnslinkLink[]]> = [];
  for (const namespace of sortedNamespaces) {
    const links = (linksByNamespace.get(namespace) ?? []).sort((a, b) =>
      compareCodeUnits(a.identifier, b.identifier),
    );
    sortedLinks.push([namespace, links]);
    for (const { identifier, ttl } of links) {
      txtEntries.push({ value: `/${namespace}/${identifier}`, ttl });
    }
  }
  // Object.fromEntries defines own properties, so a namespace such as `__proto__` stays data.
  return { links: Object.fromEntries(sortedLinks), log, txtEntries };
}
