// The health of each ENS RPC endpoint as its requests went: up, failing (its last request failed,
// with the cause) or not asked yet; one log line when an endpoint starts failing and one when it
// recovers (rate-limited per endpoint), every request counted and timed, and the view /healthz and
// /admin/v1/status show. Degraded while every endpoint is failing.
import type { Logger } from 'pino';
import { RateLimitedLog } from '../../observability/rate-limited-log.js';
import type { EnsMetrics } from './metrics.js';
import type { RequestFailure } from './rpc-failure.js';

export type EndpointState = 'unknown' | 'up' | 'failing';

export interface EndpointHealthView {
  /** `#n scheme://host[:port]` (n from 1, as in ens.rpc). */
  endpoint: string;
  state: EndpointState;
  /** Since when it is in this state (ISO); absent while unknown. */
  since?: string;
  /** Requests failed in a row. */
  failures: number;
  lastError?: { cause: string; message: string; at: string };
}

export interface EnsHealthView {
  /** RPC endpoints configured (ens.rpc). */
  configured: number;
  failing: number;
  /** True while every endpoint is failing: ENS names get SERVFAIL (or their stale answer). */
  degraded: boolean;
  /** The chain the endpoints serve, once one answered eth_chainId. */
  chainId?: number;
  endpoints: EndpointHealthView[];
}

interface EndpointRecord {
  label: string;
  state: EndpointState;
  since: number;
  failures: number;
  lastError?: RequestFailure & { at: number };
}

export interface EnsObserver {
  metrics?: EnsMetrics;
  log?: Logger;
  now?: () => number;
}

export class RpcHealth {
  private readonly endpoints: EndpointRecord[];
  private readonly limitedLog: RateLimitedLog | undefined;
  private readonly now: () => number;
  chainId: number | undefined;

  constructor(
    labels: readonly string[],
    private readonly observer: EnsObserver = {},
  ) {
    this.now = observer.now ?? Date.now;
    this.endpoints = labels.map((label) => ({ label, state: 'unknown', since: this.now(), failures: 0 }));
    this.limitedLog = observer.log ? new RateLimitedLog(observer.log) : undefined;
  }

  /** One request to endpoint `index` answered (`failure` undefined, or a reverted call: the node answered) or failed. */
  record(index: number, seconds: number, failure: RequestFailure | undefined): void {
    const e = this.endpoints[index];
    if (!e) return;
    this.observer.metrics?.rpcRequest(e.label, failure?.result ?? 'ok', seconds);
    const now = this.now();
    if (failure === undefined || failure.result === 'reverted') {
      if (e.state === 'failing') {
        this.limitedLog?.info(`ens-rpc ${e.label}`, { endpoint: e.label, failedForMs: now - e.since, failures: e.failures }, `ENS RPC endpoint ${e.label} recovered`);
      }
      if (e.state !== 'up') {
        e.state = 'up';
        e.since = now;
      }
      e.failures = 0;
      return;
    }
    e.failures++;
    e.lastError = { ...failure, at: now };
    if (e.state !== 'failing') {
      e.state = 'failing';
      e.since = now;
      this.limitedLog?.warn(
        `ens-rpc ${e.label}`,
        { endpoint: e.label, cause: failure.cause, error: failure.message },
        `ENS RPC endpoint ${e.label} failing: ${failure.message}`,
      );
    }
  }

  view(): EnsHealthView {
    const failing = this.endpoints.filter((e) => e.state === 'failing').length;
    return {
      configured: this.endpoints.length,
      failing,
      degraded: this.endpoints.length > 0 && failing === this.endpoints.length,
      ...(this.chainId !== undefined ? { chainId: this.chainId } : {}),
      endpoints: this.endpoints.map((e) => ({
        endpoint: e.label,
        state: e.state,
        ...(e.state !== 'unknown' ? { since: new Date(e.since).toISOString() } : {}),
        failures: e.failures,
        ...(e.lastError ? { lastError: { cause: e.lastError.cause, message: e.lastError.message, at: new Date(e.lastError.at).toISOString() } } : {}),
      })),
    };
  }

  /** Writes held log lines (a reload replacing the client). */
  flush(): void {
    this.limitedLog?.flush();
  }
}

/** The view for the public HTTP listener (/healthz): endpoints by their index only, as upstreams are never shown there. */
export function withoutAddresses(view: EnsHealthView): EnsHealthView {
  return { ...view, endpoints: view.endpoints.map((e) => ({ ...e, endpoint: e.endpoint.split(' ')[0]! })) };
}

/** What /healthz adds to its reason about ENS, or undefined when some endpoint is not failing. */
export function describeEnsHealth(view: EnsHealthView): string | undefined {
  if (!view.degraded) return undefined;
  const causes = [...new Set(view.endpoints.map((e) => e.lastError?.cause).filter((c) => c !== undefined))].sort();
  const which = view.configured === 1 ? 'the only ENS RPC endpoint is' : `all ${view.configured} ENS RPC endpoints are`;
  return `ENS DEGRADED (${which} failing: ${causes.join(', ')}): ENS names get their stale answer or SERVFAIL until one answers`;
}
