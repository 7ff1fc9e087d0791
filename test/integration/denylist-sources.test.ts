// Denylist sources on a real dnslinkd over nsd: a real node:http server serves `.deny` files with
// ETags; a list's block shows in dig (EDE 15, EDE 16 for a censored list) and in the API (410,
// 451); a new version is picked up within refreshIntervalMs (1 s) and blocks a cached answer at
// once; the guard holds a version that would block most served names until `dnslinkd deny
// accept`; a restart with the server gone still blocks (the data dir's copy, the applied version).
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const bare = (name: string) => name.replace(/^_dnslink\./, '');
const plain = bare(zone.names.plain.name);
const hop1 = bare(zone.names.hop1!.name);
const hop3Cid = /\/ipfs\/([a-z0-9]+)/.exec(zone.names.hop3!.values![0]!)![1]!;
/** Names of the zone with a DNSLink answer, asked before the wide version comes. */
const SERVED = ['plain', 'hop1', 'hop2', 'hop3', 'two', 'multi', 'long', 'big', 'bare', 'loopA', 'loopB', 'none'] as const;

/** A .deny server: the current text, with an ETag; counts the requests and the 304s. */
function denyServer() {
  let text = '';
  const counts = { requests: 0, notModified: 0 };
  const server: Server = createServer((req, res) => {
    counts.requests++;
    const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      counts.notModified++;
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', etag }).end(text);
  });
  return {
    counts,
    set: (next: string) => void (text = next),
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function api(d: DnslinkdHandle, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.skipIf(!ok)('denylist sources (real HTTP server, nsd, dig)', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  const http = denyServer();
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'denylist-src-'));
  const dataDir = join(dir, 'data');
  const legalFile = join(dir, 'legal.deny');
  const config = () => ({
    denylist: {
      sources: [
        { name: 'badbits', url, refreshIntervalMs: 1000, kind: 'blocked' },
        { name: 'legal', file: legalFile, refreshIntervalMs: 1000, kind: 'censored' },
        // Never reachable: the start goes on, /healthz says which list.
        { name: 'gone', url: 'http://127.0.0.1:9/gone.deny', refreshIntervalMs: 60_000, kind: 'blocked' },
      ],
      maxNewlyBlockedPercent: 20,
    },
  });

  beforeAll(async () => {
    nsd = await startNsd();
    url = `http://127.0.0.1:${await http.listen()}/badbits.deny`;
    http.set(`# v1\n/ipns/${plain}\n`);
    writeFileSync(legalFile, `/ipns/${bare(zone.names.two.name)}\n`);
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: config() });
    await waitFor('both lists in force', async () => ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ version?: string }>).filter((l) => l.version).length === 2, 10_000);
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    await http.close().catch(() => {});
    await nsd?.stop();
    await stopAll();
  });

  it('blocks by a URL list (EDE 15, 410) and a censored file list (EDE 16, 451), with fetches counted', async () => {
    const blocked = await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT');
    expect(blocked.parsed?.status).toBe('NOERROR');
    expect(blocked.parsed?.answers).toEqual([]);
    expect(blocked.parsed?.ede?.code).toBe(15);
    expect(blocked.stdout).toContain(`blocked by denylist badbits rule /ipns/${plain}`);
    expect((await api(d, plain)).body).toMatchObject({ code: 'BLOCKED', list: 'badbits', rule: `/ipns/${plain}` });
    const two = bare(zone.names.two.name);
    expect((await digAt(d.dnsPort, `_dnslink.${two}`, 'TXT')).parsed?.ede?.code).toBe(16);
    const censored = await api(d, two);
    expect(censored.status).toBe(451);
    expect(censored.body).toMatchObject({ code: 'CENSORED', list: 'legal', rule: `/ipns/${two}` });
    // Conditional requests: unchanged, the server answers 304.
    await waitFor('a 304', async () => http.counts.notModified > 0, 5000);
    const metrics = await d.metrics();
    expect(metrics).toMatch(/dnslinkd_denylist_entries\{list="badbits"\} 1/);
    expect(metrics).toMatch(/dnslinkd_denylist_fetches_total\{list="badbits",result="(ok|not-modified)"\} [1-9]/);
  });

  it('starts with a list it cannot read, and /healthz says which', async () => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/healthz`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as { reason: string; denylist?: { degraded: boolean; note: string } };
    expect(health.denylist?.degraded).toBe(true);
    expect(health.reason).toContain('denylist gone DEGRADED: no version could be read');
  });

  it('dnslinkd resolve applies the lists of its configuration and exits 5 for a censored name', async () => {
    const cliConfig = join(dir, 'cli.json');
    writeFileSync(cliConfig, JSON.stringify({ localRecords: null, dataDir: join(dir, 'cli-data'), denylist: { sources: [{ name: 'legal', file: legalFile, kind: 'censored' }] } }));
    const two = bare(zone.names.two.name);
    const r = await runCli(['resolve', two, '--upstream', `udp://127.0.0.1:${nsd.port}`, '--config', cliConfig]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr.trim()).toBe(`dnslinkd: CENSORED: ${two} is censored by denylist legal (rule /ipns/${two}): unavailable for legal reasons`);
    const ok = await runCli(['resolve', plain, '--upstream', `udp://127.0.0.1:${nsd.port}`, '--config', cliConfig]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 30_000);

  it('picks up a new version within refreshIntervalMs and blocks a cached answer at once', async () => {
    expect((await api(d, hop1)).status).toBe(200); // cached, through its hops
    http.set(`# v2\n/ipns/${plain}\n/ipfs/${hop3Cid}\n`);
    const since = Date.now();
    await waitFor('hop1 blocked by its CID', async () => (await api(d, hop1)).status === 410, 5000, { intervalMs: 50 });
    const ms = Date.now() - since;
    console.log(`denylist: a new list version blocked a cached chain ${ms} ms after the file changed on the server (refreshIntervalMs 1000)`);
    expect(ms).toBeLessThan(3000);
    expect((await api(d, hop1)).body).toMatchObject({ code: 'BLOCKED', list: 'badbits', rule: `/ipfs/${hop3Cid}` });
  });

  it('reads a file list again on SIGHUP even when its size, inode and mtime did not change', async () => {
    const big = bare(zone.names.big.name);
    const ede = async () => (await digAt(d.dnsPort, `_dnslink.${big}`, 'TXT')).parsed?.ede?.code;
    expect(await ede()).toBeUndefined();
    // An edit in place of the same length, the mtime put back (cp -p, rsync -t, a restore).
    const reference = `${legalFile}.reference`;
    execFileSync('touch', ['-r', legalFile, reference]); // the mtime to the nanosecond
    const edited = readFileSync(legalFile, 'utf8').replace(`/ipns/${bare(zone.names.two.name)}`, `/ipns/${big}`);
    expect(edited).toContain(big);
    writeFileSync(legalFile, edited);
    execFileSync('touch', ['-r', reference, legalFile]);
    d.proc.child.kill('SIGHUP');
    await waitFor('the reload by SIGHUP logged', async () => d.logs().includes('"by":"SIGHUP"'), 5_000);
    await waitFor('the edited file list in force (EDE 16)', async () => (await ede()) === 16, 5_000);
  }, 20_000);

  it('holds a version that would block most served names; deny accept applies it', async () => {
    for (const key of SERVED) await digAt(d.dnsPort, zone.names[key]!.name, 'TXT');
    const wide = SERVED.map((key) => `/ipns/${bare(zone.names[key]!.name)}`);
    http.set(`# v3: everything\n${wide.join('\n')}\n/ipfs/${hop3Cid}\n`);
    await waitFor('the version held', async () => ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ name: string; held?: unknown }>).some((l) => l.name === 'badbits' && l.held), 8000);
    const health = (await (await fetch(`http://127.0.0.1:${d.httpPort}/healthz`)).json()) as { reason: string };
    expect(health.reason).toContain('denylist badbits: a new version is HELD');
    expect(await d.metric('dnslinkd_denylist_held')).toBe(1);
    expect(d.logs()).toContain('new version HELD, not applied');
    const status = await runCli(['deny', 'status', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^badbits\s+blocked\s+http:\/\/127\.0\.0\.1:\d+\/badbits\.deny\s+[0-9a-f]{16}\s+2\s+.*HELD [0-9a-f]{16}: newly blocks \d+\/\d+ .*dnslinkd deny accept badbits$/m);
    // The previous version is in force: a name only v3 blocks still resolves.
    const bareName = bare(zone.names.bare.name);
    expect((await api(d, bareName)).status).toBe(200);
    const accept = await runCli(['deny', 'accept', 'badbits', '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir]);
    expect(accept.code, accept.stderr).toBe(0);
    expect(accept.stdout).toMatch(/^accepted: badbits version/);
    expect((await api(d, bareName)).status).toBe(410);
    expect(await d.metric('dnslinkd_denylist_held')).toBe(0);
    const again = await d.admin('POST', '/admin/v1/denylist/badbits/accept', {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('NOTHING_HELD');
    const audit = await d.admin('GET', '/admin/v1/audit?limit=20');
    const actions = (audit.body.records as Array<{ action: string }>).map((r) => r.action);
    expect(actions).toContain('denylist.hold');
    // One accept, one audit record (the admin's, naming its token), not one more per process.
    const accepts = (audit.body.records as Array<{ action: string; token: string; name: string }>).filter((r) => r.action === 'denylist.accept');
    expect(accepts).toHaveLength(1);
    expect(accepts[0]).toMatchObject({ name: 'badbits', token: 'local' });
  }, 30_000);

  it('still blocks after a restart with the list server gone', async () => {
    await d.proc.stop();
    await http.close();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: config() });
    await waitFor('badbits in force from the data dir', async () => ((await d.admin('GET', '/admin/v1/denylist')).body.lists as Array<{ name: string; version?: string }>).some((l) => l.name === 'badbits' && l.version), 10_000);
    expect((await api(d, bare(zone.names.bare.name))).status).toBe(410);
    expect((await digAt(d.dnsPort, `_dnslink.${plain}`, 'TXT')).parsed?.ede?.code).toBe(15);
  }, 30_000);

  it('still blocks after a restart with --workers 2 and the list server gone (the copies kept by a single process)', async () => {
    await d.proc.stop();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], dataDir, config: config(), args: ['--workers', '2'] });
    // Every worker blocks: ask enough times that both answer.
    for (let i = 0; i < 8; i++) {
      const answer = await digAt(d.dnsPort, `_dnslink.${bare(zone.names.bare.name)}`, 'TXT');
      expect(answer.parsed?.ede?.code).toBe(15);
      expect(answer.stdout).toContain('rule /ipns/');
    }
    expect((await api(d, bare(zone.names.bare.name))).status).toBe(410);
  }, 30_000);
});
