// The console over a fleet: three dnslinkd sharing a real redis-server (nsd upstream), chromium on
// the first one's admin listener: the overview lists the three instances up; a pin made in the
// console is then served by all three (dig: the pinned value with EDE 4, each instance).
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, startRedis, stopAll, txtValue, waitFor, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle, RedisHandle } from './support/index.js';
import { consoleTestable, expectClean, launchChromium, openConsole, pinFromLookUp, SHOTS, signIn, visit } from './support/console-browser.js';

const ok = requireBinaries('nsd', 'redis-server', 'dig') && requireBuild() && consoleTestable();
const PLAIN = zone.names.plain.name.replace(/^_dnslink\./, '');
const PLAIN_VALUE = zone.names.plain.values[0]!.replace('dnslink=', '');
const WRITE = 'fleet-console-write-0123456789';

describe.skipIf(!ok)('the console over a fleet of three (redis-server, nsd, chromium)', () => {
  let nsd: NsdHandle;
  let redis: RedisHandle;
  let browser: Browser;
  const fleet: DnslinkdHandle[] = [];
  const start = () =>
    startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: { cache: { prefetch: false }, state: { redis: redis.url, syncIntervalMs: 1000 }, admin: { tokens: [{ label: 'ops', scope: 'write', secret: WRITE }] } },
    });

  beforeAll(async () => {
    nsd = await startNsd();
    redis = await startRedis();
    fleet.push(...(await Promise.all([start(), start(), start()])));
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(fleet.map((d) => d.stop()));
    await redis?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('the overview shows the three instances up; a pin made in the console is served by all three with EDE 4', async () => {
    // Each instance sees the whole fleet once every one has announced itself.
    await waitFor('three instances live', async () => ((await fleet[0]!.admin('GET', '/admin/v1/status', undefined, WRITE)).body.fleet as { live?: number } | undefined)?.live === 3, 10_000);
    const w = await openConsole(browser, `http://127.0.0.1:${fleet[0]!.adminPort}`);
    const { page } = w;
    await signIn(page, WRITE);
    await visit(w, 'Overview', /Overview/, 'fleet-overview');
    const rows = page.getByRole('table', { name: /^Fleet: 3 instances up/ }).locator('tbody tr');
    expect(await rows.count()).toBe(3);
    const admins = (await rows.locator('td:nth-child(2)').allTextContents()).sort();
    expect(admins).toEqual(fleet.map((d) => `127.0.0.1:${d.adminPort}`).sort());
    expect(await rows.locator('td:nth-child(4)').allTextContents()).toEqual(['yes', 'yes', 'yes']);

    // Cached on every instance first: the pin must reach their caches too.
    for (const d of fleet) await digAt(d.dnsPort, zone.names.plain.name, 'TXT');
    await visit(w, 'Look up', /Look up/, 'fleet-lookup');
    await pinFromLookUp(page, PLAIN, 'fleet console pin');
    await page.screenshot({ path: join(SHOTS, 'fleet-pinned.png'), fullPage: true });
    for (const d of fleet) {
      await waitFor(`instance ${d.adminPort} serving the pin`, async () => (await digAt(d.dnsPort, zone.names.plain.name, 'TXT')).parsed?.ede?.code === 4, 5_000);
      const r = await digAt(d.dnsPort, zone.names.plain.name, 'TXT');
      expect((r.parsed?.answers ?? []).map((a) => txtValue(a.data))).toEqual([`dnslink=${PLAIN_VALUE}`]);
      expect(r.parsed?.ede).toMatchObject({ code: 4, text: '(override: fleet console pin)' });
    }
    await expectClean(w);
    await page.context().close();
  }, 60_000);
});
