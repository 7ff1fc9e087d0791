// Overrides always encode (issue 16), with the embedded store and with a real redis-server: a
// 70,000-character value is refused with 400 VALUE_TOO_LONG naming the limit and nothing is
// stored (later changes still work); a value at the limit is answered end to end over UDP (TC=1)
// and TCP to dig and kdig; a record too long to encode written straight into the store (Redis, or
// the SQLite file) is skipped and reported, the others still apply, and restarts still work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, kdig, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig', 'kdig') && requireBuild();

const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const GOOD = `/ipfs/${CID}`;
/** The documented limit (src/stages/overrides/override-wire.ts, docs/api.md). */
const LIMIT = 63_000;
const valueOf = (length: number) => `/ipfs/${CID}/${'a'.repeat(length - CID.length - 7)}`;
const plain = zone.names.plain.name.replace(/^_dnslink\./, '');

const record = (name: string, value: string) => {
  const now = new Date().toISOString();
  return JSON.stringify({ name, value, ttl: 60, reason: 'written by hand', by: 'test', createdAt: now, updatedAt: now });
};

async function healthOf(d: DnslinkdHandle): Promise<{ status: number; reason: string }> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, reason: String(((await res.json()) as { reason?: string }).reason ?? '') };
}

async function overrideTxt(d: DnslinkdHandle, name: string): Promise<string[]> {
  const r = await digAt(d.dnsPort, `_dnslink.${name}`, 'TXT');
  return (r.parsed?.answers ?? []).map((a) => txtValue(a.data));
}

interface StoreUnderTest {
  kind: 'embedded' | 'redis';
  /** Names of the overrides the store holds (read straight from it). */
  names(): Promise<string[]>;
  /** Writes a record straight into the store, as a buggy writer or an older version would. */
  writeRaw(name: string, raw: string): Promise<void>;
}

