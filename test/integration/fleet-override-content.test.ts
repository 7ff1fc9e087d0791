// Records read back from the fleet's real redis-server follow the admin API's /ipns/ and reason
// rules: an override written straight into Redis whose /ipns/ value loops to its own name, names a
// CID that is no key, or whose reason holds a bidi override is skipped, reported and never served;
// a good one written beside them is served.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig') && requireBuild();
const KEY = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8';
const NOT_A_KEY = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

const record = (name: string, extra: Record<string, unknown>) => {
  const now = new Date().toISOString();
  return JSON.stringify({ name, value: `/ipns/${KEY}`, ttl: 60, reason: 'written by hand', by: 'test', createdAt: now, updatedAt: now, ...extra });
};

interface Status {
  invalidRecords: { count: number; records: Array<{ key: string; id: string; why: string }> };
}

describe.skipIf(!ok)('override content rules on records read from Redis', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let raw: Redis;
  let d: DnslinkdHandle;

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    raw = new Redis(redis.url);
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 1000 } } });
  }, 60_000);
  afterAll(async () => {
    raw?.disconnect();
    await d?.stop();
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('a self-loop, a CID that is no key and a reason with U+202E are skipped and reported; the good record is served', async () => {
    await raw.hset('dnslinkd:overrides', {
      'loop.example.org': record('loop.example.org', { value: '/ipns/_dnslink.loop.example.org' }),
      'nokey.example.org': record('nokey.example.org', { value: `/ipns/${NOT_A_KEY}` }),
      'bidi.example.org': record('bidi.example.org', { reason: 'fine\u202Etxt.exe' }),
      'good.example.org': record('good.example.org', {}),
    });
    const version = await raw.hincrby('dnslinkd:meta', 'version', 1);
    await raw.publish('dnslinkd:changes', JSON.stringify({ kind: 'overrides', version, time: new Date().toISOString() }));

    await waitFor('the three invalid records reported', async () => (await d.metric('dnslinkd_control_invalid_records')) === 3, 5000);
    const s = (await d.admin('GET', '/admin/v1/status')).body as unknown as Status;
    const why = Object.fromEntries(s.invalidRecords.records.map((r) => [r.id, r.why]));
    expect(why['loop.example.org']).toMatch(/loop/);
    expect(why['nokey.example.org']).toMatch(/not an IPNS key/);
    expect(why['bidi.example.org']).toMatch(/U\+202E/);
    expect(Object.keys(why).sort()).toEqual(['bidi.example.org', 'loop.example.org', 'nokey.example.org']);

    expect(await d.metric('dnslinkd_overrides_active')).toBe(1);
    const good = await digAt(d.dnsPort, '_dnslink.good.example.org', 'TXT');
    expect(good.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=/ipns/${KEY}`]);
    for (const name of ['loop.example.org', 'nokey.example.org', 'bidi.example.org']) {
      const dns = await digAt(d.dnsPort, `_dnslink.${name}`, 'TXT');
      expect(dns.parsed?.flags ?? [], name).not.toContain('aa');
      expect(JSON.stringify(dns.parsed?.answers ?? []), name).not.toMatch(/dnslink=/);
    }
  });
});
