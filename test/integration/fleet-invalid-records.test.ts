// Bad records written straight into the fleet's real redis-server under two running instances
// (an override with no value, not JSON, the wrong shape, a 70,000-character value; an audit
// entry and a flush log entry that cannot be read): each is skipped and reported (log line naming
// the key, dnslinkd_control_invalid_records, /admin/v1/status, a /healthz note), never served, the
// other records still sync, and an instance restarted with them present starts.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig') && requireBuild();

const plain = zone.names.plain.name.replace(/^_dnslink\./, '');
const hop3 = zone.names.hop3!.name.replace(/^_dnslink\./, '');
const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_A = `/ipfs/${CID}`;
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const LONG = `/ipfs/${CID}/${'a'.repeat(70_000 - CID.length - 7)}`;

interface Status {
  invalidRecords: { count: number; records: Array<{ key: string; id: string; why: string }> };
}

async function value(d: DnslinkdHandle, name: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { value?: string }).value;
}

async function health(d: DnslinkdHandle): Promise<{ status: number; body: { status: string; reason: string; control?: { degraded: boolean; invalidRecords?: number } } }> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as never };
}

const record = (name: string, extra: Record<string, unknown> = {}) => {
  const now = new Date().toISOString();
  return JSON.stringify({ name, value: CID_A, ttl: 60, reason: 'written by hand', by: 'test', createdAt: now, updatedAt: now, ...extra });
};

