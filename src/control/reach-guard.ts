// The guard on changes with a wide reach: an override (or a block) on a name that is not one
// site's (one label, a special-use name, an IP literal, a public suffix) and a flush over a whole
// suffix or more entries than admin.maxFlushEntries are refused with NEEDS_FORCE unless asked with
// force. Public suffixes come from tldts (the Public Suffix List it ships; no I/O at run time).
import { isIP } from 'node:net';
import { parse as parseDomain } from 'tldts';
import { CodedError } from '../errors.js';

/** admin.maxFlushEntries when not configured. */
export const DEFAULT_MAX_FLUSH_ENTRIES = 100_000;

export type ReachKind = 'ip-literal' | 'special-use' | 'one-label' | 'public-suffix';

/** Why a name reaches more than one site. */
export interface WideReach {
  name: string;
  kind: ReachKind;
  why: string;
}

/** Special-use names (RFC 6761, RFC 6762, RFC 9476's .alt aside) refused as a whole. */
const SPECIAL_USE = new Set(['localhost', 'local', 'invalid', 'test', 'arpa', 'in-addr.arpa', 'ip6.arpa']);
/** Reverse-mapping zones: every name under them is an address's, not a site's. */
const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'];

/** How wide a change at `raw` reaches (a host name, any case, a trailing dot allowed), or undefined: one site's. */
export function wideReach(raw: string): WideReach | undefined {
  const name = raw.toLowerCase().replace(/\.$/, '');
  const at = (kind: ReachKind, why: string): WideReach => ({ name, kind, why });
  if (isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0) return at('ip-literal', `${name} is an IP address, not a domain name`);
  const labels = name.split('.');
  if (/^\d+$/.test(labels[labels.length - 1]!)) return at('ip-literal', `${name} ends in a numeric label: it reads as an IP address, and no top-level domain is numeric`);
  if (SPECIAL_USE.has(name)) return at('special-use', `${name} is a special-use name (RFC 6761): every name under it is affected on every client`);
  const reverse = REVERSE_ZONES.find((zone) => name.endsWith(`.${zone}`));
  if (reverse) return at('special-use', `${name} is under ${reverse}, the reverse-mapping zone: it names addresses, not a site`);
  if (labels.length === 1) return at('one-label', `${name} has one label: a top-level domain or a host name of a local network, not one site`);
  const parsed = parseDomain(name, { allowPrivateDomains: true, extractHostname: false, validateHostname: false });
  if ((parsed.isIcann === true || parsed.isPrivate === true) && parsed.publicSuffix === name) {
    return at('public-suffix', `${name} is a public suffix (${parsed.isPrivate ? 'private' : 'ICANN'} section of the Public Suffix List): independent sites are registered under it`);
  }
  return undefined;
}

/** A 400 NEEDS_FORCE: the change was refused for its reach; `details` go into the answer's body. */
export class NeedsForceError extends CodedError {
  constructor(
    message: string,
    readonly details: { reach: WideReach[]; dryRun: Record<string, unknown> },
  ) {
    super('NEEDS_FORCE', message);
    this.name = 'NeedsForceError';
  }
}

const FORCE_HINT = 'check the dry run below, then send the request again with "force": true (CLI --force); the audit log records it';

/**
 * Refuses a change to names of which some reach wide (`reach`), unless forced. `what`: the change
 * in words ("an override of com"), `dryRun`: what it would do, sent back in the refusal, and
 * `figures` the same in words for the message.
 */
export function requireForceForNames(reach: WideReach[], force: boolean | undefined, what: string, dryRun: Record<string, unknown>, figures: string): void {
  if (force === true || reach.length === 0) return;
  const shown = reach.slice(0, 10).map((r) => r.why);
  const more = reach.length > shown.length ? `; and ${reach.length - shown.length} more (see "reach")` : '';
  throw new NeedsForceError(`${what} reaches wide: ${shown.join('; ')}${more} (dry run: ${figures}); ${FORCE_HINT}`, { reach, dryRun });
}

export interface FlushReachInput {
  /** `{suffix}` or `{name}`: a flush of everything (`all`) is explicit already and never guarded. */
  target: { name: string } | { suffix: string };
  /** Entries its dry run would remove. */
  removed: number;
  maxFlushEntries: number;
  negativeOnly: boolean;
}

/** Refuses a flush of a suffix that reaches wide, or of more than admin.maxFlushEntries entries, unless forced. */
export function requireForceForFlush(input: FlushReachInput, force: boolean | undefined): void {
  if (force === true) return;
  const { target, removed, maxFlushEntries, negativeOnly } = input;
  const reach: WideReach[] = [];
  const whys: string[] = [];
  if ('suffix' in target) {
    const wide = wideReach(target.suffix);
    if (wide) {
      reach.push(wide);
      whys.push(wide.why);
    }
  }
  if (removed > maxFlushEntries) whys.push(`its dry run would remove ${removed} cache entries, more than admin.maxFlushEntries (${maxFlushEntries})`);
  if (whys.length === 0) return;
  const what = 'suffix' in target ? `a flush of every name under ${target.suffix}` : `a flush of ${target.name}`;
  throw new NeedsForceError(`${what} reaches wide: ${whys.join('; ')} (dry run: ${removed} entries would be removed); ${FORCE_HINT}`, {
    reach,
    dryRun: { target, negativeOnly, removed, maxFlushEntries },
  });
}
