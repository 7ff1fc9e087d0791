// The fleet store against a real redis-server: every ControlStore method, each change atomic with
// its audit record, conditional changes, the flush log, notices, and STORE_DEGRADED while Redis is down.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CodedError } from '../../src/errors.js';
import { redisLocation, RedisStore, type ChangeNotice } from '../../src/control/redis-store.js';
import type { NewAuditRecord } from '../../src/control/store.js';
import type { Override } from '../../src/stages/overrides/override.js';
import { requireBinaries, startRedis, waitFor, type RedisHandle } from './support/index.js';

const ok = requireBinaries('redis-server');

const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

function override(name: string, updatedAt: string, value = `/ipfs/${CID}`): Override {
  return { name, value, ttl: 60, reason: 'test', by: 'ops', createdAt: updatedAt, updatedAt };
}

const set = (name: string, after: Override | null, before: Override | null = null): NewAuditRecord => ({ token: 'ops', action: after ? 'override.set' : 'override.remove', name, reason: 'test', before, after, dryRun: false });

describe.skipIf(!ok)('RedisStore (real redis-server)', () => {
  let redis: RedisHandle;
  let store: RedisStore;
  let raw: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterEach(async () => {
    await store?.close();
    await raw.flushall();
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it('says where it is without the password', () => {
    expect(redisLocation('redis://:s3cret@10.0.0.1:6380/2')).toBe('redis://10.0.0.1:6380/2');
    expect(redisLocation('rediss://user:s3cret@r.example:6380')).toBe('rediss://user@r.example:6380');
  });

  it('starts empty, with an epoch that stays', async () => {
    store = await RedisStore.open(redis.url);
    expect(store.kind).toBe('redis');
    const a = await store.snapshot();
    expect(a).toMatchObject({ version: 0, generation: 0, overrides: [] });
    expect(a.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect((await store.snapshot()).epoch).toBe(a.epoch);
    expect(await raw.keys('*')).toEqual(['dnslinkd:meta']);
  });

  it('sets and removes overrides with their audit records, bumping the version and publishing', async () => {
    store = await RedisStore.open(redis.url);
    const notices: Array<ChangeNotice | undefined> = [];
    await store.subscribe((n) => notices.push(n));
    const o = override('a.example', '2026-01-01T00:00:00.000Z');
    expect(await store.changeOverrides([{ name: o.name, after: o }], [set(o.name, o)])).toBe(1);
    const snap = await store.snapshot();
    expect(snap).toMatchObject({ version: 1, overrides: [o] });
    expect(Date.parse(snap.changedAt!)).toBeGreaterThan(Date.now() - 5000);
    expect(await raw.hkeys('dnslinkd:overrides')).toEqual(['a.example']);
    expect(await store.changeOverrides([{ name: o.name, after: null, ifUpdatedAt: o.updatedAt }], [set(o.name, null, o)])).toBe(2);
    expect((await store.snapshot()).overrides).toEqual([]);
    await waitFor('two notices', async () => notices.length === 2, 2000);
    expect(notices.map((n) => n?.version)).toEqual([1, 2]);
    const audit = await store.audit({ limit: 10 });
    expect(audit.map((r) => r.action)).toEqual(['override.remove', 'override.set']);
    expect(audit[1]).toMatchObject({ token: 'ops', name: 'a.example', reason: 'test', before: null, after: o, dryRun: false });
    expect(typeof audit[0]!.id).toBe('string');
    // The console's paging and filters: older than a record, by who, by kind, up to a time.
    expect((await store.audit({ limit: 10, before: audit[0]!.id })).map((r) => r.id)).toEqual([audit[1]!.id]);
    expect(await store.audit({ limit: 10, token: 'ops' })).toHaveLength(2);
    expect(await store.audit({ limit: 10, token: 'nobody' })).toEqual([]);
    expect((await store.audit({ limit: 10, action: 'override.set' })).map((r) => r.id)).toEqual([audit[1]!.id]);
    expect(await store.audit({ limit: 10, until: '2000-01-01T00:00:00.000Z' })).toEqual([]);
    expect(await store.audit({ limit: 10, until: audit[0]!.time })).toHaveLength(2);
  });

  it('applies a conditional change only if the stored override is unchanged; nothing, not even audit, otherwise', async () => {
    store = await RedisStore.open(redis.url);
    const v1 = override('b.example', '2026-01-01T00:00:00.000Z');
    const v2 = override('b.example', '2026-01-02T00:00:00.000Z');
    await store.changeOverrides([{ name: v1.name, after: v1 }], [set(v1.name, v1)]);
    await store.changeOverrides([{ name: v2.name, after: v2, ifUpdatedAt: v1.updatedAt }], [set(v2.name, v2, v1)]);
    // An expiry computed on v1 races the edit to v2: it loses.
    const expire: NewAuditRecord = { token: 'system', action: 'override.expire', name: 'b.example', before: v1, after: null, dryRun: false };
    expect(await store.changeOverrides([{ name: 'b.example', after: null, ifUpdatedAt: v1.updatedAt }], [expire])).toBeUndefined();
    // and on a name without an override
    expect(await store.changeOverrides([{ name: 'none.example', after: null, ifUpdatedAt: v1.updatedAt }], [expire])).toBeUndefined();
    const snap = await store.snapshot();
    expect(snap.version).toBe(2);
    expect(snap.overrides).toEqual([v2]);
    expect((await store.audit({ limit: 10 })).map((r) => r.action)).toEqual(['override.set', 'override.set']);
  });

  it('imports several overrides in one change (one version, every audit record)', async () => {
    store = await RedisStore.open(redis.url);
    const items = ['c1.example', 'c2.example', 'c3.example'].map((n) => override(n, '2026-01-01T00:00:00.000Z'));
    const version = await store.changeOverrides(
      items.map((o) => ({ name: o.name, after: o })),
      items.map((o) => ({ ...set(o.name, o), action: 'override.import' as const })),
    );
    expect(version).toBe(1);
    expect((await store.snapshot()).overrides.map((o) => o.name)).toEqual(['c1.example', 'c2.example', 'c3.example']);
    expect(await store.audit({ limit: 10 })).toHaveLength(3);
  });

  it('checks every condition before writing anything: an unreadable stored record counts as changed', async () => {
    store = await RedisStore.open(redis.url);
    await raw.hset('dnslinkd:overrides', 'bad.example', 'not json');
    const o = override('d.example', '2026-01-01T00:00:00.000Z');
    expect(await store.changeOverrides([{ name: 'bad.example', after: null, ifUpdatedAt: 'x' }], [set('bad.example', null)])).toBeUndefined();
    expect(await store.audit({ limit: 10 })).toEqual([]);
    const version = await store.changeOverrides(
      [
        { name: 'bad.example', after: null, ifUpdatedAt: 'x' },
        { name: o.name, after: o },
      ],
      [set(o.name, o)],
    );
    expect(version).toBe(1);
    expect(await raw.hget('dnslinkd:overrides', 'bad.example')).toBe('not json');
    expect(await raw.hget('dnslinkd:overrides', 'd.example')).toBe(JSON.stringify(o));
    expect(await store.audit({ limit: 10 })).toHaveLength(1);
  });

  it('records flushes with generations, lists those after one, and audits each', async () => {
    store = await RedisStore.open(redis.url);
    const notices: Array<ChangeNotice | undefined> = [];
    await store.subscribe((n) => notices.push(n));
    const audit = (target: unknown): NewAuditRecord => ({ token: 'ops', action: 'cache.flush', after: { target }, dryRun: false });
    const f1 = await store.recordFlush({ target: { name: 'e.example' }, negativeOnly: false }, audit({ name: 'e.example' }));
    const f2 = await store.recordFlush({ target: { all: true }, negativeOnly: true }, audit({ all: true }));
    expect([f1.generation, f2.generation]).toEqual([1, 2]);
    expect((await store.snapshot()).generation).toBe(2);
    expect(await store.flushesAfter(0)).toEqual([f1, f2]);
    expect(await store.flushesAfter(1)).toEqual([f2]);
    expect(await store.flushesAfter(2)).toEqual([]);
    expect(await store.audit({ limit: 10 })).toHaveLength(2);
    await waitFor('two notices', async () => notices.length === 2, 2000);
    expect(notices.map((n) => [n?.kind, n?.generation])).toEqual([
      ['flush', 1],
      ['flush', 2],
    ]);
  });

  it('queries the audit log newest first by name, since and limit; dry runs are audit records alone', async () => {
    store = await RedisStore.open(redis.url);
    const dry = (name: string): NewAuditRecord => ({ token: 'ops', action: 'override.set', name, reason: 'try', dryRun: true });
    await store.appendAudit([dry('f1.example'), dry('f2.example')]);
    // `since` is inclusive: keep a few milliseconds on both sides of it.
    await new Promise((r) => setTimeout(r, 5));
    const middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 600; i++) await store.appendAudit([dry(i % 2 ? 'f1.example' : 'f3.example')]);
    expect((await store.snapshot()).version).toBe(0);
    const all = await store.audit({ limit: 1000 });
    expect(all).toHaveLength(602);
    expect(Number(all[0]!.id.split('-')[0])).toBeGreaterThanOrEqual(Number(all[601]!.id.split('-')[0]));
    expect(all[601]!.name).toBe('f1.example');
    expect(all[600]!.name).toBe('f2.example');
    const f2 = await store.audit({ name: 'f2.example', limit: 10 });
    expect(f2).toHaveLength(1);
    expect(f2[0]).toMatchObject({ name: 'f2.example', reason: 'try', dryRun: true });
    expect(await store.audit({ name: 'f1.example', limit: 5 })).toHaveLength(5);
    expect(await store.audit({ since: middle, limit: 1000 })).toHaveLength(600);
    expect(await store.audit({ name: 'f2.example', since: middle, limit: 10 })).toHaveLength(0);
  });

  it('skips records that fail their checks and reports them; a key of another type is not read, and the snapshot still answers', async () => {
    store = await RedisStore.open(redis.url);
    const good = override('a.example', '2026-01-01T00:00:00.000Z');
    await raw.hset('dnslinkd:overrides', { 'a.example': JSON.stringify(good), 'b.example': 'nope', 'c.example': JSON.stringify({ ...good, name: 'c.example', value: 42 }) });
    await raw.hset('dnslinkd:meta', 'generation', 'many');
    const snap = await store.snapshot();
    expect(snap.overrides).toEqual([good]);
    expect(snap.generation).toBe(0);
    expect(store.invalid.list().map((r) => `${r.key} ${r.id}`).sort()).toEqual(['dnslinkd:meta generation', 'dnslinkd:overrides b.example', 'dnslinkd:overrides c.example']);
    // Fixed in Redis: no longer counted at the next read.
    await raw.hdel('dnslinkd:overrides', 'b.example', 'c.example');
    await raw.hset('dnslinkd:meta', 'generation', '0');
    await store.snapshot();
    expect(store.invalid.count).toBe(0);
    // Keys of the wrong type (written by something else): reported, the snapshot answers.
    await raw.del('dnslinkd:overrides', 'dnslinkd:meta');
    await raw.set('dnslinkd:overrides', 'a string');
    await raw.rpush('dnslinkd:meta', 'a list');
    const odd = await store.snapshot();
    expect(odd).toMatchObject({ version: 0, generation: 0, overrides: [] });
    expect(odd.epoch).toBeUndefined();
    expect(store.invalid.list().map((r) => `${r.key} ${r.why}`).sort()).toEqual([
      expect.stringMatching(/^dnslinkd:meta a Redis list, not a hash/),
      expect.stringMatching(/^dnslinkd:overrides a Redis string, not a hash/),
    ]);
  });

  it('fails fast with STORE_DEGRADED while Redis is down, and works again once it is back', async () => {
    store = await RedisStore.open(redis.url, { connectTimeoutMs: 500 });
    const port = redis.port;
    await redis.stop();
    try {
      await waitFor('the client to notice', async () => !store.connected, 5000);
      const started = Date.now();
      const err = await store.changeOverrides([{ name: 'g.example', after: override('g.example', '2026-01-01T00:00:00.000Z') }], []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CodedError);
      expect((err as CodedError).code).toBe('STORE_DEGRADED');
      expect(Date.now() - started).toBeLessThan(500);
      await expect(store.snapshot()).rejects.toMatchObject({ code: 'STORE_DEGRADED' });
    } finally {
      redis = await startRedis({ port });
      raw.disconnect();
      raw = new Redis(redis.url);
    }
    await waitFor('the client to reconnect', async () => store.connected, 10_000);
    expect((await store.snapshot()).version).toBe(0);
  });

  it('does not start when Redis does not answer', async () => {
    const port = redis.port + 1;
    const err = await RedisStore.open(`redis://:pw@127.0.0.1:${port}`, { connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect((err as CodedError).code).toBe('STORE_UNAVAILABLE');
    expect((err as Error).message).toContain(`redis://127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('pw');
    store = undefined as unknown as RedisStore;
  });
});
