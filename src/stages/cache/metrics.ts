// Metrics of the cache stage: hits, misses, stale answers, prefetches and coalesced misses
// (bumped per query as plain numbers), the entry and byte gauges read at scrape time, and the
// snapshot's (written and loaded: how often, how long, how many entries).
import { Counter, Gauge, type Registry } from 'prom-client';
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

/** The cache snapshot's metrics (snapshot.ts): writes and loads, their duration and entries. */
export class CacheSnapshotMetrics {
  /** result: `ok` or `failed`. */
  readonly writes: Counter<'result'>;
  /** result: `loaded`, `missing` (no snapshot yet) or `ignored` (unreadable, corrupt, older format, too large). */
  readonly loads: Counter<'result'>;
  readonly writeSeconds: Gauge;
  readonly loadSeconds: Gauge;
  /** op: `written` or `loaded`. */
  readonly entries: Gauge<'op'>;
  readonly lastWrite: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.writes = new Counter({ name: 'dnslinkd_cache_snapshot_writes_total', help: 'Cache snapshots written to the data dir, by result (ok, failed)', labelNames: ['result'], registers });
    this.loads = new Counter({ name: 'dnslinkd_cache_snapshot_loads_total', help: 'Cache snapshots read at start, by result (loaded, missing, ignored)', labelNames: ['result'], registers });
    this.writeSeconds = new Gauge({ name: 'dnslinkd_cache_snapshot_write_seconds', help: 'How long the last cache snapshot took to write', registers });
    this.loadSeconds = new Gauge({ name: 'dnslinkd_cache_snapshot_load_seconds', help: 'How long the cache snapshot took to load at start', registers });
    this.entries = new Gauge({ name: 'dnslinkd_cache_snapshot_entries', help: 'Entries in the last cache snapshot written, and entries kept from the one loaded at start', labelNames: ['op'], registers });
    this.lastWrite = new Gauge({ name: 'dnslinkd_cache_snapshot_last_write_timestamp_seconds', help: 'When the last cache snapshot was written (Unix time)', registers });
  }
}