describe.skipIf(!ok)('invalid records in the fleet store (real redis-server, two instances)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let raw: Redis;
  const fleet: DnslinkdHandle[] = [];
  const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 1000 } } });
  /** Writes hash fields as a buggy writer would: the version bumped and a notice published. */
  const writeRaw = async (fields: Record<string, string>) => {
    await raw.hset('dnslinkd:overrides', fields);
    const version = await raw.hincrby('dnslinkd:meta', 'version', 1);
    await raw.publish('dnslinkd:changes', JSON.stringify({ kind: 'overrides', version, time: new Date().toISOString() }));
  };
  const status = async (d: DnslinkdHandle) => (await d.admin('GET', '/admin/v1/status')).body as unknown as Status;

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    raw = new Redis(redis.url);
    fleet.push(...(await Promise.all([start(), start()])));
  }, 60_000);
  afterAll(async () => {
    raw?.disconnect();
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('an override without a value is skipped, reported, and never served as dnslink=undefined', async () => {
    const { value: _, ...noValue } = JSON.parse(record('undef.example')) as Record<string, unknown>;
    await writeRaw({ 'undef.example': JSON.stringify(noValue) });
    for (const d of fleet) {
      await waitFor('the invalid record reported', async () => (await d.metric('dnslinkd_control_invalid_records')) === 1, 5000);
      const dns = await digAt(d.dnsPort, '_dnslink.undef.example', 'TXT');
      expect(dns.parsed?.answers.map((a) => txtValue(a.data)) ?? []).not.toContain('dnslink=undefined');
      expect(dns.parsed?.flags ?? []).not.toContain('aa');
      expect(await value(d, 'undef.example')).toBeUndefined();
      expect(await d.metric('dnslinkd_overrides_active')).toBe(0);
      expect(d.logs()).toMatch(/"key":"dnslinkd:overrides","record":"undef\.example","why":"value is missing, not a string".*invalid record in the fleet store skipped/);
      const s = await status(d);
      expect(s.invalidRecords.count).toBe(1);
      expect(s.invalidRecords.records[0]).toMatchObject({ key: 'dnslinkd:overrides', id: 'undef.example' });
      const h = await health(d);
      expect(h.status).toBe(200);
      expect(h.body.reason).toMatch(/note: 1 invalid records in the control store skipped, never served \(see \/admin\/v1\/status\)/);
      expect(h.body.control?.invalidRecords).toBe(1);
    }
  }, 30_000);

  it('with records that are not JSON, of the wrong shape or too long to encode present, the others still sync', async () => {
    expect((await fleet[0]!.admin('PUT', `/admin/v1/overrides/${plain}`, { value: CID_A, reason: 'good one' })).status).toBe(200);
    await writeRaw({
      'notjson.example': '{"name": "notjson.example", value',
      'shape.example': '[1, 2, 3]',
      'long.example': record('long.example', { value: LONG }),
      'other.example': record('mismatch.example'),
    });
    // A change made after them on one instance reaches the other.
    expect((await fleet[1]!.admin('PUT', `/admin/v1/overrides/${hop3}`, { value: CID_B, reason: 'made after the bad records' })).status).toBe(200);
    for (const d of fleet) {
      await waitFor('both good overrides', async () => (await value(d, plain)) === CID_A && (await value(d, hop3)) === CID_B, 5000);
      await waitFor('five invalid records reported', async () => (await d.metric('dnslinkd_control_invalid_records')) === 5, 5000);
      expect(await d.metric('dnslinkd_overrides_active')).toBe(2);
      for (const bad of ['notjson.example', 'shape.example', 'long.example', 'other.example', 'mismatch.example']) expect(await value(d, bad)).toBeUndefined();
      const s = await status(d);
      const why = Object.fromEntries(s.invalidRecords.records.map((r) => [r.id, r.why]));
      expect(why['notjson.example']).toMatch(/^not JSON/);
      expect(why['shape.example']).toMatch(/not a JSON object \(an array\)/);
      expect(why['long.example']).toMatch(/value is 70000 bytes; at most 63000 \(VALUE_TOO_LONG/);
      expect(why['other.example']).toMatch(/does not match the field/);
      expect(d.logs()).toMatch(/"key":"dnslinkd:overrides","record":"long\.example"/);
      expect((await health(d)).body.reason).toMatch(/note: 5 invalid records/);
    }
  }, 30_000);

  it('the admin API refuses the same value (the same bound)', async () => {
    const r = await fleet[0]!.admin('PUT', '/admin/v1/overrides/long.example', { value: LONG, reason: 'too long' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'VALUE_TOO_LONG' });
    expect(String(r.body.message)).toMatch(/at most 63000/);
  });

  it('an unreadable audit entry is left out of the audit log, reported; an unreadable flush is applied as a whole-cache flush', async () => {
    await raw.xadd('dnslinkd:audit', '*', 'r', 'not json at all');
    const audit = await fleet[0]!.admin('GET', '/admin/v1/audit?limit=100');
    expect(audit.status).toBe(200);
    const actions = (audit.body.records as Array<{ action: string }>).map((r) => r.action);
    expect(actions).toContain('override.set');
    expect((await status(fleet[0]!)).invalidRecords.records.some((r) => r.key === 'dnslinkd:audit')).toBe(true);

    const before = await Promise.all(fleet.map((d) => d.metric('dnslinkd_flushes_total')));
    // In one transaction, as dnslinkd writes them: a reconcile between the two would see a trimmed log.
    const generation = Number(await raw.hget('dnslinkd:meta', 'generation')) + 1;
    const member = `${generation} ${JSON.stringify({ target: 12, negativeOnly: false, time: new Date().toISOString() })}`;
    await raw.multi().hincrby('dnslinkd:meta', 'generation', 1).zadd('dnslinkd:flushes', generation, member).exec();
    await raw.publish('dnslinkd:changes', JSON.stringify({ kind: 'flush', generation, time: new Date().toISOString() }));
    for (const [i, d] of fleet.entries()) {
      await waitFor('the flush applied', async () => (await d.metric('dnslinkd_flushes_total')) > before[i]!, 5000);
      expect(d.logs()).toMatch(/"key":"dnslinkd:flushes","record":"generation \d+","why":"target is none of .*applied as a flush of the whole cache/);
    }
    // ...and the overrides still sync after it.
    expect((await fleet[0]!.admin('DELETE', `/admin/v1/overrides/${hop3}`, { reason: 'done' })).status).toBe(200);
    await waitFor('the removal on the other', async () => (await value(fleet[1]!, hop3)) !== CID_B, 5000);
  }, 30_000);

  it('an instance restarted with the bad records present starts, serves the good ones and reports the bad', async () => {
    await fleet.pop()!.stop();
    const back = await start();
    fleet.push(back);
    expect((await health(back)).status).toBe(200);
    expect(await value(back, plain)).toBe(CID_A);
    expect(await back.metric('dnslinkd_control_invalid_records')).toBeGreaterThanOrEqual(5);
    expect(back.logs()).toMatch(/"overrides":1.*control store opened/);
    expect(back.logs()).toMatch(/invalid record in the fleet store skipped.*notjson\.example/);
  }, 30_000);
});
