// `dnslinkd resolve NAME --upstream ...` against nsd: the dnslink.dev result shape with --json, and
// the exit code and stderr line of every outcome in plain, --gateway and --json modes.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, freePort, repoRoot, requireBinaries, requireBuild, runCli, startNsd, stopAll, zone } from './support/index.js';
import type { CliResult, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const strip = (name: string) => name.replace(/^_dnslink\./, '');

describe.skipIf(!ok)('dnslinkd resolve --json against nsd', () => {
  let nsd: NsdHandle;
  let up: string;
  beforeAll(async () => {
    nsd = await startNsd();
    up = `udp://127.0.0.1:${nsd.port}`;
  });
  afterAll(async () => {
    await nsd?.stop();
    await stopAll();
  });

  const resolve = async (name: string) => {
    const r = await runCli(['resolve', name, '--upstream', up, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it('plain /ipfs/ name', async () => {
    expect(await resolve(strip(n.plain.name))).toEqual({
      links: { ipfs: [{ identifier: n.plain.cid, ttl: 60 }] },
      log: [],
      txtEntries: [{ value: `/ipfs/${n.plain.cid}`, ttl: 60 }],
    });
  });

  it('NXDOMAIN on both names: DNS_RCODE_3', async () => {
    expect(await resolve(n.missing.bare)).toMatchObject({ error: { code: 'DNS_RCODE_3' } });
  });

  it('falls back to the bare name only on NXDOMAIN at _dnslink.', async () => {
    const bare = await resolve(n.bare.name);
    expect(bare).toMatchObject({ links: { ipfs: [{ identifier: n.bare.cid, ttl: 60 }] } });
    expect(bare.log).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'FALLBACK' })]));

    const none = await resolve(strip(n.none?.name ?? ''));
    expect(none).toMatchObject({ links: {}, txtEntries: [] });
    expect(none.log).not.toEqual(expect.arrayContaining([expect.objectContaining({ code: 'FALLBACK' })]));
  });

  it('concatenates multi-string TXT records and sorts several values', async () => {
    expect(await resolve(strip(n.multi.name))).toMatchObject({ links: { ipfs: [{ identifier: n.multi.cid }] } });
    const two = (await resolve(strip(n.two.name))) as { links: { ipfs: { identifier: string }[] } };
    const ids = n.two.values.map((v) => v.replace('dnslink=/ipfs/', '')).sort();
    expect(two.links.ipfs.map((l) => l.identifier)).toEqual(ids);
  });

  it('usage error exits 2', async () => {
    const r = await runCli(['resolve', '--json', '--upstream', up]);
    expect(r.code).toBe(2);
  });
});

