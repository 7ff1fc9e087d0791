// Fifth stage: ENS names. A TXT question at `_dnslink.<name>` or `<name>` under an ENS suffix
// (`ens.suffixes`, default eth) is answered from the name's contenthash as `dnslink=<value>`, with
// `ens.ttl`; below the cache, so ENS answers are cached, coalesced and served stale like DNS ones.
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord, Question } from '../../dns/types.js';
import { DNSLINK_PREFIX } from '../../dnslink/domain.js';
import { CodedError, errorMessage } from '../../errors.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { EnsConfig } from './config.js';
import { decodeContenthash } from './contenthash.js';
import type { EnsClient } from './ens-client.js';
import { ensNameOf } from './ens-name.js';

/** The SOA negative answers carry (RFC 2308), so an unset name is cached for `ens.ttl`. */
function soa(zone: string, ttl: number): DnsRecord {
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl,
    data: { mname: 'ens.dnslinkd.invalid', rname: 'hostmaster.dnslinkd.invalid', serial: 1, refresh: 3600, retry: 600, expire: 86_400, minimum: ttl },
  };
}

export class EnsStage implements Stage {
  readonly name = 'ens';
  next: Stage = UNLINKED;

  constructor(
    private readonly options: Pick<EnsConfig, 'ttl' | 'suffixes'>,
    /** Undefined when no RPC endpoint is configured: ENS is off and every question passes on. */
    private readonly client: EnsClient | undefined,
  ) {}

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** The ENS suffix `name` (lower-cased, no `_dnslink.`) is under, if any. */
  private suffixOf(name: string): string | undefined {
    return this.options.suffixes.find((s) => name === s || name.endsWith(`.${s}`));
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    if (!this.client || question.class !== 1) return this.next.resolve(question, ctx);
    const lower = question.name.toLowerCase();
    const bare = lower.startsWith(DNSLINK_PREFIX) ? lower.slice(DNSLINK_PREFIX.length) : lower;
    const zone = this.suffixOf(bare);
    if (zone === undefined || bare === zone) return this.next.resolve(question, ctx);
    if (question.type !== RRType.TXT) return this.negative(Rcode.NOERROR, zone);
    return this.answer(question, bare, zone, this.client);
  }

  private negative(rcode: number, zone: string, ede?: { code: number; text: string }): Resolution {
    return { ...emptyResolution(rcode, 'ens'), authorities: [soa(zone, this.options.ttl)], ...(ede ? { ede } : {}) };
  }

  private async answer(question: Question, dnsName: string, zone: string, client: EnsClient): Promise<Resolution> {
    const ens = ensNameOf(dnsName);
    if ('error' in ens) return this.negative(Rcode.NXDOMAIN, zone, { code: EdeCode.OTHER, text: ens.error });
    let lookup;
    try {
      lookup = await client.contenthash(ens.name);
    } catch (err) {
      const text = err instanceof CodedError ? err.message : `ENS lookup failed: ${errorMessage(err)}`;
      return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text } };
    }
    if (!lookup.found) return this.negative(Rcode.NXDOMAIN, zone);
    const via = `${lookup.rpc} (resolver ${lookup.resolver}${lookup.wildcard ? ', wildcard' : ''})`;
    const decoded = decodeContenthash(lookup.contenthash);
    switch (decoded.kind) {
      case 'unset':
        return { ...this.negative(Rcode.NXDOMAIN, zone), upstream: via };
      case 'unsupported':
        return { ...this.negative(Rcode.NOERROR, zone, { code: EdeCode.NOT_SUPPORTED, text: decoded.message }), upstream: via };
      case 'invalid':
        return { ...this.negative(Rcode.NOERROR, zone, { code: EdeCode.OTHER, text: decoded.message }), upstream: via };
      case 'dnslink':
        return {
          rcode: Rcode.NOERROR,
          answers: [{ name: question.name, type: 'TXT', class: 'IN', ttl: this.options.ttl, data: `dnslink=${decoded.value}` }],
          authorities: [],
          additionals: [],
          source: 'ens',
          upstream: via,
        };
    }
  }
}
