// Cold misses: 10,000 concurrent queries for 1,000 distinct uncached names make at most one
// upstream query per name, counted at the upstream (a counting proxy in front of a real nsd).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, startCountingProxy, startDnslinkd, stopAll } from './support/index.js';
import type { CountingProxy, DnslinkdHandle } from './support/index.js';
import { queryBurst, startWildcardNsd, type WildcardNsd } from './support/many-names.js';

const ok = requireBinaries('nsd') && requireBuild();
const NAMES = 1_000;
const COPIES = 10;

describe.skipIf(!ok)('cold misses', () => {
  let nsd: WildcardNsd;
  let proxy: CountingProxy;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startWildcardNsd('cold.test');
    proxy = await startCountingProxy(nsd.port);
    // A generous upstream timeout: on a loaded machine a slow answer must not become a retry,
    // which would be a second upstream query for the name that this test does not mean to count.
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${proxy.port}`], config: { cache: { prefetch: false }, upstreamTimeoutMs: 10_000 } });
  });
  afterAll(async () => {
    await d?.stop();
    await proxy?.close();
    await nsd?.stop();
    await stopAll();
  });

  it(`${NAMES * COPIES} concurrent queries for ${NAMES} uncached names make at most ${NAMES} upstream queries`, async () => {
    const names = Array.from({ length: NAMES }, (_, i) => nsd.name(i));
    const burst = await queryBurst(d.dnsPort, names, COPIES, { window: NAMES * COPIES, timeoutMs: 12_000 });
    // On a loaded machine the upstream can drop a question of the burst: dnslinkd then answers
    // SERVFAIL when its attempt times out (a failed attempt, counted below), and the name is asked again.
    expect(burst.answered).toBeGreaterThanOrEqual(NAMES * COPIES * 0.9); // datagrams the loopback lost even after resends
    const again = await queryBurst(d.dnsPort, burst.namesUnanswered, 1, { timeoutMs: 12_000 });
    expect(burst.namesAnswered + again.namesAnswered).toBe(NAMES);
    const perName = names.map((name) => proxy.count(name));
    const upstreamQueries = perName.reduce((a, b) => a + b, 0);
    // An attempt that failed (a socket error or a timeout on a loaded machine) is retried by the
    // upstream client: that second question is the upstream stage's, not a miss left uncoalesced.
    const failedAttempts = await d.metric('dnslinkd_upstream_errors_total');
    expect(perName.filter((count) => count === 0)).toEqual([]); // every name was asked upstream...
    expect(upstreamQueries - failedAttempts).toBeLessThanOrEqual(NAMES); // ...once, however many clients asked
    expect(await d.metric('dnslinkd_coalesced_queries_total')).toBeGreaterThan(0);
    expect(await d.metric('dnslinkd_cache_entries')).toBe(NAMES);
  }, 90_000);
});
