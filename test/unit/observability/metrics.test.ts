// The counter logic behind /metrics: hot-path counts are plain numbers copied into prom-client at
// scrape time, so a scrape shows exactly what was counted, however often it is scraped.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WireMetrics } from '../../../src/core/wire-metrics.js';
import { FastCounter, Metrics, scrapedCounter } from '../../../src/observability/metrics.js';

async function valuesOf(registry: Registry, name: string) {
  return (await registry.getSingleMetric(name)!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe('scraped counters', () => {
  it('report the count at each scrape, counting each increment once', async () => {
    const registry = new Registry();
    const counter = new FastCounter();
    scrapedCounter(registry, 'test_total', 'a test', counter);
    counter.inc();
    counter.inc();
    expect(await valuesOf(registry, 'test_total')).toEqual([{ labels: {}, value: 2 }]);
    expect(await valuesOf(registry, 'test_total')).toEqual([{ labels: {}, value: 2 }]);
    counter.inc();
    expect(await valuesOf(registry, 'test_total')).toEqual([{ labels: {}, value: 3 }]);
  });
});

describe('wire metrics', () => {
  it('count queries by transport and rcode name, rcodes past 23 together', async () => {
    const registry = new Registry();
    const metrics = new WireMetrics(registry);
    metrics.countQuery('udp', 0);
    metrics.countQuery('udp', 0);
    metrics.countQuery('udp', 3);
    metrics.countQuery('doh', 2);
    metrics.countQuery('tcp', 4000);
    const values = await valuesOf(registry, 'dnslinkd_queries_total');
    expect(values).toEqual(
      expect.arrayContaining([
        { labels: { transport: 'udp', rcode: 'NOERROR' }, value: 2 },
        { labels: { transport: 'udp', rcode: 'NXDOMAIN' }, value: 1 },
        { labels: { transport: 'doh', rcode: 'SERVFAIL' }, value: 1 },
        { labels: { transport: 'tcp', rcode: 'RCODE23' }, value: 1 },
      ]),
    );
    expect(values).toHaveLength(4);
    metrics.countQuery('udp', 0);
    expect(await valuesOf(registry, 'dnslinkd_queries_total')).toContainEqual({ labels: { transport: 'udp', rcode: 'NOERROR' }, value: 3 });
  });
});

describe('Metrics', () => {
  it('renders its own registry, or the cluster totals when a worker sets renderAll', async () => {
    const metrics = new Metrics();
    new WireMetrics(metrics.registry).countQuery('udp', 0);
    expect(await metrics.render()).toMatch(/dnslinkd_queries_total\{transport="udp",rcode="NOERROR"\} 1/);
    metrics.renderAll = async () => 'summed';
    expect(await metrics.render()).toBe('summed');
  });
});
