// The console's assets as the admin listener serves them: read once from the build folder (files of
// unknown kinds left out), each with its type and an ETag (304 when it matches), the security headers
// on every answer, and when the console was not built a 503 saying how to build it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, loadConsoleAssets, registerConsoleRoutes } from '../../../src/listeners/console-assets.js';

const dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('console assets', () => {
  it('serves the built files from memory with their types, ETags and the security headers', async () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'notes.txt'), 'not served');
    const assets = loadConsoleAssets(dir);
    expect([...assets.keys()].sort()).toEqual(['/', '/console/app.js']);
    // Read once: a change on disk after start is not served.
    writeFileSync(join(dir, 'app.js'), 'changed');
    const app = Fastify();
    registerConsoleRoutes(app, assets);
    const js = await app.inject({ url: '/console/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.body).toBe('console.log(1)');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(js.headers['x-frame-options']).toBe('DENY');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const again = await app.inject({ url: '/console/app.js', headers: { 'if-none-match': String(js.headers.etag) } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const page = await app.inject({ url: '/' });
    expect([page.statusCode, page.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.headers.etag).not.toBe(js.headers.etag);
    expect((await app.inject({ url: '/console/notes.txt' })).statusCode).toBe(404);
    await app.close();
  });

  it('says how to build the console when it was not built', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const app = Fastify();
    registerConsoleRoutes(app, loadConsoleAssets(empty));
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toBe('The console is not built: run `npm run build` (it bundles the console into dist/console/).\n');
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
    await app.close();
  });
});
