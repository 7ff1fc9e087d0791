// Reloading the configuration of a running dnslinkd: its config file rewritten under it, then
// SIGHUP (`kill -HUP`), POST /admin/v1/reload (and ?dryRun=true) or `dnslinkd reload`. Two real nsd
// servers, A and B, serve the same names with different values, so each answer says which
// upstream it came from; a name cached before the reload must still answer from the cache.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digAt,
  encodeQuery,
  metricSum,
  requireBinaries,
  requireBuild,
  runCli,
  sleep,
  startDnslinkd,
  startNsd,
  stopAll,
  txtValue,
  udpExchange,
  waitFor,
} from './support/index.js';
import type { DnslinkdHandle, DnslinkdOptions, Managed, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const ZONE = 'reload.example';
/** Names both upstreams serve; each test asks names no earlier test asked (they are cached). */
const NAMES = ['cached', 'first', 'refused', 'restart', 'dry', 'applied', 'cli', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7'];
const valueFrom = (server: string, name: string) => `dnslink=/ipfs/${name}-from-${server}`;

function zoneText(server: string): string {
  return [
    `$ORIGIN ${ZONE}.`,
    '$TTL 3600',
    `@ IN SOA ns.${ZONE}. hostmaster.${ZONE}. 1 3600 600 86400 60`,
    `@ IN NS ns.${ZONE}.`,
    'ns IN A 127.0.0.1',
    ...NAMES.map((name) => `_dnslink.${name} IN TXT "${valueFrom(server, name)}"`),
    '',
  ].join('\n');
}

async function startUpstream(server: string, dir: string): Promise<NsdHandle> {
  const file = join(dir, `${server}.zone`);
  writeFileSync(file, zoneText(server));
  return startNsd({ zones: [{ name: ZONE, file }] });
}

/** The TXT values dnslinkd answers for _dnslink.<name>. */
async function txt(d: DnslinkdHandle, name: string): Promise<string[]> {
  const r = await digAt(d.dnsPort, `_dnslink.${name}.${ZONE}`, 'TXT');
  return (r.parsed?.answers ?? []).map((a) => txtValue(a.data));
}

/** Log lines (pino JSON) whose msg contains `text`. */
function logsWith(proc: Managed, text: string): Record<string, unknown>[] {
  return proc.lines.flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return typeof entry.msg === 'string' && entry.msg.includes(text) ? [entry] : [];
    } catch {
      return [];
    }
  });
}

/** Rewrites the instance's config file: `change` edits the JSON written at start. */
function rewriteConfig(d: DnslinkdHandle, change: (config: Record<string, unknown>) => void): void {
  const config = JSON.parse(readFileSync(d.configFile, 'utf8')) as Record<string, unknown>;
  change(config);
  writeFileSync(d.configFile, JSON.stringify(config, null, 2));
}

const upstreamOf = (nsd: NsdHandle) => `udp://127.0.0.1:${nsd.port}`;

interface ReloadSuite {
  dir: string;
  a: NsdHandle;
  b: NsdHandle;
  d: DnslinkdHandle;
}

/**
 * Registers beforeAll/afterAll: upstreams A and B (nsd) in a temp dir, then dnslinkd asking A, its
 * upstreams in the config file only (a --upstream flag would win over the file at every reload).
 */
