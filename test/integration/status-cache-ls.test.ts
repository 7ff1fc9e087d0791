// `dnslinkd status` and `dnslinkd cache ls` / `cache show` against real instances in front of nsd:
// one instance with an override in force, entries gone stale and an upstream stopped (a stale
// answer served), and one with --workers 2 (the status summed over both workers, the worker
// column, --top busiest first, --suffix, paging that walks every entry once).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, repoRoot, requireBinaries, requireBuild, runCli, startDnslinkd, startNsd, stopAll, waitFor } from './support/index.js';
import type { CliResult, DnslinkdHandle, NsdHandle } from './support/index.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const VALUE = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));
const STALE_MAX_AGE = 3600;

interface Listed {
  name: string;
  type: number;
  stale: boolean;
  hits: number;
  source: string;
  ttlLeft: number;
  expiresAt: string;
  serveUntil: string;
  worker?: number;
}
interface Page {
  entries: Listed[];
  matched: number;
  next?: string;
}

const columns = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);
/** A table's rows as objects keyed by its (upper-case) headers. */
function rows(text: string): Array<Record<string, string>> {
  const lines = text.trimEnd().split('\n');
  const headers = columns(lines[0]);
  return lines.slice(1).filter((l) => columns(l).length >= headers.length - 1 && !/ entries|next page/.test(l)).map((l) => Object.fromEntries(columns(l).map((c, i) => [headers[i], c])));
}
/** `label:  value` lines of the status. */
const statusLine = (text: string, label: string) => text.split('\n').find((l) => l.startsWith(`${label}:`))?.slice(label.length + 1).trim();

