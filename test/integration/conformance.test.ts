// The dnslink.dev reference suite (@dnslink/test 0.11.1, logs included) against the real CLI:
// the harness starts its own DNS server and runs `dnslinkd resolve NAME --json` for every case.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('@dnslink/test conformance', () => {
  it('passes every assertion of the reference suite with --enable=log', () => {
    const run = spawnSync(
      process.execPath,
      [`${root}node_modules/@dnslink/test/bin/dnslink-test`, '--enable=log', '--', process.execPath, `${root}test/conformance/dnslink-adapter.mjs`],
      { cwd: root, encoding: 'utf8', timeout: 240_000 },
    );
    const out = `${run.stdout}\n${run.stderr}`;
    const failures = out.split('\n').filter((line) => line.startsWith('not ok'));
    expect(failures).toEqual([]);
    expect(out).toMatch(/^# pass {2}115$/m);
    expect(run.status).toBe(0);
  }, 300_000);
});
