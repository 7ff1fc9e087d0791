// How npm meets this project on a machine whose own Node is older than 24: npm runs on that Node,
// everything of dnslinkd runs on the Node 24 from node_modules/.bin, and npm's warnings (EBADENGINE
// for `engines` it checks against its own Node) are off through the project's .npmrc.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinary, repoRoot } from './support/index.js';

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
});
