// The admin commands of the CLI (flush, override set/pin/rm/ls/export/import, audit, cache show)
// against real dnslinkd instances in front of nsd: tables and --json, dry runs that change nothing,
// export -> import into a second instance, and every exit code with its stderr line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, zone } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd') && requireBuild();
const strip = (name: string) => name.replace(/^_dnslink\./, '');
const PLAIN = strip(zone.names.plain.name);
const CID = zone.names.plain.cid;
const VALUE = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

/** The test runner's environment without a token of its own: the CLI must find the instance's. */
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));

// Each case runs the real CLI several times (a Node start each): on a loaded 2-core box that takes
// well past the default 20 s, so the suite has its own timeout.
describe.skipIf(!ok)('dnslinkd admin commands', { timeout: 90_000 }, () => {
  let nsd: NsdHandle;
  let a: DnslinkdHandle;
  let b: DnslinkdHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-cli-admin-'));
    nsd = await startNsd();
    const upstreams = [`udp://127.0.0.1:${nsd.port}`];
    [a, b] = await Promise.all([startDnslinkd({ upstreams }), startDnslinkd({ upstreams })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The CLI against instance `d`, with no flags but --admin and --data-dir: the token comes from the data dir. */
  const cli = (d: DnslinkdHandle, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 15_000, { ...baseEnv, ...env });
  const ok0 = async (d: DnslinkdHandle, args: string[]) => {
    const r = await cli(d, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    return r;
  };
  const json = async <T = Record<string, unknown>>(d: DnslinkdHandle, args: string[]) => JSON.parse((await ok0(d, [...args, '--json'])).stdout) as T;
  /** Asks the instance for PLAIN over HTTP, so that its cache holds it. */
  const warm = async (d: DnslinkdHandle, name = PLAIN) => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  };
  const columns = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

  it('uses the token dnslinkd generated in the data dir when given only --admin and --data-dir', async () => {
    const r = await ok0(a, ['override', 'ls']);
    expect(r.stdout).toBe('no overrides in force\n');
    expect(await json(a, ['override', 'ls'])).toEqual({ overrides: [] });
  });

  it('cache show: a table of the entries, --json the API answer', async () => {
    await warm(a);
    const r = await ok0(a, ['cache', 'show', PLAIN]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(columns(lines[0])).toEqual(['NAME', 'TYPE', 'RCODE', 'TTL LEFT', 'STALE', 'SOURCE', 'UPSTREAM', 'DATA']);
    const row = lines.find((l) => l.startsWith(`_dnslink.${PLAIN} `));
    expect(row, r.stdout).toBeDefined();
    expect(columns(row).slice(0, 3)).toEqual([`_dnslink.${PLAIN}`, 'TXT', 'NOERROR']);
    expect(row).toContain(`dnslink=/ipfs/${CID}`);
    expect(row).toContain(`udp://127.0.0.1:${nsd.port}`);

    const j = await json<{ name: string; entries: Array<{ name: string; stale: boolean }> }>(a, ['cache', 'show', PLAIN]);
    expect(j.name).toBe(PLAIN);
    expect(j.entries).toEqual(expect.arrayContaining([expect.objectContaining({ name: `_dnslink.${PLAIN}`, stale: false })]));

    expect((await ok0(a, ['cache', 'show', 'never-asked.dnslink.test'])).stdout).toBe('nothing is cached for never-asked.dnslink.test\n');
  });

  it('flush: --dry-run changes nothing; --name, --suffix, --all [--negative-only] in table and --json forms', async () => {
    await warm(a);
    const cached = async () => (await json<{ entries: unknown[] }>(a, ['cache', 'show', PLAIN])).entries.length;
    const before = await cached();
    expect(before).toBeGreaterThan(0);

    const dry = await ok0(a, ['flush', '--name', PLAIN, '--dry-run']);
    expect(dry.stdout).toBe(`dry run, nothing changed: would remove ${before} cache entries (${PLAIN})\n`);
    expect(await json(a, ['flush', '--name', PLAIN, '--dry-run'])).toEqual({ dryRun: true, removed: before, generation: expect.any(Number) });
    expect(await cached()).toBe(before);

    const done = await ok0(a, ['flush', '--name', PLAIN, '--reason', 'stale content']);
    expect(done.stdout).toMatch(new RegExp(`^removed ${before} cache entries \\(${PLAIN.replace(/\./g, '\\.')}\\); flush generation \\d+\\n$`));
    expect(await cached()).toBe(0);

    await warm(a);
    expect(await json(a, ['flush', '--suffix', 'dnslink.test'])).toEqual({ dryRun: false, removed: expect.any(Number), generation: expect.any(Number) });
    expect(await cached()).toBe(0);
    await warm(a);
    expect(await json(a, ['flush', '--all', '--negative-only'])).toMatchObject({ dryRun: false });
    expect(await cached()).toBe(before);
    expect((await ok0(a, ['flush', '--all'])).stdout).toMatch(/^removed \d+ cache entries \(every name\); flush generation \d+\n$/);
    expect(await cached()).toBe(0);
  });

  it('override set/ls/rm: dry runs change nothing, tables and --json', async () => {
    const name = 'set.example.org';
    const dry = await ok0(a, ['override', 'set', name, VALUE, '--reason', 'incident 42', '--dry-run']);
    expect(dry.stdout).toContain(`dry run, nothing changed: would set ${name}`);
    expect((await json<{ overrides: unknown[] }>(a, ['override', 'ls'])).overrides).toEqual([]);

    const set = await json<{ dryRun: boolean; after: Record<string, unknown> }>(a, ['override', 'set', name, VALUE, '--reason', 'incident 42', '--ttl', '30', '--expires', '2h']);
    expect(set.dryRun).toBe(false);
    expect(set.after).toMatchObject({ name, value: VALUE, ttl: 30, reason: 'incident 42', by: 'local' });
    const expires = Date.parse(String(set.after.expiresAt)) - Date.now();
    expect(expires).toBeGreaterThan(7_000_000);
    expect(expires).toBeLessThanOrEqual(7_200_000);

    const ls = await ok0(a, ['override', 'ls']);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(columns(lines[0])).toEqual(['NAME', 'VALUE', 'TTL', 'EXPIRES', 'REASON', 'BY', 'UPDATED']);
    expect(columns(lines[1])).toEqual([name, VALUE, '30', String(set.after.expiresAt), 'incident 42', 'local', String(set.after.updatedAt)]);
    expect(await json(a, ['override', 'ls'])).toEqual({ overrides: [set.after] });

    const rmDry = await ok0(a, ['override', 'rm', name, '--reason', 'over', '--dry-run']);
    expect(rmDry.stdout).toContain(`would remove the override of ${name}`);
    expect((await json<{ overrides: unknown[] }>(a, ['override', 'ls'])).overrides).toHaveLength(1);
    const rm = await ok0(a, ['override', 'rm', name, '--reason', 'over']);
    expect(rm.stdout).toContain(`remove the override of ${name}\n  before:  ${VALUE}`);
    expect((await json<{ overrides: unknown[] }>(a, ['override', 'ls'])).overrides).toEqual([]);
  });

  it('override pin freezes the cached value (--ttl, --expires), --dry-run changes nothing', async () => {
    await warm(a);
    const dry = await json<{ dryRun: boolean; after: Record<string, unknown> }>(a, ['override', 'pin', PLAIN, '--reason', 'freeze', '--dry-run']);
    expect(dry).toMatchObject({ dryRun: true, after: { value: `/ipfs/${CID}`, pinned: true } });
    expect((await json<{ overrides: unknown[] }>(a, ['override', 'ls'])).overrides).toEqual([]);

    const pin = await ok0(a, ['override', 'pin', PLAIN, '--reason', 'freeze', '--ttl', '120', '--expires', '2030-01-01T00:00:00Z']);
    expect(pin.stdout).toContain(`pin ${PLAIN}\n  before:  no override\n  after:   /ipfs/${CID} (ttl 120, expires 2030-01-01T00:00:00.000Z, pinned, by local)`);
    expect((await ok0(a, ['override', 'ls'])).stdout).toContain(`/ipfs/${CID} (pinned)`);
    await ok0(a, ['override', 'rm', PLAIN, '--reason', 'thaw']);
  });

  it('override export -> import into a second instance loses nothing; import --dry-run changes nothing', async () => {
    await ok0(a, ['override', 'set', 'one.example.org', VALUE, '--reason', 'first', '--ttl', '10']);
    await ok0(a, ['override', 'set', 'two.example.org', `/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/a`, '--reason', 'second', '--expires', '2030-01-01T00:00:00Z']);
    await warm(a);
    await ok0(a, ['override', 'pin', PLAIN, '--reason', 'third']);
    const exported = await ok0(a, ['override', 'export']);
    const list = JSON.parse(exported.stdout) as Array<Record<string, unknown>>;
    expect(list.map((o) => o.name)).toEqual(['one.example.org', PLAIN, 'two.example.org']);
    const file = join(dir, 'overrides.json');
    writeFileSync(file, exported.stdout);

    const dry = await ok0(b, ['override', 'import', file, '--reason', 'migration', '--dry-run']);
    expect(dry.stdout).toContain('dry run, nothing changed: would import 3 overrides');
    expect(columns(dry.stdout.split('\n')[0])).toEqual(['NAME', 'BEFORE', 'AFTER', 'TTL', 'EXPIRES']);
    expect((await json<{ overrides: unknown[] }>(b, ['override', 'ls'])).overrides).toEqual([]);

    const imported = await json<{ dryRun: boolean; changed: unknown[] }>(b, ['override', 'import', file, '--reason', 'migration']);
    expect(imported).toMatchObject({ dryRun: false });
    expect(imported.changed).toHaveLength(3);
    const keep = (o: Record<string, unknown>) => ({ name: o.name, value: o.value, ttl: o.ttl, reason: o.reason, expiresAt: o.expiresAt, pinned: o.pinned, createdAt: o.createdAt });
    const after = JSON.parse((await ok0(b, ['override', 'export'])).stdout) as Array<Record<string, unknown>>;
    expect(after.map(keep)).toEqual(list.map(keep));

    for (const name of ['one.example.org', 'two.example.org', PLAIN]) {
      await ok0(a, ['override', 'rm', name, '--reason', 'cleanup']);
      await ok0(b, ['override', 'rm', name, '--reason', 'cleanup']);
    }
  });

  it('audit: a table of the records and --json, filtered by --name and --since', async () => {
    await ok0(a, ['override', 'set', 'audited.example.org', VALUE, '--reason', 'for the record', '--dry-run']);
    const r = await ok0(a, ['audit', '--name', 'audited.example.org', '--since', '1h']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(columns(lines[0])).toEqual(['TIME', 'TOKEN', 'ACTION', 'NAME', 'REASON', 'DRY-RUN']);
    expect(lines).toHaveLength(2);
    expect(columns(lines[1]).slice(1)).toEqual(['local', 'override.set', 'audited.example.org', 'for the record', 'yes']);

    const j = await json<{ records: Array<Record<string, unknown>> }>(a, ['audit', '--name', 'audited.example.org']);
    expect(j.records).toEqual([expect.objectContaining({ token: 'local', action: 'override.set', name: 'audited.example.org', dryRun: true })]);
    expect((await json<{ records: unknown[] }>(a, ['audit', '--since', '2099-01-01T00:00:00Z'])).records).toEqual([]);
    expect((await ok0(a, ['audit', '--since', '2099-01-01T00:00:00Z'])).stdout).toBe('no audit records\n');
    expect((await json<{ records: unknown[] }>(a, ['audit', '--limit', '2'])).records).toHaveLength(2);
  });

  describe('exit codes and errors', () => {
    const fails = async (r: CliResult, code: number, pattern: RegExp) => {
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(pattern);
    };

    it('2: invalid input, from the API (400) or the command line', async () => {
      await fails(await cli(a, ['override', 'set', 'bad.example.org', '/ipfs/not-a-cid', '--reason', 'x']), 2, /^dnslinkd: \[INVALID_VALUE\] value: /);
      await fails(await cli(a, ['flush', '--name', 'a..b']), 2, /^dnslinkd: \[INVALID_NAME\] /);
      await fails(await cli(a, ['override', 'set', 'x.example.org', VALUE]), 2, /needs --reason R/);
      await fails(await cli(a, ['flush', '--name', 'x.example.org', '--all']), 2, /exactly one of --name NAME, --suffix ZONE or --all/);
      await fails(await cli(a, ['override', 'set', 'x.example.org', VALUE, '--reason', 'r', '--expires', 'tomorrow']), 2, /--expires takes an ISO time/);
      const notJson = join(dir, 'not.json');
      writeFileSync(notJson, 'nope');
      await fails(await cli(a, ['override', 'import', notJson, '--reason', 'r']), 2, /^dnslinkd: \[INVALID_IMPORT\] .* override export/);
    });

    it('3: an unknown override', async () => {
      await fails(await cli(a, ['override', 'rm', 'unknown.example.org', '--reason', 'x']), 3, /^dnslinkd: \[OVERRIDE_NOT_FOUND\] no override is in force for unknown\.example\.org\n$/);
    });

    it('4: a wrong token, saying where it came from', async () => {
      const tokenFile = join(dir, 'wrong-token');
      writeFileSync(tokenFile, 'not-the-right-token-at-all\n');
      await fails(await cli(a, ['override', 'ls', '--token-file', tokenFile]), 4, new RegExp(`^dnslinkd: \\[UNAUTHORIZED\\] the admin token is not valid \\(token from --token-file ${tokenFile};`));
      await fails(await cli(a, ['override', 'ls'], { DNSLINKD_ADMIN_TOKEN: 'not-the-right-token-at-all' }), 4, /\[UNAUTHORIZED\] .*token from DNSLINKD_ADMIN_TOKEN/);
      const empty = join(dir, 'empty-data');
      const r = await runCli(['override', 'ls', '--admin', `http://127.0.0.1:${a.adminPort}`, '--data-dir', empty], 15_000, baseEnv);
      await fails(r, 4, new RegExp(`^dnslinkd: \\[NO_TOKEN\\] no admin token: .*${empty}/admin-token does not exist`));
    });

    it('5: a conflict (nothing cached to pin)', async () => {
      await fails(await cli(a, ['override', 'pin', 'never-cached.example.org', '--reason', 'x']), 5, /^dnslinkd: \[NOTHING_CACHED\] /);
    });

    it('1: the admin API is down, saying where it was looked for', async () => {
      const port = await freePort();
      const r = await runCli(['flush', '--all', '--admin', `http://127.0.0.1:${port}`, '--data-dir', a.dataDir], 15_000, baseEnv);
      await fails(r, 1, new RegExp(`^dnslinkd: \\[ADMIN_UNREACHABLE\\] .*is dnslinkd running\\? admin API at http://127\\.0\\.0\\.1:${port}`));
    });
  });
});
