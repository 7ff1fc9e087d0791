// DNSLink resolution through the same stage chain the DNS transports use: a TxtLookup over the
// chain feeds the pure dnslink/ rules, and records which sources (cache, stale, upstream, local)
// answered, so the CLI and the HTTP API can say where a result came from.
import { RRType } from '../dns/constants.js';
import type { AnswerSource, Resolution } from '../dns/types.js';
import { joinTxtStrings, makeQuestion, recordTtl } from '../dns/wire.js';
import { resolveDnslink, type DnslinkResult, type TxtLookup, type TxtLookupResult } from '../dnslink/resolve.js';
import { resolveGatewayValue, type GatewayOptions, type GatewayResult } from '../dnslink/gateway.js';
import type { Stage, Transport } from '../resolver/stage.js';

export interface LookupTrace {
  name: string;
  rcode: number;
  source: AnswerSource;
  upstream?: string;
  ede?: { code: number; text: string };
}

export interface Traced<T> {
  result: T;
  lookups: LookupTrace[];
  /** True when some lookup failed because no upstream answered (and nothing stale was left). */
  upstreamFailed: boolean;
  /** True when some answer was served stale. */
  stale: boolean;
}

/** Remaining TTL of each TXT record in a resolution, strings concatenated. */
export function txtRecordsOf(res: Resolution): TxtLookupResult['records'] {
  const records: TxtLookupResult['records'] = [];
  for (const rr of res.answers) {
    if (rr.type !== 'TXT') continue;
    const ttl = res.ttlOverride ?? Math.max(0, recordTtl(rr) - (res.ttlAge ?? 0));
    records.push({ value: joinTxtStrings(rr.data), ttl });
  }
  return records;
}

export class DnslinkService {
  constructor(private readonly chain: Stage) {}

  private tracingLookup(transport: Transport, lookups: LookupTrace[]): TxtLookup {
    return async (fqdn) => {
      const res = await this.chain.resolve(makeQuestion(fqdn, RRType.TXT), { transport });
      lookups.push({
        name: fqdn,
        rcode: res.rcode,
        source: res.source,
        ...(res.upstream ? { upstream: res.upstream } : {}),
        ...(res.ede ? { ede: res.ede } : {}),
      });
      return { rcode: res.rcode, records: txtRecordsOf(res) };
    };
  }

  private async traced<T>(transport: Transport, run: (lookup: TxtLookup) => Promise<T>): Promise<Traced<T>> {
    const lookups: LookupTrace[] = [];
    const result = await run(this.tracingLookup(transport, lookups));
    return {
      result,
      lookups,
      upstreamFailed: lookups.some((l) => l.source === 'error'),
      stale: lookups.some((l) => l.source === 'stale'),
    };
  }

  /** The dnslink.dev result for a name (every namespace). */
  resolve(name: string, transport: Transport = 'api'): Promise<Traced<DnslinkResult>> {
    return this.traced(transport, (lookup) => resolveDnslink(name, lookup));
  }

  /** The single /ipfs/ or /ipns/ value a gateway serves, following /ipns/ hops. */
  resolveForGateway(name: string, options: GatewayOptions = {}, transport: Transport = 'api'): Promise<Traced<GatewayResult>> {
    return this.traced(transport, (lookup) => resolveGatewayValue(name, lookup, options));
  }
}
