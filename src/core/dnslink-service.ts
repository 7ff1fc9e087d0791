// DNSLink resolution through the same stage chain the listeners use: a TxtLookup over the chain
// feeds the pure dnslink/ rules and records which source answered each lookup, so the CLI and
// the HTTP API can say where a result came from (RESULT_SOURCES). Names are host names
// (dnslink/hostname.ts) unless the caller asks for the dnslink.dev reference rules.
import { answersOwnedBy } from '../dns/answer-scrub.js';
import { RRType } from '../dns/constants.js';
import { makeQuestion } from '../dns/names.js';
import { recordTtl, remainingTtl, type AnswerSource, type Resolution } from '../dns/resolution.js';
import { joinTxtStrings } from '../dns/txt-strings.js';
import type { TxtRecord } from '../dnslink/entries.js';
import { resolveGatewayValue, type GatewayOptions, type GatewayResult } from '../dnslink/gateway.js';
import { parseDnslinkHostname } from '../dnslink/hostname.js';
import { describeDnslinkResultError, resolveDnslink, resolveDomain, type DnslinkResult, type TxtLookup } from '../dnslink/resolve.js';
import { blockOfLookup, type DenylistBlock } from '../stages/denylist/block.js';
import type { Caller, Stage } from '../stages/stage.js';

/** What the resolution API reports as the `source` of a whole result: where its value comes from (docs/api.md). */
export const RESULT_SOURCES = ['dns', 'local', 'override', 'ens', 'ens-fallback'] as const;
export type ResultSource = (typeof RESULT_SOURCES)[number];

/**
 * How each answer's origin is reported for a result, and its weight: a result reports the origin
 * of its heaviest lookup (one overridden lookup makes the result an override; one answered by the
 * ENS fallback, ens-fallback). A cached answer counts as where it first came from.
 */
const REPORTED_AS: Readonly<Record<AnswerSource, { source: ResultSource; weight: number }>> = {
  override: { source: 'override', weight: 5 },
  'ens-fallback': { source: 'ens-fallback', weight: 4 },
  upstream: { source: 'dns', weight: 2 },
  ens: { source: 'ens', weight: 2 },
  error: { source: 'dns', weight: 2 },
  // Never an origin (the cache keeps where an answer came from): counted as DNS if one ever is.
  cache: { source: 'dns', weight: 1 },
  stale: { source: 'dns', weight: 1 },
  local: { source: 'local', weight: 0 },
  policy: { source: 'local', weight: 0 },
  // A block is an error result (410/451): its source is never reported as a result's.
  denylist: { source: 'local', weight: 0 },
};

const fromCacheSource = (source: AnswerSource): boolean => source === 'cache' || source === 'stale';
/** Whether a lookup was answered from dnslinkd's cache (fresh or stale). */
const fromCache = (lookup: LookupTrace): boolean => fromCacheSource(lookup.source);

export interface LookupTrace {
  name: string;
  rcode: number;
  source: AnswerSource;
  /** For an answer from the cache: where it first came from (upstream, ens, ens-fallback). */
  origin?: AnswerSource;
  upstream?: string;
  ede?: { code: number; text: string };
}

/**
 * Which names a lookup takes: `hostname` (URLs reduced to their host, IDNA, host-name characters
 * only) or `dnslink.dev` (the reference's: any bytes, as @dnslink/test expects of `resolve --json`).
 */
export type NameRules = 'hostname' | 'dnslink.dev';

export interface Traced<T> {
  result: T;
  /** The name looked up after the name rules (punycode, a URL's host), when it was valid. */
  domain?: string;
  /** What the name rules did to the input (a URL reduced to its host, IDNA), for the operator. */
  notes: string[];
  lookups: LookupTrace[];
  /** Where the result's value comes from (a cached answer counts as where it first came from). */
  source: ResultSource;
  /** True when every lookup was answered from the cache (fresh or stale): nothing was asked now. */
  cached: boolean;
  /** True when some lookup failed because no upstream answered (and nothing stale was left). */
  upstreamFailed: boolean;
  /** True when some answer was served stale. */
  stale: boolean;
  /** Set when a denylist blocked a lookup: the result is refused (HTTP 410 or 451, `resolve` exits 5). */
  blocked?: DenylistBlock;
}

/** Where a result's value comes from, for a set of lookups (`dns` when there were none). */
export function resultSourceOf(lookups: readonly LookupTrace[]): ResultSource {
  let best: { source: ResultSource; weight: number } | undefined;
  for (const lookup of lookups) {
    const reported = REPORTED_AS[lookup.origin ?? lookup.source];
    if (!best || reported.weight > best.weight) best = reported;
  }
  return best?.source ?? 'dns';
}

