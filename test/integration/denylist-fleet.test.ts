// Operator denylist rules fleet-wide: three dnslinkd processes sharing one real redis-server block
// a name added on one of them within a couple of seconds (cached answers included), and lift it
// when it is removed; one dnslinkd with --workers 2 blocks it in every worker (over TCP, each
// query on its own connection, so the workers take turns), a rule sent to a worker before it listens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig') && requireBuild();
const plain = zone.names.plain.name.replace(/^_dnslink\./, '');
const hop1 = zone.names.hop1!.name.replace(/^_dnslink\./, '');

async function gatewayStatus(d: DnslinkdHandle, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

/** Polls until every instance answers `status` for the name; the ms it took. */
async function everyAnswers(instances: DnslinkdHandle[], name: string, status: number, since: number, limitMs = 5000): Promise<number> {
  const times = await Promise.all(
    instances.map(async (d) => {
      for (;;) {
        if ((await gatewayStatus(d, name)) === status) return Date.now() - since;
        if (Date.now() - since > limitMs) throw new Error(`${name} did not answer ${status} on :${d.httpPort} within ${limitMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return Math.max(...times);
}

describe.skipIf(!ok)('operator denylist rules across a fleet and across workers', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  const fleet: DnslinkdHandle[] = [];
  let workers: DnslinkdHandle | undefined;

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    const start = () => startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { state: { redis: redis.url, syncIntervalMs: 1000 } } });
    fleet.push(...(await Promise.all([start(), start(), start()])));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(fleet.map((d) => d.stop()));
    await workers?.stop();
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('a rule added on one instance blocks on all three (cached answers too); removed, it lifts on all three', async () => {
    for (const d of fleet) expect(await gatewayStatus(d, plain)).toBe(200);
    const since = Date.now();
    const added = await fleet[0]!.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${plain}`, reason: 'phishing, fleet-wide' });
    expect(added.status).toBe(200);
    const ms = await everyAnswers(fleet, plain, 410, since);
    console.log(`fleet: an operator rule added on one instance blocked on all three after ${ms} ms`);
    for (const d of fleet) expect((await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT')).parsed?.ede?.code).toBe(15);
    // Every instance lists it (read from the shared store).
    for (const d of fleet) expect(((await d.admin('GET', '/admin/v1/denylist/rules')).body.rules as unknown[]).length).toBe(1);
    const id = (added.body.rule as { id: string }).id;
    const removedAt = Date.now();
    const removed = await fleet[2]!.admin('DELETE', `/admin/v1/denylist/rules/${id}`, { reason: 'taken down' });
    expect(removed.status).toBe(200);
    await everyAnswers(fleet, plain, 200, removedAt);
  }, 30_000);

  it('skips a rule record in Redis that fails its checks, and reports it; the good ones still block', async () => {
    const good = await fleet[0]!.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${plain}`, reason: 'phishing' });
    expect(good.status).toBe(200);
    const client = new Redis(redis.url);
    try {
      await client.hset('dnslinkd:denylist:rules', 'written-by-hand', JSON.stringify({ id: 'written-by-hand', rule: '/ipns/a.example\n/ipns/b.example', reason: 'x', by: 'someone', createdAt: new Date().toISOString() }));
      await client.publish('dnslinkd:changes', JSON.stringify({ kind: 'denylist', time: new Date().toISOString() }));
    } finally {
      client.disconnect();
    }
    for (const d of fleet) {
      await waitFor('the invalid rule reported', async () => ((await d.admin('GET', '/admin/v1/status')).body.invalidRecords as { count: number }).count === 1, 5000);
      const records = ((await d.admin('GET', '/admin/v1/status')).body.invalidRecords as { records: Array<{ key: string; id: string; why: string }> }).records;
      expect(records[0]).toMatchObject({ key: 'dnslinkd:denylist:rules', id: 'written-by-hand' });
      expect(records[0]!.why).toMatch(/^rule: /);
      expect(await gatewayStatus(d, plain)).toBe(410);
    }
    await fleet[0]!.admin('DELETE', `/admin/v1/denylist/rules/${(good.body.rule as { id: string }).id}`, { reason: 'cleanup' });
  }, 30_000);

  it('--workers 2: a rule blocks in every worker, and the workers report it', async () => {
    // And a file list, read by each worker (each keeps its copy under its own data dir).
    const listFile = join(mkdtempSync(join(tmpdir(), 'denylist-workers-')), 'local.deny');
    writeFileSync(listFile, `/ipns/${hop1}\n`);
    workers = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], args: ['--workers', '2'], config: { denylist: { sources: [{ name: 'local', file: listFile }] } } });
    for (let i = 0; i < 6; i++) expect((await digAt(workers.dnsPort, `_dnslink.${hop1}`, 'TXT', ['+tcp'])).stdout).toContain(`blocked by denylist local rule /ipns/${hop1}`);
    // Each worker caches the answer first.
    for (let i = 0; i < 6; i++) expect((await digAt(workers.dnsPort, `_dnslink.${plain}`, 'TXT', ['+tcp'])).parsed?.answers.length).toBe(1);
    const added = await workers.admin('POST', '/admin/v1/denylist/rules', { rule: `/ipns/${plain}`, reason: 'phishing' });
    expect(added.status).toBe(200);
    for (let i = 0; i < 8; i++) {
      const r = await digAt(workers.dnsPort, `_dnslink.${plain}`, 'TXT', ['+tcp']);
      expect(r.parsed?.answers).toEqual([]);
      expect(r.parsed?.ede?.code).toBe(15);
    }
    const status = await workers.admin('GET', '/admin/v1/denylist');
    expect(status.body).toMatchObject({ processes: 2, operatorRules: 1 });
    expect((status.body.lists as Array<{ name: string; entries?: number }>).find((l) => l.name === 'local')).toMatchObject({ entries: 1 });
  }, 40_000);
});
