// Metrics of the denylist stage: rules per list in force, questions blocked by list and kind,
// list fetches by result (read from each source's status at scrape time) and versions held by the
// guard. Blocks are counted on the miss path only (a cached block is a cache hit).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DenylistSourceStatus, ListKind } from './list-types.js';

export interface DenylistMetricsSource {
  /** Rules of each list in force. */
  entries(): Array<{ list: string; entries: number }>;
  /** Each source's status (its last fetch). */
  sources(): DenylistSourceStatus[];
  /** 1 for each list whose newest version is held. */
  held(): Array<{ list: string; held: boolean }>;
}

export class DenylistMetrics {
  private readonly blocks: Counter<'list' | 'kind'>;
  /** Fetches already counted, per list: the `at` of the last one seen. */
  private readonly fetchesSeen = new Map<string, string | number>();
  source: DenylistMetricsSource | undefined;

  constructor(registry: Registry) {
    this.blocks = new Counter({ name: 'dnslinkd_denylist_blocks_total', help: 'Questions blocked (answered with EDE 15 Blocked or 16 Censored), by list and kind', labelNames: ['list', 'kind'], registers: [registry] });
    const self = this;
    new Gauge({
      name: 'dnslinkd_denylist_entries',
      help: 'Rules of each denylist version in force',
      labelNames: ['list'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { list, entries } of self.source?.entries() ?? []) this.set({ list }, entries);
      },
    });
    new Gauge({
      name: 'dnslinkd_denylist_held',
      help: '1 while the newest version of a list is held by the guard (denylist.maxNewlyBlockedPercent): dnslinkd deny accept LIST applies it',
      labelNames: ['list'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { list, held } of self.source?.held() ?? []) this.set({ list }, held ? 1 : 0);
      },
    });
    const fetches = new Counter({
      name: 'dnslinkd_denylist_fetches_total',
      help: 'Fetches (or reads) of each list source, by result: ok, not-modified, error',
      labelNames: ['list', 'result'],
      registers: [registry],
      collect() {
        for (const status of self.source?.sources() ?? []) {
          const last = status.lastFetch;
          if (!last || self.fetchesSeen.get(status.name) === last.at) continue;
          self.fetchesSeen.set(status.name, last.at);
          fetches.inc({ list: status.name, result: last.result });
        }
      },
    });
  }

  blocked(list: string, kind: ListKind): void {
    this.blocks.inc({ list, kind });
  }
}