/** `node bin/dnslinkd.js <args>` with extra environment variables. */
function runCliWithEnv(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliEntry, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 15_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The name (without `_dnslink.`) of a fixture of fixtures/zones/dnslink.test.json. */
function fixture(key: string): string {
  const f = n[key];
  if (!f) throw new Error(`no fixture "${key}" in dnslink.test.json`);
  return strip(f.name);
}

/** Lines of stderr that are JSON log lines (pino), which a one-shot command prints only when asked. */
const jsonLogLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{'));

describe.skipIf(!ok)('dnslinkd resolve exit codes: 0 found, 2 invalid name, 3 no DNSLink, 4 upstreams failed', () => {
  let nsd: NsdHandle;
  let up: string;
  let down: string;
  let dir: string;
  let shortTimeout: string;
  beforeAll(async () => {
    nsd = await startNsd();
    up = `udp://127.0.0.1:${nsd.port}`;
    down = `udp://127.0.0.1:${await freePort()}`; // nothing listens there
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-cli-'));
    shortTimeout = join(dir, 'config.json');
    writeFileSync(shortTimeout, JSON.stringify({ upstreamTimeoutMs: 300, localRecords: null }));
  });
  afterAll(async () => {
    await nsd?.stop();
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (name: string, mode: string[], upstream = up) => runCli(['resolve', name, '--upstream', upstream, '--config', shortTimeout, ...mode]);

  /** A failure: the exit code, nothing on stdout, one `dnslinkd: NAME: CODE...` line on stderr, no JSON logs. */
  const expectFailure = (r: CliResult, code: number, line: RegExp) => {
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('dnslinkd: '));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(line);
    expect(jsonLogLines(r.stderr)).toEqual([]);
  };

  describe('plain', () => {
    it('0: prints the links on stdout, the lookups on stderr, no JSON logs', async () => {
      const r = await run(strip(n.plain.name), []);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`/ipfs/${n.plain.cid}\tttl=60\n`);
      expect(r.stderr).toMatch(new RegExp(`^; ${n.plain.name.replace(/\./g, '\\.')} TXT: NOERROR from ${up} \\[upstream\\]\n$`));
    });
    it('2: an invalid name names the reason', async () => {
      expectFailure(await run('a..b', []), 2, /^dnslinkd: a\.\.b: INVALID_DOMAIN: EMPTY_PART \(invalid domain "a\.\.b": empty label\)$/);
    });
    it('3: NXDOMAIN', async () => {
      const r = await run(n.missing.bare, []);
      expectFailure(r, 3, new RegExp(`^dnslinkd: ${n.missing.bare.replace(/\./g, '\\.')}: DNS_RCODE_3: NXDOMAIN for `));
      expect(r.stderr).toMatch(/^; _dnslink\.\S+ TXT: NXDOMAIN/m);
    });
    it('3: no dnslink= entry', async () => {
      expectFailure(await run(fixture('none'), []), 3, /: NO_DNSLINK: /);
      expectFailure(await run(fixture('nodata'), []), 3, /: NO_DNSLINK: /);
    });
    it('4: every upstream down', async () => {
      const r = await run(strip(n.plain.name), [], down);
      expectFailure(r, 4, /: DNS_RCODE_2: SERVFAIL for _dnslink\.plain\.dnslink\.test \(EDE 22: /);
    });
    it('4: the upstream answers REFUSED', async () => {
      expectFailure(await run('not-served-by-nsd.example', []), 4, /: DNS_RCODE_5: REFUSED for /);
    });
  });

  describe('host names (plain and --gateway)', () => {
    it('a URL is reduced to its host, with a note on stderr', async () => {
      for (const mode of [[], ['--gateway']]) {
        const r = await run(`https://${strip(n.plain.name)}/index.html`, mode);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^/ipfs/${n.plain.cid}\t`));
        expect(r.stderr).toMatch(new RegExp(`^note: "https://${strip(n.plain.name).replace(/\./g, '\\.')}/index\\.html" is a URL: resolving its host `, 'm'));
      }
    });
    it('2: a name with bytes no host name holds is refused before any lookup', async () => {
      for (const mode of [[], ['--gateway']]) {
        const r = await run('bad name.example', mode);
        expectFailure(r, 2, /^dnslinkd: bad name\.example: INVALID_DOMAIN: INVALID_CHARACTER \(invalid domain "bad name\.example": invalid character: \(U\+0020\) is not allowed/);
        expect(r.stderr).not.toMatch(/^; /m);
      }
    });
  });

  describe('--gateway', () => {
    it('0: prints the value', async () => {
      const r = await run(strip(n.plain.name), ['--gateway']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^/ipfs/${n.plain.cid}\tttl=60\tcid=`));
      expect(r.stderr).toBe('');
    });
    it('2: an invalid name names the reason', async () => {
      expectFailure(await run('a..b', ['--gateway']), 2, /^dnslinkd: a\.\.b: INVALID_DOMAIN: EMPTY_PART /);
    });
    it('3: NXDOMAIN, no dnslink= entry, several values, a loop', async () => {
      expectFailure(await run(n.missing.bare, ['--gateway']), 3, /: DNS_RCODE_3: NXDOMAIN for /);
      expectFailure(await run(fixture('none'), ['--gateway']), 3, /: NO_DNSLINK: /);
      expectFailure(await run(strip(n.two.name), ['--gateway']), 3, /: MULTIPLE_DNSLINK: /);
      expectFailure(await run(fixture('loopA'), ['--gateway']), 3, /: LOOP: DNSLink loop: /);
    });
    it('4: every upstream down', async () => {
      expectFailure(await run(strip(n.plain.name), ['--gateway'], down), 4, /: DNS_RCODE_2: SERVFAIL for /);
    });
  });

  describe('--json (the dnslink.dev harness treats any non-zero exit as a crash)', () => {
    const json = async (name: string, upstream = up) => {
      const r = await run(name, ['--json'], upstream);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    it('exits 0 with the result or the error object on stdout, whatever it is', async () => {
      expect(await json(strip(n.plain.name))).toMatchObject({ links: { ipfs: [{ identifier: n.plain.cid }] } });
      expect(await json('a..b')).toEqual({ error: { code: 'INVALID_DOMAIN', reason: 'EMPTY_PART', domain: 'a..b' } });
      expect(await json(n.missing.bare)).toMatchObject({ error: { code: 'DNS_RCODE_3' } });
      expect(await json(strip(n.plain.name), down)).toMatchObject({ error: { code: 'DNS_RCODE_2' } });
    });
    it('--gateway --json too', async () => {
      const r = await run(strip(n.two.name), ['--gateway', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'MULTIPLE_DNSLINK' } });
    });
  });

  describe('JSON logs only when asked', () => {
    it('with --log-level or DNSLINKD_LOG_LEVEL, the upstream failures are logged on stderr', async () => {
      const flag = await run(strip(n.plain.name), ['--log-level', 'warn'], down);
      expect(flag.code).toBe(4);
      expect(jsonLogLines(flag.stderr).map((l) => JSON.parse(l) as { msg: string })).toEqual(
        expect.arrayContaining([expect.objectContaining({ msg: 'upstream attempt failed' })]),
      );
      const env = await runCliWithEnv(['resolve', strip(n.plain.name), '--upstream', down, '--config', shortTimeout], { DNSLINKD_LOG_LEVEL: 'warn' });
      expect(env.code).toBe(4);
      expect(jsonLogLines(env.stderr).length).toBeGreaterThan(0);
    });
  });
});
