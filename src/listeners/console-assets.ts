// The operator console's page and assets (docs/console.md), served by the admin listener at `/`
// and `/console/*`: read once at start from dist/console/ (built by scripts/build-console.mjs),
// answered from memory with ETags and a strict Content-Security-Policy. They hold no data, so no token.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` puts the console (dist/console/ beside dist/listeners/). */
export const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

/** Scripts and styles from this origin only: nothing inline, no frames, no other origin. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The files of the built console, by URL path (`/` is index.html); empty when it was not built. */
export function loadConsoleAssets(dir: string = CONSOLE_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(dir, 'index.html'))) return assets;
  for (const file of readdirSync(dir)) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    const body = readFileSync(join(dir, file));
    const asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    assets.set(file === 'index.html' ? '/' : `/console/${file}`, asset);
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  void reply.headers(SECURITY_HEADERS).header('etag', asset.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/** Registers one route per asset (hidden from the OpenAPI document; `publicAsset`: no token asked). */
export function registerConsoleRoutes(app: FastifyInstance, assets: Map<string, Asset> = loadConsoleAssets()): void {
  const options = { schema: { hide: true }, config: { publicAsset: true } };
  if (assets.size === 0) {
    app.get('/', options, async (_request, reply) =>
      reply.headers(SECURITY_HEADERS).code(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build` (it bundles the console into dist/console/).\n'),
    );
    return;
  }
  for (const [path, asset] of assets) app.get(path, options, async (request, reply) => send(request, reply, asset));
}
