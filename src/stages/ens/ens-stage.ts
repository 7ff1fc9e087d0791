// Fifth stage: ENS names. A TXT question at `_dnslink.<name>` or `<name>` under an ENS suffix
// (`ens.suffixes`) or an eth.link-style mirror (`ens.mirrors`) is answered from the contenthash as
// `dnslink=<value>`; a DNS name whose DNS fails or has no DNSLink may fall back to ENS (`ens.aliases`,
// `ens.fallback`). Below the cache, so ENS answers are cached and served stale like DNS ones.
import { answersOwnedBy } from '../../dns/answer-scrub.js';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord, Question } from '../../dns/types.js';
import { DNSLINK_PREFIX } from '../../dnslink/domain.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import { CodedError, errorMessage } from '../../errors.js';
import { EnsChainWatch } from './chain-watch.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { EnsConfig } from './config.js';
import { decodeContenthash } from './contenthash.js';
import { EnsClient } from './ens-client.js';
import { ensNameOf } from './ens-name.js';
import { plainText } from './plain-text.js';
import type { EnsHealthView, EnsObserver } from './rpc-health.js';

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

/** What a question's name is to ENS: an ENS name (native or through a mirror), or a DNS name that may fall back. */
type EnsTarget = { kind: 'ens'; dnsName: string; ensName: string; zone: string; mirror: boolean } | { kind: 'dns'; dnsName: string };

const isDnslinkTxt = (rr: DnsRecord): boolean => rr.type === 'TXT' && joinTxtStrings((rr as { data?: unknown }).data).startsWith('dnslink=');

export type EnsStageOptions = Pick<EnsConfig, 'ttl' | 'suffixes' | 'mirrors' | 'mirrorAddresses' | 'aliases' | 'fallback'> &
  Partial<Pick<EnsConfig, 'watchIntervalMs' | 'watchMaxNames' | 'watchMaxBlocks'>>;

export class EnsStage implements Stage {
  readonly name = 'ens';
  next: Stage = UNLINKED;
  private aliases!: ReadonlyMap<string, string>;
  /** The chain watch (ens.watchIntervalMs), while ENS is on and the watch is not off. */
  private watch: EnsChainWatch | undefined;
  /**
   * Re-resolves a DNS question name (TXT) and replaces its cached answer: set by the chain builder
   * to the cache stage's refresh; unset, the watch has nothing to refresh and does not run.
   */
  refreshCached: ((questionName: string) => Promise<unknown>) | undefined;

  constructor(
    private options: EnsStageOptions,
    /** Undefined when no RPC endpoint is configured: ENS is off and every question passes on. */
    private client: EnsClient | undefined,
    /** Where the clients it builds report their requests (metrics, log lines). */
    private readonly observer: EnsObserver = {},
  ) {
    this.reconfigure(options, client);
  }

  /** The stage for the `ens` settings, its client (when ens.rpc is set) reporting to `observer`. */
  static fromConfig(config: EnsConfig, observer: EnsObserver): EnsStage {
    const stage = new EnsStage(config, undefined, observer);
    stage.reconfigureFrom(config);
    return stage;
  }

  /** Other ENS settings and client (a configuration reload); lookups under way finish with the old client. */
  reconfigure(options: EnsStageOptions, client: EnsClient | undefined): void {
    if (this.client !== client) this.client?.health.flush();
    this.options = options;
    this.client = client;
    this.aliases = new Map(Object.entries(options.aliases).map(([dns, ens]) => [dns.toLowerCase(), ens]));
    const watched = this.watch?.watched() ?? new Map<string, ReadonlySet<string>>();
    this.watch?.stop();
    this.watch = undefined;
    const intervalMs = options.watchIntervalMs ?? 0;
    if (client && intervalMs > 0) {
      const refresh = (questionName: string) => this.refreshCached?.(questionName) ?? Promise.resolve();
      this.watch = new EnsChainWatch(client, { intervalMs, maxNames: options.watchMaxNames ?? 1_000, maxBlocks: options.watchMaxBlocks ?? 1_000 }, refresh, this.observer.metrics, this.observer.log);
      for (const [ensName, questions] of watched) for (const q of questions) this.watch.note(ensName, q);
    }
  }

  /** The chain watch (tests poll it by hand); undefined while ENS or the watch is off. */
  get chainWatch(): EnsChainWatch | undefined {
    return this.watch;
  }

