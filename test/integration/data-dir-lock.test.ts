// One dnslinkd per data directory, with real processes: a second `serve` on the same directory
// refused in one line while the first serves (and the CLI's admin commands work beside it); a lock
// left by kill -9 taken over with a log line; four starts racing for a stale lock (one wins);
// with --workers the primary holds it.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveArgs, stderrLines, suiteTempDirs } from './support/data-dir.js';
import { cliEntry, repoRoot, requireBuild, runCli, spawnManaged, startDnslinkd, waitFor } from './support/index.js';

const ok = requireBuild();
const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';

describe.skipIf(!ok)('one dnslinkd per data directory', () => {
  const tempDir = suiteTempDirs('dnslinkd-lock-');

  it('a second serve on the same data directory exits 1 in one line; the first serves on (the CLI beside it); after kill -9 the lock is taken over', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await startDnslinkd({ upstreams: [], dataDir });
    const pid = first.proc.child.pid!;
    expect(readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0]).toBe(String(pid));
    expect(statSync(join(dataDir, 'dnslinkd.lock')).mode & 0o777).toBe(0o600);

    const second = await runCli(serveArgs(dataDir));
    expect(second.code).toBe(1);
    expect(stderrLines(second)).toEqual([expect.stringContaining(`another dnslinkd (pid ${pid}) uses ${dataDir}`)]);
    expect(second.stdout).toBe(''); // nothing before the refusal: the data directory is not read before the lock is taken
    expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // The first one still serves and still takes changes; the lock is still its own.
    expect((await first.admin('PUT', '/admin/v1/overrides/first.example', { value: `/ipfs/${CID}`, reason: 'lock test' })).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${first.httpPort}/healthz`)).status).toBe(200);
    expect(readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0]).toBe(String(pid));

    // The CLI's admin commands do not take the lock: they work beside the running instance.
    const admin = ['--admin', `http://127.0.0.1:${first.adminPort}`, '--data-dir', dataDir];
    const set = await runCli(['override', 'set', 'cli.example', `/ipfs/${CID}`, '--reason', 'from the CLI', ...admin]);
    expect(set.code).toBe(0);
    expect(readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0]).toBe(String(pid));

    process.kill(pid, 'SIGKILL');
    await first.proc.exited;
    expect(existsSync(join(dataDir, 'dnslinkd.lock'))).toBe(true); // left behind by the dead process

    const third = await startDnslinkd({ upstreams: [], dataDir });
    expect(third.logs()).toContain(`took over the data directory lock left by pid ${pid}, which is no longer running`);
    expect(readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0]).toBe(String(third.proc.child.pid));
    expect((await third.admin('GET', '/admin/v1/overrides/first.example')).status).toBe(200);
    expect((await third.admin('GET', '/admin/v1/overrides/cli.example')).status).toBe(200);
    await third.stop();
    // Released at exit.
    expect(existsSync(join(dataDir, 'dnslinkd.lock'))).toBe(false);
  });

  it('four serve started at once on a stale lock: exactly one takes it over, the others exit 1 naming it', async () => {
    const dataDir = join(tempDir(), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    // A lock of a process that is gone (a pid above pid_max).
    writeFileSync(join(dataDir, 'dnslinkd.lock'), '4000001\n');
    const runs = Array.from({ length: 4 }, () => spawnManaged('dnslinkd-race', process.execPath, [cliEntry, ...serveArgs(dataDir)], { cwd: repoRoot }));
    await waitFor('one serving, three refused', async () => runs.filter((r) => r.exitCode === 1).length === 3, 20_000, { intervalMs: 100 });
    const winner = runs.find((r) => r.exitCode === undefined)!;
    await waitFor('the winner holds the lock', async () => readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0] === String(winner.child.pid), 10_000);
    for (const loser of runs.filter((r) => r !== winner)) expect(loser.output()).toContain(`another dnslinkd (pid ${winner.child.pid}) uses ${dataDir}`);
    expect(winner.output()).toContain('took over the data directory lock left by pid 4000001');
    await waitFor('the winner serving', async () => winner.output().includes('dnslinkd listening'), 20_000);
    await winner.stop();
    expect(existsSync(join(dataDir, 'dnslinkd.lock'))).toBe(false);
  });

  it('with --workers 2 the primary holds the lock; a second serve is refused naming it', async () => {
    const dataDir = join(tempDir(), 'data');
    const d = await startDnslinkd({ upstreams: [], dataDir, args: ['--workers', '2'] });
    const primary = d.proc.child.pid!;
    expect(readFileSync(join(dataDir, 'dnslinkd.lock'), 'utf8').split('\n')[0]).toBe(String(primary));
    const second = await runCli(serveArgs(dataDir));
    expect(second.code).toBe(1);
    expect(stderrLines(second)).toEqual([expect.stringContaining(`another dnslinkd (pid ${primary}) uses ${dataDir}`)]);
    await d.stop();
    expect(existsSync(join(dataDir, 'dnslinkd.lock'))).toBe(false);
  });
});
