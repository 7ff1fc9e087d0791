// The operator console in a real browser for the tests: Debian's chromium (headless) driven by
// playwright-core; each tab records console errors, failed requests and CSP violations; pages are
// reached by their navigation links and photographed into test-results/console/ (not committed).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { repoRoot } from './paths.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = join(repoRoot, 'test-results', 'console');

/** Chromium installed and the console built (npm run build). */
export function consoleTestable(): boolean {
  return existsSync(CHROMIUM) && existsSync(join(repoRoot, 'dist', 'console', 'app.js'));
}

/** What went wrong in a page: console errors, failed requests, CSP violations. */
export interface Watched {
  page: Page;
  errors: string[];
  failed: string[];
  violations(): Promise<string[]>;
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** A fresh tab (its own sessionStorage) on `base`, watching for errors; `allowed` statuses are expected answers (a refused token). */
export async function openConsole(browser: Browser, base: string, allowed: number[] = []): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const failed: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => r.status() >= 400 && !allowed.includes(r.status()) && failed.push(`${r.url()}: ${r.status()}`));
  // Added by the browser's protocol, not the page: the CSP does not apply to it.
  await page.addInitScript("window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));");
  await page.goto(`${base}/`);
  return { page, errors, failed, violations: () => page.evaluate<string[]>('window.__csp') };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Goes to a page by its navigation link, waits for its heading, saves a screenshot. */
export async function visit(w: Watched, link: string, heading: RegExp, shot: string): Promise<void> {
  await w.page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await expect.poll(() => w.page.getByRole('heading', { level: 2, name: heading }).count()).toBe(1);
  await w.page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
}

/** No failed request, no console error, no CSP violation in the tab. */
export async function expectClean(w: Watched): Promise<void> {
  expect(w.failed).toEqual([]);
  expect(w.errors).toEqual([]);
  expect(await w.violations()).toEqual([]);
}

/** Pins `name` from the Look up page: reason, dry run, Confirm; resolves once the page shows it pinned. */
export async function pinFromLookUp(page: Page, name: string, reason: string): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect.poll(() => page.getByTestId('override').count()).toBe(1);
  await page.getByRole('button', { name: 'Pin', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: 'Dry run' }).click();
  await expect.poll(() => dialog.getByText('Dry run: nothing changed yet').count()).toBe(1);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect.poll(() => page.getByTestId('override').textContent()).toMatch(/^Override in force: /);
}
