// Helpers for the data directory suites: `serve` on loopback with any free ports and a given data
// directory, stderr as lines, and running the CLI as the unprivileged user nobody (root ignores
// file modes, so a read-only store is only read-only to another user); temporary directories
// removed, after every process the suite started is stopped.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { findBinary } from './binaries.js';
import type { CliResult } from './dnslinkd.js';
import { cliEntry, repoRoot } from './paths.js';
import { runTool, stopAll } from './proc.js';

export const NOBODY = { uid: 65534, gid: 65534, name: 'nobody' };

/** `serve` on loopback with any free ports and this data directory. */
export const serveArgs = (dataDir: string) => ['serve', '--dns', '127.0.0.1:0', '--http', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--no-local-records', '--upstream', 'udp://127.0.0.1:9', '--data-dir', dataDir];

export const stderrLines = (r: CliResult) => r.stderr.split('\n').filter((l) => l.trim() !== '');

/** Whether `setpriv` can run node as nobody here (it needs root, and the checkout readable by nobody). */
export async function canRunAsNobody(): Promise<boolean> {
  if (process.getuid?.() !== 0 || !findBinary('setpriv')) return false;
  const r = await runTool('setpriv', [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', process.execPath, cliEntry, '--version'], 10_000);
  return r.code === 0;
}

/** `dnslinkd <args>` as nobody, bounded by 15 s. */
export function runAsNobody(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', process.execPath, cliEntry, ...args],
      { cwd: repoRoot, timeout: 15_000, killSignal: 'SIGKILL', env: { ...process.env, HOME: '/nonexistent' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/** A maker of temporary directories for the calling suite: after it, its processes stopped and the directories removed. */
export function suiteTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(async () => {
    await stopAll();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
