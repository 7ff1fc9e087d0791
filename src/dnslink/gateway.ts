// Gateway (boxo / Kubo) semantics on top of a dnslink.dev result: pick the single /ipfs/ or
// /ipns/ value, follow /ipns/<domain> values up to a hop limit while joining paths the way boxo
// does, keep the shortest TTL of the chain, and report failures with stable codes. Every name
// looked up is a host name (hostname.ts).
import { parseIpfsPath, parseIpnsKey, CidError } from './cid.js';
import type { InvalidDomainReason } from './domain.js';
import { parseDnslinkHostname } from './hostname.js';
import type { DnslinkLogEntry } from './entries.js';
import {
  describeDnslinkResultError,
  isDnslinkFailure,
  resolveDomain,
  type DnsRcodeErrorCode,
  type DnslinkSuccess,
  type TxtLookup,
} from './resolve.js';

/** boxo's namesys depth limit. */
const DEFAULT_MAX_HOPS = 32;

const GATEWAY_NAMESPACES = ['ipfs', 'ipns'] as const;
export type GatewayNamespace = (typeof GATEWAY_NAMESPACES)[number];

export type GatewayErrorCode =
  | 'NO_DNSLINK'
  | 'MULTIPLE_DNSLINK'
  | 'LOOP'
  | 'TOO_MANY_HOPS'
  | 'INVALID_CID'
  | 'INVALID_DOMAIN'
  | DnsRcodeErrorCode;

export interface GatewayError {
  code: GatewayErrorCode;
  /** For INVALID_DOMAIN: which rule the name broke (TOO_LONG, EMPTY_PART, INVALID_CHARACTER...). */
  reason?: InvalidDomainReason;
  /** Human-readable explanation, safe to show to an operator. */
  message: string;
  /** The domain whose resolution failed (the input or a later hop). */
  domain: string;
}

/** One DNSLink lookup along the chain: the name asked, the value chosen there, its TTL. */
export interface GatewayHop {
  name: string;
  value: string;
  ttl: number;
}

export type GatewayLogEntry = DnslinkLogEntry & { name: string };

export interface GatewayResolution {
  /** The name as given by the caller. */
  name: string;
  /** Final content path, e.g. `/ipfs/<cid>/<path>` or `/ipns/<key>/<path>`. */
  value: string;
  namespace: GatewayNamespace;
  /** CID text as written in the final record (for /ipfs/ values and /ipns/ keys). */
  cid?: string;
  /** The same CID as CIDv1 base32. */
  cidV1?: string;
  /** Path after the CID or name, starting with `/`, or ''. */
  path: string;
  /** Shortest TTL along the chain, in seconds. */
  ttl: number;
  hops: GatewayHop[];
  log: GatewayLogEntry[];
}

export interface GatewayFailure {
  error: GatewayError;
  /** Hops completed before the failure. */
  hops: GatewayHop[];
}

export type GatewayResult = GatewayResolution | GatewayFailure;

export interface GatewayOptions {
  /** Follow `/ipns/<domain>` values. Default true. */
  recursive?: boolean;
  /** Most DNSLink lookups for one resolution. Default 32. */
  maxHops?: number;
}

export function isGatewayFailure(result: GatewayResult): result is GatewayFailure {
  return 'error' in result;
}

/** The value picked from one name's DNSLink result. */
export interface PickedGatewayValue {
  namespace: GatewayNamespace;
  /** `/<namespace>/<identifier>` */
  value: string;
  identifier: string;
  ttl: number;
}

export type GatewayPickOutcome = { picked: PickedGatewayValue } | { error: Omit<GatewayError, 'domain'> };

