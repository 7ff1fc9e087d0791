// Overrides outlive a migration: exported from an instance on the embedded store and imported
// into one on Redis with the CLI, every override arrives whole (value, TTL, reason, expiry, pin,
// who and when) and answers over DNS; the new instance's start log names its store and count.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, startDnslinkd, startRedis, stopAll, txtValue } from './support/index.js';
import type { DnslinkdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('dig', 'redis-server') && requireBuild();
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

describe.skipIf(!ok)('migration from the embedded store to Redis', () => {
  let redis: RedisHandle;
  let embedded: DnslinkdHandle;
  let fleet: DnslinkdHandle;
  beforeAll(async () => {
    redis = await startRedis();
    embedded = await startDnslinkd({ upstreams: [] });
  });
  afterAll(async () => {
    await embedded?.stop();
    await fleet?.stop();
    await redis?.stop();
    await stopAll();
  });

  it('export, then import into a Redis-backed instance, loses nothing', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    for (const [name, body] of [
      ['a.migrate.example', { value: `/ipfs/${CID}/a`, ttl: 30, reason: 'INC-1', expiresAt }],
      ['b.migrate.example', { value: '/ipns/docs.ipfs.tech', reason: 'INC-2' }],
    ] as const) {
      expect((await embedded.admin('PUT', `/admin/v1/overrides/${name}`, body)).status).toBe(200);
    }
    const before = (await embedded.admin('GET', '/admin/v1/overrides')).body.overrides as Array<Record<string, unknown>>;
    const cli = (d: DnslinkdHandle, args: string[]) => runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    const exported = await cli(embedded, ['override', 'export']);
    expect(exported.code, exported.stderr).toBe(0);
    const file = join(embedded.dataDir, 'overrides.json');
    writeFileSync(file, exported.stdout);

    fleet = await startDnslinkd({ upstreams: [], config: { state: { redis: redis.url } } });
    const imported = await cli(fleet, ['override', 'import', file, '--reason', 'move to redis']);
    expect(imported.code, imported.stderr).toBe(0);
    const after = (await fleet.admin('GET', '/admin/v1/overrides')).body.overrides as Array<Record<string, unknown>>;
    const keep = (o: Record<string, unknown>) => ({ name: o.name, value: o.value, ttl: o.ttl, reason: o.reason, expiresAt: o.expiresAt, pinned: o.pinned, by: o.by, createdAt: o.createdAt });
    expect(after.map(keep)).toEqual(before.map(keep));
    const r = await digAt(fleet.dnsPort, '_dnslink.a.migrate.example', 'TXT');
    expect(r.parsed?.answers.map((a) => [a.ttl, txtValue(a.data)])).toEqual([[30, `dnslink=/ipfs/${CID}/a`]]);
    expect((await fleet.admin('GET', '/admin/v1/status')).body).toMatchObject({ store: { kind: 'redis' }, overrides: 2 });

    // Restarted, the Redis-backed instance says at start how many overrides it has, and from where.
    const restarted = await startDnslinkd({ upstreams: [], config: { state: { redis: redis.url } } });
    expect(restarted.logs()).toMatch(/"store":"redis".*"overrides":2.*"msg":"control store opened"/);
    await restarted.stop();
  });
});
