// DNS-over-HTTPS: `/dns-query` (RFC 8484 GET ?dns= and POST application/dns-message, plus the
// DNS JSON form with accept: application/dns-json) and Google-style `/resolve`. Wire queries go
// through core.wireHandler (same cache and fast path as UDP: a cache hit is answered synchronously).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpMaxAge, type HttpWireAnswer } from '../../core/wire-handler.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { makeQuestion } from '../../dns/names.js';
import { parseRecordType } from '../../dns/record-types.js';
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { errorMessage } from '../../errors.js';
import { toDnsJson } from './dns-json.js';
import { ALLOW_ORIGIN } from './cors.js';
import { sendError, unsupportedMediaTypeMessage } from './http-errors.js';
import { dohGetSchema, dohPostSchema, resolveSchema } from './schemas.js';

const DNS_MESSAGE = 'application/dns-message';
const DNS_JSON = 'application/dns-json';

interface DohQuery {
  dns?: string;
  name?: string;
  type?: string;
  cd?: string;
  do?: string;
  ct?: string;
}

export interface DohOptions {
  /** Largest POST body in bytes. */
  bodyLimit: number;
}

/** base64url alphabet; padding tolerated although RFC 8484 says clients omit it. */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes `?dns=`; a string when it is not base64url. */
export function decodeDnsParam(dns: string): Buffer | string {
  if (dns.length === 0) return 'the dns parameter is empty';
  if (!BASE64URL.test(dns)) return 'the dns parameter is not base64url (RFC 8484: A-Z a-z 0-9 - _ without padding)';
  const bare = dns.replace(/=+$/, '');
  if (bare.length % 4 === 1) return 'the dns parameter has an impossible base64url length';
  return Buffer.from(bare, 'base64url');
}

const isTrue = (v: string | undefined): boolean => v === '1' || v === 'true';

function sendWire(reply: FastifyReply, answer: HttpWireAnswer): void {
  if (!answer.ok) {
    sendError(reply, 400, 'INVALID_DNS_MESSAGE', `not a DNS query: ${answer.reason}`);
    return;
  }
  void reply
    .header('content-type', DNS_MESSAGE)
    .header('cache-control', `max-age=${answer.maxAge}`)
    .header(ALLOW_ORIGIN, '*')
    .send(answer.wire);
}

function answerWire(core: ResolverCore, reply: FastifyReply, packet: Buffer): void {
  const answer = core.wireHandler.answerHttp(packet, 'doh');
  if (answer instanceof Promise) {
    answer.then(
      (a) => sendWire(reply, a),
      (err: unknown) => sendError(reply, 500, 'INTERNAL', errorMessage(err)),
    );
  } else {
    sendWire(reply, answer);
  }
}

const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** The DNS JSON API: resolves name/type through the chain and answers JSON. */
function answerJson(core: ResolverCore, reply: FastifyReply, q: DohQuery, contentType: string): void {
  if (q.name === undefined || q.name === '') {
    sendError(reply, 400, 'MISSING_QUERY', 'the name parameter is required for the JSON API (?name=example.com&type=TXT)');
    return;
  }
  // DNS labels may hold any byte, but a name typed into a URL with CR, LF or NUL in it is an
  // injection attempt, not a lookup (the wire format, GET ?dns= or POST, still carries any name).
  if (CONTROL_CHARACTER.test(q.name)) {
    sendError(reply, 400, 'INVALID_NAME', `invalid name ${JSON.stringify(q.name)}: control characters are not allowed in the name parameter`);
    return;
  }
  const type = parseRecordType(q.type);
  if (type === undefined) {
    sendError(reply, 400, 'UNKNOWN_TYPE', `unknown record type "${q.type ?? ''}": use a name (TXT, A, AAAA...) or a number 1-65535`);
    return;
  }
  let question: Question;
  try {
    question = makeQuestion(q.name === '.' ? '' : q.name, type);
  } catch (err) {
    sendError(reply, 400, 'INVALID_NAME', `invalid name "${q.name}": ${errorMessage(err)}`);
    return;
  }
  const cd = isTrue(q.cd);
  const name = question.name;
  const send = (res: Resolution): void => {
    const json = toDnsJson(name, type, res, { cd });
    void reply.header('content-type', contentType).header('cache-control', `max-age=${httpMaxAge(res)}`).header(ALLOW_ORIGIN, '*').send(json);
  };
  const result = core.wireHandler.answerQuestion(question, 'doh');
  if (result instanceof Promise) void result.then(send);
  else send(result);
}

/** Media type for a JSON answer: Google's `ct` parameter, else what the client accepts. */
function jsonContentType(request: FastifyRequest, q: DohQuery, fallback: string): string {
  if (q.ct === DNS_JSON) return DNS_JSON;
  if (q.ct !== undefined && q.ct !== '') return 'application/json';
  const accept = request.headers.accept;
  return accept !== undefined && accept.includes(DNS_JSON) ? DNS_JSON : fallback;
}

export function registerDohRoutes(app: FastifyInstance, core: ResolverCore, options: DohOptions): void {
  // The one body these routes take is a DNS message: without fastify's JSON and text parsers a
  // JSON body is refused as the wrong media type (415), not parsed and refused as bad JSON (400).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(DNS_MESSAGE, { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) => {
    done(null, body);
  });

  // Not async: a cache hit is answered before this function returns.
  app.get('/dns-query', { schema: dohGetSchema }, (request, reply) => {
    const q = request.query as DohQuery;
    if (q.dns !== undefined) {
      const packet = decodeDnsParam(q.dns);
      if (typeof packet === 'string') {
        sendError(reply, 400, 'INVALID_DNS_PARAM', packet);
        return;
      }
      answerWire(core, reply, packet);
      return;
    }
    const accept = request.headers.accept;
    if (q.name !== undefined || (accept !== undefined && accept.includes(DNS_JSON))) {
      answerJson(core, reply, q, jsonContentType(request, q, DNS_JSON));
      return;
    }
    sendError(reply, 400, 'MISSING_QUERY', 'the dns parameter is required (RFC 8484 GET /dns-query?dns=<base64url>), or name= with accept: application/dns-json');
  });

  const takes = { what: 'one DNS message', contentType: DNS_MESSAGE };
  app.post('/dns-query', { schema: dohPostSchema, bodyLimit: options.bodyLimit, config: { takes } }, (request, reply) => {
    // fastify refuses a body of another type before this runs; a request without a body comes here.
    const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== DNS_MESSAGE) {
      sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', unsupportedMediaTypeMessage(request));
      return;
    }
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      sendError(reply, 400, 'INVALID_DNS_MESSAGE', 'the body is empty: send one DNS query message');
      return;
    }
    answerWire(core, reply, body);
  });

  app.get('/resolve', { schema: resolveSchema }, (request, reply) => {
    const q = request.query as DohQuery;
    answerJson(core, reply, q, jsonContentType(request, q, 'application/json'));
  });
}
