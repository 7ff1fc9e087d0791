// Upstream failure: a stale cache entry is served with TTL 30 and EDE 3 (RFC 8767 / RFC 8914);
// with nothing cached the answer is SERVFAIL with an EDE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_DOWN_CONFIG, digAt, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;

describe.skipIf(!ok)('dnslinkd with the upstream down', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: UPSTREAM_DOWN_CONFIG,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('caps the TTL it serves at cache.maxTtl (first answer and cached answer alike)', async () => {
    const first = await digAt(d.dnsPort, n.hop3?.name ?? '', 'TXT');
    expect(first.parsed?.status).toBe('NOERROR');
    const again = await digAt(d.dnsPort, n.hop3?.name ?? '', 'TXT');
    expect([first.parsed?.answers[0]?.ttl, again.parsed?.answers[0]?.ttl]).toEqual([expect.any(Number), expect.any(Number)]);
    expect(first.parsed?.answers[0]?.ttl).toBeLessThanOrEqual(1);
    expect(again.parsed?.answers[0]?.ttl).toBeLessThanOrEqual(1);
  });

  it('serves the expired entry with TTL 30 and EDE 3 (Stale Answer), then SERVFAIL+EDE for an uncached name', async () => {
    const fresh = await digAt(d.dnsPort, n.plain.name, 'TXT');
    expect(fresh.parsed?.status).toBe('NOERROR');
    expect(fresh.parsed?.ede).toBeUndefined();

    await nsd.stop();
    await sleep(2000);

    const staleBefore = await d.metric('dnslinkd_stale_answers_total');
    const stale = await digAt(d.dnsPort, n.plain.name, 'TXT', ['+time=5']);
    expect(stale.parsed?.status).toBe('NOERROR');
    expect(stale.parsed?.answers.map((a) => [a.ttl, txtValue(a.data)])).toEqual([[30, n.plain.values[0]]]);
    expect(stale.parsed?.ede?.code).toBe(3);
    expect(await d.metric('dnslinkd_stale_answers_total')).toBeGreaterThan(staleBefore);

    const uncached = await digAt(d.dnsPort, n.two.name, 'TXT', ['+time=5']);
    expect(uncached.parsed?.status).toBe('SERVFAIL');
    expect(uncached.parsed?.ede).toBeDefined();
    expect(await d.metric('dnslinkd_upstream_errors_total')).toBeGreaterThan(0);
  }, 30_000);
});
