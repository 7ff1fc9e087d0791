// Metrics of the ENS stage: requests to each JSON-RPC endpoint and to CCIP-Read gateways, by
// result (ok, reverted, timeout, network, tls, http, rpc_error, bad_response), and how long they
// took. Endpoints are labelled `#n scheme://host[:port]`, gateways by origin (at most
// MAX_GATEWAY_LABELS of them, then `other`: resolvers on chain name them, not the operator).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestResult } from './rpc-failure.js';

const MAX_GATEWAY_LABELS = 32;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class EnsMetrics {
  private readonly rpcRequests: Counter<'endpoint' | 'result'>;
  private readonly rpcDuration: Histogram<'endpoint'>;
  private readonly ccipRequests: Counter<'gateway' | 'result'>;
  private readonly ccipDuration: Histogram<'gateway'>;
  private readonly gateways = new Set<string>();
  private readonly watchPolls: Counter<'result'>;
  private readonly watchLogs: Counter;
  private readonly watchRefreshes: Counter;
  private readonly watchErrors: Counter;
  private readonly watchReorgs: Counter;
  private readonly watchNamesGauge: Gauge;

  constructor(registry: Registry) {
    this.rpcRequests = new Counter({
      name: 'dnslinkd_ens_rpc_requests_total',
      help: 'JSON-RPC requests to ENS RPC endpoints (ens.rpc), by endpoint (#n scheme://host[:port]) and result',
      labelNames: ['endpoint', 'result'] as const,
      registers: [registry],
    });
    this.rpcDuration = new Histogram({
      name: 'dnslinkd_ens_rpc_duration_seconds',
      help: 'Time for an ENS RPC endpoint to answer a JSON-RPC request (or fail), by endpoint',
      labelNames: ['endpoint'] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    this.ccipRequests = new Counter({
      name: 'dnslinkd_ens_ccip_requests_total',
      help: 'Requests to CCIP-Read (EIP-3668) gateways, by gateway origin and result',
      labelNames: ['gateway', 'result'] as const,
      registers: [registry],
    });
    this.ccipDuration = new Histogram({
      name: 'dnslinkd_ens_ccip_duration_seconds',
      help: 'Time for a CCIP-Read gateway to answer (or fail), by gateway origin',
      labelNames: ['gateway'] as const,
      buckets: BUCKETS,
      registers: [registry],
    });
    this.watchPolls = new Counter({ name: 'dnslinkd_ens_watch_polls_total', help: 'Polls of the ENS chain watch (eth_getLogs every ens.watchIntervalMs), by result (ok, error)', labelNames: ['result'] as const, registers: [registry] });
    this.watchLogs = new Counter({ name: 'dnslinkd_ens_watch_logs_matched_total', help: 'Logs (ContenthashChanged, NewResolver, NewOwner) that matched a watched ENS name or a parent', registers: [registry] });
    this.watchRefreshes = new Counter({ name: 'dnslinkd_ens_watch_refreshes_total', help: 'Cached names read again by the ENS chain watch (a matching log or a reorg)', registers: [registry] });
    this.watchErrors = new Counter({ name: 'dnslinkd_ens_watch_errors_total', help: 'ENS chain watch failures: a poll none of ens.rpc answered, or a refresh that failed', registers: [registry] });
    this.watchReorgs = new Counter({ name: 'dnslinkd_ens_watch_reorgs_total', help: 'Reorganizations the ENS chain watch saw (head went back, a block hash changed): every watched name read again', registers: [registry] });
    this.watchNamesGauge = new Gauge({ name: 'dnslinkd_ens_watch_names', help: 'ENS names the chain watch follows (bounded by ens.watchMaxNames)', registers: [registry] });
  }

  watchPoll(result: 'ok' | 'error'): void {
    this.watchPolls.inc({ result });
  }

  watchLogMatched(): void {
    this.watchLogs.inc();
  }

  watchRefresh(): void {
    this.watchRefreshes.inc();
  }

  watchError(): void {
    this.watchErrors.inc();
  }

  watchReorg(): void {
    this.watchReorgs.inc();
  }

  watchNames(count: number): void {
    this.watchNamesGauge.set(count);
  }

  rpcRequest(endpoint: string, result: RequestResult, seconds: number): void {
    this.rpcRequests.inc({ endpoint, result });
    this.rpcDuration.observe({ endpoint }, seconds);
  }

  ccipRequest(origin: string, result: RequestResult, seconds: number): void {
    if (!this.gateways.has(origin) && this.gateways.size < MAX_GATEWAY_LABELS) this.gateways.add(origin);
    const gateway = this.gateways.has(origin) ? origin : 'other';
    this.ccipRequests.inc({ gateway, result });
    this.ccipDuration.observe({ gateway }, seconds);
  }
}
