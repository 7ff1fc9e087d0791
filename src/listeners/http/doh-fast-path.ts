// The HTTP/2 DoH fast path: RFC 8484 GET/HEAD /dns-query?dns= and POST /dns-query answered from the
// http2 server's 'stream' event (stream.respond + stream.end) with the rules of doh-wire.ts, without
// Node's compat request/response objects or fastify. Every other stream goes on to fastify unchanged.
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { ResolverCore } from '../../core/resolver-core.js';
import { answerDnsParam, answerHeaderList, answerWire, DNS_PARAM_MAX_LENGTH, DOH_PATH, DOH_POST_BODY, EMPTY_BODY_MESSAGE, isDnsMessageType, type DohResponder } from './doh-wire.js';
import { drainBody, ERROR_HEADERS, mediaTypeMessage, tooLargeMessage } from './http-errors.js';
import { socketAddress } from './http-query-log.js';

export interface DohFastPathOptions {
  /** Largest POST body in bytes (http.bodyLimit, as on the fastify route). */
  bodyLimit: number;
}

/** Serves a stream and returns true, or returns false without touching it. */
export type StreamFilter = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => boolean;

type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

const POST_ROUTE = `POST ${DOH_PATH}`;
const DNS_PARAM_PREFIX = `${DOH_PATH}?dns=`;
/** In a `?dns=` value: another parameter, an escape or `+` to decode, a fragment. Left to fastify's parser. */
const NEEDS_PARSER = /[&%+#]/;

const END_STREAM = { endStream: true } as const;

const ignoreStreamError = (): void => {};

/**
 * A client's RST_STREAM with an error code is emitted as a stream error, thrown when nothing
 * listens (the compat layer, bypassed here, listens for it too).
 */
function listenForReset(stream: ServerHttp2Stream): void {
  stream.on('error', ignoreStreamError);
}

/** The raw HTTP/2 side of a wire exchange; HEAD gets the headers only. */
class StreamResponder implements DohResponder {
  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly head: boolean,
  ) {}

  answer(wire: Buffer, maxAge: number): void {
    this.write(answerHeaderList(maxAge, wire.length), wire);
  }

  fail(status: number, code: string, message: string): void {
    const body = Buffer.from(JSON.stringify({ code, message }));
    const headers = { ...ERROR_HEADERS, ':status': status, 'content-length': body.length };
    const stream = this.stream;
    // As in sendError: a body the client is still sending is read first, or Node would reset
    // the stream (RST_STREAM NO_ERROR) and the client would not see the status.
    if (stream.endAfterHeaders || stream.readableEnded) this.write(headers, body);
    else drainBody(stream, () => this.write(headers, body));
  }

  private write(headers: OutgoingHttpHeaders | string[], body: Buffer): void {
    const stream = this.stream;
    // Reset by the client (or the session closed) while the answer was resolving.
    if (stream.destroyed || stream.headersSent) return;
    if (this.head) {
      stream.respond(headers, END_STREAM);
    } else {
      stream.respond(headers);
      stream.end(body);
    }
  }
}

/**
 * The client's address for the query log (only read when it is on). An h2c session's socket wraps
 * the stream that replays the preface (http-sockets.ts): that stream carries the address.
 */
function clientOf(core: ResolverCore, stream: ServerHttp2Stream): string {
  return core.wireHandler.queryLog.on ? socketAddress(stream.session?.socket) : '';
}

/** The value of a `:path` that is exactly /dns-query?dns=VALUE with nothing to decode, else undefined. */
function plainDnsParam(path: string): string | undefined {
  if (!path.startsWith(DNS_PARAM_PREFIX)) return undefined;
  const value = path.slice(DNS_PARAM_PREFIX.length);
  return value.length > DNS_PARAM_MAX_LENGTH || NEEDS_PARSER.test(value) ? undefined : value;
}

/** POST /dns-query: fastify's order of checks (media type, declared length, body read, received length). */
function servePost(core: ResolverCore, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, bodyLimit: number): void {
  const responder = new StreamResponder(stream, false);
  const contentType = headers['content-type'];
  if (!isDnsMessageType(contentType)) {
    responder.fail(415, 'UNSUPPORTED_MEDIA_TYPE', mediaTypeMessage(POST_ROUTE, contentType, DOH_POST_BODY));
    return;
  }
  const declared = Number(headers['content-length']);
  const tooLarge = (): void => responder.fail(413, 'BODY_TOO_LARGE', tooLargeMessage(POST_ROUTE, bodyLimit, DOH_POST_BODY));
  if (declared > bodyLimit) {
    tooLarge();
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    if (received <= bodyLimit) {
      chunks.push(chunk);
      return;
    }
    stream.removeListener('data', onData);
    stream.removeListener('end', onEnd);
    tooLarge();
  };
  const onEnd = (): void => {
    if (!Number.isNaN(declared) && received !== declared) {
      responder.fail(400, 'INVALID_CONTENT_LENGTH', 'Request body size did not match Content-Length');
    } else if (received === 0) {
      responder.fail(400, 'INVALID_DNS_MESSAGE', EMPTY_BODY_MESSAGE);
    } else {
      answerWire(core, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received), responder, clientOf(core, stream));
    }
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
}

/** The fast path as a stream filter: the streams it serves, it answers; the rest it leaves alone. */
export function dohStreamFilter(core: ResolverCore, options: DohFastPathOptions): StreamFilter {
  return (stream, headers) => {
    const path = headers[':path'];
    if (path === undefined || !path.startsWith(DOH_PATH)) return false;
    const method = headers[':method'];
    if (method === 'GET' || method === 'HEAD') {
      const dns = plainDnsParam(path);
      if (dns === undefined) return false;
      listenForReset(stream);
      answerDnsParam(core, dns, new StreamResponder(stream, method === 'HEAD'), clientOf(core, stream));
      return true;
    }
    // `expect: 100-continue` is the compat layer's to answer (an interim 100 before the body).
    if (method !== 'POST' || path.length !== DOH_PATH.length || headers.expect !== undefined) return false;
    listenForReset(stream);
    servePost(core, stream, headers, options.bodyLimit);
    return true;
  };
}

/**
 * Puts `filter` in front of the server's 'stream' listeners: Node's compat layer, which turns the
 * streams the filter leaves into the request/response objects fastify serves.
 */
export function filterStreams(server: Http2Server | Http2SecureServer, filter: StreamFilter): void {
  const rest = server.listeners('stream') as StreamListener[];
  server.removeAllListeners('stream');
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    if (filter(stream, headers)) return;
    for (const listener of rest) listener.call(server, stream, headers, flags, rawHeaders);
  });
}
