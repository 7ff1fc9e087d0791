// The fleet store's change log (dnslinkd:changelog), with a real redis-server and two instances: a
// store written before the log existed is read, and its first change migrates it (logFloor set); a
// change on one instance reaches the other by reading only the changed names (no full read); an
// instance that missed changes the trimmed log no longer holds (paused with SIGSTOP) reads the
// whole set and ends equal; an import of thousands is staged in pieces and applied all or nothing; after a FLUSHALL a new change still reaches every instance.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSum, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, waitFor } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server') && requireBuild();

const CID_A = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

async function value(d: DnslinkdHandle, name: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { value?: string }).value;
}

async function reads(d: DnslinkdHandle): Promise<{ changes: number; full: number }> {
  const text = await d.metrics();
  return { changes: metricSum(text, 'dnslinkd_fleet_sync_reads_total', { read: 'changes' }), full: metricSum(text, 'dnslinkd_fleet_sync_reads_total', { read: 'full' }) };
}

describe.skipIf(!ok)('the fleet change log (real redis-server, two instances)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let raw: Redis;
  const fleet: DnslinkdHandle[] = [];
  const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url } } });

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    raw = new Redis(redis.url);
    // A store as a dnslinkd without the log left it: counters, an epoch, one override, no log.
    const now = new Date().toISOString();
    await raw.hset('dnslinkd:meta', { version: '3', generation: '0', epoch: 'older-store', epochAt: now, changedAt: now });
    await raw.hset('dnslinkd:overrides', 'old.example', JSON.stringify({ name: 'old.example', value: CID_A, ttl: 60, reason: 'set by an older dnslinkd', by: 'ops', createdAt: now, updatedAt: now }));
    fleet.push(...(await Promise.all([start(), start()])));
  }, 60_000);
  afterAll(async () => {
    for (const d of fleet) {
      try {
        process.kill(d.proc.child.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    raw?.disconnect();
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('a store written before the log is read; its first change migrates it and reaches the other instance as a change, not a full read', async () => {
    const [a, b] = fleet as [DnslinkdHandle, DnslinkdHandle];
    for (const d of fleet) expect(await value(d, 'old.example')).toBe(CID_A);
    expect(await raw.exists('dnslinkd:changelog')).toBe(0);
    const before = await reads(b);
    expect((await a.admin('PUT', '/admin/v1/overrides/new.example', { value: CID_B, reason: 'first change' })).status).toBe(200);
    await waitFor('the change on the other instance', async () => (await value(b, 'new.example')) === CID_B, 5000);
    // Versions up to the older store's 3 are not in the log; 4 is, with the name it changed.
    expect(await raw.hget('dnslinkd:meta', 'logFloor')).toBe('3');
    expect(await raw.zrange('dnslinkd:changelog', '0', '-1', 'WITHSCORES')).toEqual(['4 new.example', '4']);
    const after = await reads(b);
    expect(after.changes).toBeGreaterThan(before.changes);
    expect(after.full).toBe(before.full);
    expect(await value(b, 'old.example')).toBe(CID_A);
  }, 30_000);

  it('a removal and a change made on the second instance reach the first through the log', async () => {
    const [a, b] = fleet as [DnslinkdHandle, DnslinkdHandle];
    const before = await reads(a);
    expect((await b.admin('DELETE', '/admin/v1/overrides/old.example', { reason: 'done' })).status).toBe(200);
    expect((await b.admin('PUT', '/admin/v1/overrides/new.example', { value: CID_A, reason: 'changed' })).status).toBe(200);
    await waitFor('both on the first', async () => (await value(a, 'old.example')) !== CID_A && (await value(a, 'new.example')) === CID_A, 5000);
    const after = await reads(a);
    expect(after.full).toBe(before.full);
    expect(after.changes).toBeGreaterThan(before.changes);
    expect(await a.metric('dnslinkd_overrides_active')).toBe(1);
  }, 30_000);

  it('an instance that missed changes the trimmed log no longer holds reads the whole set and ends equal', async () => {
    const [a, b] = fleet as [DnslinkdHandle, DnslinkdHandle];
    const pid = b.proc.child.pid!;
    const before = await reads(b);
    process.kill(pid, 'SIGSTOP');
    try {
      for (const name of ['t1.example', 't2.example', 't3.example']) expect((await a.admin('PUT', `/admin/v1/overrides/${name}`, { value: CID_B, reason: 'while paused' })).status).toBe(200);
      expect((await a.admin('DELETE', '/admin/v1/overrides/new.example', { reason: 'while paused' })).status).toBe(200);
      // Trimmed as the change script trims: the oldest members gone, the floor raised past them.
      const version = Number(await raw.hget('dnslinkd:meta', 'version'));
      await raw.multi().zremrangebyscore('dnslinkd:changelog', '-inf', version - 1).hset('dnslinkd:meta', 'logFloor', String(version - 1)).exec();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor('the missed changes on the paused instance', async () => (await value(b, 't3.example')) === CID_B && (await value(b, 'new.example')) !== CID_A, 10_000);
    for (const name of ['t1.example', 't2.example']) expect(await value(b, name)).toBe(CID_B);
    expect(await b.metric('dnslinkd_overrides_active')).toBe(3);
    expect((await reads(b)).full).toBeGreaterThan(before.full);
    // Not a reset: nothing held, healthy.
    expect(await b.metric('dnslinkd_control_store_reset_held')).toBe(0);
    // And the log serves the next change again.
    const then = await reads(b);
    expect((await a.admin('PUT', '/admin/v1/overrides/t4.example', { value: CID_A, reason: 'after the trim' })).status).toBe(200);
    await waitFor('the next change', async () => (await value(b, 't4.example')) === CID_A, 5000);
    expect((await reads(b)).full).toBe(then.full);
  }, 40_000);

  it('an import of 3,000 (staged in pieces) reaches the other instance through the log; a refused one writes nothing and leaves no staging list', async () => {
    const [a, b] = fleet as [DnslinkdHandle, DnslinkdHandle];
    const items = (prefix: string) => Array.from({ length: 3000 }, (_, i) => ({ name: `${prefix}${i}.import.example`, value: CID_B, ttl: 60 }));
    const before = await reads(b);
    const active = await b.metric('dnslinkd_overrides_active');
    const res = await a.admin('POST', '/admin/v1/overrides/import', { overrides: items('i'), reason: 'staged import' });
    expect(res.status).toBe(200);
    await waitFor('the import on the other instance', async () => (await b.metric('dnslinkd_overrides_active')) === active + 3000, 10_000);
    expect(await value(b, 'i2999.import.example')).toBe(CID_B);
    expect((await reads(b)).full).toBe(before.full);
    expect(await raw.keys('dnslinkd:staging:*')).toEqual([]);

    // The audit log made a key of another type: the script refuses before its first write.
    await raw.rename('dnslinkd:audit', 'saved-audit');
    await raw.set('dnslinkd:audit', 'not a stream');
    try {
      const refused = await a.admin('POST', '/admin/v1/overrides/import', { overrides: items('r'), reason: 'refused import' });
      expect(refused.status).toBe(503);
      expect(await raw.hlen('dnslinkd:overrides')).toBe(active + 3000);
      expect(await raw.hexists('dnslinkd:overrides', 'r0.import.example')).toBe(0);
      expect(await raw.keys('dnslinkd:staging:*')).toEqual([]);
    } finally {
      await raw.del('dnslinkd:audit');
      await raw.rename('saved-audit', 'dnslinkd:audit');
    }
    expect((await a.admin('PUT', '/admin/v1/overrides/after.example', { value: CID_A, reason: 'writes again' })).status).toBe(200);
    await waitFor('the next change on the other instance', async () => (await value(b, 'after.example')) === CID_A, 5000);
  }, 40_000);

  it('after a FLUSHALL a new change on one instance still reaches the other', async () => {
    const [a, b] = fleet as [DnslinkdHandle, DnslinkdHandle];
    const count = await a.metric('dnslinkd_overrides_active');
    await raw.flushall();
    await waitFor('the reset noticed on both', async () => (await a.metric('dnslinkd_control_store_reset_held')) === count && (await b.metric('dnslinkd_control_store_reset_held')) === count, 10_000);
    expect((await a.admin('PUT', '/admin/v1/overrides/fresh.example', { value: CID_B, reason: 'after the flushall' })).status).toBe(200);
    await waitFor('the change on the other instance', async () => (await value(b, 'fresh.example')) === CID_B, 5000);
    expect(await raw.zrange('dnslinkd:changelog', '0', '-1')).toEqual(['1 fresh.example']);
    expect(await raw.hget('dnslinkd:meta', 'logFloor')).toBe('0');
  }, 30_000);
});
