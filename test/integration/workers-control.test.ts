// The control plane with `--workers 2` (real processes, nsd upstream): the primary holds the admin
// API and the store; an override reaches every worker, a flush empties every worker's cache (the
// sum is reported), a worker killed and restarted still answers the override; /metrics carries
// the primary's control metrics next to the workers' sums; the console's look-up and samples.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, metricSum, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const plain = zone.names.plain;
const two = zone.names.two;
const bare = (fixtureName: string): string => fixtureName.replace(/^_dnslink\./, '');
const overrideValue = `/ipfs/${zone.names.multi.cid}`;

/** Log lines (pino JSON) with this msg. */
function logsWith(d: DnslinkdHandle, msg: string): Record<string, unknown>[] {
  return d.proc.lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.msg === msg ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** One HTTP GET on a fresh connection (no keep-alive): the primary hands each to the next worker. */
function freshGet(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${path}: timeout`)));
  });
}

/** The TXT values of `name` over DNS, each query on its own TCP connection (so workers take turns). */
async function tcpTxt(port: number, name: string, times: number): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < times; i++) {
    const r = await digAt(port, name, 'TXT', ['+tcp']);
    out.push(r.parsed?.answers.filter((a) => a.type === 'TXT').map((a) => txtValue(a.data)) ?? []);
  }
  return out;
}

/** Which workers hold a cached entry of `name` (admin API view). */
async function cachedBy(d: DnslinkdHandle, name: string): Promise<number[]> {
  const r = await d.admin('GET', `/admin/v1/cache/${name}`);
  expect(r.status).toBe(200);
  const entries = r.body.entries as Array<{ worker?: number }>;
  return [...new Set(entries.map((e) => e.worker ?? 0))].sort();
}

describe.skipIf(!ok)('control plane with --workers 2', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;

  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], args: ['--workers', '2'] });
    await waitFor('dnslinkd workers ready', async () => logsWith(d, 'dnslinkd workers ready').length > 0, 20_000);
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('the primary serves the admin API; HTTP connections reach both workers', async () => {
    const status = await d.admin('GET', '/admin/v1/status');
    expect(status.status).toBe(200);
    const ids = new Set<unknown>();
    for (let i = 0; i < 4; i++) ids.add((await freshGet(d.httpPort, '/healthz')).body.worker);
    expect([...ids].sort()).toEqual([1, 2]);
  });

  it('an override set through the admin API is answered by both workers (DNS over TCP and HTTP)', async () => {
    // Cached first in each worker, so the override must also flush it everywhere.
    expect((await tcpTxt(d.dnsPort, plain.name, 4)).every((v) => v.join() === plain.values.join())).toBe(true);
    const set = await d.admin('PUT', `/admin/v1/overrides/${bare(plain.name)}`, { value: overrideValue, reason: 'workers test', ttl: 60 });
    expect(set.status).toBe(200);
    expect((set.body.cache as { removed: number }).removed).toBe(2);
    expect(await tcpTxt(d.dnsPort, plain.name, 6)).toEqual(Array(6).fill([`dnslink=${overrideValue}`]));
    // Each fresh connection goes to the next worker: 6 in a row cover both.
    for (let i = 0; i < 6; i++) {
      const r = await freshGet(d.httpPort, `/v1/dnslink/${bare(plain.name)}`);
      expect([r.status, r.body.value]).toEqual([200, overrideValue]);
    }
    const metrics = await d.metrics();
    expect(metricSum(metrics, 'dnslinkd_overrides_active')).toBe(1);
    expect(metricSum(metrics, 'dnslinkd_audit_writes_total', { action: 'override.set' })).toBe(1);
  });

  it("the console's look-up is answered by a worker as /v1/dnslink is, and its samples sum both workers' queries", async () => {
    const looked = await d.admin('GET', `/admin/v1/lookup/${bare(plain.name)}`);
    const direct = await freshGet(d.httpPort, `/v1/dnslink/${bare(plain.name)}`);
    expect(looked.status).toBe(200);
    expect(looked.body.status).toBe(direct.status);
    expect((looked.body.answer as { value: string }).value).toBe(direct.body.value);
    expect((await d.admin('GET', '/admin/v1/lookup/nothing-here.dnslink.test')).body).toMatchObject({ status: 404, answer: { code: expect.stringMatching(/^(NO_DNSLINK|DNS_RCODE_3)$/) } });
    // Over TCP, each connection to the next worker: both count queries; the sample sums them.
    const samples = async () => (await d.admin('GET', '/admin/v1/samples')).body.samples as Array<{ queries: Record<string, number> }>;
    const before = (await samples()).at(-1)?.queries.tcp ?? 0;
    await tcpTxt(d.dnsPort, plain.name, 6);
    const status = await d.admin('GET', '/admin/v1/status');
    const byProcess = (status.body.processes as Array<{ queries: Record<string, number> }>).map((p) => p.queries.tcp ?? 0);
    expect(byProcess.every((n) => n > 0)).toBe(true);
    await waitFor('a sample counting the 6 TCP queries', async () => ((await samples()).at(-1)?.queries.tcp ?? 0) >= before + 6, 8_000);
  });

  it('a flush removes the entries of both workers (the sum), and each worker then asks upstream again', async () => {
    const name = bare(two.name);
    await tcpTxt(d.dnsPort, two.name, 4);
    expect(await cachedBy(d, name)).toEqual([1, 2]);
    const entries = ((await d.admin('GET', `/admin/v1/cache/${name}`)).body.entries as unknown[]).length;
    expect(entries).toBeGreaterThanOrEqual(2);
    const dry = await d.admin('POST', '/admin/v1/cache/flush?dryRun=true', { name });
    expect(dry.body).toMatchObject({ dryRun: true, removed: entries });
    const flushed = await d.admin('POST', '/admin/v1/cache/flush', { name, reason: 'workers test' });
    expect(flushed.status).toBe(200);
    expect(flushed.body).toMatchObject({ dryRun: false, removed: entries });
    expect(await cachedBy(d, name)).toEqual([]);
    const missesBefore = await d.metric('dnslinkd_cache_misses_total');
    expect((await tcpTxt(d.dnsPort, two.name, 4)).every((v) => v.join() === two.values.join())).toBe(true);
    expect((await d.metric('dnslinkd_cache_misses_total')) - missesBefore).toBe(2);
    expect(await cachedBy(d, name)).toEqual([1, 2]);
    const metrics = await d.metrics();
    expect(metricSum(metrics, 'dnslinkd_flushes_total', { target: 'name' })).toBe(1);
    expect(metricSum(metrics, 'dnslinkd_flushed_entries_total')).toBe(entries);
  });

  it('a worker killed with SIGKILL restarts with the override in force', async () => {
    const pids = logsWith(d, 'dnslinkd workers ready')[0]!.pids as number[];
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor('restarted worker ready', async () => logsWith(d, 'restarted worker ready').length > 0, 15_000);
    const ids = new Set<unknown>();
    for (let i = 0; i < 4; i++) ids.add((await freshGet(d.httpPort, '/healthz')).body.worker);
    expect([...ids].sort()).toEqual([2, 3]);
    expect(await tcpTxt(d.dnsPort, plain.name, 6)).toEqual(Array(6).fill([`dnslink=${overrideValue}`]));
    for (let i = 0; i < 4; i++) {
      const r = await freshGet(d.httpPort, `/v1/dnslink/${bare(plain.name)}`);
      expect([r.status, r.body.value]).toEqual([200, overrideValue]);
    }
    // The restarted worker is a replica too: it caches, and the admin API sees it.
    await tcpTxt(d.dnsPort, two.name, 4);
    expect(await cachedBy(d, bare(two.name))).toEqual([2, 3]);
    // An override removed now reaches the restarted worker as well.
    const removed = await d.admin('DELETE', `/admin/v1/overrides/${bare(plain.name)}`, { reason: 'workers test done' });
    expect(removed.status).toBe(200);
    expect(await tcpTxt(d.dnsPort, plain.name, 4)).toEqual(Array(4).fill(plain.values));
  });
});
