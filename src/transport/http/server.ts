// The HTTP listener (fastify): operational routes now; DoH and the gateway resolution API register
// here as they are added. Errors are JSON with a code and a message, never an HTML page.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';
import type { RunningServer } from '../udp.js';
import { registerOpsRoutes } from './ops-routes.js';

export function buildHttpApp(core: ResolverCore): FastifyInstance {
  const app = Fastify({ loggerInstance: core.log.child({ transport: 'http' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) core.log.error({ err }, 'HTTP handler failed');
    void reply.code(status).send({ code: err.code ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'), message: err.message });
  });
  registerOpsRoutes(app, core);
  return app;
}

export async function startHttpServer(core: ResolverCore, host: string, port: number): Promise<RunningServer & { app: FastifyInstance }> {
  const app = buildHttpApp(core);
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = addr && typeof addr === 'object' ? addr.port : port;
  return { app, address: { host, port: actualPort }, close: () => app.close() };
}
