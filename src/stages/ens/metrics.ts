// Metrics of the ENS stage: requests to each JSON-RPC endpoint and to CCIP-Read gateways, by
// result (ok, reverted, timeout, network, tls, http, rpc_error, bad_response), and how long they
// took. Endpoints are labelled `#n scheme://host[:port]`, gateways by origin (at most
// MAX_GATEWAY_LABELS of them, then `other`: resolvers on chain name them, not the operator).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RequestResult } from './rpc-failure.js';

const MAX_GATEWAY_LABELS = 32;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class EnsMetrics {
  private readonly rpcRequests: Counter<'endpoint' | 'result'>;
  private readonly rpcDuration: Histogram<'endpoint'>;
  private readonly ccipRequests: Counter<'gateway' | 'result'>;
  private readonly ccipDuration: Histogram<'gateway'>;
  private readonly gateways = new Set<string>();

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