function reloadSuite(options: (dir: string) => Omit<DnslinkdOptions, 'upstreams'> = () => ({})): ReloadSuite {
  const s = {} as ReloadSuite;
  beforeAll(async () => {
    s.dir = mkdtempSync(join(tmpdir(), 'dnslinkd-reload-'));
    s.a = await startUpstream('A', s.dir);
    s.b = await startUpstream('B', s.dir);
    const given = options(s.dir);
    s.d = await startDnslinkd({ ...given, upstreams: [], config: { upstreams: [upstreamOf(s.a)], ...given.config } });
  });
  afterAll(async () => {
    await s.d?.stop();
    await s.a?.stop();
    await s.b?.stop();
    await stopAll();
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}

describe.skipIf(!ok)('reload of one dnslinkd process', () => {
  let tokenFile: string;
  const tokens = { first: 'reload-test-token-first-0123', second: 'reload-test-token-second-4567' };
  const admin = (method: string, path: string, token = tokens.first) => s.d.admin(method, path, undefined, token);
  const reloadsCounted = async (result: string) => metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result });

  const s = reloadSuite((dir) => {
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${tokens.first}\n`);
    return { config: { admin: { tokens: [{ label: 'ops', scope: 'write', file: tokenFile }] } } };
  });

  it('SIGHUP: answers come from the new upstream, a name cached before stays cached, the process lives on', async () => {
    expect(await txt(s.d, 'cached')).toEqual([valueFrom('A', 'cached')]);
    rewriteConfig(s.d, (c) => (c.upstreams = [upstreamOf(s.b)]));
    process.kill(s.d.proc.child.pid!, 'SIGHUP');
    await waitFor('the reload logged', async () => logsWith(s.d.proc, 'configuration reloaded').length === 1, 5_000);
    // Before this change SIGHUP killed the process (exit 129).
    await sleep(200);
    expect(s.d.proc.exitCode, s.d.logs()).toBeUndefined();
    expect(logsWith(s.d.proc, 'configuration reloaded')[0]).toMatchObject({ by: 'SIGHUP', changed: ['upstreams'] });
    expect(await txt(s.d, 'first')).toEqual([valueFrom('B', 'first')]);
    // The cache was kept: the name asked before the reload still answers A's value, from the cache.
    expect(await txt(s.d, 'cached')).toEqual([valueFrom('A', 'cached')]);
    const cached = await admin('GET', `/admin/v1/cache/cached.${ZONE}`);
    expect((cached.body.entries as Array<{ upstream?: string }>).map((e) => e.upstream)).toContain(upstreamOf(s.a));
    expect(await reloadsCounted('applied')).toBe(1);
  });

  it('a configuration that does not validate is refused whole: the running one stays, one log line, counted', async () => {
    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.a)];
      c.cache = { minTtl: 10, maxTtl: 5 };
    });
    process.kill(s.d.proc.child.pid!, 'SIGHUP');
    await waitFor('the refusal logged', async () => logsWith(s.d.proc, 'reload refused: ').length === 1, 5_000);
    const [line] = logsWith(s.d.proc, 'reload refused: ');
    expect(line!.msg).toMatch(/^reload refused: .*cache\.minTtl: minTtl must not exceed maxTtl/);
    expect(await reloadsCounted('refused')).toBe(1);
    expect(await reloadsCounted('applied')).toBe(1);
    // Nothing of it applied: the upstreams stay B although the file names A.
    expect(await txt(s.d, 'refused')).toEqual([valueFrom('B', 'refused')]);
    expect(s.d.proc.exitCode).toBeUndefined();
  });

  it('a key that needs a restart is named in one log line and kept as it runs', async () => {
    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.b)];
      c.cache = { maxEntries: 1 };
    });
    const answer = await admin('POST', '/admin/v1/reload');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ dryRun: false, needsRestart: ['cache.maxEntries'] });
    await waitFor('the restart line logged', async () => logsWith(s.d.proc, 'needs a restart').length > 0, 2_000);
    const [line] = logsWith(s.d.proc, 'needs a restart');
    expect(line).toMatchObject({ keys: ['cache.maxEntries'] });
    expect(logsWith(s.d.proc, 'needs a restart')).toHaveLength(1);
    // Not applied: a cache bounded to one entry would have evicted the others.
    expect(await txt(s.d, 'restart')).toEqual([valueFrom('B', 'restart')]);
    const health = (await (await fetch(`http://127.0.0.1:${s.d.httpPort}/healthz`)).json()) as { cache: { entries: number } };
    expect(health.cache.entries).toBeGreaterThan(1);
    expect(await txt(s.d, 'cached')).toEqual([valueFrom('A', 'cached')]);
  });

  it('POST /admin/v1/reload?dryRun=true checks and reports, changing nothing; without it, applies (log level too)', async () => {
    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.a)];
      c.logLevel = 'debug';
      delete c.cache;
    });
    // A malformed query (no question) is logged at debug level only.
    const malformed = () => {
      const query = encodeQuery(7, `x.${ZONE}`, 'TXT');
      query.writeUInt16BE(0, 4);
      return udpExchange(s.d.dnsPort, query, 2000);
    };
    await malformed();
    const dry = await admin('POST', '/admin/v1/reload?dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ dryRun: true, changed: ['upstreams', 'logLevel'], needsRestart: [] });
    expect(await txt(s.d, 'dry')).toEqual([valueFrom('B', 'dry')]);
    await malformed();
    expect(logsWith(s.d.proc, 'FORMERR')).toHaveLength(0);

    const applied = await admin('POST', '/admin/v1/reload');
    expect(applied.body).toEqual({ dryRun: false, changed: ['upstreams', 'logLevel'], needsRestart: [] });
    expect(await txt(s.d, 'applied')).toEqual([valueFrom('A', 'applied')]);
    await malformed();
    await waitFor('the FORMERR debug line', async () => logsWith(s.d.proc, 'FORMERR').length === 1, 2_000);

    rewriteConfig(s.d, (c) => (c.upstreams = ['not-an-upstream-url']));
    const refused = await admin('POST', '/admin/v1/reload?dryRun=true');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'RELOAD_REFUSED' });
    expect(String(refused.body.message)).toMatch(/^reload refused: .*upstreams\.0/);
    // A dry run is a question: not counted, not logged as a refusal.
    expect(await reloadsCounted('refused')).toBe(1);
  });

  it('`dnslinkd reload`: applies, or exits non-zero with the reason on stderr', async () => {
    const cli = (...args: string[]) => runCli(['reload', '--admin', `http://127.0.0.1:${s.d.adminPort}`, '--token-file', tokenFile, ...args]);
    const refused = await cli();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\[RELOAD_REFUSED\] reload refused: .*upstreams\.0/);
    expect(await txt(s.d, 'cli')).toEqual([valueFrom('A', 'cli')]);

    rewriteConfig(s.d, (c) => (c.upstreams = [upstreamOf(s.b)]));
    const dry = await cli('--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({ dryRun: true, changed: ['upstreams'], needsRestart: [] });
    const done = await cli();
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^reloaded: applied upstreams$/m);
    expect(await reloadsCounted('refused')).toBe(2);
  });

  it('local records (the file read again) and dns.allow apply live', async () => {
    const records = join(s.dir, 'records.json');
    const record = (value: string) => [{ name: `_dnslink.local.${ZONE}`, type: 'TXT', ttl: 60, data: value }];
    writeFileSync(records, JSON.stringify(record('dnslink=/ipfs/local-first')));
    rewriteConfig(s.d, (c) => (c.localRecords = records));
    expect((await admin('POST', '/admin/v1/reload')).body).toMatchObject({ changed: ['localRecords'] });
    expect(await txt(s.d, 'local')).toEqual(['dnslink=/ipfs/local-first']);
    // The same file name, other contents: read again on reload.
    writeFileSync(records, JSON.stringify(record('dnslink=/ipfs/local-second')));
    expect((await admin('POST', '/admin/v1/reload')).body).toMatchObject({ changed: ['localRecords'] });
    expect(await txt(s.d, 'local')).toEqual(['dnslink=/ipfs/local-second']);

    rewriteConfig(s.d, (c) => (c.dns = { allow: ['192.0.2.0/24'] }));
    expect((await admin('POST', '/admin/v1/reload')).body).toMatchObject({ changed: ['dns.allow'] });
    expect((await digAt(s.d.dnsPort, `_dnslink.local.${ZONE}`, 'TXT')).parsed?.status).toBe('REFUSED');
    rewriteConfig(s.d, (c) => delete c.dns);
    expect((await admin('POST', '/admin/v1/reload')).body).toMatchObject({ changed: ['dns.allow'] });
    expect(await txt(s.d, 'local')).toEqual(['dnslink=/ipfs/local-second']);

    writeFileSync(records, JSON.stringify([{ name: 'x', type: 'A', ttl: 60, data: 'not-an-address' }]));
    const refused = await admin('POST', '/admin/v1/reload');
    expect(refused.status).toBe(422);
    expect(String(refused.body.message)).toMatch(/^reload refused: invalid local records in .*A data must be an IPv4 address/);
    expect(await txt(s.d, 'local')).toEqual(['dnslink=/ipfs/local-second']);
    writeFileSync(records, JSON.stringify(record('dnslink=/ipfs/local-second')));
  });

  it('rotates admin tokens: after the reload the old token is refused and the new one accepted', async () => {
    writeFileSync(tokenFile, `${tokens.second}\n`);
    const answer = await admin('POST', '/admin/v1/reload', tokens.first);
    expect(answer.body).toMatchObject({ changed: ['admin.tokens'] });
    expect((await admin('GET', '/admin/v1/status', tokens.first)).status).toBe(401);
    expect((await admin('GET', '/admin/v1/status', tokens.second)).status).toBe(200);
  });
});

