// HTTP error bodies: every 4xx/5xx is JSON `{code, message}` (plus context fields), never cached,
// and fastify's own errors (bad content type, oversized body, failed validation) are mapped to
// the same shape and to the right status, so client input never produces a 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

export interface ErrorBody {
  code: string;
  message: string;
  [key: string]: unknown;
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  const body: ErrorBody = { code, message, ...extra };
  // Errors carry CORS too, so a browser client can read why it failed.
  void reply
    .code(status)
    .header('cache-control', 'max-age=0')
    .header('access-control-allow-origin', '*')
    .header('content-type', 'application/json; charset=utf-8')
    .send(body);
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
 * The 415 message, the same whichever layer refuses the body (the route's own check, or fastify
 * finding no parser for it): what the route takes and what was sent.
 */
export function unsupportedMediaTypeMessage(request: FastifyRequest): string {
  const sent = request.headers['content-type'];
  const got = sent === undefined || sent.trim() === '' ? 'no content-type' : sent.slice(0, 200);
  const takes = request.routeOptions.config.takes;
  return takes
    ? `${routeName(request)} takes ${takes.what}: content-type must be ${takes.contentType}, got ${got}`
    : `${routeName(request)} takes no body of type ${got}`;
}

function bodyTooLargeMessage(request: FastifyRequest): string {
  const takes = request.routeOptions.config.takes;
  return `${routeName(request)} takes ${takes ? `${takes.what} of ` : 'a body of '}at most ${request.routeOptions.bodyLimit} bytes; this one is larger`;
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
