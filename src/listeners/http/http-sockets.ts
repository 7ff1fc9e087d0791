// The sockets under the fastify app: a cleartext server that speaks HTTP/1.1 and, on the same
// port, HTTP/2 with prior knowledge (h2c, what `dig +http-plain` sends) by sniffing the HTTP/2
// connection preface; and a TLS server offering h2 and http/1.1 by ALPN. Both apply the client
// limits of connection-limits.ts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { FastifyServerFactoryHandler } from 'fastify';
import { guardHttp2Session, http1Options, http2Options, limitConnectionsPerClient, type HttpLimits } from './connection-limits.js';

/** The first bytes of every HTTP/2 connection (RFC 9113 section 3.4): "PRI * HTTP/2.0...". */
const PREFACE_START = Buffer.from('PRI ', 'latin1');
const onEarlyError = (): void => {};
/** The server allows half-open sockets (for HTTP/1.1): one the client ends before speaking is closed here. */
function onEarlyEnd(this: Socket): void {
  this.destroy();
}

/** Called with each HTTP/2 server before it serves (the DoH fast path puts itself first there). */
export type Http2Hook = (server: http2.Http2Server | http2.Http2SecureServer) => void;

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * A server whose HTTP/2 side is closed with it: gracefully (fastify calls closeHttp2Sessions on
 * close: GOAWAY, the streams in flight finish) or at once (destroyHttp2Sessions, a drain's end).
 */
export type DualServer = http.Server & { closeHttp2Sessions(): void; destroyHttp2Sessions(): void };

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

function trackSessions(server: http2.Http2Server | http2.Http2SecureServer, limits: HttpLimits): Set<http2.Http2Session> {
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    guardHttp2Session(session, limits);
    session.once('close', () => sessions.delete(session));
  });
  return sessions;
}

function closeAll(sessions: Set<http2.Http2Session>): void {
  for (const session of sessions) session.close();
}

function destroyAll(sessions: Set<http2.Http2Session>): void {
  for (const session of sessions) session.destroy();
}

/**
 * HTTP/1.1 and h2c on one port. Each new connection is read until its first bytes tell the two
 * apart (once per connection, not per request), then handed to Node's HTTP/1.1 parser or to an
 * HTTP/2 server that never listens itself.
 */
export function createDualServer(handler: FastifyServerFactoryHandler, h2c: boolean, limits: HttpLimits, onHttp2Server?: Http2Hook): DualServer {
  const server = http.createServer(http1Options(limits), handler) as DualServer;
  if (!h2c) {
    server.closeHttp2Sessions = () => {};
    server.destroyHttp2Sessions = () => {};
    limitConnectionsPerClient(server, limits);
    return server;
  }
  // The http2 compat API hands fastify request/response objects it handles like HTTP/1.1 ones.
  const h2 = http2.createServer(http2Options(limits), handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  onHttp2Server?.(h2);
  const sessions = trackSessions(h2, limits);
  const h1Listeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');

  const dispatch = (socket: Socket, head: Buffer, deadline: NodeJS.Timeout): void => {
    socket.removeListener('error', onEarlyError);
    socket.removeListener('end', onEarlyEnd);
    clearTimeout(deadline);
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
      dispatch(socket, head, deadline);
    };
    socket.on('data', onData);
    // Until a parser owns the socket: swallow resets, and drop a client that has not said which
    // protocol it speaks within the header timeout (counted from the connection, not reset by bytes).
    socket.on('error', onEarlyError);
    socket.on('end', onEarlyEnd);
    const deadline = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    deadline.unref();
    socket.once('close', () => clearTimeout(deadline));
  });
  server.closeHttp2Sessions = () => closeAll(sessions);
  server.destroyHttp2Sessions = () => destroyAll(sessions);
  // Last, so that it runs first, before the sniffer.
  limitConnectionsPerClient(server, limits);
  return server;
}

/**
 * HTTPS with ALPN h2 and http/1.1 (allowHTTP1). Typed as an http.Server for fastify's default
 * generics: fastify only calls listen/close/address and the request handler on it.
 */
export function createTlsServer(handler: FastifyServerFactoryHandler, files: TlsFiles, limits: HttpLimits, onHttp2Server?: Http2Hook): DualServer {
  const server = http2.createSecureServer(
    // allowHTTP1 servers take Node's HTTP/1.1 options too, and track those connections like http.Server;
    // a TLS handshake must end within the header timeout (Node's default handshakeTimeout is 120 s).
    {
      cert: readFileSync(files.cert),
      key: readFileSync(files.key),
      allowHTTP1: true,
      handshakeTimeout: limits.headersTimeoutMs,
      ...http2Options(limits),
      ...http1Options(limits),
    },
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  limitConnectionsPerClient(server, limits);
  onHttp2Server?.(server);
  const sessions = trackSessions(server, limits);
  return Object.assign(server, { closeHttp2Sessions: () => closeAll(sessions), destroyHttp2Sessions: () => destroyAll(sessions) }) as unknown as DualServer;
}
