// CORS for browser clients (Helia in a service worker, web apps) on the DoH and resolution routes:
// every answer carries `access-control-allow-origin: *` (set by the handlers), and preflight
// OPTIONS requests are answered here. No credentials are involved, so `*` is safe.
import type { FastifyInstance } from 'fastify';

export const ALLOW_ORIGIN = 'access-control-allow-origin';

const PREFLIGHT_HEADERS = {
  [ALLOW_ORIGIN]: '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-max-age': '86400',
} as const;

export function registerPreflight(app: FastifyInstance, paths: readonly string[]): void {
  for (const url of paths) {
    app.options(url, { schema: { hide: true } }, (request, reply) => {
      const asked = request.headers['access-control-request-headers'];
      void reply
        .code(204)
        .headers(PREFLIGHT_HEADERS)
        .header('access-control-allow-headers', typeof asked === 'string' && asked.length <= 1024 ? asked : 'content-type, accept')
        .header('vary', 'access-control-request-headers')
        .send();
    });
  }
}