describe.skipIf(!ok)('reload with --workers 2', () => {
  const s = reloadSuite(() => ({ args: ['--workers', '2'] }));

  /** Every answer to `count` queries for the name (spread over both workers by the shared UDP socket). */
  const answersFor = async (name: string, count: number) => new Set((await Promise.all(Array.from({ length: count }, () => txt(s.d, name)))).map((v) => v.join()));

  it('SIGHUP to the process group: the primary checks once, every worker uses the new upstream, none dies', async () => {
    await waitFor('both workers ready', async () => logsWith(s.d.proc, 'dnslinkd workers ready').length === 1, 10_000);
    const [ready] = logsWith(s.d.proc, 'dnslinkd workers ready');
    const pids = (ready!.pids as number[]) ?? [];
    expect(pids).toHaveLength(2);
    expect(await answersFor('w1', 10)).toEqual(new Set([valueFrom('A', 'w1')]));

    rewriteConfig(s.d, (c) => (c.upstreams = [upstreamOf(s.b)]));
    // The whole group, as a terminal hangup would: workers must not die of it.
    process.kill(-s.d.proc.child.pid!, 'SIGHUP');
    await waitFor('the reload logged', async () => logsWith(s.d.proc, 'configuration reloaded').length === 1, 5_000);
    expect(logsWith(s.d.proc, 'configuration reloaded')[0]).toMatchObject({ workers: 2, changed: ['upstreams'] });
    await sleep(200);
    for (const pid of [s.d.proc.child.pid!, ...pids]) expect(() => process.kill(pid, 0), `pid ${pid}`).not.toThrow();
    expect(logsWith(s.d.proc, 'worker exited unexpectedly')).toHaveLength(0);
    for (const name of ['w2', 'w3', 'w4']) expect(await answersFor(name, 6)).toEqual(new Set([valueFrom('B', name)]));
  });

  it('POST /admin/v1/reload answers for every worker; a refusal leaves them all as they run', async () => {
    rewriteConfig(s.d, (c) => (c.upstreams = [upstreamOf(s.a)]));
    const applied = await s.d.admin('POST', '/admin/v1/reload');
    expect(applied.body).toEqual({ dryRun: false, changed: ['upstreams'], needsRestart: [], workers: 2 });
    expect(await answersFor('w5', 10)).toEqual(new Set([valueFrom('A', 'w5')]));

    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.b)];
      c.dns = { workers: 3 };
      c.cache = { staleTtl: -1 };
    });
    const refused = await s.d.admin('POST', '/admin/v1/reload');
    expect(refused.status).toBe(422);
    expect(String(refused.body.message)).toMatch(/cache\.staleTtl/);
    expect(await answersFor('w6', 10)).toEqual(new Set([valueFrom('A', 'w6')]));
    expect(metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result: 'refused' })).toBe(1);
    expect(metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result: 'applied' })).toBe(2);
  });

  it('a worker restarted after a reload runs the reloaded configuration, not the file as it is now', async () => {
    // Running: upstream A (reloaded above). The file names B now, not reloaded.
    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.b)];
      delete c.dns;
      delete c.cache;
    });
    const applied = () => logsWith(s.d.proc, 'applied the configuration the primary reloaded').length;
    const before = applied();
    const [ready] = logsWith(s.d.proc, 'dnslinkd workers ready');
    process.kill((ready!.pids as number[])[0]!, 'SIGKILL');
    await waitFor('the restarted worker ready', async () => logsWith(s.d.proc, 'restarted worker ready').length === 1, 10_000);
    await waitFor('the restarted worker given the reloaded configuration', async () => applied() === before + 1, 5_000);
    expect(await answersFor('w7', 10)).toEqual(new Set([valueFrom('A', 'w7')]));
  });
});

