// The console's counter samples: summed over the serving processes (workers) by transport, kept in
// a ring of bounded length (oldest dropped), a failing sample skipped without stopping the next.
import { describe, expect, it, vi } from 'vitest';
import { CounterSamples, sampleOf, type CounterSample } from '../../../src/control/counter-samples.js';
import type { InstanceStatusView } from '../../../src/control/instance-status.js';

function processView(queries: Record<string, number>, hits: number, misses: number, staleServed: number, upstreamErrors = 0, latency = { sum: 0, count: 0 }): InstanceStatusView {
  return {
    pid: 1,
    version: '0.0.0',
    startedAt: '2026-12-03T00:00:00.000Z',
    uptimeSeconds: 1,
    chain: [],
    listeners: {},
    cache: { entries: 0, bytes: 0, maxEntries: 1, maxBytes: 1, hits, misses, hitRatio: null, staleServed },
    queries,
    errors: { upstream: upstreamErrors, ens: 0 },
    upstreamLatency: latency,
    upstreams: [],
    ens: { enabled: false, endpoints: [] },
  };
}

describe('counter samples', () => {
  it('sums the processes: queries by transport, cache hits, misses and stale answers; the overrides as given', () => {
    const sample = sampleOf([processView({ udp: 10, doh: 2 }, 7, 3, 1, 2, { sum: 0.5, count: 10 }), processView({ udp: 5, tcp: 4 }, 2, 8, 0, 1, { sum: 0.25, count: 5 })], 3, Date.parse('2026-12-03T10:00:00Z'));
    expect(sample).toEqual({
      at: '2026-12-03T10:00:00.000Z',
      queries: { udp: 15, doh: 2, tcp: 4 },
      cacheHits: 9,
      cacheMisses: 11,
      staleServed: 1,
      overrides: 3,
      upstreamErrors: 3,
      ensErrors: 0,
      upstreamLatencySum: 0.75,
      upstreamLatencyCount: 15,
    });
  });

  it('keeps the last `capacity` samples, oldest first, and goes on after a failed one', async () => {
    vi.useFakeTimers();
    try {
      let n = 0;
      const take = async (): Promise<CounterSample> => {
        n++;
        if (n === 3) throw new Error('a worker did not answer');
        return { at: new Date(n * 1000).toISOString(), queries: { udp: n }, cacheHits: n, cacheMisses: 0, staleServed: 0, overrides: 0, upstreamErrors: 0, ensErrors: 0, upstreamLatencySum: 0, upstreamLatencyCount: 0 };
      };
      const samples = new CounterSamples(take, 1, 4);
      samples.start();
      for (let i = 0; i < 7; i++) await vi.advanceTimersByTimeAsync(1000);
      samples.stop();
      expect(n).toBe(8);
      // Samples 1..8 without the failed 3rd, the last four kept.
      expect(samples.points().map((p) => p.queries.udp)).toEqual([5, 6, 7, 8]);
      await vi.advanceTimersByTimeAsync(5000);
      expect(n).toBe(8);
    } finally {
      vi.useRealTimers();
    }
  });
});
