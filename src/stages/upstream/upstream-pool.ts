// A list of upstreams asked in turn, each attempt with its own timeout;
// SERVFAIL/REFUSED/FORMERR/NOTIMP answers and network errors move on to the next upstream. Upstreams that failed recently are
// tried last, so one dead server does not cost every query a timeout; health() tells readiness.
// UDP attempts share one bounded pool of sockets (udp-socket-pool.ts). At shutdown, abort() ends
// every exchange still waiting, and every later question, with SHUTTING_DOWN.
import { Rcode, rcodeName } from '../../dns/constants.js';
import type { Question } from '../../dns/types.js';
import type { DecodedResponse } from '../../dns/upstream-codec.js';
import { CodedError, errorMessage } from '../../errors.js';
import { exchange } from './upstream-exchange.js';
import { UdpSocketPool, systemErrorCode, type UdpSocketPoolOptions } from './udp-socket-pool.js';
import { parseUpstreamUrl, type UpstreamEndpoint } from './upstream-url.js';

/**
 * Rcodes that say an upstream could not answer this question: the next one is asked. FORMERR and
 * NOTIMP too (an upstream that rejects EDNS, a broken middlebox): our query is well-formed.
 */
const UNUSABLE_RCODES: ReadonlySet<number> = new Set([Rcode.FORMERR, Rcode.SERVFAIL, Rcode.NOTIMP, Rcode.REFUSED]);

export interface UpstreamAnswer {
  response: DecodedResponse;
  upstream: string;
  rttMs: number;
  /** False when every upstream failed and this is the last unusable answer (SERVFAIL, REFUSED, FORMERR, NOTIMP) one of them gave. */
  usable: boolean;
  /** Why earlier upstreams were passed over. */
  failures: string[];
}

export interface UpstreamObserver {
  onAnswer?(upstream: string, rttMs: number, rcode: number): void;
  /**
   * `errno`: the system error behind it (EMFILE, ENOBUFS, ECONNREFUSED...), when there is one;
   * ETIMEDOUT for a timeout. `question`: what was asked.
   */
  onError?(upstream: string, code: string, errno: string | undefined, question: Question): void;
}

/** What the pool knows of one upstream's recent attempts (for readiness and the admin side). */
export interface EndpointHealth {
  url: string;
  /** When it last gave a DNS answer, whatever the rcode (epoch ms). */
  lastAnswerAt?: number;
  /** When it last gave none: a timeout, a network or HTTP error, an answer that does not match. */
  lastErrorAt?: number;
  /** The code of that error (UPSTREAM_TIMEOUT, UPSTREAM_NETWORK, ...). */
  lastErrorCode?: string;
  /** Its last attempt gave no answer, less than the penalty time ago. */
  failing: boolean;
}

export interface PoolHealth {
  endpoints: EndpointHealth[];
  /** How long a failure counts (and keeps an upstream at the back of the list). */
  penaltyMs: number;
}

interface Attempts {
  lastAnswerAt?: number;
  lastErrorAt?: number;
  lastErrorCode?: string;
  /** Whether the latest attempt got an answer. */
  lastAnswered: boolean;
}

export interface UpstreamPoolOptions {
  timeoutMs: number;
  observer?: UpstreamObserver;
  now?: () => number;
  /** How long a failed upstream is moved to the back of the list. */
  penaltyMs?: number;
  /** The UDP socket pool's bounds (defaults: DEFAULT_UDP_SOCKET_POOL). */
  udpSockets?: Partial<UdpSocketPoolOptions>;
}

export class UpstreamPool {
  endpoints: UpstreamEndpoint[];
  private readonly failedAt = new Map<string, number>();
  private readonly attempts = new Map<string, Attempts>();
  private readonly now: () => number;
  private readonly penaltyMs: number;
  private timeoutMs: number;
  /** The UDP sockets every UDP attempt of this pool goes over. */
  readonly udpSockets: UdpSocketPool;
  /** Aborted at shutdown (abort()), its reason a SHUTTING_DOWN CodedError. */
  private readonly stopping = new AbortController();

  constructor(
    urls: string[],
    private readonly options: UpstreamPoolOptions,
  ) {
    this.endpoints = urls.map(parseUpstreamUrl);
    this.now = options.now ?? Date.now;
    this.penaltyMs = options.penaltyMs ?? 30_000;
    this.timeoutMs = options.timeoutMs;
    this.udpSockets = new UdpSocketPool(options.udpSockets);
  }

