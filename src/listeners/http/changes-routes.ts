// GET /v1/changes: the change stream as Server-Sent Events (src/changes/), filtered by ?name= and
// ?suffix= (repeatable) and ?kind=, resumed after Last-Event-ID from the history held. Bounded: at
// most changes.maxSubscribers at once (503 past it), each reading the shared history with a cursor
// (a subscriber that falls historySize events behind is disconnected and counted), a comment every changes.keepAliveMs;
// a draining listener ends every stream (event `end`) so the drain never waits on them.
import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';
import { filterName, isEventId, matches, type ChangeEvent, type ChangeFilter } from '../../changes/change-event.js';
import type { ChangeStream } from '../../changes/change-stream.js';
import { sendError } from './http-errors.js';
import { changesSchema } from './changes-schemas.js';

interface ChangesQuery {
  name?: string[];
  suffix?: string[];
  kind?: string[];
  lastEventId?: string;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store',
  'access-control-allow-origin': '*',
  // nginx and others buffer responses unless told not to.
  'x-accel-buffering': 'no',
};

/** A subscriber's stream, as the listener's drain ends it. */
interface OpenStream {
  end(why: string): void;
}

function tokenAccepted(request: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

const frame = (event: ChangeEvent): string => `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;

/**
 * One subscriber's stream. It holds no queue of its own: a cursor (the last event id it was sent)
 * reads the stream's shared, bounded history, and at most changes.subscriberBufferBytes are handed
 * to its socket before waiting for it to drain. A subscriber whose cursor falls out of the history
 * (changes.historySize events behind) is disconnected and counted: it resumes with Last-Event-ID.
 */
function openStream(stream: ChangeStream, reply: FastifyReply, filter: ChangeFilter, lastEventId: string | undefined, open: Set<OpenStream>): void {
  const { config, metrics } = stream;
  // HTTP/1.1 or HTTP/2 (h2, h2c): both compat responses take the same calls used here.
  const raw = reply.raw as ServerResponse;
  reply.hijack();
  raw.writeHead(200, SSE_HEADERS);
  raw.write('retry: 1000\n: dnslinkd change stream\n\n');
  let ended = false;
  let waitingDrain = false;
  /** Bytes handed to the socket and not yet written out by it (each write's callback says when). */
  let pending = 0;
  const send = (text: string): void => {
    const bytes = Buffer.byteLength(text);
    pending += bytes;
    raw.write(text, () => {
      pending -= bytes;
      if (waitingDrain && pending <= config.subscriberBufferBytes / 2) {
        waitingDrain = false;
        pump();
      }
    });
  };
  let cursor = lastEventId ?? stream.history.at(-1)?.id ?? '0-0';
  if (lastEventId !== undefined && stream.lapped(lastEventId)) {
    raw.write(`event: gap\ndata: ${JSON.stringify({ oldest: stream.history[0]?.id ?? null })}\n\n`);
    cursor = stream.trimmedThrough!;
  }
  function pump(): void {
    if (ended) return;
    if (stream.lapped(cursor)) {
      metrics.slowSubscribers.inc();
      metrics.drops.inc({ reason: 'slow-subscriber' });
      finish();
      raw.destroy();
      return;
    }
    if (waitingDrain) return;
    const history = stream.history;
    for (let i = stream.firstAfter(cursor); i < history.length; i++) {
      const event = history[i]!;
      cursor = event.id;
      if (matches(event, filter)) send(frame(event));
      if (pending >= config.subscriberBufferBytes) {
        waitingDrain = true;
        return;
      }
    }
  }
  const keepAlive = setInterval(() => {
    if (!waitingDrain && !ended) send(': keep-alive\n\n');
  }, config.keepAliveMs);
  keepAlive.unref();
  const stopListening = stream.listen(pump);
  const handle: OpenStream = {
    end: (why) => {
      if (ended) return;
      raw.write(`event: end\ndata: ${JSON.stringify({ reason: why })}\n\n`);
      finish();
      // The connection closes with the stream: the drain waits for no subscriber's socket.
      raw.end(() => raw.destroy());
    },
  };
  function finish(): void {
    if (ended) return;
    ended = true;
    clearInterval(keepAlive);
    stopListening();
    open.delete(handle);
    metrics.subscribers.dec();
  }
  open.add(handle);
  metrics.subscribers.inc();
  raw.on('close', finish);
  pump();
}

export function registerChangesRoutes(app: FastifyInstance, core: ResolverCore): void {
  const open = new Set<OpenStream>();
  app.addHook('preClose', (done) => {
    for (const s of [...open]) s.end('dnslinkd is shutting down; reconnect with Last-Event-ID');
    done();
  });
  app.get('/v1/changes', { schema: changesSchema }, async (request, reply) => {
    const stream = core.changes;
    if (!stream) return sendError(reply, 503, 'CHANGES_UNAVAILABLE', 'the change stream is not running in this process');
    if (!tokenAccepted(request, stream.config.token)) {
      void reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'UNAUTHORIZED', 'GET /v1/changes needs the token set in changes.token: Authorization: Bearer <token>');
    }
    if (open.size >= stream.config.maxSubscribers) {
      stream.metrics.refusedSubscribers.inc();
      void reply.header('retry-after', '5');
      return sendError(reply, 503, 'TOO_MANY_SUBSCRIBERS', `this instance has ${open.size} change subscribers, its limit (changes.maxSubscribers); retry later or on another instance`);
    }
    const q = request.query as ChangesQuery;
    const header = request.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? q.lastEventId;
    if (lastEventId !== undefined && !isEventId(lastEventId)) return sendError(reply, 400, 'INVALID_LAST_EVENT_ID', `Last-Event-ID ${JSON.stringify(lastEventId.slice(0, 40))} is not an event id (<ms>-<seq>, the id: of an event)`);
    const filter: ChangeFilter = { names: (q.name ?? []).map(filterName), suffixes: (q.suffix ?? []).map(filterName), kinds: q.kind ?? [] };
    openStream(stream, reply, filter, lastEventId, open);
    return reply;
  });
}