describe.skipIf(!ok)('SIGHUP with --workers 2 while the workers start', () => {
  let hupSent = false;
  const s = reloadSuite(() => ({
    args: ['--workers', '2'],
    onSpawn: (proc) => {
      // As soon as the primary has forked its workers (before they are ready): SIGHUP to the primary.
      void waitFor('the primary forking workers', async () => logsWith(proc, 'starting workers').length === 1, 10_000, { intervalMs: 5 }).then(() => {
        hupSent = true;
        proc.child.kill('SIGHUP');
      });
    },
  }));

  it('a worker not yet ready is not asked (it takes the configuration when it joins): no false error, counted as applied', async () => {
    await waitFor('both workers ready', async () => logsWith(s.d.proc, 'dnslinkd workers ready').length === 1, 10_000);
    await waitFor('the reload logged', async () => logsWith(s.d.proc, 'configuration reloaded').length === 1, 10_000);
    expect(hupSent).toBe(true);
    const [reloaded] = logsWith(s.d.proc, 'configuration reloaded');
    expect(reloaded!.by).toBe('SIGHUP');
    // Before the fix: two `a worker did not apply the reload` errors after 5 s and `"workers":0`.
    expect(logsWith(s.d.proc, 'did not apply the reload')).toHaveLength(0);
    expect(logsWith(s.d.proc, 'did not take the reloaded configuration')).toHaveLength(0);
    expect(logsWith(s.d.proc, 'workers still starting are not asked').length + Number(reloaded!.workers)).toBeGreaterThan(0);
    expect(metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result: 'applied' })).toBe(1);
    expect(await txt(s.d, 'w1')).toEqual([valueFrom('A', 'w1')]);
  });
});