describe.skipIf(!ok)('dnslinkd status and cache ls', { timeout: 120_000 }, () => {
  let nsd: NsdHandle;
  let nsdStale: NsdHandle;
  let single: DnslinkdHandle;
  let workers: DnslinkdHandle;

  beforeAll(async () => {
    [nsd, nsdStale] = await Promise.all([startNsd(), startNsd()]);
    [single, workers] = await Promise.all([
      startDnslinkd({
        upstreams: [`udp://127.0.0.1:${nsdStale.port}`],
        config: { upstreamTimeoutMs: 300, cache: { maxTtl: 1, negativeMinTtl: 60, negativeMaxTtl: 60, serveStale: true, staleMaxAge: STALE_MAX_AGE, prefetch: false, clientDeadlineMs: 1000 } },
      }),
      startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { dns: { workers: 2 } } }),
    ]);
    await waitFor('both workers', async () => /dnslinkd workers ready/.test(workers.logs()), 20_000);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([single?.stop(), workers?.stop()]);
    await Promise.all([nsd?.stop(), nsdStale?.stop()]);
    await stopAll();
  });

  const cli = (d: DnslinkdHandle, args: string[]): Promise<CliResult> => runCli([...args, '--admin', `http://127.0.0.1:${d.adminPort}`, '--data-dir', d.dataDir], 20_000, baseEnv);
  const ok0 = async (d: DnslinkdHandle, args: string[]) => {
    const r = await cli(d, args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    return r.stdout;
  };
  const json = async <T>(d: DnslinkdHandle, args: string[]) => JSON.parse(await ok0(d, [...args, '--json'])) as T;

  it('one instance: status with an override, a stale answer served and a failing upstream; cache ls --stale; cache show', async () => {
    for (const name of ['_dnslink.plain.dnslink.test', '_dnslink.hop1.dnslink.test', '_dnslink.nowhere.dnslink.test']) await digAt(single.dnsPort, name, 'TXT');
    const put = await single.admin('PUT', '/admin/v1/overrides/two.dnslink.test', { value: VALUE, reason: 'incident 42' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await new Promise((r) => setTimeout(r, 1_500)); // the positive entries (maxTtl 1) are past their TTL
    await nsdStale.stop();
    const stale = await digAt(single.dnsPort, '_dnslink.plain.dnslink.test', 'TXT', ['+time=4']);
    expect(stale.parsed?.status).toBe('NOERROR');
    expect(stale.stdout).toMatch(/EDE: 3 \(Stale Answer\)/);

    const api = async <T>(path: string) => {
      const r = await single.admin('GET', path);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as T;
    };
    const text = await ok0(single, ['status']);
    const s = await api<Record<string, any>>('/admin/v1/status');
    // The control plane's fields as before.
    expect(s.store.kind).toBe('embedded');
    expect(s.degraded).toBe(false);
    expect(s.overrides).toBe(1);
    expect(s.invalidRecords).toEqual({ count: 0, records: [] });
    // The instance.
    const listening = single.logs().split('\n').filter((l) => l.includes('"dnslinkd listening"')).map((l) => JSON.parse(l) as { chain: string[] })[0]!;
    expect(s.instance).toMatchObject({ version: VERSION, pid: single.proc.child.pid, workers: 1, chain: listening.chain, listeners: { dns: `127.0.0.1:${single.dnsPort}`, http: `127.0.0.1:${single.httpPort}` } });
    expect(s.instance.uptimeSeconds).toBeGreaterThanOrEqual(1);
    expect(s.cache).toMatchObject({ entries: 3, staleServed: 1 });
    expect(s.cache.hits + s.cache.misses).toBeGreaterThanOrEqual(4);
    expect(s.upstreams).toEqual([expect.objectContaining({ url: `udp://127.0.0.1:${nsdStale.port}`, state: 'failing', lastError: expect.stringMatching(/^UPSTREAM_/) })]);
    expect(s.overridesInForce).toEqual([expect.objectContaining({ name: 'two.dnslink.test', value: VALUE, reason: 'incident 42' })]);
    expect(s.controlStore).toMatchObject({ kind: 'embedded', degraded: false, version: s.version });
    expect(s.fleet).toBeUndefined();
    // The same, readable.
    expect(statusLine(text, 'dnslinkd')).toBe(`${VERSION}, pid ${single.proc.child.pid}, up ${statusLine(text, 'dnslinkd')!.split(', up ')[1]}`);
    expect(statusLine(text, 'chain')).toBe(listening.chain.join(' > '));
    expect(statusLine(text, 'listeners')).toBe(`dns (udp+tcp) 127.0.0.1:${single.dnsPort}, http 127.0.0.1:${single.httpPort}`);
    expect(statusLine(text, 'workers')).toBe('1 (no --workers)');
    expect(statusLine(text, 'cache')).toMatch(new RegExp(`^3 entries, .* of 64\\.0 MiB; hit ratio [\\d.]+% \\(${s.cache.hits} hits, ${s.cache.misses} misses\\); 1 stale answers served$`));
    expect(statusLine(text, 'upstreams')).toBe('1 of 1 failing');
    expect(columns(text.split('\n').find((l) => l.trim().startsWith('udp://'))).slice(0, 2)).toEqual([`udp://127.0.0.1:${nsdStale.port}`, 'failing']);
    expect(statusLine(text, 'ens')).toBe('off (no ens.rpc configured)');
    expect(statusLine(text, 'overrides')).toMatch(/^1 in force/);
    expect(text).toContain(`    two.dnslink.test  ${VALUE}  (ttl`);

    // cache ls --stale: the two positive entries, not the negative one (fresh for 60 s).
    const page = await api<Page>('/admin/v1/cache?stale=true');
    expect(page.entries.map((e) => e.name).sort()).toEqual(['_dnslink.hop1.dnslink.test', '_dnslink.plain.dnslink.test']);
    for (const e of page.entries) {
      expect(e).toMatchObject({ stale: true, ttlLeft: 0, source: 'upstream', type: 16 });
      expect(Date.parse(e.serveUntil) - Date.parse(e.expiresAt)).toBe(STALE_MAX_AGE * 1000);
    }
    const all = await api<Page>('/admin/v1/cache');
    expect(all.matched).toBe(3);
    expect(all.entries.find((e) => e.name === '_dnslink.nowhere.dnslink.test')).toMatchObject({ stale: false, source: 'upstream' });
    const table = rows(await ok0(single, ['cache', 'ls', '--stale']));
    expect(Object.keys(table[0]!)).toEqual(['NAME', 'TYPE', 'RCODE', 'TTL LEFT', 'STALE', 'HITS', 'ORIGIN']);
    expect(table.map((r) => [r.NAME, r.TYPE, r['TTL LEFT'], r.STALE, r.ORIGIN])).toEqual(
      page.entries.map((e) => [e.name, 'TXT', '0', `yes, until ${e.serveUntil}`, 'upstream']),
    );

    // cache show: since when stale, until when served; the override in force.
    const plain = page.entries.find((e) => e.name === '_dnslink.plain.dnslink.test')!;
    const show = await ok0(single, ['cache', 'show', 'plain.dnslink.test']);
    const shown = rows(show).find((r) => r.NAME === '_dnslink.plain.dnslink.test')!;
    expect(shown.STALE).toBe(`since ${plain.expiresAt}, served until ${plain.serveUntil}`);
    const two = await ok0(single, ['cache', 'show', 'two.dnslink.test']);
    expect(two.split('\n')).toEqual(['nothing is cached for two.dnslink.test', expect.stringMatching(new RegExp(`^override in force: ${VALUE} \\(ttl \\d+, no expiry, by local: incident 42\\)`)), '']);
    const twoJson = await api<{ override: { name: string; value: string } | null }>('/admin/v1/cache/two.dnslink.test');
    expect(twoJson.override).toMatchObject({ name: 'two.dnslink.test', value: VALUE });
  });

  it('--workers 2: status summed over the workers, cache ls with a worker column, --top, --suffix and paging', async () => {
    const names = ['plain', 'hop1', 'hop2', 'hop3', 'two', 'multi'].map((n) => `_dnslink.${n}.dnslink.test`);
    // Unequal traffic: the first name asked most.
    for (const [i, name] of names.entries()) for (let k = 0; k < names.length - i + 1; k++) await digAt(workers.dnsPort, name, 'TXT');

    const api = async <T>(path: string) => {
      const r = await workers.admin('GET', path);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as T;
    };
    const s = await api<Record<string, any>>('/admin/v1/status');
    expect(s.instance.workers).toBe(2);
    // `status --json` prints the API's answer.
    expect(Object.keys(await json<Record<string, unknown>>(workers, ['status'])).sort()).toEqual(Object.keys(s).sort());
    expect(s.processes.map((p: { worker: number }) => typeof p.worker)).toEqual(['number', 'number']);
    expect(s.cache.entries).toBe(s.processes[0].cache.entries + s.processes[1].cache.entries);
    expect(s.cache.hits).toBe(s.processes[0].cache.hits + s.processes[1].cache.hits);
    const asked = names.reduce((sum, _, i) => sum + names.length - i + 1, 0);
    expect(s.cache.hits + s.cache.misses).toBe(asked);
    const text = await ok0(workers, ['status']);
    expect(statusLine(text, 'workers')).toMatch(new RegExp(`^2 \\(worker ${s.processes[0].worker} pid ${s.processes[0].pid}, up \\S+; worker ${s.processes[1].worker} pid ${s.processes[1].pid}, up \\S+\\)$`));

    const everything = await api<Page>('/admin/v1/cache?limit=1000');
    expect(everything.matched).toBe(s.cache.entries);
    expect(everything.entries).toHaveLength(s.cache.entries);
    expect(new Set(everything.entries.map((e) => e.name))).toEqual(new Set(names));
    expect(new Set(everything.entries.map((e) => e.worker))).toEqual(new Set(s.processes.map((p: { worker: number }) => p.worker)));

    // --top 3: the busiest first, and none left out busier than the last shown.
    const top = await api<Page>('/admin/v1/cache?top=3');
    expect(top.entries).toHaveLength(3);
    expect(top.next).toBeUndefined();
    const hits = top.entries.map((e) => e.hits);
    expect([...hits].sort((a, b) => b - a)).toEqual(hits);
    const byHits = everything.entries.map((e) => e.hits).sort((a, b) => b - a);
    expect(hits).toEqual(byHits.slice(0, 3));
    const topTable = rows(await ok0(workers, ['cache', 'ls', '--top', '3']));
    expect(Object.keys(topTable[0]!)).toEqual(['WORKER', 'NAME', 'TYPE', 'RCODE', 'TTL LEFT', 'STALE', 'HITS', 'ORIGIN']);
    expect(topTable.map((r) => [Number(r.WORKER), r.NAME, Number(r.HITS)])).toEqual(top.entries.map((e) => [e.worker, e.name, e.hits]));

    // --suffix: only names at or under it.
    const hop = await api<Page>('/admin/v1/cache?suffix=hop1.dnslink.test');
    expect(hop.entries.length).toBeGreaterThan(0);
    expect(hop.entries.every((e) => e.name === '_dnslink.hop1.dnslink.test')).toBe(true);
    expect(hop.entries).toHaveLength(everything.entries.filter((e) => e.name === '_dnslink.hop1.dnslink.test').length);

    // Pages of 4: every entry once, in the order of the whole listing; the CLI says how to get the next.
    const first = await ok0(workers, ['cache', 'ls', '--suffix', 'dnslink.test', '--limit', '4']);
    expect(first.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^4 of ${everything.matched} entries; next page: dnslinkd cache ls --suffix dnslink.test --limit 4 --cursor \\S+$`));
    const seen: Listed[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const p = await api<Page>(`/admin/v1/cache?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.entries.length).toBeLessThanOrEqual(4);
      seen.push(...p.entries);
      cursor = p.next;
      if (!cursor) break;
    }
    expect(seen.map((e) => `${e.worker} ${e.name}`)).toEqual(everything.entries.map((e) => `${e.worker} ${e.name}`));

    // cache show: one row per worker holding the name, with the worker column.
    const show = rows(await ok0(workers, ['cache', 'show', 'plain.dnslink.test']));
    expect(Object.keys(show[0]!)[0]).toBe('WORKER');
    expect(show.map((r) => Number(r.WORKER)).sort()).toEqual(everything.entries.filter((e) => e.name === names[0]).map((e) => e.worker).sort());

    // Bad parameters: 4xx {code, message}.
    const bad = await workers.admin('GET', '/admin/v1/cache?limit=100000');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 'INVALID_PARAMETER', message: 'limit must be a whole number from 1 to 1000 (got "100000")' });
    const badCursor = await workers.admin('GET', '/admin/v1/cache?cursor=nonsense');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe('INVALID_PARAMETER');
  });
});
