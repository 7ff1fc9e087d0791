// GET /admin/v1/cache paged over a real cache of 10,000 names (nsd's wildcard, real UDP queries),
// in one process and with --workers 2: every entry comes exactly once, in one order, whatever the
// page size (a page boundary between two workers' entries included); a Unicode suffix is taken in
// punycode, as flush and cache show take names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, runCli, startDnslinkd, stopAll, waitFor } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { queryBurst, startWildcardNsd, type WildcardNsd } from './support/many-names.js';

const ok = requireBinaries('nsd') && requireBuild();
const NAMES = 10_000;

interface Page {
  entries: Array<{ name: string; worker?: number; key: string }>;
  matched: number;
  next?: string;
}

describe.skipIf(!ok)('cache listing pages over 10,000 entries', { timeout: 120_000 }, () => {
  let nsd: WildcardNsd;
  let single: DnslinkdHandle;
  let workers: DnslinkdHandle;
  const names = Array.from({ length: NAMES }, (_, i) => `_dnslink.n${i}.many.test`);

  beforeAll(async () => {
    nsd = await startWildcardNsd();
    [single, workers] = await Promise.all([
      startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { cache: { prefetch: false } } }),
      startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { cache: { prefetch: false }, dns: { workers: 2 } } }),
    ]);
    await waitFor('both workers', async () => /dnslinkd workers ready/.test(workers.logs()), 20_000);
    for (const d of [single, workers]) {
      const burst = await queryBurst(d.dnsPort, names, 1, { window: 500, rounds: 5 });
      expect(burst.namesUnanswered).toEqual([]);
    }
  }, 90_000);
  afterAll(async () => {
    await Promise.all([single?.stop(), workers?.stop()]);
    await nsd?.stop();
    await stopAll();
  });

  /** Every page of the listing with this page size, as `worker name` rows. */
  async function walk(d: DnslinkdHandle, limit: number): Promise<{ rows: string[]; matched: number }> {
    const rows: string[] = [];
    let cursor: string | undefined;
    let matched = 0;
    for (let page = 0; page < 20_000; page++) {
      const r = await d.admin('GET', `/admin/v1/cache?suffix=many.test&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const p = r.body as unknown as Page;
      matched = p.matched;
      rows.push(...p.entries.map((e) => `${e.worker ?? '-'} ${e.name}`));
      cursor = p.next;
      if (!cursor) break;
    }
    return { rows, matched };
  }

  it('a Unicode suffix lists the punycode names under it (API and CLI), as cache show finds them', async () => {
    const name = '_dnslink.xn--9ca.many.test'; // é.many.test
    expect((await digAt(single.dnsPort, name, 'TXT')).parsed?.status).toBe('NOERROR');
    const r = await single.admin('GET', `/admin/v1/cache?suffix=${encodeURIComponent('É.many.test')}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((r.body as unknown as Page).entries.map((e) => e.name)).toEqual([name]);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DNSLINKD_')));
    const cli = await runCli(['cache', 'ls', '--suffix', 'é.many.test', '--json', '--admin', `127.0.0.1:${single.adminPort}`, '--data-dir', single.dataDir], 20_000, env);
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as Page).entries.map((e) => e.name)).toEqual([name]);
  });

  for (const which of ['one process', '--workers 2'] as const) {
    it(`${which}: pages of 1000, 333 and 97 list every entry exactly once`, async () => {
      const d = which === 'one process' ? single : workers;
      const whole = await walk(d, 1000);
      // Every name is cached (in one worker or both), and each (worker, name) is listed once.
      expect(whole.rows.length).toBe(whole.matched);
      expect(new Set(whole.rows).size).toBe(whole.rows.length);
      expect(new Set(whole.rows.map((r) => r.split(' ')[1]).filter((n) => /^_dnslink\.n\d+\.many\.test$/.test(n!))).size).toBe(NAMES);
      for (const limit of [333, 97]) {
        const paged = await walk(d, limit);
        expect(paged.rows.length).toBe(whole.rows.length);
        expect(paged.rows).toEqual(whole.rows);
      }
    });
  }
});
