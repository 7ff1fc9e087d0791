// HTTP error bodies: every 4xx/5xx is JSON `{code, message}` (plus context fields), never cached;
// fastify's own errors (content type, body size, validation) get our status, code and words, so
// client input never produces a 500; over HTTP/2 an unread request body is read before the answer.
// The HTTP/2 DoH fast path (doh-fast-path.ts) sends the same headers, words and drain.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Readable } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

export interface ErrorBody {
  code: string;
  message: string;
  [key: string]: unknown;
}

/** An HTTP/2 request body still coming in is read and dropped up to this many bytes... */
const H2_DRAIN_BYTES = 1 << 20;
/** ...or for this long, before the error is sent anyway. */
const H2_DRAIN_MS = 2_000;

/** An HTTP/2 request whose body the client is still sending (nothing read it to its end). */
function unreadHttp2Body(request: FastifyRequest): Http2ServerRequest | undefined {
  const raw = request.raw as IncomingMessage | Http2ServerRequest;
  if (raw.httpVersionMajor !== 2) return undefined;
  const h2 = raw as Http2ServerRequest;
  return h2.complete || h2.readableEnded || h2.stream.endAfterHeaders || h2.stream.destroyed ? undefined : h2;
}

/** Headers of every error answer: never cached, readable by a browser client (CORS), JSON. */
export const ERROR_HEADERS = {
  'cache-control': 'max-age=0',
  'access-control-allow-origin': '*',
  'content-type': 'application/json; charset=utf-8',
} as const;

/** Reads `raw` to its end (or the drain limits), dropping the bytes, then calls `then` once. */
export function drainBody(raw: Readable, then: () => void): void {
  let seen = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    raw.removeListener('data', onData);
    raw.removeListener('end', finish);
    raw.removeListener('error', finish);
    raw.removeListener('close', finish);
    then();
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > H2_DRAIN_BYTES) finish();
  };
  const timer = setTimeout(finish, H2_DRAIN_MS);
  raw.on('data', onData);
  raw.once('end', finish);
  raw.once('error', finish);
  raw.once('close', finish);
  raw.resume();
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  const body: ErrorBody = { code, message, ...extra };
  // Errors carry CORS too, so a browser client can read why it failed.
  reply.code(status).headers(ERROR_HEADERS);
  const unread = unreadHttp2Body(reply.request);
  if (unread === undefined) {
    void reply.send(body);
    return;
  }
  // HTTP/2 has no connection header: fastify sets `connection: close` on a body it refused (413),
  // which Node's compat layer drops with an UnsupportedWarning. And a response finished while the
  // client still sends makes Node reset the stream (RST_STREAM NO_ERROR), which curl takes as a
  // failed transfer without showing the status: read the rest of the body first.
  reply.removeHeader('connection');
  drainBody(unread, () => {
    if (!reply.sent && !reply.raw.destroyed) void reply.send(body);
  });
}

/** What a route takes as its body, declared in its route options: `config: { takes: {...} }`. */
export interface BodySpec {
  /** In words, e.g. "one DNS message". */
  what: string;
  /** The one media type accepted. */
  contentType: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    takes?: BodySpec;
  }
}

function routeName(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

/**
 * The 415 message, the same whichever layer refuses the body (the route's own check, fastify
 * finding no parser for it, or the fast path): what `route` ("POST /path") takes and what was sent.
 */
export function mediaTypeMessage(route: string, sent: string | undefined, takes: BodySpec | undefined): string {
  const got = sent === undefined || sent.trim() === '' ? 'no content-type' : sent.slice(0, 200);
  return takes ? `${route} takes ${takes.what}: content-type must be ${takes.contentType}, got ${got}` : `${route} takes no body of type ${got}`;
}

export function unsupportedMediaTypeMessage(request: FastifyRequest): string {
  return mediaTypeMessage(routeName(request), request.headers['content-type'], request.routeOptions.config?.takes);
}

/** The 413 message: what `route` takes and its limit. */
export function tooLargeMessage(route: string, limit: number, takes: BodySpec | undefined): string {
  return `${route} takes ${takes ? `${takes.what} of ` : 'a body of '}at most ${limit} bytes; this one is larger`;
}

function bodyTooLargeMessage(request: FastifyRequest): string {
  return tooLargeMessage(routeName(request), request.routeOptions.bodyLimit, request.routeOptions.config?.takes);
}

interface ClientError {
  status: number;
  code: string;
  /** Our message instead of fastify's. */
  message?: (request: FastifyRequest) => string;
}

/** fastify error codes for client mistakes, with our status and code. */
const CLIENT_ERRORS: Readonly<Record<string, ClientError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE', message: bodyTooLargeMessage },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: unsupportedMediaTypeMessage },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_BODY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_BODY' },
  FST_ERR_VALIDATION: { status: 400, code: 'INVALID_PARAMETER' },
  // Raised by the router before any route runs (fastify's frameworkErrors).
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG' },
};

/** The app-wide error handler. */
export function errorHandler(log: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
    if (known) {
      sendError(reply, known.status, known.code, known.message ? known.message(request) : err.message);
      return;
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.error({ err }, 'HTTP handler failed');
    sendError(reply, status, err.code ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'), err.message);
  };
}
