// A control store that tells the truth, with real processes: a clean SIGTERM leaves no -wal/-shm
// (0600 while it runs); store files deleted under a running instance (503 STORE_REPLACED, /healthz
// degraded, nothing acknowledged lost); a /proc data directory; read-only and foreign-owned
// directories and files run as nobody (root ignores modes); a read-only bind mount; a full tmpfs
// (SQLITE_FULL with the path, then recovery). Mounts are skipped, saying so, where not permitted.
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRunAsNobody, NOBODY, runAsNobody, serveArgs, stderrLines, suiteTempDirs } from './support/data-dir.js';
import { requireBuild, runCli, runTool, startDnslinkd, stopAll, type CliResult } from './support/index.js';

const ok = requireBuild();
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

/** Mounts for one suite, made before its tests and removed after; `mounted` false (said once) where not permitted. */
function mountFor(what: string, mount: () => Promise<boolean>, unmount: () => Promise<void>) {
  const state = { mounted: false };
  beforeAll(async () => {
    state.mounted = await mount();
    if (!state.mounted) console.warn(`\n!!!!!! ${what} SKIPPED: cannot mount here (needs root and CAP_SYS_ADMIN) !!!!!!\n`);
  });
  afterAll(async () => {
    await stopAll();
    if (state.mounted) await unmount();
  });
  return state;
}

