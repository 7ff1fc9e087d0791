// Metrics of the cache stage: hits, misses, stale answers, prefetches and coalesced misses
// (bumped per query as plain numbers), and the entry and byte gauges read at scrape time.
import { Gauge, type Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../../observability/metrics.js';

export class CacheMetrics {
  readonly hits = new FastCounter();
  readonly misses = new FastCounter();
  readonly staleAnswers = new FastCounter();
  readonly prefetches = new FastCounter();
  readonly coalesced = new FastCounter();
  /** Set by the cache stage: what the gauges read at scrape time. */
  stats: () => { entries: number; bytes: number } = () => ({ entries: 0, bytes: 0 });

  constructor(registry: Registry) {
    scrapedCounter(registry, 'dnslinkd_cache_hits_total', 'Answers served fresh from the cache', this.hits);
    scrapedCounter(registry, 'dnslinkd_cache_misses_total', 'Questions not answerable fresh from the cache', this.misses);
    scrapedCounter(registry, 'dnslinkd_stale_answers_total', 'Expired answers served because upstreams failed or were too slow (RFC 8767)', this.staleAnswers);
    scrapedCounter(registry, 'dnslinkd_prefetches_total', 'Popular entries refreshed before expiry', this.prefetches);
    scrapedCounter(registry, 'dnslinkd_coalesced_queries_total', 'Cache misses that joined an upstream query already in flight', this.coalesced);
    const stats = () => this.stats();
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
  }
}
