// The console's live charts' data: a bounded ring of counter samples taken every
// admin.consoleSampleSeconds (default 5 s; 180 points, 15 minutes at that pace) from what the
// serving processes report (instanceStatus: queries by transport, cache hits and misses, stale
// answers served, upstream and ENS errors, upstream latency) and the overrides in force. Served by GET /admin/v1/samples; nothing on the DNS path.
import type { InstanceStatusView } from './instance-status.js';

export const SAMPLE_POINTS = 180;

/** The counters at one moment, summed over the serving processes (cumulative: the console draws rates). */
export interface CounterSample {
  /** ISO time. */
  at: string;
  queries: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  staleServed: number;
  overrides: number;
  upstreamErrors: number;
  ensErrors: number;
  /** dnslinkd_upstream_latency_seconds' sum and count (the mean between two samples: Δsum / Δcount). */
  upstreamLatencySum: number;
  upstreamLatencyCount: number;
}

export function sampleOf(views: readonly InstanceStatusView[], overrides: number, at: number): CounterSample {
  const queries: Record<string, number> = {};
  for (const v of views) for (const [transport, n] of Object.entries(v.queries ?? {})) queries[transport] = (queries[transport] ?? 0) + n;
  const sum = (pick: (v: InstanceStatusView) => number) => views.reduce((total, v) => total + pick(v), 0);
  return {
    at: new Date(at).toISOString(),
    queries,
    cacheHits: sum((v) => v.cache.hits),
    cacheMisses: sum((v) => v.cache.misses),
    staleServed: sum((v) => v.cache.staleServed),
    overrides,
    upstreamErrors: sum((v) => v.errors?.upstream ?? 0),
    ensErrors: sum((v) => v.errors?.ens ?? 0),
    upstreamLatencySum: sum((v) => v.upstreamLatency?.sum ?? 0),
    upstreamLatencyCount: sum((v) => v.upstreamLatency?.count ?? 0),
  };
}

export class CounterSamples {
  private readonly ring: CounterSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private taking = false;

  constructor(
    private readonly take: () => Promise<CounterSample>,
    readonly intervalSeconds: number,
    private readonly capacity = SAMPLE_POINTS,
  ) {}

  /** Takes one now, then one per interval (a sample still being taken is not started twice). */
  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.taking) return;
    this.taking = true;
    try {
      this.ring.push(await this.take());
      if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    } catch {
      // A process that did not answer this time: the chart shows a gap, the next sample comes.
    } finally {
      this.taking = false;
    }
  }

  points(): readonly CounterSample[] {
    return this.ring;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