describe.skipIf(!ok).each(['embedded', 'redis'] as const)('overrides always encode (%s store)', (kind) => {
  let nsd: NsdHandle;
  let redis: RedisHandle | undefined;
  let raw: Redis | undefined;
  let d: DnslinkdHandle;
  let dataDir: string;
  let store: StoreUnderTest;
  const start = () =>
    startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: redis ? { state: { redis: redis.url, syncIntervalMs: 1000 } } : {} });

  beforeAll(async () => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'dnslinkd-encode-')), 'data');
    nsd = await startNsd();
    if (kind === 'redis') {
      redis = await startRedis();
      raw = new Redis(redis.url);
    }
    d = await start();
    const dbFile = join(dataDir, 'control.db');
    store =
      kind === 'redis'
        ? {
            kind,
            names: async () => raw!.hkeys('dnslinkd:overrides'),
            writeRaw: async (name, text) => {
              await raw!.hset('dnslinkd:overrides', name, text);
              const version = await raw!.hincrby('dnslinkd:meta', 'version', 1);
              await raw!.publish('dnslinkd:changes', JSON.stringify({ kind: 'overrides', version, time: new Date().toISOString() }));
            },
          }
        : {
            kind,
            names: async () => {
              const db = new DatabaseSync(dbFile, { readOnly: true });
              try {
                return (db.prepare('SELECT name FROM overrides').all() as Array<{ name: string }>).map((r) => r.name);
              } finally {
                db.close();
              }
            },
            // The embedded store is one process's file: written while dnslinkd is stopped, read at its start.
            writeRaw: async (name, text) => {
              await d.stop();
              const db = new DatabaseSync(dbFile);
              try {
                db.prepare('INSERT INTO overrides (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record').run(name, text);
                db.exec("UPDATE meta SET value = value + 1 WHERE key = 'version'");
              } finally {
                db.close();
              }
              d = await start();
            },
          };
  }, 60_000);
  afterAll(async () => {
    raw?.disconnect();
    await d?.stop();
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
    if (dataDir) rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('refuses a 70,000-character value with 400 VALUE_TOO_LONG naming the limit; nothing is stored and later changes work', async () => {
    const r = await d.admin('PUT', '/admin/v1/overrides/huge.example', { value: valueOf(70_000), reason: 'the issue repro' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'VALUE_TOO_LONG' });
    expect(String(r.body.message)).toMatch(/value is 70000 bytes; at most 63000/);
    expect(await store.names()).not.toContain('huge.example');
    expect((await d.admin('GET', '/admin/v1/overrides/huge.example')).status).toBe(404);
    // The same through the CLI (exit 2: invalid input) and an import.
    const cli = await runCli(['override', 'set', 'huge.example', valueOf(70_000), '--reason', 'cli', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^dnslinkd: \[VALUE_TOO_LONG\] value is 70000 bytes; at most 63000/);
    const imp = await d.admin('POST', '/admin/v1/overrides/import', { overrides: [{ name: 'huge.example', value: valueOf(LIMIT + 1) }], reason: 'import' });
    expect(imp.status).toBe(400);
    expect(imp.body).toMatchObject({ code: 'VALUE_TOO_LONG' });
    // A later change is made and served.
    expect((await d.admin('PUT', `/admin/v1/overrides/${plain}`, { value: GOOD, reason: 'after the refusal' })).status).toBe(200);
    expect(await overrideTxt(d, plain)).toEqual([`dnslink=${GOOD}`]);
  }, 30_000);

  it('serves a value at the limit end to end: UDP says TC=1, TCP carries it whole, to dig and kdig', async () => {
    const value = valueOf(LIMIT);
    const put = await d.admin('PUT', '/admin/v1/overrides/limit.example', { value, reason: 'at the limit' });
    expect(put.status).toBe(200);
    const qname = '_dnslink.limit.example';
    const udp = await digAt(d.dnsPort, qname, 'TXT', ['+ignore']);
    expect(udp.parsed?.flags).toContain('tc');
    expect(udp.parsed?.transport).toBe('UDP');
    const retried = await digAt(d.dnsPort, qname, 'TXT');
    expect(retried.retriedTcp).toBe(true);
    expect(retried.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=${value}`]);
    const tcp = await digAt(d.dnsPort, 'limit.example', 'TXT', ['+tcp']);
    expect(tcp.parsed?.status).toBe('NOERROR');
    expect(tcp.parsed?.answers.map((a) => txtValue(a.data))).toContain(`dnslink=${value}`);
    const kUdp = await kdig(['@127.0.0.1', '-p', String(d.dnsPort), '+notcp', 'TXT', qname]);
    expect(kUdp.parsed?.flags).toContain('tc');
    const kTcp = await kdig(['@127.0.0.1', '-p', String(d.dnsPort), '+tcp', 'TXT', qname]);
    expect(kTcp.parsed?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=${value}`]);
    expect(kTcp.parsed?.msgSize ?? 0).toBeGreaterThan(LIMIT);
    expect((await d.admin('DELETE', '/admin/v1/overrides/limit.example', { reason: 'done' })).status).toBe(200);
  }, 30_000);

  it('a record too long to encode written into the store is skipped and reported; the others apply; restarts work', async () => {
    await store.writeRaw('bricked.example', record('bricked.example', valueOf(70_000)));
    await waitFor('the record reported', async () => (await d.metric('dnslinkd_control_invalid_records')) >= 1, 10_000);
    expect(d.logs()).toMatch(/"record":"bricked\.example","why":"value is 70000 bytes; at most 63000.*invalid record in the (fleet|control) store skipped/);
    const status = (await d.admin('GET', '/admin/v1/status')).body as { invalidRecords: { records: Array<{ id: string; why: string }> } };
    expect(status.invalidRecords.records.find((r) => r.id === 'bricked.example')?.why).toMatch(/VALUE_TOO_LONG/);
    const h = await healthOf(d);
    expect(h.status).toBe(200);
    expect(h.reason).toMatch(/invalid records in the control store skipped, never served/);
    expect((await digAt(d.dnsPort, '_dnslink.bricked.example', 'TXT')).parsed?.flags ?? []).not.toContain('aa');
    // The other override still applies, and changes still work.
    expect(await overrideTxt(d, plain)).toEqual([`dnslink=${GOOD}`]);
    expect((await d.admin('PUT', '/admin/v1/overrides/after.example', { value: GOOD, reason: 'made after the bad record' })).status).toBe(200);
    expect(await overrideTxt(d, 'after.example')).toEqual([`dnslink=${GOOD}`]);
    // A restart with the record present starts and serves the others.
    await d.stop();
    d = await start();
    expect((await healthOf(d)).reason).toMatch(/invalid records/);
    expect(await overrideTxt(d, plain)).toEqual([`dnslink=${GOOD}`]);
    expect(await overrideTxt(d, 'after.example')).toEqual([`dnslink=${GOOD}`]);
    // A PUT over the bad record replaces it (the way out the log names).
    expect((await d.admin('PUT', '/admin/v1/overrides/bricked.example', { value: GOOD, reason: 'replacing the bad record' })).status).toBe(200);
    expect(await overrideTxt(d, 'bricked.example')).toEqual([`dnslink=${GOOD}`]);
  }, 50_000);
});
