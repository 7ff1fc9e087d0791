// The RFC 8484 wire exchange, one implementation for the fastify route (doh-routes.ts) and the
// HTTP/2 fast path (doh-fast-path.ts): decoding `?dns=`, the POST body rules, the answer headers
// (media type, max-age = smallest TTL, CORS) and which error each failure is.
import type { ResolverCore } from '../../core/resolver-core.js';
import type { HttpWireAnswer } from '../../core/wire-handler.js';
import { errorMessage } from '../../errors.js';
import { ALLOW_ORIGIN } from './cors.js';
import type { BodySpec } from './http-errors.js';

export const DOH_PATH = '/dns-query';
export const DNS_MESSAGE = 'application/dns-message';
/** What POST /dns-query takes, for its 415 and 413 messages. */
export const DOH_POST_BODY: BodySpec = { what: 'one DNS message', contentType: DNS_MESSAGE };
/** Longest `?dns=` accepted (a 65535-byte message in base64url), also in the route's schema. */
export const DNS_PARAM_MAX_LENGTH = 87_382;

/** base64url alphabet; padding tolerated although RFC 8484 says clients omit it. */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes `?dns=`; a string when it is not base64url. */
export function decodeDnsParam(dns: string): Buffer | string {
  if (dns.length === 0) return 'the dns parameter is empty';
  if (!BASE64URL.test(dns)) return 'the dns parameter is not base64url (RFC 8484: A-Z a-z 0-9 - _ without padding)';
  const bare = dns.endsWith('=') ? dns.replace(/=+$/, '') : dns;
  if (bare.length % 4 === 1) return 'the dns parameter has an impossible base64url length';
  return Buffer.from(bare, 'base64url');
}

/** Whether a request's content-type is application/dns-message (parameters and case ignored). */
export function isDnsMessageType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === DNS_MESSAGE;
}

export const EMPTY_BODY_MESSAGE = 'the body is empty: send one DNS query message';

/** A DNS answer's headers (media type, cache lifetime, CORS), for fastify's reply.headers. */
export function answerHeaders(maxAge: number): Record<string, string> {
  return { 'content-type': DNS_MESSAGE, 'cache-control': `max-age=${maxAge}`, [ALLOW_ORIGIN]: '*' };
}

/**
 * The same headers with the status and length, as HTTP/2 raw headers (name, value, ...) for
 * stream.respond: Node takes a raw list as it is, where it copies a headers object into a fresh
 * null-prototype one. A fresh array each time: Node appends `date` to it.
 */
export function answerHeaderList(maxAge: number, length: number): string[] {
  return [':status', '200', 'content-type', DNS_MESSAGE, 'cache-control', `max-age=${maxAge}`, ALLOW_ORIGIN, '*', 'content-length', String(length)];
}

/** Where an exchange's outcome goes: a fastify reply or a raw HTTP/2 stream. */
export interface DohResponder {
  /** A DNS answer, to send with answerHeaders(maxAge) or answerHeaderList. */
  answer(wire: Buffer, maxAge: number): void;
  /** A JSON error {code, message}. */
  fail(status: number, code: string, message: string): void;
}

function respond(responder: DohResponder, answer: HttpWireAnswer): void {
  if (!answer.ok) {
    responder.fail(400, 'INVALID_DNS_MESSAGE', `not a DNS query: ${answer.reason}`);
    return;
  }
  responder.answer(answer.wire, answer.maxAge);
}

/** Answers one DNS query message; synchronously on a cache hit. */
export function answerWire(core: ResolverCore, packet: Buffer, responder: DohResponder, client = ''): void {
  const answer = core.wireHandler.answerHttp(packet, 'doh', client);
  if (answer instanceof Promise) {
    answer.then(
      (a) => respond(responder, a),
      (err: unknown) => responder.fail(500, 'INTERNAL', errorMessage(err)),
    );
  } else {
    respond(responder, answer);
  }
}

/** GET ?dns=: decodes the parameter and answers it, or says why it cannot. */
export function answerDnsParam(core: ResolverCore, dns: string, responder: DohResponder, client = ''): void {
  const packet = decodeDnsParam(dns);
  if (typeof packet === 'string') responder.fail(400, 'INVALID_DNS_PARAM', packet);
  else answerWire(core, packet, responder, client);
}
