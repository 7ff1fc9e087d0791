// The sockets under the fastify app: a cleartext server that speaks HTTP/1.1 and, on the same
// port, HTTP/2 with prior knowledge (h2c, what `dig +http-plain` sends) by sniffing the HTTP/2
// connection preface; and a TLS server offering h2 and http/1.1 by ALPN.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { FastifyServerFactoryHandler } from 'fastify';

/** The first bytes of every HTTP/2 connection (RFC 9113 section 3.4): "PRI * HTTP/2.0...". */
const PREFACE_START = Buffer.from('PRI ', 'latin1');
/** Idle HTTP/2 sessions are closed after this long (fastify's default http2SessionTimeout). */
const H2_SESSION_TIMEOUT_MS = 72_000;

/** A connection that sends nothing for this long is closed before any parser sees it. */
const SNIFF_TIMEOUT_MS = 10_000;

const onEarlyError = (): void => {};

/** Called with each HTTP/2 server before it serves (the DoH fast path puts itself first there). */
export type Http2Hook = (server: http2.Http2Server | http2.Http2SecureServer) => void;

export interface TlsFiles {
  cert: string;
  key: string;
}

/** A cleartext server whose HTTP/2 side is closed with it (fastify calls closeHttp2Sessions). */
export type DualServer = http.Server & { closeHttp2Sessions(): void };

/** A duplex over `socket` that yields `head` first, then whatever the socket reads. */
function replayingStream(socket: Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  duplex.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  // What request.ip and logs read on the HTTP/2 side.
  for (const key of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const) {
    Object.defineProperty(duplex, key, { get: () => socket[key] });
  }
  return duplex;
}

function trackSessions(server: http2.Http2Server | http2.Http2SecureServer): Set<http2.Http2Session> {
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (session: http2.Http2Session) => {
    sessions.add(session);
    session.setTimeout(H2_SESSION_TIMEOUT_MS, () => session.close());
    session.once('close', () => sessions.delete(session));
  });
  return sessions;
}

function closeAll(sessions: Set<http2.Http2Session>): void {
  for (const session of sessions) session.close();
}

/**
 * HTTP/1.1 and h2c on one port. Each new connection is read until its first bytes tell the two
 * apart (once per connection, not per request), then handed to Node's HTTP/1.1 parser or to an
 * HTTP/2 server that never listens itself.
 */
export function createDualServer(handler: FastifyServerFactoryHandler, h2c: boolean, onHttp2Server?: Http2Hook): DualServer {
  const server = http.createServer(handler) as DualServer;
  if (!h2c) {
    server.closeHttp2Sessions = () => {};
    return server;
  }
  // The http2 compat API hands fastify request/response objects it handles like HTTP/1.1 ones.
  const h2 = http2.createServer(handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  onHttp2Server?.(h2);
  const sessions = trackSessions(h2);
  const h1Listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');

  const dispatch = (socket: Socket, head: Buffer): void => {
    socket.removeListener('error', onEarlyError);
    socket.setTimeout(0);
    if (head.subarray(0, PREFACE_START.length).equals(PREFACE_START)) {
      // Node's HTTP/2 session reads the socket's native handle and would miss the bytes already
      // read: it gets a stream that replays them first (JS-level I/O, for h2c only).
      h2.emit('connection', replayingStream(socket, head));
      return;
    }
    // Node's HTTP/1.1 parser reads what is unshifted back into the socket. Whatever is not the
    // HTTP/2 preface goes there, a TLS ClientHello included: what it refuses reaches fastify's
    // clientErrorHandler (client-errors.ts) through this server's 'clientError' event.
    socket.pause();
    socket.unshift(head);
    for (const listener of h1Listeners) listener.call(server, socket);
    socket.resume();
  };

  server.on('connection', (socket: Socket) => {
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, PREFACE_START.length);
      // Undecided while the bytes so far are a prefix of "PRI " (at most 3 bytes: rare).
      if (head.length < PREFACE_START.length && head.subarray(0, n).equals(PREFACE_START.subarray(0, n))) return;
      socket.removeListener('data', onData);
      dispatch(socket, head);
    };
    socket.on('data', onData);
    // Until a parser owns the socket: swallow resets, and drop a client that never speaks.
    socket.on('error', onEarlyError);
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  });
  server.closeHttp2Sessions = () => closeAll(sessions);
  return server;
}

/**
 * HTTPS with ALPN h2 and http/1.1 (allowHTTP1). Typed as an http.Server for fastify's default
 * generics: fastify only calls listen/close/address and the request handler on it.
 */
export function createTlsServer(handler: FastifyServerFactoryHandler, files: TlsFiles, onHttp2Server?: Http2Hook): DualServer {
  const server = http2.createSecureServer(
    { cert: readFileSync(files.cert), key: readFileSync(files.key), allowHTTP1: true },
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  onHttp2Server?.(server);
  const sessions = trackSessions(server);
  return Object.assign(server, { closeHttp2Sessions: () => closeAll(sessions) }) as unknown as DualServer;
}
