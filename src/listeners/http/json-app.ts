// The fastify app every HTTP listener of dnslinkd starts from, the public one and the admin one:
// no request logging, errors as JSON {code, message} from the router, the routes and Node's parser
// alike, 405 with Allow for a method a known path does not serve, and one rule for bad escapes;
// and how such a listener drains at shutdown (drainableApp).
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import type { Logger } from 'pino';
import { clientErrorHandler } from './client-errors.js';
import { errorHandler, sendError } from './http-errors.js';
import { rejectBadQueryEscapes } from './query-escapes.js';
import { collectRoutes } from './route-table.js';

export interface JsonAppOptions {
  /** The `transport` field of its log lines (http, https, admin). */
  transport: string;
  serverFactory?: FastifyServerFactory;
  /** Longest path parameter (fastify's default is 100). */
  maxParamLength?: number;
  /** Largest request body; fastify's default (1 MiB) otherwise. */
  bodyLimit?: number;
}

export function createJsonApp(log: Logger, options: JsonAppOptions): FastifyInstance {
  const appErrorHandler = errorHandler(log);
  const app = Fastify({
    loggerInstance: log.child({ transport: options.transport }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (request logging is off): one less allocation per request.
    childLoggerFactory: (logger) => logger,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    routerOptions: { maxParamLength: options.maxParamLength ?? 100 },
    // Errors the router raises before any route runs go through the same mapping as the rest.
    frameworkErrors: (err, request, reply) => appErrorHandler(err, request, reply),
    // And what Node's HTTP/1.1 parser refuses before the router sees it, with the same JSON body.
    clientErrorHandler: clientErrorHandler(log),
  }) as unknown as FastifyInstance;
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
  return app;
}

/** How often a draining HTTP listener closes the keep-alive connections that have fallen idle. */
const DRAIN_IDLE_SWEEP_MS = 50;

/** How long a draining HTTP listener lets a connection finish sending a request it has begun. */
const DRAIN_PARTIAL_REQUEST_MS = 500;

/** Node's list of an HTTP/1.1 server's connections (not a public API: absent, nothing is done). */
interface ConnectionsList {
  /** Connections that have begun a request and not yet delivered all of it. */
  active(): Array<{ socket?: { destroy(): void } }>;
}

/** HTTP/1.1 connections that began a request and have not delivered it whole are closed. */
function closePartialRequests(server: object): void {
  const key = Object.getOwnPropertySymbols(server).find((sym) => sym.description === 'http.server.connections');
  const connections = key && (server as Record<symbol, ConnectionsList | undefined>)[key];
  if (typeof connections?.active !== 'function') return;
  for (const parser of connections.active()) parser.socket?.destroy();
}

/**
 * How an app's listener drains and closes. Fastify's close is the drain: the port stops accepting,
 * idle keep-alive connections close, a request arriving on a busy one gets 503 with Connection:
 * close, HTTP/2 sessions get GOAWAY while their streams finish, and it resolves once every
 * connection has ended. The forced close ends whatever is still open when the grace period ran out.
 */
export function drainableApp(app: FastifyInstance): { drain(): Promise<void>; close(): Promise<void> } {
  const server = app.server as unknown as { closeIdleConnections?(): void; closeAllConnections?(): void; destroyHttp2Sessions?(): void };
  let closing: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    if (closing) return closing;
    // An HTTP/1.1 keep-alive connection busy when the drain began stays open once its answer is
    // sent: such connections are closed as they fall idle, until the server has closed.
    const idleSweep = setInterval(() => server.closeIdleConnections?.(), DRAIN_IDLE_SWEEP_MS);
    // A connection that began a request and did not finish it (a half-sent request) would hold the
    // drain for the whole grace period: after a short deadline it is closed.
    const partialDeadline = setTimeout(() => closePartialRequests(server), DRAIN_PARTIAL_REQUEST_MS);
    const done = () => {
      clearInterval(idleSweep);
      clearTimeout(partialDeadline);
    };
    closing = app.close().then(done, done);
    return closing;
  };
  return {
    drain,
    close: () => {
      const closed = drain();
      server.closeAllConnections?.();
      server.destroyHttp2Sessions?.();
      return closed;
    },
  };
}