describe.skipIf(!ok)('a control store that tells the truth', () => {
  const tempDir = suiteTempDirs('dnslinkd-store-');

  it('a clean SIGTERM leaves no -wal or -shm file; while running they are 0600 like the database', async () => {
    const dataDir = join(tempDir(), 'data');
    const d = await startDnslinkd({ upstreams: [], dataDir });
    expect((await d.admin('PUT', '/admin/v1/overrides/wal.example', { value: `/ipfs/${CID}`, reason: 'wal test' })).status).toBe(200);
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) expect({ f, mode: (statSync(join(dataDir, f)).mode & 0o777).toString(8) }).toEqual({ f, mode: '600' });
    await d.proc.stop(); // SIGTERM
    expect(d.proc.exitCode).toBe(0);
    expect(readdirSync(dataDir).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    const again = await startDnslinkd({ upstreams: [], dataDir });
    expect((await again.admin('GET', '/admin/v1/overrides/wal.example')).status).toBe(200);
    await again.stop();
  });

  it('store files deleted under a running instance: the next change gets 503 STORE_REPLACED, /healthz says degraded, a restart has every acknowledged override', async () => {
    const dataDir = join(tempDir(), 'data');
    const d = await startDnslinkd({ upstreams: [], dataDir });
    const names = Array.from({ length: 10 }, (_, i) => `kept${i}.example`);
    for (const name of names) expect((await d.admin('PUT', `/admin/v1/overrides/${name}`, { value: `/ipfs/${CID}`, reason: 'before the delete' })).status).toBe(200);
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) rmSync(join(dataDir, f));

    const refused = await d.admin('PUT', '/admin/v1/overrides/after.example', { value: `/ipfs/${CID}`, reason: 'after the delete' });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'STORE_REPLACED' });
    expect(JSON.stringify(refused.body)).toContain(join(dataDir, 'control.db'));
    const health = (await (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`)).json()) as { reason: string; control: { degraded: boolean; reason?: string } };
    expect(health.control).toMatchObject({ degraded: true, reason: expect.stringContaining('STORE_REPLACED') });
    expect(health.reason).toContain('DEGRADED');
    expect(await d.metric('dnslinkd_control_store_errors_total')).toBe(1);
    // Still refused (not acknowledged) on a second try; nothing it holds is dropped meanwhile.
    expect((await d.admin('DELETE', `/admin/v1/overrides/${names[0]}?reason=x`)).status).toBe(503);
    expect(d.logs()).toContain(`wrote this instance's overrides, flushes and audit log back to ${join(dataDir, 'control.db')}`);
    await d.stop();

    const again = await startDnslinkd({ upstreams: [], dataDir });
    const listed = (await again.admin('GET', '/admin/v1/overrides')).body.overrides as Array<{ name: string }>;
    expect(listed.map((o) => o.name).sort()).toEqual([...names].sort());
    expect((await again.admin('PUT', '/admin/v1/overrides/after.example', { value: `/ipfs/${CID}`, reason: 'after the restart' })).status).toBe(200);
    await again.stop();
  });

  it('a /proc data directory: one-line start error naming the path and the user, within a second of start-up', async () => {
    // Start-up itself (modules, configuration) takes a while on a busy machine: a data directory that
    // is a plain file fails at once on the same path, and measures it.
    // Each timed twice, the faster kept: other processes on the machine make single runs vary.
    const timed = async (args: string[]) => {
      let fastest = Infinity;
      let result: CliResult | undefined;
      for (let i = 0; i < 2; i++) {
        const started = Date.now();
        result = await runCli(args, 10_000);
        fastest = Math.min(fastest, Date.now() - started);
      }
      return { ...result!, ms: fastest };
    };
    const plainFile = join(tempDir(), 'a-file');
    writeFileSync(plainFile, '');
    const baseline = await timed(serveArgs(plainFile));
    expect(baseline.code).toBe(1);
    const startUp = baseline.ms;
    for (const dataDir of ['/proc/dnslinkd-test/data', '/proc/self']) {
      const r = await timed(serveArgs(dataDir));
      expect(r.code).toBe(1);
      expect(stderrLines(r)).toHaveLength(1);
      expect(r.stderr).toContain(dataDir);
      expect(r.stderr).toMatch(/as \S+ \(uid \d+\)/);
      expect(r.stderr).toContain('set dataDir');
      expect(r.ms - startUp).toBeLessThan(1000); // before: mkdir looped at 100% CPU for ever (killed at 10 s)
    }
  });

  describe('unusable files and directories, as an unprivileged user', async () => {
    const nobody = await canRunAsNobody();
    if (!nobody) console.warn('\n!!!!!! read-only store tests SKIPPED: cannot run node as nobody with setpriv (needs root and a checkout nobody can read) !!!!!!\n');

    /** A data directory holding a healthy store made by nobody, in a parent nobody can enter. */
    const healthyStoreOfNobody = async () => {
      const parent = tempDir();
      chmodSync(parent, 0o755);
      const dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o700 });
      chownSync(dataDir, NOBODY.uid, NOBODY.gid);
      const d = await startDnslinkd({ upstreams: [], dataDir });
      expect((await d.admin('PUT', '/admin/v1/overrides/healthy.example', { value: `/ipfs/${CID}`, reason: 'made first' })).status).toBe(200);
      await d.stop();
      for (const f of readdirSync(dataDir)) chownSync(join(dataDir, f), NOBODY.uid, NOBODY.gid);
      return dataDir;
    };

    it.skipIf(!nobody)('a read-only data directory and a read-only store file: a start error naming the path, the user and the fix, never STORE_CORRUPT', async () => {
      const dataDir = await healthyStoreOfNobody();
      chmodSync(dataDir, 0o500);
      const dirRun = await runAsNobody(serveArgs(dataDir));
      expect(dirRun.code).toBe(1);
      expect(stderrLines(dirRun)).toHaveLength(1);
      expect(dirRun.stderr).toContain(dataDir);
      expect(dirRun.stderr).toContain('nobody (uid 65534)');
      expect(dirRun.stderr).toMatch(/EACCES.*chmod/);
      expect(dirRun.stderr).not.toContain('STORE_CORRUPT');

      chmodSync(dataDir, 0o700);
      chmodSync(join(dataDir, 'control.db'), 0o400);
      const fileRun = await runAsNobody(serveArgs(dataDir));
      expect(fileRun.code).toBe(1);
      expect(stderrLines(fileRun)).toHaveLength(1);
      expect(fileRun.stderr).toContain(join(dataDir, 'control.db'));
      expect(fileRun.stderr).toContain('nobody (uid 65534)');
      expect(fileRun.stderr).not.toContain('STORE_CORRUPT');
      expect(fileRun.stderr).not.toContain('move it aside');

      // The store was healthy all along: with its mode back it starts, its override there.
      chmodSync(join(dataDir, 'control.db'), 0o600);
      const d = await startDnslinkd({ upstreams: [], dataDir });
      expect((await d.admin('GET', '/admin/v1/overrides/healthy.example')).status).toBe(200);
      await d.stop();
    });

    it.skipIf(!nobody)('a data directory owned by another user: the error names the owner and the user', async () => {
      const parent = tempDir();
      chmodSync(parent, 0o755);
      const dataDir = join(parent, 'data');
      mkdirSync(dataDir, { mode: 0o700 }); // root's
      const r = await runAsNobody(serveArgs(dataDir));
      expect(r.code).toBe(1);
      expect(stderrLines(r)).toHaveLength(1);
      expect(r.stderr).toContain(dataDir);
      expect(r.stderr).toContain('nobody (uid 65534)');
      expect(r.stderr).toContain('owned by uid 0');
    });

    it.skipIf(!nobody)("files left owned by root in nobody's data directory: the error names the file, the owner and the fix (not ADMIN_TOKEN_UNWRITABLE: EEXIST)", async () => {
      const dataDir = await healthyStoreOfNobody();
      for (const f of readdirSync(dataDir)) chownSync(join(dataDir, f), 0, 0);
      const r = await runAsNobody(serveArgs(dataDir));
      expect(r.code).toBe(1);
      expect(stderrLines(r)).toHaveLength(1);
      expect(r.stderr).toMatch(/^dnslinkd: \[DATA_DIR_UNUSABLE\]/);
      expect(r.stderr).toContain(dataDir);
      expect(r.stderr).toContain('nobody (uid 65534)');
      expect(r.stderr).toContain('owned by uid 0');
      expect(r.stderr).not.toContain('EEXIST');
    });
  });

  describe('a read-only mount, as root', () => {
    let dataDir = '';
    const mount = mountFor(
      'read-only mount test',
      async () => {
        dataDir = join(tempDir(), 'data');
        mkdirSync(dataDir);
        return (await runTool('mount', ['--bind', dataDir, dataDir], 10_000)).code === 0;
      },
      async () => void (await runTool('umount', ['-l', dataDir], 10_000)),
    );

    it('a healthy store on a file system remounted read-only: a start error saying so, never STORE_CORRUPT', async (ctx) => {
      if (!mount.mounted) ctx.skip();
      const d = await startDnslinkd({ upstreams: [], dataDir });
      expect((await d.admin('PUT', '/admin/v1/overrides/ro.example', { value: `/ipfs/${CID}`, reason: 'before ro' })).status).toBe(200);
      await d.stop();
      expect((await runTool('mount', ['-o', 'remount,bind,ro', dataDir], 10_000)).code).toBe(0);
      const r = await runCli(serveArgs(dataDir));
      expect(r.code).toBe(1);
      expect(stderrLines(r)).toHaveLength(1);
      expect(r.stderr).toContain(dataDir);
      expect(r.stderr).toContain('EROFS');
      expect(r.stderr).toContain('mounted read-only');
      expect(r.stderr).not.toContain('STORE_CORRUPT');
      expect((await runTool('mount', ['-o', 'remount,bind,rw', dataDir], 10_000)).code).toBe(0);
      const again = await startDnslinkd({ upstreams: [], dataDir });
      expect((await again.admin('GET', '/admin/v1/overrides/ro.example')).status).toBe(200);
      await again.stop();
    });
  });

  describe('a full disk (tmpfs)', () => {
    let mountPoint = '';
    const mount = mountFor(
      'full-disk test',
      async () => {
        mountPoint = tempDir();
        return (await runTool('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mountPoint], 10_000)).code === 0;
      },
      async () => void (await runTool('umount', ['-l', mountPoint], 10_000)),
    );

    it('SQLITE_FULL with the path, /healthz degraded while writes fail, recovered once a write succeeds', async (ctx) => {
      if (!mount.mounted) ctx.skip();
      const dataDir = join(mountPoint, 'data');
      const d = await startDnslinkd({ upstreams: [], dataDir });
      expect((await d.admin('PUT', '/admin/v1/overrides/before.example', { value: `/ipfs/${CID}`, reason: 'room left' })).status).toBe(200);
      // Fill the file system.
      const filler = join(mountPoint, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
      // A reason long enough that the change needs new pages.
      const reason = 'x'.repeat(400);
      let refused: Awaited<ReturnType<typeof d.admin>> | undefined;
      for (let i = 0; i < 20 && !refused; i++) {
        const res = await d.admin('PUT', `/admin/v1/overrides/full${i}.example`, { value: `/ipfs/${CID}`, reason });
        if (res.status !== 200) refused = res;
      }
      expect(refused?.status).toBe(503);
      const text = JSON.stringify(refused?.body);
      expect(text).toContain('SQLITE_FULL');
      expect(text).toContain(join(dataDir, 'control.db'));
      expect(text).not.toContain('cannot rollback');
      const degraded = (await (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`)).json()) as { control: { degraded: boolean; reason?: string } };
      expect(degraded.control).toMatchObject({ degraded: true, reason: expect.stringContaining('SQLITE_FULL') });
      expect(await d.metric('dnslinkd_control_store_errors_total')).toBeGreaterThanOrEqual(1);

      rmSync(filler);
      expect((await d.admin('PUT', '/admin/v1/overrides/after.example', { value: `/ipfs/${CID}`, reason: 'room again' })).status).toBe(200);
      const recovered = (await (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`)).json()) as { control: { degraded: boolean } };
      expect(recovered.control.degraded).toBe(false);
      await d.stop();
    });
  });
});
