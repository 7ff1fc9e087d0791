// The HTTP listener (fastify): DoH (/dns-query, /resolve), /v1/dnslink/{name}, /openapi.json and the
// ops routes, on a cleartext HTTP/1.1 + h2c port and, with a certificate, an HTTPS port (h2, http/1.1).
// Errors are JSON {code, message}; a method a known path does not serve is a 405 with Allow.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';
import type { RunningListener } from '../running-listener.js';
import { VERSION } from '../../version.js';
import { registerDnslinkRoutes } from './dnslink-routes.js';
import { clientErrorHandler } from './client-errors.js';
import { registerPreflight } from './cors.js';
import { registerDohRoutes } from './doh-routes.js';
import { errorHandler, sendError } from './http-errors.js';
import { createDualServer, createTlsServer, type TlsFiles } from './http-sockets.js';
import { registerOpenApi } from './openapi.js';
import { registerOpsRoutes } from './ops-routes.js';
import { rejectBadQueryEscapes } from './query-escapes.js';
import { collectRoutes } from './route-table.js';

export interface HttpAppOptions {
  /** Serve h2c (HTTP/2 prior knowledge) next to HTTP/1.1 on a cleartext listener. Default true. */
  h2c?: boolean;
  /** Serve HTTPS (h2 and http/1.1 by ALPN) with these PEM files instead of cleartext. */
  tls?: TlsFiles;
  /** Largest DoH POST body in bytes. Default 65535. */
  bodyLimit?: number;
}

export async function buildHttpApp(core: ResolverCore, options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const { tls } = options;
  const appErrorHandler = errorHandler(core.log);
  const app = Fastify({
    loggerInstance: core.log.child({ transport: tls ? 'https' : 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (request logging is off): one less allocation per DoH query.
    childLoggerFactory: (logger) => logger,
    serverFactory: (handler) => (tls ? createTlsServer(handler, tls) : createDualServer(handler, options.h2c ?? true)),
    // A domain is up to 253 characters, more once percent-encoded (UTF-8 labels): fastify's
    // default of 100 would refuse valid names in /v1/dnslink/{name}.
    routerOptions: { maxParamLength: 1024 },
    // Errors the router raises before any route runs go through the same mapping as the rest.
    frameworkErrors: (err, request, reply) => appErrorHandler(err, request, reply),
    // And what Node's HTTP/1.1 parser refuses before the router sees it, with the same JSON body.
    clientErrorHandler: clientErrorHandler(core.log),
  });
  // Registered before any route, so it sees them all.
  const routes = collectRoutes(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allow = routes.allowed(path);
    if (allow) {
      reply.header('allow', allow.join(', '));
      sendError(reply, 405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}: it answers ${allow.join(', ')}`);
      return;
    }
    sendError(reply, 404, 'NOT_FOUND', `no route for ${request.method} ${path}`);
  });
  app.setErrorHandler(appErrorHandler);
  // One onRequest hook for every route (h2load showed no difference on DoH cache hits).
  rejectBadQueryEscapes(app);
  await registerOpenApi(app, VERSION);
  registerOpsRoutes(app, core);
  // DoH and the resolution API answer browsers too (Helia in a service worker): CORS on them only,
  // set by the handlers themselves (a hook would cost every DoH query a hook run).
  await app.register(async (scope) => {
    registerDohRoutes(scope, core, { bodyLimit: options.bodyLimit ?? 65_535 });
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
  return { app, address: { host, port: actualPort }, close: () => app.close() };
}
