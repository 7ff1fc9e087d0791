// The HTTP listener (fastify): DoH (/dns-query, /resolve), /v1/dnslink/{name}, /openapi.json and the
// ops routes, on a cleartext HTTP/1.1 + h2c port and, with a certificate, an HTTPS port (h2, http/1.1).
// Errors are JSON {code, message}; a method a known path does not serve is a 405 with Allow.
import type { FastifyInstance } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';
import type { RunningListener } from '../running-listener.js';
import { VERSION } from '../../version.js';
import { registerDnslinkRoutes } from './dnslink-routes.js';
import { registerPreflight } from './cors.js';
import { dohStreamFilter, filterStreams } from './doh-fast-path.js';
import { registerDohRoutes } from './doh-routes.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './connection-limits.js';
import { createDualServer, createTlsServer, type Http2Hook, type TlsFiles } from './http-sockets.js';
import { registerOpenApi } from './openapi.js';
import { registerOpsRoutes } from './ops-routes.js';
import { createJsonApp, drainableApp } from './json-app.js';
import { registerChangesRoutes } from './changes-routes.js';
import { registerAskRoute } from './ask-route.js';

export interface HttpAppOptions {
  /** Serve h2c (HTTP/2 prior knowledge) next to HTTP/1.1 on a cleartext listener. Default true. */
  h2c?: boolean;
  /** Serve HTTPS (h2 and http/1.1 by ALPN) with these PEM files instead of cleartext. */
  tls?: TlsFiles;
  /** Largest DoH POST body in bytes. Default 65535. */
  bodyLimit?: number;
  /** Timeouts, connections per client, HTTP/2 limits. Default: the `http.*` defaults. */
  limits?: HttpLimits;
}

export async function buildHttpApp(core: ResolverCore, options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const { tls } = options;
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const bodyLimit = options.bodyLimit ?? 65_535;
  // RFC 8484 over HTTP/2 (h2 and h2c) is answered from the raw stream, before fastify (doh-fast-path.ts).
  const dohFirst: Http2Hook = (server) => filterStreams(server, dohStreamFilter(core, { bodyLimit }));
  const app = createJsonApp(core.log, {
    transport: tls ? 'https' : 'http',
    serverFactory: (handler) => (tls ? createTlsServer(handler, tls, limits, dohFirst) : createDualServer(handler, options.h2c ?? true, limits, dohFirst)),
    // A domain is up to 253 characters, more once percent-encoded (UTF-8 labels): fastify's
    // default of 100 would refuse valid names in /v1/dnslink/{name}.
    maxParamLength: 1024,
  });
  await registerOpenApi(app, VERSION);
  registerOpsRoutes(app, core);
  registerChangesRoutes(app, core);
  registerAskRoute(app, core);
  // DoH and the resolution API answer browsers too (Helia in a service worker): CORS on them only,
  // set by the handlers themselves (a hook would cost every DoH query a hook run).
  await app.register(async (scope) => {
    registerDohRoutes(scope, core, { bodyLimit });
    registerDnslinkRoutes(scope, core);
    registerPreflight(scope, ['/dns-query', '/resolve', '/v1/dnslink/:name']);
  });
  await app.ready();
  return app;
}

export async function startHttpListener(
  core: ResolverCore,
  host: string,
  port: number,
  options: HttpAppOptions = {},
): Promise<RunningListener & { app: FastifyInstance }> {
  const app = await buildHttpApp(core, options);
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  return { app, address: { host, port: actualPort }, ...drainableApp(app) };
}
