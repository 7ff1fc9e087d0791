// The cache stage's metrics as a scrape shows them: hits, misses, coalesced misses, stale answers
// and prefetches counted by the stage, and the entry and byte gauges read from its store.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { linkStages } from '../stage.js';
import { FakeClock, ScriptedStage, txtRecord, upstreamAnswer, upstreamsFailed } from '../testing/harness.js';
import { CacheStage } from './cache-stage.js';
import { cacheConfigSchema, cacheStageOptions } from './config.js';
import { CacheMetrics } from './metrics.js';

async function scrape(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await registry.getMetricsAsJSON()) out[metric.name] = metric.values[0]?.value ?? 0;
  return out;
}

describe('cache metrics', () => {
  it('count what the stage did, and gauge what its store holds', async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    const options = cacheStageOptions(cacheConfigSchema.parse({ prefetchMinHits: 1, staleRefreshMs: 0 }), 50);
    const stage = new CacheStage(options, new CacheMetrics(registry), clock.now);
    const upstream = new ScriptedStage(upstreamAnswer(txtRecord('_dnslink.m.example', 100)));
    linkStages([stage, upstream]);
    const question = makeQuestion('_dnslink.m.example', RRType.TXT);
    const ask = () => stage.resolve(question, { caller: 'udp' });

    await Promise.all([ask(), ask()]); // one miss goes upstream, the other joins it
    await ask(); // hit
    clock.advance(95_000);
    await ask(); // hit with under 10% of the TTL left: prefetch
    await new Promise((resolve) => setImmediate(resolve)); // the prefetched answer is stored
    clock.advance(110_000);
    upstream.reply = upstreamsFailed();
    await ask(); // expired, upstream fails: stale
    expect(await scrape(registry)).toMatchObject({
      dnslinkd_cache_misses_total: 3,
      dnslinkd_coalesced_queries_total: 1,
      dnslinkd_cache_hits_total: 2,
      dnslinkd_prefetches_total: 1,
      dnslinkd_stale_answers_total: 1,
      dnslinkd_cache_entries: 1,
    });
    expect((await scrape(registry)).dnslinkd_cache_bytes).toBeGreaterThan(0);
  });
});