function isUsableValue(namespace: GatewayNamespace, identifier: string): boolean {
  if (namespace === 'ipns') {
    return true;
  }
  try {
    parseIpfsPath(`/ipfs/${identifier}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * boxo rules: only /ipfs/ and /ipns/ count, an /ipfs/ value with a bad CID is ignored, and more
 * than one usable value is an error (ErrMultipleDNSLinkRecords).
 */
function pickGatewayValue(result: DnslinkSuccess): GatewayPickOutcome {
  const usable: PickedGatewayValue[] = [];
  const badCid: string[] = [];
  for (const namespace of GATEWAY_NAMESPACES) {
    for (const { identifier, ttl } of result.links[namespace] ?? []) {
      const value = `/${namespace}/${identifier}`;
      if (isUsableValue(namespace, identifier)) {
        usable.push({ namespace, value, identifier, ttl });
      } else {
        badCid.push(value);
      }
    }
  }
  const [only, ...others] = usable;
  if (only !== undefined && others.length === 0) {
    return { picked: only };
  }
  if (only !== undefined) {
    const values = usable.map((candidate) => candidate.value).join(', ');
    return {
      error: {
        code: 'MULTIPLE_DNSLINK',
        message: `${usable.length} DNSLink values for /ipfs/ or /ipns/, exactly one is allowed: ${values}`,
      },
    };
  }
  if (badCid.length > 0) {
    return {
      error: { code: 'INVALID_CID', message: `DNSLink value with an invalid CID: ${badCid.join(', ')}` },
    };
  }
  return { error: { code: 'NO_DNSLINK', message: 'no dnslink=/ipfs/... or dnslink=/ipns/... TXT record' } };
}

/** boxo's path.Join of a record's own path (inner) with the path carried from the hop before (outer). */
export function joinContentPaths(innerPath: string, outerPath: string): string {
  if (outerPath === '') {
    return innerPath;
  }
  return `${innerPath.replace(/\/+$/, '')}/${outerPath.replace(/^\/+/, '')}`;
}

function splitFirstSegment(identifier: string): { head: string; path: string } {
  const slash = identifier.indexOf('/');
  return slash === -1
    ? { head: identifier, path: '' }
    : { head: identifier.slice(0, slash), path: identifier.slice(slash) };
}

/** Compares names the way DNS does: ASCII letters case-insensitively, everything else exactly. */
function loopKey(domain: string): string {
  return domain.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

export async function resolveGatewayValue(
  name: string,
  lookup: TxtLookup,
  options: GatewayOptions = {},
): Promise<GatewayResult> {
  const recursive = options.recursive ?? true;
  const maxHops = Math.max(1, options.maxHops ?? DEFAULT_MAX_HOPS);
  const hops: GatewayHop[] = [];
  const log: GatewayLogEntry[] = [];
  const visited: string[] = [];
  const fail = (code: GatewayErrorCode, message: string, domain: string): GatewayFailure => ({
    error: { code, message, domain },
    hops,
  });

  let currentName = name;
  let carriedPath = '';
  let shortestTtl = Number.POSITIVE_INFINITY;

  for (;;) {
    const parsed = parseDnslinkHostname(currentName);
    if ('error' in parsed) {
      return { error: { code: 'INVALID_DOMAIN', reason: parsed.error.reason, message: describeDnslinkResultError(parsed.error), domain: currentName }, hops };
    }
    const domain = parsed.domain;
    const key = loopKey(domain);
    if (visited.includes(key)) {
      const chain = [...hops.map((hop) => hop.name), domain].join(' -> ');
      return fail('LOOP', `DNSLink loop: ${chain}`, domain);
    }
    if (hops.length >= maxHops) {
      return fail('TOO_MANY_HOPS', `more than ${maxHops} DNSLink hops resolving ${name}`, domain);
    }
    visited.push(key);

    const result = await resolveDomain(domain, lookup);
    if (isDnslinkFailure(result)) {
      return fail(result.error.code, describeDnslinkResultError(result.error), domain);
    }
    for (const entry of result.log) {
      log.push({ ...entry, name: domain });
    }
    const outcome = pickGatewayValue(result);
    if ('error' in outcome) {
      return fail(outcome.error.code, `${domain}: ${outcome.error.message}`, domain);
    }
    const { picked } = outcome;
    hops.push({ name: domain, value: picked.value, ttl: picked.ttl });
    shortestTtl = Math.min(shortestTtl, picked.ttl);

    const { head, path: recordPath } = splitFirstSegment(picked.identifier);
    const path = joinContentPaths(recordPath, carriedPath);
    const done = (extra: Pick<GatewayResolution, 'cid' | 'cidV1'>): GatewayResolution => ({
      name,
      value: `/${picked.namespace}/${head}${path}`,
      namespace: picked.namespace,
      ...extra,
      path,
      ttl: shortestTtl,
      hops,
      log,
    });

    if (picked.namespace === 'ipfs') {
      try {
        const ipfs = parseIpfsPath(`/ipfs/${head}`);
        return done({ cid: ipfs.cid, cidV1: ipfs.cidV1 });
      } catch (error) {
        // pickGatewayValue only returns /ipfs/ values whose CID parses.
        const message = error instanceof CidError ? error.message : String(error);
        return fail('INVALID_CID', message, domain);
      }
    }
    const ipnsKey = parseIpnsKey(head);
    if (ipnsKey !== undefined) {
      return done({ cid: ipnsKey.text, cidV1: ipnsKey.cidV1 });
    }
    if (!recursive) {
      return done({});
    }
    currentName = head;
    carriedPath = path;
  }
}
