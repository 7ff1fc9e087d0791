// The admin listener: a separate fastify app serving only the admin API, on loopback by default,
// over TLS when configured (required off loopback unless plaintext is allowed on purpose). No
// admin route is served by the DNS, DoH or public HTTP listeners. The client limits of the HTTP
// listeners (`http.*` timeouts, connections per client) apply to it too.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import https from 'node:https';
import type { Logger } from 'pino';
import type { AdminAuth } from '../control/admin-auth.js';
import { registerAdminOpenApi } from '../control/admin-openapi.js';
import { registerAdminRoutes } from '../control/admin-routes.js';
import type { ControlPlane } from '../control/control-plane.js';
import { registerConsoleRoutes } from './console-assets.js';
import { http1Options, limitConnectionsPerClient, type HttpLimits } from './http/connection-limits.js';
import { createJsonApp, drainableApp } from './http/json-app.js';
import type { RunningListener } from './running-listener.js';
import { VERSION } from '../version.js';

export interface AdminListenerOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  limits: HttpLimits;
}

/** Imports of many overrides fit; anything larger is refused with 413. */
const ADMIN_BODY_LIMIT = 8 * 1024 * 1024;

export async function startAdminListener(log: Logger, control: ControlPlane, auth: AdminAuth, options: AdminListenerOptions): Promise<RunningListener> {
  const app = await buildAdminApp(log, control, auth, options);
  await app.listen({ host: options.host, port: options.port });
  const addr = app.server.address();
  return { address: { host: options.host, port: addr && typeof addr === 'object' ? addr.port : options.port }, ...drainableApp(app) };
}

/** The admin app with its routes, ready and not listening (a test enumerates its routes). */
export async function buildAdminApp(log: Logger, control: ControlPlane, auth: AdminAuth, options: Pick<AdminListenerOptions, 'tls' | 'limits'>): Promise<FastifyInstance> {
  const { tls, limits } = options;
  const app = createJsonApp(log, {
    transport: 'admin',
    bodyLimit: ADMIN_BODY_LIMIT,
    maxParamLength: 1024,
    serverFactory: (handler) => {
      const server = tls
        ? https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), handshakeTimeout: limits.headersTimeoutMs, ...http1Options(limits) }, handler)
        : http.createServer(http1Options(limits), handler);
      limitConnectionsPerClient(server, limits);
      return server;
    },
  });
  await registerAdminOpenApi(app, VERSION);
  registerAdminRoutes(app, control, auth);
  // The operator console's page and assets (docs/console.md): no data, no token.
  registerConsoleRoutes(app);
  await app.ready();
  return app;
}
