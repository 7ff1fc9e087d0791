// How npm meets this project on a machine whose own Node is older than 24: npm runs on that Node,
// everything of dnslinkd runs on the Node 24 from node_modules/.bin, and npm's warnings (EBADENGINE
// for `engines` it checks against its own Node) are off through the project's .npmrc.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinary, freePort, repoRoot, spawnManaged, waitFor } from './support/index.js';

const npm = findBinary('npm');

/** The environment of a user's shell: none of the npm_config_* variables npm sets for scripts. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
}

function runNpm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(npm!, args, { cwd: repoRoot, env: userEnv(), timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe.skipIf(!npm)('npm and the Node 24 of node_modules', () => {
  it('npm reads loglevel=error from the project .npmrc (no EBADENGINE warnings from the system Node)', async () => {
    const r = await runNpm(['config', 'get', 'loglevel']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('error');
  });

  it('npx and npm scripts run the Node from node_modules/.bin, which satisfies engines', async () => {
    const r = await runNpm(['exec', '--', 'node', '-p', 'process.version']);
    expect(r.code, r.stderr).toBe(0);
    const bundled = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(`v${bundled.version}`);
    const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const minimum = Number(/^>=(\d+)$/.exec(engines)?.[1]);
    expect(Number(bundled.version.split('.')[0])).toBeGreaterThanOrEqual(minimum);
  });

  it('node_modules/.bin/dnslinkd (what a supervisor starts) runs on the project Node from a bare PATH, and SIGTERM reaches it', { timeout: 30_000 }, async () => {
    const launcher = join(repoRoot, 'node_modules', '.bin', 'dnslinkd');
    const env = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const http = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'dnslinkd-launcher-'));
    const proc = spawnManaged('launcher', launcher, ['serve', '--dns', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${http}`, '--admin', `127.0.0.1:${await freePort()}`, '--no-local-records', '--upstream', 'udp://127.0.0.1:9', '--data-dir', dataDir], { cwd: '/', env });
    await waitFor('the launcher-started dnslinkd', async () => (await fetch(`http://127.0.0.1:${http}/livez`)).ok, 15_000, { abortIf: () => (proc.exitCode !== undefined ? proc.output() : undefined) });
    // The launcher execs node: the pid a supervisor holds is dnslinkd's, and its signal drains it.
    expect(readFileSync(`/proc/${proc.child.pid}/cmdline`, 'utf8').split('\0')[1]).toMatch(/bin\/dnslinkd\.js$/);
    proc.child.kill('SIGTERM');
    await proc.exited;
    expect(proc.exitCode).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
