// Writes the fleet store refuses (a real redis-server, two instances): a meta counter that is not a
// whole number, a key of another type. The change is refused and NOTHING of it is in Redis (no
// override field, no audit entry, no flush), /healthz is degraded and `dnslinkd status` not ok while
// writes fail; the repair the message names (or removing the foreign key) makes changes work again.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBinaries, requireBuild, runCli, runTool, startDnslinkd, startNsd, startRedis, stopAll, waitFor } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'redis-cli', 'dig') && requireBuild();

const CID_A = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

interface Health {
  control?: { degraded: boolean; reason?: string };
  reason: string;
}

async function health(d: DnslinkdHandle): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as Health;
}

async function value(d: DnslinkdHandle, name: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { value?: string }).value;
}

const cli = (d: DnslinkdHandle, args: string[]): Promise<CliResult> => runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 15_000, baseEnv);

describe.skipIf(!ok)('writes the fleet store refuses change nothing and show (real redis-server, two instances)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let raw: Redis;
  const fleet: DnslinkdHandle[] = [];
  const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 500 } } });
  const everywhere = (what: string, check: (d: DnslinkdHandle) => Promise<boolean>) => waitFor(what, async () => (await Promise.all(fleet.map(check))).every(Boolean), 8000, { intervalMs: 50 });
  const degraded = (d: DnslinkdHandle) => health(d).then((h) => h.control?.degraded === true);
  const healthy = (d: DnslinkdHandle) => health(d).then((h) => h.control?.degraded === false);
  /** What is in Redis that a change could have written. */
  const footprint = async () => ({ overrides: await raw.hkeys('dnslinkd:overrides').catch(() => 'not a hash'), audit: await raw.xlen('dnslinkd:audit').catch(() => -1), flushes: await raw.zcard('dnslinkd:flushes') });

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    raw = new Redis(redis.url);
    fleet.push(...(await Promise.all([start(), start()])));
    expect((await fleet[0]!.admin('PUT', '/admin/v1/overrides/m1.rv.test', { value: CID_A, reason: 'before' })).status).toBe(200);
    await everywhere('the first override everywhere', async (d) => (await value(d, 'm1.rv.test')) === CID_A);
  }, 60_000);
  afterAll(async () => {
    raw?.disconnect();
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('a meta version that is not a whole number: the change is refused, nothing is written, both instances degraded; the named repair restores writes', async () => {
    const goodVersion = await raw.hget('dnslinkd:meta', 'version');
    await raw.hset('dnslinkd:meta', 'version', 'abc');
    const before = await footprint();

    const set = await cli(fleet[0]!, ['override', 'set', 'm2.rv.test', CID_B, '--reason', 'm2']);
    expect(set.code).toBe(1);
    // Nothing of the refused change is in Redis.
    expect(await raw.hexists('dnslinkd:overrides', 'm2.rv.test')).toBe(0);
    expect(await footprint()).toEqual(before);
    expect(set.stderr).toContain('[STORE_UNAVAILABLE]');
    expect(set.stderr).toMatch(/dnslinkd:meta version "abc" is not a whole number; nothing was changed; repair it: redis-cli -u redis:\/\/127\.0\.0\.1:\d+ HSET dnslinkd:meta version \d+/);
    expect(await raw.hget('dnslinkd:meta', 'version')).toBe('abc');
    const audit = await cli(fleet[0]!, ['audit', '--json']);
    expect(audit.stdout).not.toContain('m2.rv.test');

    // Both degraded while writes fail (the other one made no write: it reads the counter), the record reported.
    await everywhere('/healthz degraded on both', degraded);
    for (const d of fleet) {
      expect((await health(d)).reason).toMatch(/control store DEGRADED \(the fleet store .* refuses changes: dnslinkd:meta version "abc" is not a whole number/);
      const status = await cli(d, ['status']);
      expect(status.stdout).toMatch(/state:\s+DEGRADED/);
      expect(status.stdout).toMatch(/invalid records: 1 skipped/);
      expect(status.stdout).toContain('dnslinkd:meta version');
      expect(await value(d, 'm2.rv.test')).toBeUndefined();
      expect(await value(d, 'm1.rv.test')).toBe(CID_A);
    }
    expect(fleet[0]!.logs()).toMatch(/"key":"dnslinkd:meta","record":"version".*repair.*HSET dnslinkd:meta version/);

    // The repair, exactly as the message says it.
    const repair = /redis-cli (-u \S+ HSET dnslinkd:meta version (\d+))/.exec(set.stderr)!;
    expect(repair[2]).toBe(goodVersion);
    expect((await runTool('redis-cli', repair[1]!.split(' '), 5000)).code).toBe(0);
    await everywhere('/healthz no longer degraded', healthy);
    for (const d of fleet) expect((await cli(d, ['status'])).stdout).toMatch(/state:\s+ok/);
    const again = await cli(fleet[0]!, ['override', 'set', 'm2.rv.test', CID_B, '--reason', 'm2']);
    expect(again.code, again.stderr).toBe(0);
    await everywhere('the change served everywhere', async (d) => (await value(d, 'm2.rv.test')) === CID_B);
    expect(await raw.hget('dnslinkd:meta', 'version')).toBe(String(Number(goodVersion) + 1));
  }, 45_000);

  it('a flush with a generation that is not a whole number writes nothing either', async () => {
    const good = (await raw.hget('dnslinkd:meta', 'generation')) ?? '0';
    await raw.hset('dnslinkd:meta', 'generation', '1.5');
    const before = await footprint();
    const flush = await fleet[1]!.admin('POST', '/admin/v1/cache/flush', { all: true, reason: 'refused' });
    expect(flush.status).toBeGreaterThanOrEqual(500);
    expect(await footprint()).toEqual(before);
    expect(String(flush.body.message)).toMatch(/dnslinkd:meta generation "1\.5" is not a whole number; nothing was changed/);
    await everywhere('/healthz degraded on both', degraded);
    await raw.hset('dnslinkd:meta', 'generation', good);
    await everywhere('/healthz no longer degraded', healthy);
    expect((await fleet[1]!.admin('POST', '/admin/v1/cache/flush', { all: true, reason: 'works again' })).status).toBe(200);
    expect(await raw.zcard('dnslinkd:flushes')).toBe(before.flushes + 1);
  }, 30_000);

  it('an audit key of another type: the change is refused, the override not written; degraded until a write succeeds', async () => {
    await raw.rename('dnslinkd:audit', 'saved:audit');
    await raw.set('dnslinkd:audit', 'not a stream');
    const put = await fleet[0]!.admin('PUT', '/admin/v1/overrides/m3.rv.test', { value: CID_A, reason: 'm3' });
    expect(put.status).toBeGreaterThanOrEqual(500);
    expect(await raw.hexists('dnslinkd:overrides', 'm3.rv.test')).toBe(0);
    expect(String(put.body.message)).toMatch(/dnslinkd:audit is a Redis string, not a stream; nothing was changed/);
    const h = await health(fleet[0]!);
    expect(h.control?.degraded).toBe(true);
    expect(h.reason).toMatch(/refused the change: dnslinkd:audit is a Redis string/);
    expect((await cli(fleet[0]!, ['status'])).stdout).toMatch(/state:\s+DEGRADED/);

    await raw.del('dnslinkd:audit');
    await raw.rename('saved:audit', 'dnslinkd:audit');
    expect((await fleet[0]!.admin('PUT', '/admin/v1/overrides/m3.rv.test', { value: CID_A, reason: 'm3' })).status).toBe(200);
    expect((await health(fleet[0]!)).control?.degraded).toBe(false);
    expect(fleet[0]!.logs()).toMatch(/fleet store writes succeed again/);
    await everywhere('the change served everywhere', async (d) => (await value(d, 'm3.rv.test')) === CID_A);
  }, 30_000);
});
