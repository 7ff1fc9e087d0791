// examples/cdn-purge/receiver.mjs against a fake CDN API of this test's own: dnslinkd's webhooks
// reach two receivers (Cloudflare by URL, Fastly by tag), which verify the signature and send the
// purge each CDN's public API takes; a forged signature and a replayed (old) timestamp are refused
// and purge nothing; a repeat of an event id purges once.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot, requireBuild, spawnManaged, startDnslinkd, stopAll, waitFor } from './support/index.js';
import type { DnslinkdHandle, Managed } from './support/index.js';

const ok = requireBuild();
const SECRET = 'cdn-purge-example-secret-0123';
const CID = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

interface CdnCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe.skipIf(!ok)('examples/cdn-purge: a webhook receiver purging Cloudflare and Fastly (fake CDN API)', () => {
  let cdn: Server;
  const calls: CdnCall[] = [];
  let cdnUrl: string;
  const receivers: Array<{ proc: Managed; port: number }> = [];
  let d: DnslinkdHandle;

  const startReceiver = async (env: Record<string, string>) => {
    const port = await freePort();
    const proc = spawnManaged('cdn-purge', process.execPath, [join(repoRoot, 'examples/cdn-purge/receiver.mjs')], { env: { ...process.env, SECRET, PORT: String(port), ...env } });
    await waitFor('receiver listening', async () => /"listening"/.test(proc.output()), 5000);
    receivers.push({ proc, port });
    return `http://127.0.0.1:${port}/`;
  };

  beforeAll(async () => {
    cdn = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls.push({ method: req.method!, path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
      });
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    const cloudflare = await startReceiver({ CDN: 'cloudflare', PURGE_BY: 'url', CF_API: `${cdnUrl}/client/v4`, CF_ZONE: 'zone123', CF_TOKEN: 'cf-token', URL_TEMPLATES: 'https://{name}/ https://{inlined}.ipns.gw.example/' });
    const fastly = await startReceiver({ CDN: 'fastly', PURGE_BY: 'tag', FASTLY_API: cdnUrl, FASTLY_SERVICE: 'svc9', FASTLY_KEY: 'fastly-key', TAG_TEMPLATE: 'dnslink-{name}' });
    d = await startDnslinkd({
      upstreams: ['udp://127.0.0.1:9'],
      config: { changes: { webhookRetryMs: 2000, webhooks: [{ url: cloudflare, secret: SECRET }, { url: fastly, secret: SECRET }] } },
    });
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    await stopAll();
    await new Promise((r) => cdn?.close(r));
  });

  it('turns an override set and a flush of everything into purges by URL (Cloudflare) and by tag (Fastly)', async () => {
    expect((await d.admin('PUT', '/admin/v1/overrides/my-site.example.org', { value: CID, reason: 'cdn purge example' })).status).toBe(200);
    await waitFor('both purges', async () => calls.length >= 2, 5000);
    const cf = calls.find((c) => c.path === '/client/v4/zones/zone123/purge_cache')!;
    expect(cf.method).toBe('POST');
    expect(cf.headers.authorization).toBe('Bearer cf-token');
    expect(JSON.parse(cf.body)).toEqual({ files: ['https://my-site.example.org/', 'https://my--site-example-org.ipns.gw.example/'] });
    const fa = calls.find((c) => c.path === '/service/svc9/purge')!;
    expect(fa.method).toBe('POST');
    expect(fa.headers['fastly-key']).toBe('fastly-key');
    expect(fa.headers['surrogate-key']).toBe('dnslink-my-site.example.org');
    calls.length = 0;
    expect((await d.admin('POST', '/admin/v1/cache/flush', { all: true, reason: 'cdn purge example' })).status).toBe(200);
    await waitFor('both purge-alls', async () => calls.length >= 2, 5000);
    expect(JSON.parse(calls.find((c) => c.path.endsWith('/purge_cache'))!.body)).toEqual({ purge_everything: true });
    expect(calls.some((c) => c.path === '/service/svc9/purge_all' && c.method === 'POST')).toBe(true);
  });

  it('refuses a forged signature and a replayed timestamp; purges a repeated event once', async () => {
    calls.length = 0;
    const port = receivers[0]!.port;
    const body = JSON.stringify({ id: '1-0', time: new Date().toISOString(), name: 'forged.example', kind: 'override.set', old: null, new: CID, origin: 'admin:x', instance: 'test' });
    const post = (ts: number, secret: string) =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'x-dnslinkd-timestamp': String(ts), 'x-dnslinkd-signature': `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}` }, body });
    const now = Math.floor(Date.now() / 1000);
    expect((await post(now, 'not-the-secret-0123456789')).status).toBe(401);
    expect((await post(now - 3600, SECRET)).status).toBe(401);
    expect(calls).toHaveLength(0);
    expect((await post(now, SECRET)).status).toBe(200);
    expect((await post(now, SECRET)).status).toBe(200);
    expect(calls.filter((c) => c.body.includes('forged.example'))).toHaveLength(1);
  });
});
