// A list of upstreams asked in turn, each attempt with its own timeout;
// SERVFAIL/REFUSED/network errors move on to the next upstream. Upstreams that failed recently are
// tried last, so one dead server does not cost every query a timeout.
import { Rcode, rcodeName } from '../../dns/constants.js';
import type { Question } from '../../dns/types.js';
import type { DecodedResponse } from '../../dns/upstream-codec.js';
import { CodedError, errorMessage } from '../../errors.js';
import { exchange } from './upstream-exchange.js';
import { parseUpstreamUrl, type UpstreamEndpoint } from './upstream-url.js';

export interface UpstreamAnswer {
  response: DecodedResponse;
  upstream: string;
  rttMs: number;
  /** False when every upstream failed and this is the last SERVFAIL/REFUSED one of them gave. */
  usable: boolean;
  /** Why earlier upstreams were passed over. */
  failures: string[];
}

export interface UpstreamObserver {
  onAnswer?(upstream: string, rttMs: number, rcode: number): void;
  onError?(upstream: string, code: string): void;
}

export interface UpstreamPoolOptions {
  timeoutMs: number;
  observer?: UpstreamObserver;
  now?: () => number;
  /** How long a failed upstream is moved to the back of the list. */
  penaltyMs?: number;
}

export class UpstreamPool {
  readonly endpoints: UpstreamEndpoint[];
  private readonly failedAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    urls: string[],
    private readonly options: UpstreamPoolOptions,
  ) {
    this.endpoints = urls.map(parseUpstreamUrl);
    this.now = options.now ?? Date.now;
  }

  private ordered(): UpstreamEndpoint[] {
    const penalty = this.options.penaltyMs ?? 30_000;
    const now = this.now();
    const healthy: UpstreamEndpoint[] = [];
    const penalized: UpstreamEndpoint[] = [];
    for (const e of this.endpoints) {
      const failed = this.failedAt.get(e.url);
      (failed !== undefined && now - failed < penalty ? penalized : healthy).push(e);
    }
    return healthy.concat(penalized);
  }

  /** Asks upstreams in order until one gives a usable answer. */
  async query(question: Question): Promise<UpstreamAnswer> {
    if (this.endpoints.length === 0) {
      throw new CodedError('NO_UPSTREAMS', 'no upstream resolvers are configured');
    }
    const failures: string[] = [];
    let rejected: UpstreamAnswer | undefined;
    for (const endpoint of this.ordered()) {
      const started = this.now();
      try {
        const response = await exchange(endpoint, question, this.options.timeoutMs);
        const rttMs = this.now() - started;
        this.options.observer?.onAnswer?.(endpoint.url, rttMs, response.rcode);
        if (response.rcode === Rcode.SERVFAIL || response.rcode === Rcode.REFUSED) {
          failures.push(`${endpoint.url}: answered ${rcodeName(response.rcode)}`);
          this.failedAt.set(endpoint.url, this.now());
          rejected = { response, upstream: endpoint.url, rttMs, usable: false, failures };
          continue;
        }
        this.failedAt.delete(endpoint.url);
        return { response, upstream: endpoint.url, rttMs, usable: true, failures };
      } catch (err) {
        const code = err instanceof CodedError ? err.code : 'UPSTREAM_NETWORK';
        this.options.observer?.onError?.(endpoint.url, code);
        this.failedAt.set(endpoint.url, this.now());
        failures.push(errorMessage(err));
      }
    }
    // Every upstream failed, but one answered: pass its rcode on (DNSLink reports DNS_RCODE_5 for
    // REFUSED), still marked unusable so the cache can serve stale instead.
    if (rejected) return rejected;
    throw new CodedError('UPSTREAMS_FAILED', `all upstreams failed: ${failures.join('; ')}`);
  }
}
