// `dnslinkd serve --workers 2` in front of nsd: several processes answer on one port, /metrics
// shows the totals of all workers, a killed worker is replaced, SIGTERM stops them all.
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  cliEntry,
  encodeQuery,
  fetchMetrics,
  freePort,
  metricSum,
  repoRoot,
  requireBinaries,
  requireBuild,
  spawnManaged,
  startNsd,
  stopAll,
  udpExchange,
  waitFor,
  zone,
} from './support/index.js';
import type { Managed, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const plain = zone.names.plain;

/** Log lines (pino JSON) with this msg. */
function logsWith(proc: Managed, msg: string): Record<string, unknown>[] {
  return proc.lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return entry.msg === msg ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** Send `count` queries for the plain fixture name, at most 20 at once; rcode and TXT values of each answer (no rcode: no answer). */
async function queryMany(port: number, count: number): Promise<{ rcode?: number; values: string[] }[]> {
  const results: { rcode?: number; values: string[] }[] = [];
  for (let start = 0; start < count; start += 20) {
    const batch = Array.from({ length: Math.min(20, count - start) }, async (_, i) => {
      const reply = await udpExchange(port, encodeQuery(start + i + 1, plain.name, 'TXT'), 3000);
      if (!reply) return { values: [] };
      const msg = dnsPacket.decode(reply);
      const values = (msg.answers ?? []).flatMap((a) => (a.type === 'TXT' ? [Buffer.concat((a.data as Buffer[]).map((d) => Buffer.from(d))).toString('utf8')] : []));
      return { rcode: (msg.flags ?? 0) & 0xf, values };
    });
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

/** /healthz on a fresh connection (no keep-alive), so the primary hands it to the next worker. */
function healthz(port: number): Promise<{ worker?: number }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve(JSON.parse(body) as { worker?: number }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('healthz timeout')));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dns.workers configuration', () => {
  it('defaults to 1 and is read from DNSLINKD_DNS__WORKERS', () => {
    expect(loadConfig({ env: {}, resolvConf: '/nonexistent' }).dns.workers).toBe(1);
    expect(loadConfig({ env: { DNSLINKD_DNS__WORKERS: '3' }, resolvConf: '/nonexistent' }).dns.workers).toBe(3);
    expect(() => loadConfig({ env: { DNSLINKD_DNS__WORKERS: '0' }, resolvConf: '/nonexistent' })).toThrow(/dns\.workers/);
  });
});

describe.skipIf(!ok)('dnslinkd serve --workers 2', () => {
  let nsd: NsdHandle;
  let proc: Managed;
  let dnsPort: number;
  let httpPort: number;
  const workerPids = new Set<number>();
  let dataDir: string;

  beforeAll(async () => {
    nsd = await startNsd();
    dnsPort = await freePort();
    httpPort = await freePort();
    // The primary holds the control plane: its own admin port and data directory, not the defaults.
    dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-workers-'));
    const admin = ['--admin', `127.0.0.1:${await freePort()}`, '--data-dir', dataDir];
    const args = [cliEntry, 'serve', '--workers', '2', '--dns', `127.0.0.1:${dnsPort}`, '--http', `127.0.0.1:${httpPort}`, '--upstream', `udp://127.0.0.1:${nsd.port}`, '--no-local-records', ...admin];
    proc = spawnManaged('dnslinkd', process.execPath, args, { cwd: repoRoot });
    await waitFor('dnslinkd workers ready', async () => logsWith(proc, 'dnslinkd workers ready').length > 0, 20_000, {
      abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}:\n${proc.output()}` : undefined),
    });
    for (const pid of logsWith(proc, 'dnslinkd workers ready')[0]!.pids as number[]) workerPids.add(pid);
  });
  afterAll(async () => {
    await proc?.stop();
    await nsd?.stop();
    await stopAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every query and counts them all in /metrics, summed over the workers', async () => {
    expect(workerPids.size).toBe(2);
    const results = await queryMany(dnsPort, 200);
    expect(results.filter((r) => r.rcode === 0 && r.values.join() === plain.values.join())).toHaveLength(200);
    const text = await fetchMetrics(httpPort);
    expect(metricSum(text, 'dnslinkd_queries_total', { transport: 'udp', rcode: 'NOERROR' })).toBe(200);
  });

  it('spreads HTTP connections over the workers; /healthz names the worker', async () => {
    const ids = new Set<number | undefined>();
    for (let i = 0; i < 6; i++) ids.add((await healthz(httpPort)).worker);
    expect([...ids].sort()).toEqual([1, 2]);
  });

  it('replaces a worker killed with SIGKILL and keeps answering meanwhile', async () => {
    const [victim] = [...workerPids];
    process.kill(victim!, 'SIGKILL');
    const during = await queryMany(dnsPort, 40);
    expect(during.filter((r) => r.rcode === 0)).toHaveLength(40);
    await waitFor('restarted worker ready', async () => logsWith(proc, 'restarted worker ready').length > 0, 15_000);
    const died = logsWith(proc, 'worker exited unexpectedly: restarting it');
    expect(died.map((e) => [e.pid, e.signal])).toEqual([[victim, 'SIGKILL']]);
    const restarted = logsWith(proc, 'restarted worker ready')[0]!.pid as number;
    workerPids.add(restarted);
    expect(alive(restarted)).toBe(true);
    const after = await queryMany(dnsPort, 40);
    expect(after.filter((r) => r.rcode === 0)).toHaveLength(40);
    // The dead worker's counts are gone; the survivors' are summed (all of `during` and `after`).
    expect(metricSum(await fetchMetrics(httpPort), 'dnslinkd_queries_total', { transport: 'udp' })).toBeGreaterThanOrEqual(80);
  });

  it('stops every process on SIGTERM', async () => {
    process.kill(-proc.child.pid!, 'SIGTERM');
    const exited = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
    expect(exited).toBe(true);
    expect(proc.exitCode).toBe(0);
    await waitFor('workers gone', async () => [...workerPids].every((pid) => !alive(pid)), 3000);
    expect(logsWith(proc, 'all workers stopped')).toHaveLength(1);
  });
});

describe.skipIf(!ok)('dnslinkd serve --workers 2 with port 0', () => {
  it('refuses to start, naming dns.listen', async () => {
    const proc = spawnManaged('dnslinkd', process.execPath, [cliEntry, 'serve', '--workers', '2', '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--no-local-records'], { cwd: repoRoot });
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await proc.stop();
    expect(proc.exitCode).toBe(1);
    expect(proc.output()).toMatch(/CONFIG_INVALID.*dns\.listen: port 0/);
  });
});
