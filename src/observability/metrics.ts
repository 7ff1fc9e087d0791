// Prometheus metrics (prom-client) on a registry of our own, so several instances in one process
// (tests) do not collide. Counters bumped per query are plain numbers (prom-client hashes label
// values on every inc()); they are copied into prom-client when /metrics is scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rcodeName } from '../dns/constants.js';

/** A number bumped on the hot path; `inc()` costs one addition. */
export class FastCounter {
  value = 0;
  inc(): void {
    this.value++;
  }
}

/** A prom-client counter whose value is read from `source` at scrape time. */
function scrapedCounter(registry: Registry, name: string, help: string, source: FastCounter): Counter {
  let reported = 0;
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const delta = source.value - reported;
      if (delta > 0) this.inc(delta);
      reported = source.value;
    },
  });
}

const MAX_TRACKED_RCODE = 23;

export class Metrics {
  readonly registry = new Registry();
  /** transport -> counts indexed by rcode. */
  private readonly queryCounts = new Map<string, Float64Array>();
  readonly cacheHits = new FastCounter();
  readonly cacheMisses = new FastCounter();
  readonly staleAnswers = new FastCounter();
  readonly prefetches = new FastCounter();
  readonly coalesced = new FastCounter();
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
  readonly malformed = new Counter({
    name: 'dnslinkd_malformed_packets_total',
    help: 'Packets answered FORMERR or dropped',
    labelNames: ['transport', 'action'] as const,
    registers: [this.registry],
  });
  /** Set by the core so the cache gauges read live values at scrape time. */
  cacheStats?: () => { entries: number; bytes: number };
  /** Set in a cluster worker (src/cluster.ts) so /metrics shows the totals of all workers. */
  renderAll?: () => Promise<string>;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registry = this.registry;
    const queryCounts = this.queryCounts;
    const reported = new Map<string, Float64Array>();
    new Counter({
      name: 'dnslinkd_queries_total',
      help: 'Queries answered, by transport and response code',
      labelNames: ['transport', 'rcode'] as const,
      registers: [registry],
      collect() {
        for (const [transport, counts] of queryCounts) {
          let seen = reported.get(transport);
          if (!seen) reported.set(transport, (seen = new Float64Array(counts.length)));
          for (let rcode = 0; rcode < counts.length; rcode++) {
            const delta = counts[rcode]! - seen[rcode]!;
            if (delta > 0) this.inc({ transport, rcode: rcodeName(rcode) }, delta);
            seen[rcode] = counts[rcode]!;
          }
        }
      },
    });
    scrapedCounter(registry, 'dnslinkd_cache_hits_total', 'Answers served fresh from the cache', this.cacheHits);
    scrapedCounter(registry, 'dnslinkd_cache_misses_total', 'Questions not answerable fresh from the cache', this.cacheMisses);
    scrapedCounter(registry, 'dnslinkd_stale_answers_total', 'Expired answers served because upstreams failed or were too slow (RFC 8767)', this.staleAnswers);
    scrapedCounter(registry, 'dnslinkd_prefetches_total', 'Popular entries refreshed before expiry', this.prefetches);
    scrapedCounter(registry, 'dnslinkd_coalesced_queries_total', 'Cache misses that joined an upstream query already in flight', this.coalesced);
    const stats = () => this.cacheStats?.() ?? { entries: 0, bytes: 0 };
    new Gauge({
      name: 'dnslinkd_cache_entries',
      help: 'Entries in the answer cache',
      registers: [registry],
      collect() {
        this.set(stats().entries);
      },
    });
    new Gauge({
      name: 'dnslinkd_cache_bytes',
      help: 'Approximate bytes held by the answer cache',
      registers: [registry],
      collect() {
        this.set(stats().bytes);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'dnslinkd_' });
  }

  countQuery(transport: string, rcode: number): void {
    let counts = this.queryCounts.get(transport);
    if (!counts) {
      counts = new Float64Array(MAX_TRACKED_RCODE + 1);
      this.queryCounts.set(transport, counts);
    }
    counts[rcode > MAX_TRACKED_RCODE ? MAX_TRACKED_RCODE : rcode]!++;
  }

  observeUpstream(upstream: string, rttMs: number): void {
    this.upstreamLatency.observe({ upstream }, rttMs / 1000);
  }

  async render(): Promise<string> {
    return this.renderAll ? this.renderAll() : this.registry.metrics();
  }
}
