// The cache survives a restart (cache.persist): a real dnslinkd answers from nsd, is stopped with
// SIGTERM (or killed with SIGKILL after a periodic snapshot) and started again on the same data dir
// with nsd gone: expired answers are served stale (EDE 3) as before the restart, fresh ones fresh
// with their TTL counting down, negative ones too. A corrupt snapshot never stops a start.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UPSTREAM_DOWN_CONFIG, digAt, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const SNAPSHOT = 'cache-0.snapshot';
const hop1 = n.hop1?.name ?? '';

describe.skipIf(!ok)('the cache kept across restarts', () => {
  const dirs: string[] = [];
  const running: Array<{ stop(): Promise<void> }> = [];
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-persist-'));
    dirs.push(dir);
    return dir;
  };
  const started = <T extends { stop(): Promise<void> }>(server: T): T => {
    running.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of running.splice(0).reverse()) await server.stop();
  });
  afterAll(async () => {
    await stopAll();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const logLines = (d: DnslinkdHandle) =>
    d
      .logs()
      .split('\n')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { level: number; msg: string; file?: string; entries?: number; kept?: number }];
        } catch {
          return [];
        }
      });

  it('SIGTERM, upstream gone, start again: the expired answer is served stale (EDE 3), not SERVFAIL', async () => {
    const dataDir = newDataDir();
    const nsd: NsdHandle = started(await startNsd());
    const first = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: UPSTREAM_DOWN_CONFIG }));
    expect((await digAt(first.dnsPort, n.plain.name, 'TXT')).parsed?.status).toBe('NOERROR');
    await nsd.stop();
    await first.stop(); // SIGTERM: the snapshot is written after the listeners close
    expect(logLines(first).find((l) => l.msg === 'cache snapshot written')).toMatchObject({ entries: 1, file: join(dataDir, SNAPSHOT) });
    expect(statSync(join(dataDir, SNAPSHOT)).mode & 0o777).toBe(0o600);

    const second = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: UPSTREAM_DOWN_CONFIG }));
    expect(logLines(second).find((l) => l.msg === 'cache snapshot loaded')).toMatchObject({ entries: 1, kept: 1 });
    const stale = await digAt(second.dnsPort, n.plain.name, 'TXT', ['+time=5']);
    expect(stale.parsed?.status).toBe('NOERROR');
    expect(stale.parsed?.answers.map((a) => [a.ttl, txtValue(a.data)])).toEqual([[30, n.plain.values[0]]]);
    expect(stale.parsed?.ede?.code).toBe(3);
    // A name the first run never cached has nothing to fall back on.
    expect((await digAt(second.dnsPort, n.two.name, 'TXT', ['+time=5'])).parsed?.status).toBe('SERVFAIL');
    expect(await second.metric('dnslinkd_cache_snapshot_loads_total')).toBe(1);
  }, 40_000);

  it('a fresh answer stays fresh across a restart, its TTL counted down from its absolute expiry; a negative one too', async () => {
    const dataDir = newDataDir();
    const nsd: NsdHandle = started(await startNsd());
    const first = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir }));
    const before = (await digAt(first.dnsPort, hop1, 'TXT')).parsed;
    const ttlBefore = before?.answers[0]?.ttl ?? 0;
    expect(ttlBefore).toBeGreaterThan(200);
    const missing = await digAt(first.dnsPort, n.missing.name, 'TXT');
    expect(missing.parsed?.status).toBe('NXDOMAIN');
    const askedAt = Date.now();
    await nsd.stop();
    await first.stop();
    await sleep(2000);

    const second = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir }));
    const after = (await digAt(second.dnsPort, hop1, 'TXT')).parsed;
    const elapsed = Math.ceil((Date.now() - askedAt) / 1000);
    expect(after?.status).toBe('NOERROR');
    expect(after?.ede).toBeUndefined();
    expect(after?.answers.map((a) => txtValue(a.data))).toEqual(before?.answers.map((a) => txtValue(a.data)));
    const ttlAfter = after?.answers[0]?.ttl ?? 0;
    expect(ttlAfter).toBeLessThan(ttlBefore - 1);
    expect(ttlAfter).toBeGreaterThanOrEqual(ttlBefore - elapsed - 1);
    await sleep(1100);
    expect((await digAt(second.dnsPort, hop1, 'TXT')).parsed?.answers[0]?.ttl).toBeLessThan(ttlAfter);
    const negative = (await digAt(second.dnsPort, n.missing.name, 'TXT')).parsed;
    expect(negative?.status).toBe('NXDOMAIN');
    expect(negative?.ede).toBeUndefined();
    expect(await second.metric('dnslinkd_cache_hits_total')).toBe(3);
  }, 40_000);

  it('a corrupt, truncated or foreign snapshot is logged in one warn line naming the file and why, and the start goes on', async () => {
    const dataDir = newDataDir();
    const nsd: NsdHandle = started(await startNsd());
    const first = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: UPSTREAM_DOWN_CONFIG }));
    expect((await digAt(first.dnsPort, n.plain.name, 'TXT')).parsed?.status).toBe('NOERROR');
    await first.stop();
    await nsd.stop();
    const file = join(dataDir, SNAPSHOT);
    const good = readFileSync(file);
    const corrupt = Buffer.from(good);
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 3) ^ 0x01, corrupt.length - 3);
    const cases: Array<[Buffer, RegExp]> = [
      [corrupt, /corrupt: checksum mismatch/],
      [good.subarray(0, good.length - 7), /truncated: \d+ of \d+ body bytes/],
      [Buffer.from('SQLite format 3\0'.padEnd(100, '\0')), /wrong magic bytes/],
    ];
    for (const [bytes, why] of cases) {
      writeFileSync(file, bytes);
      chmodSync(file, 0o600);
      const d = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: UPSTREAM_DOWN_CONFIG }));
      const warnings = logLines(d).filter((l) => l.level === 40 && l.msg.startsWith('cache snapshot'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.msg).toContain(file);
      expect(warnings[0]!.msg).toMatch(why);
      // The snapshot was ignored: nothing to serve stale with the upstream gone.
      expect((await digAt(d.dnsPort, n.plain.name, 'TXT', ['+time=5'])).parsed?.status).toBe('SERVFAIL');
      await d.stop();
    }
  }, 50_000);

  it('SIGKILL after a periodic snapshot: the next start serves what the last snapshot held', async () => {
    const dataDir = newDataDir();
    const nsd: NsdHandle = started(await startNsd());
    const config = { ...UPSTREAM_DOWN_CONFIG, cache: { ...UPSTREAM_DOWN_CONFIG.cache, persistIntervalMs: 300 } };
    const first = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config }));
    expect((await digAt(first.dnsPort, n.multi.name, 'TXT')).parsed?.status).toBe('NOERROR');
    await waitFor('a periodic snapshot holding the answer', async () => logLines(first).some((l) => l.msg === 'cache snapshot written' && l.entries === 1), 5000);
    process.kill(-first.proc.child.pid!, 'SIGKILL');
    await first.proc.exited;
    expect(first.proc.exitCode).toBeNull();
    await nsd.stop();

    const second = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config }));
    const stale = (await digAt(second.dnsPort, n.multi.name, 'TXT', ['+time=5'])).parsed;
    expect(stale?.status).toBe('NOERROR');
    expect(stale?.ede?.code).toBe(3);
    expect(stale?.answers.map((a) => txtValue(a.data))).toEqual([`dnslink=/ipfs/${n.multi.cid}`]);
  }, 40_000);

  it('--workers 2: each worker writes and loads its own snapshot (cache-0, cache-1), mode 0600; a replaced worker loads its predecessor\'s', async () => {
    const dataDir = newDataDir();
    const nsd: NsdHandle = started(await startNsd());
    const first = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, args: ['--workers', '2'] }));
    for (let i = 0; i < 6; i++) expect((await digAt(first.dnsPort, n.plain.name, 'TXT')).parsed?.status).toBe('NOERROR');
    await first.stop();
    const written = logLines(first).filter((l) => l.msg === 'cache snapshot written').map((l) => l.file);
    expect(written.sort()).toEqual([join(dataDir, 'cache-0.snapshot'), join(dataDir, 'cache-1.snapshot')]);
    for (const file of written) expect(statSync(file!).mode & 0o777).toBe(0o600);

    const second = started(await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, args: ['--workers', '2'] }));
    const loadLines = () => logLines(second).filter((l) => l.msg === 'cache snapshot loaded' || l.msg.startsWith('no cache snapshot'));
    await waitFor('both workers loading their snapshot', async () => loadLines().length === 2, 10_000);
    const loaded = loadLines().map((l) => [l.msg, l.file]);
    expect(loaded.sort()).toEqual([
      ['cache snapshot loaded', join(dataDir, 'cache-0.snapshot')],
      ['cache snapshot loaded', join(dataDir, 'cache-1.snapshot')],
    ]);

    // A worker killed is replaced by one with the same index (worker ids grow): it loads the dead one's snapshot.
    const readyLine = () => logLines(second).find((l) => l.msg === 'dnslinkd workers ready') as unknown as { pids: number[] } | undefined;
    await waitFor('both workers ready', async () => readyLine() !== undefined, 10_000);
    const ready = readyLine()!;
    process.kill(ready.pids[1]!, 'SIGKILL');
    await waitFor('the replacement worker loading a snapshot', async () => loadLines().length === 3, 15_000);
    const died = logLines(second).find((l) => l.msg === 'worker exited unexpectedly: restarting it') as unknown as { worker: number };
    const lines = loadLines() as unknown as Array<{ worker: number; file: string }>;
    expect(lines[2]!.file).toBe(lines.find((l) => l.worker === died.worker)!.file);
    expect(lines[2]!.worker).not.toBe(died.worker);
  }, 50_000);
});