/**
 * Remaining TTL of each TXT record of a resolution that answers `name` (owned by it or by the end
 * of its CNAME chain: dns/answer-scrub.ts), strings concatenated. TXT records of other names are
 * never DNSLink values of `name`, whatever stage answered.
 */
export function txtRecordsOf(res: Resolution, name: string): TxtRecord[] {
  const records: TxtRecord[] = [];
  for (const rr of answersOwnedBy(name, RRType.TXT, res.answers)) {
    if (rr.type !== 'TXT') continue;
    records.push({ value: joinTxtStrings(rr.data), ttl: remainingTtl(recordTtl(rr), res) });
  }
  return records;
}

/** Says why a name that passed the host-name rules cannot be resolved anyway (an ENS name ENSIP-15 refuses). */
export type NameCheck = (domain: string) => string | undefined;

export class DnslinkService {
  constructor(
    private readonly chain: Stage,
    private readonly nameCheck: NameCheck = () => undefined,
  ) {}

  /** The INVALID_DOMAIN error for a name the name check refuses, or undefined. */
  private refused(domain: string): { code: 'INVALID_DOMAIN'; reason: 'INVALID_ENS_NAME'; domain: string; detail: string } | undefined {
    const why = this.nameCheck(domain);
    return why === undefined ? undefined : { code: 'INVALID_DOMAIN', reason: 'INVALID_ENS_NAME', domain, detail: why };
  }

  private tracingLookup(caller: Caller, lookups: LookupTrace[]): TxtLookup {
    return async (fqdn) => {
      const res = await this.chain.resolve(makeQuestion(fqdn, RRType.TXT), { caller });
      lookups.push({
        name: fqdn,
        rcode: res.upstreamRcode ?? res.rcode,
        source: res.source,
        ...(res.origin !== undefined && fromCacheSource(res.source) ? { origin: res.origin } : {}),
        ...(res.upstream ? { upstream: res.upstream } : {}),
        ...(res.ede ? { ede: res.ede } : {}),
      });
      return { rcode: res.upstreamRcode ?? res.rcode, records: txtRecordsOf(res, fqdn) };
    };
  }

  private async traced<T>(caller: Caller, naming: { domain?: string; notes: string[] }, run: (lookup: TxtLookup) => Promise<T>): Promise<Traced<T>> {
    const lookups: LookupTrace[] = [];
    const result = await run(this.tracingLookup(caller, lookups));
    const blocked = lookups.map(blockOfLookup).find((b) => b !== undefined);
    return {
      result,
      ...naming,
      ...(blocked ? { blocked } : {}),
      lookups,
      source: resultSourceOf(lookups),
      cached: lookups.length > 0 && lookups.every(fromCache),
      upstreamFailed: lookups.some((l) => l.source === 'error'),
      stale: lookups.some((l) => l.source === 'stale'),
    };
  }

  /** The dnslink.dev result for a name (every namespace). */
  resolve(name: string, caller: Caller, rules: NameRules = 'hostname'): Promise<Traced<DnslinkResult>> {
    if (rules === 'dnslink.dev') return this.traced(caller, { notes: [] }, (lookup) => resolveDnslink(name, lookup));
    const parsed = parseDnslinkHostname(name);
    if ('error' in parsed) return this.traced(caller, { notes: [] }, async () => parsed);
    const refused = this.refused(parsed.domain);
    if (refused) return this.traced(caller, parsed, async () => ({ error: refused }));
    return this.traced(caller, parsed, (lookup) => resolveDomain(parsed.domain, lookup));
  }

  /** The single /ipfs/ or /ipns/ value a gateway serves, following /ipns/ hops (host names only). */
  resolveForGateway(name: string, options: GatewayOptions, caller: Caller): Promise<Traced<GatewayResult>> {
    // An invalid name is reported by the gateway rules themselves, with the hops (none) and reason.
    const parsed = parseDnslinkHostname(name);
    const naming: { domain?: string; notes: string[] } = 'error' in parsed ? { notes: [] } : parsed;
    const refused = naming.domain === undefined ? undefined : this.refused(naming.domain);
    if (refused) {
      const error = { code: 'INVALID_DOMAIN' as const, reason: refused.reason, message: describeDnslinkResultError(refused), domain: refused.domain };
      return this.traced(caller, naming, async () => ({ error, hops: [] }));
    }
    return this.traced(caller, naming, (lookup) => resolveGatewayValue(naming.domain ?? name, lookup, options));
  }
}
