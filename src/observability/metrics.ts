// Prometheus metrics (prom-client) on a registry of our own, so several instances in one process
// (tests) do not collide. Stages and transports report through the small observer methods here.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rcodeName } from '../dns/constants.js';

export class Metrics {
  readonly registry = new Registry();
  readonly queries = new Counter({
    name: 'dnslinkd_queries_total',
    help: 'Queries answered, by transport and response code',
    labelNames: ['transport', 'rcode'] as const,
    registers: [this.registry],
  });
  readonly cacheHits = new Counter({ name: 'dnslinkd_cache_hits_total', help: 'Answers served fresh from the cache', registers: [this.registry] });
  readonly cacheMisses = new Counter({ name: 'dnslinkd_cache_misses_total', help: 'Questions not answerable fresh from the cache', registers: [this.registry] });
  readonly staleAnswers = new Counter({
    name: 'dnslinkd_stale_answers_total',
    help: 'Expired answers served because upstreams failed or were too slow (RFC 8767)',
    registers: [this.registry],
  });
  readonly prefetches = new Counter({ name: 'dnslinkd_prefetches_total', help: 'Popular entries refreshed before expiry', registers: [this.registry] });
  readonly coalesced = new Counter({
    name: 'dnslinkd_coalesced_queries_total',
    help: 'Cache misses that joined an upstream query already in flight',
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'dnslinkd_upstream_latency_seconds',
    help: 'Time for an upstream to answer',
    labelNames: ['upstream'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'dnslinkd_upstream_errors_total',
    help: 'Upstream attempts that failed, by upstream and error code',
    labelNames: ['upstream', 'code'] as const,
    registers: [this.registry],
  });
  /** Set by the core so the cache gauges read live values at scrape time. */
  cacheStats?: () => { entries: number; bytes: number };
  readonly cacheEntries: Gauge;
  readonly cacheBytes: Gauge;
  readonly malformed = new Counter({
    name: 'dnslinkd_malformed_packets_total',
    help: 'Packets answered FORMERR or dropped',
    labelNames: ['transport', 'action'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    const stats = () => this.cacheStats?.() ?? { entries: 0, bytes: 0 };
    this.cacheEntries = new Gauge({
      name: 'dnslinkd_cache_entries',
      help: 'Entries in the answer cache',
      registers: [this.registry],
      collect() {
        this.set(stats().entries);
      },
    });
    this.cacheBytes = new Gauge({
      name: 'dnslinkd_cache_bytes',
      help: 'Approximate bytes held by the answer cache',
      registers: [this.registry],
      collect() {
        this.set(stats().bytes);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'dnslinkd_' });
  }

  /** Label children cached per transport and rcode: prom-client hashes labels on every inc(). */
  private readonly queryCounters = new Map<string, Array<{ inc(): void } | undefined>>();

  countQuery(transport: string, rcode: number): void {
    let byRcode = this.queryCounters.get(transport);
    if (!byRcode) {
      byRcode = [];
      this.queryCounters.set(transport, byRcode);
    }
    let child = byRcode[rcode];
    if (!child) {
      child = this.queries.labels({ transport, rcode: rcodeName(rcode) });
      byRcode[rcode] = child;
    }
    child.inc();
  }

  observeUpstream(upstream: string, rttMs: number): void {
    this.upstreamLatency.observe({ upstream }, rttMs / 1000);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