describe.skipIf(!ok)('reload with a start flag pinning a key (--upstream)', () => {
  // Started with --upstream A as a flag; the file names A too.
  const s: ReloadSuite = reloadSuite(() => ({ args: ['--upstream', upstreamOf(s.a)] }));
  const cli = (...args: string[]) => runCli(['reload', '--admin', `http://127.0.0.1:${s.d.adminPort}`, '--data-dir', s.d.dataDir, ...args]);

  it('an edit of the pinned key in the file is named (answer, log line, CLI), the flag still wins', async () => {
    rewriteConfig(s.d, (c) => (c.upstreams = [upstreamOf(s.b)]));
    const applied = await s.d.admin('POST', '/admin/v1/reload?dryRun=true');
    expect(applied.body).toEqual({ dryRun: true, changed: [], needsRestart: [], pinnedByFlags: ['upstreams'] });
    const done = await cli();
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^upstreams changed in the file but --upstream given at start wins$/m);
    expect(logsWith(s.d.proc, 'upstreams changed in the file but --upstream given at start wins')[0]).toMatchObject({ pinnedByFlags: ['upstreams'] });
    expect(await txt(s.d, 'first')).toEqual([valueFrom('A', 'first')]);
    // Named once: a reload with no new edit names nothing.
    const again = await s.d.admin('POST', '/admin/v1/reload');
    expect(again.body).toEqual({ dryRun: false, changed: [], needsRestart: [] });
  });

  it("the file's own value of a pinned key is checked: an invalid one is refused though the flag replaces it", async () => {
    rewriteConfig(s.d, (c) => (c.upstreams = [5]));
    const refused = await s.d.admin('POST', '/admin/v1/reload');
    expect(refused.status).toBe(422);
    expect(String(refused.body.message)).toMatch(/reload refused: .*upstreams\.0/);
    expect(metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result: 'refused' })).toBe(1);
    expect(await txt(s.d, 'refused')).toEqual([valueFrom('A', 'refused')]);
  });

  it('`dnslinkd reload --config FILE` with a file that does not validate: the daemon is asked and refuses it (exit 2), or exit 2 saying it was not asked', async () => {
    const refusedCount = async () => metricSum(await s.d.metrics(), 'dnslinkd_config_reloads_total', { result: 'refused' });
    const before = await refusedCount();
    rewriteConfig(s.d, (c) => {
      c.upstreams = [upstreamOf(s.a)];
      c.admin = { listen: `127.0.0.1:${s.d.adminPort}` };
      c.cache = { maxTTL: 5 };
    });
    // Before: exit 1 with [CONFIG_INVALID] from the CLI's own parse, the daemon never asked.
    const invalid = await runCli(['reload', '--config', s.d.configFile]);
    expect(invalid.code, invalid.stderr).toBe(2);
    expect(invalid.stderr).toMatch(/\[RELOAD_REFUSED\] reload refused: .*maxTTL/);
    expect(await refusedCount()).toBe(before + 1);

    writeFileSync(s.d.configFile, '{ "upstreams": [');
    const unparsable = await runCli(['reload', '--config', s.d.configFile]);
    expect(unparsable.code, unparsable.stderr).toBe(2);
    expect(unparsable.stderr).toMatch(/\[RELOAD_REFUSED\] reload refused: .*not valid JSON.*the daemon was not asked/);
    expect(await refusedCount()).toBe(before + 1);
    expect(await txt(s.d, 'restart')).toEqual([valueFrom('A', 'restart')]);
  });
});