  /** Other `ens` settings (a configuration reload): a new client for them, reporting as before. */
  reconfigureFrom(config: EnsConfig): void {
    this.reconfigure(config, config.rpc.length > 0 ? new EnsClient({ ...config, now: this.observer.now ?? Date.now, observer: this.observer }) : undefined);
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** The RPC endpoints' health (/healthz, /admin/v1/status); undefined while ENS is off. */
  health(): EnsHealthView | undefined {
    return this.client?.health.view();
  }

  /** The client in use (the start check probes its endpoints); undefined while ENS is off. */
  get rpcClient(): EnsClient | undefined {
    return this.client;
  }

  /** Why ENS would refuse `name` (a name this stage answers that ENSIP-15 cannot normalize); undefined otherwise. */
  invalidEnsName(name: string): string | undefined {
    if (!this.client) return undefined;
    const target = this.targetOf(name);
    if (target.kind !== 'ens') return undefined;
    const ens = ensNameOf(target.ensName);
    return 'error' in ens ? ens.error : undefined;
  }

  private targetOf(name: string): EnsTarget {
    const lower = name.toLowerCase();
    const dnsName = lower.startsWith(DNSLINK_PREFIX) ? lower.slice(DNSLINK_PREFIX.length) : lower;
    const native = this.options.suffixes.find((s) => dnsName.endsWith(`.${s}`));
    if (native) return { kind: 'ens', dnsName, ensName: dnsName, zone: native, mirror: false };
    const mirror = this.options.mirrors.find((m) => dnsName.endsWith(`.${m}`));
    if (mirror) return { kind: 'ens', dnsName, ensName: `${dnsName.slice(0, -mirror.length - 1)}.eth`, zone: mirror, mirror: true };
    return { kind: 'dns', dnsName };
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    if (!this.client || question.class !== 1) return this.next.resolve(question, ctx);
    const target = this.targetOf(question.name);
    if (target.kind === 'dns') {
      if (question.type !== RRType.TXT || this.fallbackNameFor(target.dnsName) === undefined) return this.next.resolve(question, ctx);
      return this.withFallback(question, ctx, target.dnsName, this.client);
    }
    if (question.type === RRType.TXT) return this.answer(question, target.ensName, target.zone, this.client);
    if (target.mirror && !question.name.toLowerCase().startsWith(DNSLINK_PREFIX)) {
      const addresses = question.type === RRType.A ? this.options.mirrorAddresses.A : question.type === RRType.AAAA ? this.options.mirrorAddresses.AAAA : [];
      if (addresses.length > 0) {
        const type = question.type === RRType.A ? 'A' : 'AAAA';
        return { ...emptyResolution(Rcode.NOERROR, 'ens'), answers: addresses.map((data) => ({ name: question.name, type, class: 'IN', ttl: this.options.ttl, data }) as DnsRecord) };
      }
    }
    return this.negative(Rcode.NOERROR, target.zone);
  }

  /** The ENS name a DNS name falls back to: its alias, or itself with `ens.fallback: all`. */
  private fallbackNameFor(dnsName: string): string | undefined {
    if (this.options.fallback === 'off') return undefined;
    return this.aliases.get(dnsName) ?? (this.options.fallback === 'all' ? dnsName : undefined);
  }

  /**
   * Asks DNS (the stages below) first; when that fails with nothing stale held above, or answers
   * with no DNSLink, answers from ENS instead, saying so. NXDOMAIN at `_dnslink.` is passed on,
   * so the DNSLink rules still try the bare name before anything falls back.
   */
  private async withFallback(question: Question, ctx: QueryContext, dnsName: string, client: EnsClient): Promise<Resolution> {
    const res = await this.next.resolve(question, ctx);
    const prefixed = question.name.toLowerCase().startsWith(DNSLINK_PREFIX);
    let why: string;
    if (res.source === 'error') {
      if (ctx.staleHeld) return res; // the name's own last known answer comes first
      why = `DNS failed${res.ede ? `: ${res.ede.text}` : ''}`;
    } else if (res.rcode === Rcode.NXDOMAIN) {
      if (prefixed) return res;
      why = 'DNS: no such name';
    } else if (res.rcode === Rcode.NOERROR && !answersOwnedBy(question.nameWire, RRType.TXT, res.answers).some(isDnslinkTxt)) {
      // Only TXT records of the asked name (or its CNAME chain's end) count as its DNSLink.
      why = 'DNS: no DNSLink';
    } else {
      return res;
    }
    const ensName = this.fallbackNameFor(dnsName)!;
    const fallback = await this.answer(question, ensName, this.options.suffixes[0] ?? 'eth', client);
    if (fallback.source !== 'ens' || fallback.answers.length === 0) return res;
    return { ...fallback, source: 'ens-fallback', ede: { code: EdeCode.OTHER, text: plainText(`ENS fallback: answered from ENS ${ensName} (${why})`) } };
  }

  private negative(rcode: number, zone: string, ede?: { code: number; text: string }): Resolution {
    return { ...emptyResolution(rcode, 'ens'), authorities: [soa(zone, this.options.ttl)], ...(ede ? { ede: { code: ede.code, text: plainText(ede.text) } } : {}) };
  }

  private async answer(question: Question, ensInput: string, zone: string, client: EnsClient): Promise<Resolution> {
    const ens = ensNameOf(ensInput);
    if ('error' in ens) return this.negative(Rcode.NXDOMAIN, zone, { code: EdeCode.OTHER, text: ens.error });
    let lookup;
    try {
      lookup = await client.contenthash(ens.name);
    } catch (err) {
      const text = err instanceof CodedError ? err.message : `ENS lookup failed: ${errorMessage(err)}`;
      return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: plainText(text) } };
    }
    if (this.refreshCached) this.watch?.note(ens.name, question.name);
    if (!lookup.found) return this.negative(Rcode.NXDOMAIN, zone);
    const via = `${lookup.rpc} (resolver ${lookup.resolver}${lookup.wildcard ? ', wildcard' : ''}${lookup.ccipRead ? ', CCIP-Read' : ''})`;
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
