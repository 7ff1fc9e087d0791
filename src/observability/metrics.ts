// The Prometheus registry of one instance (prom-client, a registry of our own so several instances
// in one process do not collide) and the counter kind the hot path uses: a plain number bumped
// per query and copied into prom-client only when /metrics is scraped. Each stage and the wire
// handler declare their own metrics on this registry (their metrics.ts).
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** A number bumped on the hot path; `inc()` costs one addition. */
export class FastCounter {
  value = 0;
  inc(): void {
    this.value++;
  }
}

/** A prom-client counter whose value is read from `source` at scrape time. */
export function scrapedCounter(registry: Registry, name: string, help: string, source: FastCounter): Counter {
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

export class Metrics {
  readonly registry = new Registry();
  /** Set in a cluster worker (src/cluster.ts) so /metrics shows the totals of all workers. */
  renderAll?: () => Promise<string>;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'dnslinkd_' });
  }

  async render(): Promise<string> {
    return this.renderAll ? this.renderAll() : this.registry.metrics();
  }
}
