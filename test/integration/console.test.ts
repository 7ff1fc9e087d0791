// The operator console in a real browser (playwright-core driving Debian's chromium, headless)
// against a real dnslinkd with nsd upstream: sign-in (write, wrong, read-only tokens), look-up,
// pin through the dry-run dialog with `dig` then getting the pinned value with EDE 4, the audit
// entry, removal; keyboard (Escape, focus kept in the dialog); on every page no console error, no
// failed request, no CSP violation; the security headers; a screenshot per page in test-results/console/.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { consoleTestable, expectClean, launchChromium, openConsole, SHOTS, signIn, visit } from './support/console-browser.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild() && consoleTestable();
const PLAIN = zone.names.plain.name.replace(/^_dnslink\./, '');
const PLAIN_VALUE = zone.names.plain.values[0]!.replace('dnslink=', '');
const CID2 = 'bafkreiadj22nmzm5o7uqd43fhkcvnko4o2kh3npx54yfo76fyor4d6kgje';
const WRITE = 'console-write-token-0123456789';
const READ = 'console-read-token-0123456789';

describe.skipIf(!ok)('the operator console in chromium (nsd upstream, dig)', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: { cache: { prefetch: false }, admin: { consoleSampleSeconds: 1, tokens: [{ label: 'ops', scope: 'write', secret: WRITE }, { label: 'viewer', scope: 'read', secret: READ }] } },
    });
    base = `http://127.0.0.1:${d.adminPort}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  const open = (allowed: number[] = []) => openConsole(browser, base, allowed);
  const clean = expectClean;

  const dnslinkTxt = async () => {
    const r = await digAt(d.dnsPort, zone.names.plain.name, 'TXT');
    return { ede: r.parsed?.ede, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };

  it('serves the page and assets without a token, with the CSP, frame and sniffing headers and ETags; the API still needs one', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp.split(/;\s*/)).toEqual(expect.arrayContaining(["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]));
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    // No inline script or style: every script and stylesheet is a file of this origin.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/console/app.js">']);
    expect(html).not.toMatch(/<style|style=/);
    const js = await fetch(`${base}/console/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const etag = js.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await fetch(`${base}/console/app.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/admin/v1/status`)).status).toBe(401);
    expect((await fetch(`${base}/console/nothing.js`)).status).toBe(401);
  });

  it('refuses a wrong token with a visible message and shows no page', async () => {
    const w = await open([401]);
    await signIn(w.page, 'not-the-right-token-00000000');
    await expect.poll(() => w.page.getByRole('alert').textContent()).toMatch(/refused/);
    expect(await w.page.getByRole('navigation').count()).toBe(0);
    await w.page.screenshot({ path: join(SHOTS, 'sign-in-refused.png') });
    expect(w.errors.filter((e) => !/401/.test(e))).toEqual([]);
    expect(w.failed).toEqual([]);
    expect(await w.violations()).toEqual([]);
    await w.page.context().close();
  });

  it('write token: look up, pin through the dry run (dig gets it with EDE 4), audit entry, override with a value, remove; every page clean', async () => {
    const w = await open();
    const { page } = w;
    await signIn(page, WRITE);
    await visit(w, 'Overview', /Overview/, 'overview');
    expect(await page.getByText('Signed in as ops (write)').count()).toBe(1);

    await visit(w, 'Look up', /Look up/, 'lookup-empty');
    await page.getByLabel('Name', { exact: true }).fill(PLAIN);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => page.getByTestId('value').textContent()).toBe(PLAIN_VALUE);
    expect(await page.getByTestId('source').textContent()).toBe('dns');
    expect(await page.getByTestId('override').textContent()).toBe('No override in force.');
    // What the instance holds: the TXT answer the look-up cached, fresh.
    const held = page.getByRole('table', { name: 'Cached answers' }).locator('tbody tr');
    expect(await held.count()).toBe(1);
    expect((await held.locator('td').allTextContents()).slice(0, 3)).toEqual([zone.names.plain.name, '16', 'fresh']);
    await page.screenshot({ path: join(SHOTS, 'lookup.png'), fullPage: true });

    // Escape closes the dialog and changes nothing; focus stays inside it meanwhile.
    await page.getByRole('button', { name: 'Pin', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill('looking only');
    await dialog.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => dialog.getByText('Dry run: nothing changed yet').count()).toBe(1);
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await page.evaluate<boolean>("document.activeElement?.closest('dialog') !== null")).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await d.admin('GET', '/admin/v1/overrides', undefined, READ)).body.overrides).toEqual([]);

    // Pin: a reason, the dry run says before and after, then Confirm.
    await page.getByRole('button', { name: 'Pin', exact: true }).click();
    expect(await dialog.getByRole('button', { name: 'Confirm' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Reason').fill('console e2e pin');
    await dialog.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => dialog.getByText('Dry run: nothing changed yet').count()).toBe(1);
    expect(await dialog.locator('dt:has-text("Override after") + dd').textContent()).toBe(PLAIN_VALUE);
    expect(await dialog.locator('dt:has-text("Override before") + dd').textContent()).toBe('none');
    await page.screenshot({ path: join(SHOTS, 'pin-dry-run.png') });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('override').textContent()).toMatch(new RegExp(`^Override in force: ${PLAIN_VALUE} \\(pinned by ops: console e2e pin\\)`));
    const pinned = await dnslinkTxt();
    expect(pinned.values).toEqual([`dnslink=${PLAIN_VALUE}`]);
    expect(pinned.ede).toMatchObject({ code: 4, text: '(override: console e2e pin)' });

    await visit(w, 'Audit', /Audit/, 'audit');
    const row = page.locator('tbody tr').first();
    expect(await row.locator('td').allTextContents()).toEqual([expect.any(String), 'ops', 'override.pin', PLAIN, 'console e2e pin', PLAIN_VALUE]);
    // Filters: by kind (only the pin and its dry runs), by who, by a name with no record.
    const actions = () => page.locator('tbody tr td:nth-child(3)').allTextContents();
    await page.getByLabel('Kind').selectOption('override.pin');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(actions).toEqual(['override.pin', 'override.pin (dry run)', 'override.pin (dry run)']);
    await page.getByLabel('Who (token label)').fill('viewer');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(0);
    await page.getByLabel('Who (token label)').fill('ops');
    await page.getByLabel('Filter by name').fill('nothing.example');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(0);

    await visit(w, 'Overrides', /Overrides/, 'overrides');
    expect(await page.locator('tbody tr td').first().textContent()).toBe(PLAIN);
    // Add an override for another name, change its value, remove it: each through the dialog, each seen by dig.
    const BARE = 'bare.dnslink.test';
    const bareTxt = async () => {
      const r = await digAt(d.dnsPort, `_dnslink.${BARE}`, 'TXT');
      return { ede: r.parsed?.ede?.code, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
    };
    const throughDialog = async (fields: Record<string, string>, reason: string) => {
      for (const [label, value] of Object.entries(fields)) await dialog.getByLabel(label, { exact: true }).fill(value);
      await dialog.getByLabel('Reason').fill(reason);
      await dialog.getByRole('button', { name: 'Dry run' }).click();
      await expect.poll(() => dialog.getByText('Dry run: nothing changed yet').count()).toBe(1);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => dialog.count()).toBe(0);
    };
    await page.getByRole('button', { name: 'Add override' }).click();
    await throughDialog({ Name: BARE, Value: `/ipfs/${CID2}` }, 'console e2e add');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
    expect(await bareTxt()).toEqual({ ede: 4, values: [`dnslink=/ipfs/${CID2}`] });
    await page.getByRole('button', { name: `Change override of ${BARE}` }).click();
    expect(await dialog.getByLabel('Value', { exact: true }).inputValue()).toBe(`/ipfs/${CID2}`);
    await throughDialog({ Value: PLAIN_VALUE }, 'console e2e change');
    expect(await bareTxt()).toEqual({ ede: 4, values: [`dnslink=${PLAIN_VALUE}`] });
    await page.getByRole('button', { name: `Remove override of ${BARE}` }).click();
    await throughDialog({}, 'console e2e remove');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect((await bareTxt()).ede).not.toBe(4);

    // Override with a value of one's own: the value, its dry run, then Confirm.
    await visit(w, 'Look up', /Look up/, 'lookup-again');
    await page.getByLabel('Name', { exact: true }).fill(PLAIN);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => page.getByTestId('source').textContent()).toBe('override');
    await page.getByRole('button', { name: 'Override', exact: true }).click();
    await dialog.getByLabel('Value').fill(`/ipfs/${CID2}`);
    await dialog.getByLabel('Reason').fill('console e2e value');
    await dialog.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => dialog.locator('dt:has-text("Answer after") + dd').textContent()).toBe(`/ipfs/${CID2}`);
    expect(await dialog.locator('dt:has-text("Answer before") + dd').textContent()).toBe(PLAIN_VALUE);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('value').textContent()).toBe(`/ipfs/${CID2}`);
    expect((await dnslinkTxt()).values).toEqual([`dnslink=/ipfs/${CID2}`]);

    await page.getByRole('button', { name: 'Remove override', exact: true }).click();
    await dialog.getByLabel('Reason').fill('console e2e done');
    await dialog.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => dialog.locator('dt:has-text("Override after") + dd').textContent()).toBe('none');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('override').textContent()).toBe('No override in force.');
    const after = await dnslinkTxt();
    expect(after.values).toEqual([`dnslink=${PLAIN_VALUE}`]);
    expect(after.ede?.code).not.toBe(4);

    // Flush: the dry run's reach first.
    await visit(w, 'Flush', /Flush/, 'flush');
    await page.getByLabel('Flush target').fill(PLAIN);
    await page.getByRole('button', { name: 'Flush…' }).click();
    await dialog.getByLabel('Reason').fill('console e2e flush');
    await dialog.getByRole('button', { name: 'Dry run' }).click();
    await expect.poll(() => dialog.getByTestId('reach').count()).toBe(1);
    const reach = Number(await dialog.getByTestId('reach').textContent());
    const cachedNow = ((await d.admin('GET', `/admin/v1/cache/${PLAIN}`, undefined, READ)).body.entries as unknown[]).length;
    expect(reach).toBe(cachedNow);
    expect(cachedNow).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Flushed.');
    expect(((await d.admin('GET', `/admin/v1/cache/${PLAIN}`, undefined, READ)).body.entries as unknown[]).length).toBe(0);

    await visit(w, 'Denylists', /Denylists/, 'denylists');
    await clean(w);
    await page.context().close();
  }, 60_000);

  it('the audit page\'s paging: ?before= gives the next records, ?until= the older ones, newest first', async () => {
    const page = async (query: string) => ((await d.admin('GET', `/admin/v1/audit?${query}`, undefined, READ)).body.records as Array<{ id: string; time: string }>) ?? [];
    const four = await page('limit=4');
    expect(four.length).toBe(4);
    const first = await page('limit=2');
    const next = await page(`limit=2&before=${first[1]!.id}`);
    expect([...first, ...next].map((r) => r.id)).toEqual(four.map((r) => r.id));
    const older = await page(`limit=1000&until=${encodeURIComponent(four[2]!.time)}`);
    expect(older.every((r) => r.time <= four[2]!.time)).toBe(true);
    expect(older.map((r) => r.id)).toContain(four[2]!.id);
    const all = await page('limit=1000');
    expect(older.length).toBe(all.filter((r) => r.time <= four[2]!.time).length);
    expect(older.length).toBeLessThan(all.length);
    expect((await d.admin('GET', '/admin/v1/audit?before=not-an-id', undefined, READ)).body.code).toBe('INVALID_PARAMETER');
  });

  it('overview: the instance up with its version, and live uPlot charts drawing the queries dig sends', async () => {
    const w = await open();
    const { page } = w;
    await signIn(page, READ);
    // Queries over UDP for about three seconds: several samples see them.
    const until = Date.now() + 3000;
    let sent = 0;
    while (Date.now() < until) {
      await digAt(d.dnsPort, zone.names.plain.name, 'TXT');
      // A name never asked: a cache miss that goes to nsd (timed in the upstream latency).
      await digAt(d.dnsPort, `miss-${sent}.dnslink.test`, 'TXT');
      sent += 2;
    }
    const samples = async () => (await d.admin('GET', '/admin/v1/samples', undefined, READ)).body as { intervalSeconds: number; samples: Array<{ queries: Record<string, number>; upstreamLatencyCount: number }> };
    // The next sample (one a second) counts every query sent.
    await expect.poll(async () => (await samples()).samples.at(-1)?.queries.udp ?? 0, { timeout: 5000 }).toBeGreaterThanOrEqual(sent);
    const taken = await samples();
    expect(taken.intervalSeconds).toBe(1);
    expect(taken.samples.length).toBeGreaterThanOrEqual(3);
    await visit(w, 'Overview', /Overview/, 'overview-before-charts');
    expect(await page.getByTestId('instance').textContent()).toMatch(/^up, dnslinkd \d+\.\d+\.\d+/);
    expect(taken.samples.at(-1)!.upstreamLatencyCount).toBeGreaterThanOrEqual(sent / 2);
    /** The rows of a chart's canvas where a series of colour `rgb` is drawn. */
    const rowsOfLine = (title: string, [r, g, b]: [number, number, number]) =>
      page
        .getByTestId(`chart-${title}`)
        .locator('canvas')
        .evaluate(
          (canvas, [r, g, b]) => {
            const c = canvas as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
            const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            const rows = new Set<number>();
            for (let i = 0; i < data.length; i += 4) {
              if (data[i + 3]! > 200 && Math.abs(data[i]! - r) < 40 && Math.abs(data[i + 1]! - g) < 40 && Math.abs(data[i + 2]! - b) < 40) rows.add(Math.floor(i / 4 / c.width));
            }
            return rows.size;
          },
          [r, g, b] as [number, number, number],
        );
    // The udp series (#1a73e8) drawn over several heights: a line that rises above zero, not a flat one.
    await expect.poll(() => rowsOfLine('Queries per second by transport', [26, 115, 232]), { timeout: 10_000 }).toBeGreaterThan(10);
    // The upstream latency (#e37400): drawn from the misses' timings.
    await expect.poll(() => rowsOfLine('Upstream mean latency', [227, 116, 0]), { timeout: 10_000 }).toBeGreaterThan(3);
    expect(await page.getByTestId('latest-Queries per second by transport').textContent()).toMatch(/^Latest: .*udp/);
    await page.screenshot({ path: join(SHOTS, 'overview-charts.png'), fullPage: true });
    await clean(w);
    await page.context().close();
  }, 40_000);

  it('read token: sees everything, is told it is read-only, every change button is disabled', async () => {
    const w = await open();
    const { page } = w;
    await signIn(page, READ);
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Read-only token/);
    await visit(w, 'Look up', /Look up/, 'lookup-read-only');
    await page.getByLabel('Name', { exact: true }).fill(PLAIN);
    await page.getByRole('button', { name: 'Look up' }).click();
    await expect.poll(() => page.getByTestId('value').textContent()).toBe(PLAIN_VALUE);
    for (const name of ['Pin', 'Override', 'Remove override', 'Flush']) expect(await page.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    await visit(w, 'Flush', /Flush/, 'flush-read-only');
    expect(await page.getByRole('button', { name: 'Flush…' }).isDisabled()).toBe(true);
    await visit(w, 'Audit', /Audit/, 'audit-read-only');
    await visit(w, 'Overview', /Overview/, 'overview-read-only');
    // The API refuses a read token's change anyway.
    expect(await d.admin('POST', '/admin/v1/cache/flush', { all: true, reason: 'read token' }, READ)).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    await clean(w);
    await page.context().close();
  }, 40_000);
});