  /**
   * Another list and timeout (a configuration reload), in place: queries under way finish as they
   * began; what is known of an upstream on both lists is kept, the others' records are dropped.
   */
  reconfigure(urls: string[], timeoutMs: number): void {
    this.endpoints = urls.map(parseUpstreamUrl);
    this.timeoutMs = timeoutMs;
    const kept = new Set(this.endpoints.map((e) => e.url));
    for (const known of [this.failedAt, this.attempts]) for (const url of known.keys()) if (!kept.has(url)) known.delete(url);
  }

  /**
   * Ends every exchange still waiting (UDP, TCP, DoH) and every later question with a
   * SHUTTING_DOWN error saying `reason`; the upstreams are not marked as failing for it.
   */
  abort(reason: string): void {
    if (this.stopping.signal.aborted) return;
    const err = new CodedError('SHUTTING_DOWN', reason);
    this.stopping.abort(err);
    this.udpSockets.failPending(err);
  }

  /**
   * Each upstream's last answer and last error, and whether it is failing: its last attempt got
   * no DNS answer (SERVFAIL and REFUSED are answers: the upstream is reachable) within the penalty.
   */
  health(): PoolHealth {
    const now = this.now();
    const endpoints = this.endpoints.map((e): EndpointHealth => {
      const a = this.attempts.get(e.url);
      if (!a) return { url: e.url, failing: false };
      const failing = !a.lastAnswered && a.lastErrorAt !== undefined && now - a.lastErrorAt < this.penaltyMs;
      return {
        url: e.url,
        ...(a.lastAnswerAt !== undefined ? { lastAnswerAt: a.lastAnswerAt } : {}),
        ...(a.lastErrorAt !== undefined ? { lastErrorAt: a.lastErrorAt, lastErrorCode: a.lastErrorCode } : {}),
        failing,
      };
    });
    return { endpoints, penaltyMs: this.penaltyMs };
  }

  private record(url: string, answered: boolean, errorCode?: string): void {
    const a = this.attempts.get(url) ?? { lastAnswered: answered };
    a.lastAnswered = answered;
    if (answered) {
      a.lastAnswerAt = this.now();
    } else {
      a.lastErrorAt = this.now();
      a.lastErrorCode = errorCode;
    }
    this.attempts.set(url, a);
  }

  private ordered(): UpstreamEndpoint[] {
    const penalty = this.penaltyMs;
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
    const stop = this.stopping.signal;
    for (const endpoint of this.ordered()) {
      if (stop.aborted) throw stop.reason as CodedError;
      const started = this.now();
      try {
        const response = await exchange(endpoint, question, this.timeoutMs, this.udpSockets, stop);
        const rttMs = this.now() - started;
        this.record(endpoint.url, true);
        this.options.observer?.onAnswer?.(endpoint.url, rttMs, response.rcode);
        if (UNUSABLE_RCODES.has(response.rcode)) {
          failures.push(`${endpoint.url}: answered ${rcodeName(response.rcode)}`);
          this.failedAt.set(endpoint.url, this.now());
          rejected = { response, upstream: endpoint.url, rttMs, usable: false, failures };
          continue;
        }
        this.failedAt.delete(endpoint.url);
        return { response, upstream: endpoint.url, rttMs, usable: true, failures };
      } catch (err) {
        if (stop.aborted) throw stop.reason as CodedError;
        const code = err instanceof CodedError ? err.code : 'UPSTREAM_NETWORK';
        this.record(endpoint.url, false, code);
        this.options.observer?.onError?.(endpoint.url, code, systemErrorCode(err) ?? (code === 'UPSTREAM_TIMEOUT' ? 'ETIMEDOUT' : undefined), question);
        this.failedAt.set(endpoint.url, this.now());
        failures.push(errorMessage(err));
      }
    }
    // Every upstream failed, but one answered: pass its answer on (DNSLink reports DNS_RCODE_5 for
    // REFUSED, DNS_RCODE_1 for FORMERR), still marked unusable so the cache can serve stale instead.
    if (rejected) return rejected;
    throw new CodedError('UPSTREAMS_FAILED', `all upstreams failed: ${failures.join('; ')}`);
  }
}
