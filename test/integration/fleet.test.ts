// A fleet: three dnslinkd processes sharing one real redis-server (state.redis), over an nsd
// upstream. A change made on one is applied on all within a second (the time is measured and
// printed); an instance down during a change applies it when it starts; with Redis stopped they
// keep serving what they had, say they are degraded and refuse changes with 503; with Redis back
// they reconcile and changes reach every one again.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig') && requireBuild();

const plain = zone.names.plain.name.replace(/^_dnslink\./, '');
const hop3 = zone.names.hop3!.name.replace(/^_dnslink\./, '');
const original = zone.names.plain.values[0]!.replace(/^dnslink=/, '');
const CID_A = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const CID_C = '/ipfs/bafkreiadj22nmzm5o7uqd43fhkcvnko4o2kh3npx54yfo76fyor4d6kgje';

async function value(d: DnslinkdHandle, name: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { value?: string };
  return body.value;
}

async function health(d: DnslinkdHandle): Promise<{ status: number; body: { status: string; reason: string; control?: { store: string; degraded: boolean } } }> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as never };
}

/** Polls every instance until `name` answers `expected`; the ms it took for the slowest one. */
async function propagation(instances: DnslinkdHandle[], name: string, expected: string | undefined, since: number, limitMs = 5000): Promise<number> {
  const times = await Promise.all(
    instances.map(async (d) => {
      for (;;) {
        if ((await value(d, name)) === expected) return Date.now() - since;
        if (Date.now() - since > limitMs) throw new Error(`${name} did not answer ${expected} on :${d.httpPort} within ${limitMs} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    }),
  );
  return Math.max(...times);
}

describe.skipIf(!ok)('a fleet of three instances sharing Redis (real redis-server, nsd upstream)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  const fleet: DnslinkdHandle[] = [];
  const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 1000 } } });

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    fleet.push(...(await Promise.all([start(), start(), start()])));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('opens the Redis store and says so at start and in /healthz', async () => {
    for (const d of fleet) {
      expect(d.logs()).toMatch(/"store":"redis".*"location":"redis:\/\/127\.0\.0\.1:\d+\/?".*"overrides":0.*control store opened/);
      const h = await health(d);
      expect(h.status).toBe(200);
      expect(h.body.control).toEqual({ store: 'redis', degraded: false });
      expect(await d.metric('dnslinkd_control_degraded')).toBe(0);
    }
  });

  it('applies an override set on one instance on all three within 1 s, cached answers included', async () => {
    for (const d of fleet) expect(await value(d, plain)).toBe(original); // cached everywhere
    const since = Date.now();
    const res = await fleet[0]!.admin('PUT', `/admin/v1/overrides/${plain}`, { value: CID_A, reason: 'fleet test' });
    expect(res.status).toBe(200);
    const ms = await propagation(fleet.slice(1), plain, CID_A, since);
    console.log(`fleet propagation: override set on one instance answered by the other two after ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    // over DNS too, as an override (aa, own TTL)
    const dns = await digAt(fleet[2]!.dnsPort, `_dnslink.${plain}`, 'TXT');
    expect(dns.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=${CID_A}`]);
    for (const d of fleet) expect(await d.metric('dnslinkd_overrides_active')).toBe(1);
    // the lag each replica measured, store change -> applied
    for (const d of fleet.slice(1)) expect(await d.metric('dnslinkd_fleet_sync_lag_seconds')).toBeLessThan(1);
  });

  it('applies a flush made on one instance on all three', async () => {
    for (const d of fleet) await value(d, hop3);
    const before = await Promise.all(fleet.map((d) => d.metric('dnslinkd_flushes_total')));
    const since = Date.now();
    expect((await fleet[1]!.admin('POST', '/admin/v1/cache/flush', { name: hop3, reason: 'fleet test' })).status).toBe(200);
    await waitFor('the flush on every instance', async () => (await Promise.all(fleet.map((d, i) => d.metric('dnslinkd_flushes_total').then((n) => n > before[i]!)))).every(Boolean), 2000, { intervalMs: 10 });
    console.log(`fleet propagation: flush made on one instance applied by all after ${Date.now() - since} ms`);
  });

  it('an instance down during a change applies it when it starts', async () => {
    const down = fleet.pop()!;
    await down.stop();
    expect((await fleet[0]!.admin('PUT', `/admin/v1/overrides/${plain}`, { value: CID_B, reason: 'while one was down' })).status).toBe(200);
    await propagation(fleet, plain, CID_B, Date.now());
    const back = await start();
    fleet.push(back);
    expect(await value(back, plain)).toBe(CID_B);
    expect(back.logs()).toMatch(/"overrides":1.*control store opened/);
  });

  it('applies a change whose notice was lost, at the next periodic reconcile (syncIntervalMs 1000)', async () => {
    // Written straight into Redis with no PUBLISH: only the version counter tells.
    const raw = new Redis(redis.url);
    try {
      const now = new Date().toISOString();
      const o = { name: hop3, value: CID_A, ttl: 60, reason: 'no notice', by: 'test', createdAt: now, updatedAt: now };
      const since = Date.now();
      await raw.multi().hset('dnslinkd:overrides', hop3, JSON.stringify(o)).hincrby('dnslinkd:meta', 'version', 1).hset('dnslinkd:meta', 'changedAt', now).exec();
      const ms = await propagation(fleet, hop3, CID_A, since, 3000);
      console.log(`fleet propagation without a notice (periodic reconcile): ${ms} ms`);
      expect(ms).toBeLessThan(2000);
      // A removal writes its audit record in the same script: without one it would be a loss (held, fleet-store-reset.test.ts).
      const removal = JSON.stringify({ time: new Date().toISOString(), token: 'test', action: 'override.remove', name: hop3, reason: 'no notice', before: o, after: null, dryRun: false });
      await raw.multi().hdel('dnslinkd:overrides', hop3).xadd('dnslinkd:audit', '*', 'r', removal).hincrby('dnslinkd:meta', 'version', 1).exec();
      await waitFor('the removal everywhere', async () => (await Promise.all(fleet.map((d) => value(d, hop3)))).every((v) => v !== CID_A), 3000);
    } finally {
      raw.disconnect();
    }
  });

  it('with Redis stopped: keeps serving, says it is degraded, refuses changes with 503', async () => {
    for (const d of fleet) expect(await value(d, hop3)).toBeDefined(); // cached
    await redis.stop();
    await waitFor('every instance degraded', async () => (await Promise.all(fleet.map(health))).every((h) => h.body.control?.degraded === true), 5000);
    for (const d of fleet) {
      const h = await health(d);
      expect(h.status).toBe(200); // still answers: not a reason to take it out of the pool
      expect(h.body.status).toBe('ready');
      expect(h.body.reason).toMatch(/control store DEGRADED/);
      expect(await d.metric('dnslinkd_control_degraded')).toBe(1);
      expect(d.logs()).toMatch(/fleet store unreachable: DEGRADED/);
      expect(await value(d, plain)).toBe(CID_B); // the override it had
      expect(await value(d, hop3)).toBeDefined(); // what it had cached
    }
    const put = await fleet[1]!.admin('PUT', `/admin/v1/overrides/${plain}`, { value: CID_C, reason: 'must be refused' });
    expect(put.status).toBe(503);
    expect(put.body).toMatchObject({ code: 'STORE_DEGRADED' });
    expect(put.body.message).toMatch(/unreachable.*accepts no change/);
    const flush = await fleet[2]!.admin('POST', '/admin/v1/cache/flush', { all: true, reason: 'must be refused' });
    expect(flush.status).toBe(503);
    expect(flush.body).toMatchObject({ code: 'STORE_DEGRADED' });
    for (const d of fleet) expect(await value(d, plain)).toBe(CID_B);
  });

  it('with Redis back (empty, as it had no persistence): reconciles, keeps the override it lost, and changes reach every instance again', async () => {
    redis = await startRedis({ port: redis.port });
    const phrase = 'store reset: 1 overrides held here are not in the store';
    await waitFor('every instance reconciled', async () => (await Promise.all(fleet.map(health))).every((h) => h.body.reason.includes(phrase)), 10_000);
    for (const d of fleet) {
      expect(await d.metric('dnslinkd_control_degraded')).toBe(0);
      expect(d.logs()).toMatch(/fleet store reachable again/);
      // The new Redis holds no override: every instance still serves the one it had, and says so.
      expect(await value(d, plain)).toBe(CID_B);
      expect((await health(d)).body.control?.degraded).toBe(true);
    }
    // A change made now reaches every instance; the store's override of the name wins over the held one.
    const since = Date.now();
    expect((await fleet[2]!.admin('PUT', `/admin/v1/overrides/${plain}`, { value: CID_C, reason: 'after the restart' })).status).toBe(200);
    const ms = await propagation(fleet, plain, CID_C, since);
    console.log(`fleet propagation after Redis came back: ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    await waitFor('no override held any more', async () => (await Promise.all(fleet.map(health))).every((h) => h.body.control?.degraded === false && !h.body.reason.includes('store reset')), 3000);
  });
});
