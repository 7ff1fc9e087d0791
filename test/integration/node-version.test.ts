// The command on a Node too old for it (the system's Node 20 that `#!/usr/bin/env node` finds
// outside npm): one line naming the version needed and how to start it, exit 1, no stack trace.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliEntry, findBinary, runTool } from './support/index.js';

/** A node on PATH older than 24, if this machine has one (Debian's is 20 here and in CI). */
function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', findBinary('node')]) {
    if (!candidate) continue;
    try {
      const major = Number(execFileSync(candidate, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
      if (major < 24) return candidate;
    } catch {
      // not a usable node
    }
  }
  return undefined;
}

const old = oldNode();

describe.skipIf(!old)('dnslinkd on a Node older than 24', () => {
  it('says so in one line and exits 1', async () => {
    for (const args of [['serve'], ['--version']]) {
      const r = await runTool(old!, [cliEntry, ...args], 15_000);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^dnslinkd: \[NODE_TOO_OLD\] this is Node \d+\.\d+\.\d+; dnslinkd needs Node 24 or later .*node_modules\/\.bin\/node bin\/dnslinkd\.js/);
    }
  });
});
