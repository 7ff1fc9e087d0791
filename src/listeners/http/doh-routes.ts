// DNS-over-HTTPS: `/dns-query` (RFC 8484 GET ?dns= and POST application/dns-message, plus the
// DNS JSON form with accept: application/dns-json) and Google-style `/resolve`. Wire queries go
// through core.wireHandler (same cache and fast path as UDP: a cache hit is answered synchronously)
// with the rules of doh-wire.ts; over HTTP/2 most of them never get here (doh-fast-path.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpMaxAge } from '../../core/wire-handler.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { makeQuestion } from '../../dns/names.js';
import { idnaToAscii } from '../../dnslink/hostname.js';
import { parseRecordType } from '../../dns/record-types.js';
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { errorMessage } from '../../errors.js';
import { toDnsJson } from './dns-json.js';
import { httpClient } from './http-query-log.js';
import { ALLOW_ORIGIN } from './cors.js';
import { answerDnsParam, answerHeaders, answerWire, DNS_MESSAGE, DOH_PATH, DOH_POST_BODY, EMPTY_BODY_MESSAGE, isDnsMessageType, type DohResponder } from './doh-wire.js';
import { sendError, unsupportedMediaTypeMessage } from './http-errors.js';
import { dohGetSchema, dohPostSchema, resolveSchema } from './schemas.js';

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

const isTrue = (v: string | undefined): boolean => v === '1' || v === 'true';

/** The fastify side of a wire exchange. */
function replyResponder(reply: FastifyReply): DohResponder {
  return {
    answer: (wire, maxAge) => void reply.headers(answerHeaders(maxAge)).send(wire),
    fail: (status, code, message) => sendError(reply, status, code, message),
  };
}

const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** The DNS JSON API: resolves name/type through the chain and answers JSON. */
function answerJson(core: ResolverCore, reply: FastifyReply, q: DohQuery, contentType: string, client: string): void {
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
  // A Unicode name is looked up in punycode, as /v1/dnslink and `dnslinkd resolve` do.
  const ascii = idnaToAscii(q.name);
  if (ascii === undefined) {
    sendError(reply, 400, 'INVALID_NAME', `invalid name ${JSON.stringify(q.name)}: IDNA cannot convert this name to punycode`);
    return;
  }
  let question: Question;
  try {
    question = makeQuestion(ascii === '.' ? '' : ascii, type);
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
  const result = core.wireHandler.answerQuestion(question, 'json', client);
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
  app.get(DOH_PATH, { schema: dohGetSchema }, (request, reply) => {
    const q = request.query as DohQuery;
    if (q.dns !== undefined) {
      answerDnsParam(core, q.dns, replyResponder(reply), httpClient(core.wireHandler.queryLog, request));
      return;
    }
    const accept = request.headers.accept;
    if (q.name !== undefined || (accept !== undefined && accept.includes(DNS_JSON))) {
      answerJson(core, reply, q, jsonContentType(request, q, DNS_JSON), httpClient(core.wireHandler.queryLog, request));
      return;
    }
    sendError(reply, 400, 'MISSING_QUERY', 'the dns parameter is required (RFC 8484 GET /dns-query?dns=<base64url>), or name= with accept: application/dns-json');
  });

  app.post(DOH_PATH, { schema: dohPostSchema, bodyLimit: options.bodyLimit, config: { takes: DOH_POST_BODY } }, (request, reply) => {
    // fastify refuses a body of another type before this runs; a request without a body comes here.
    if (!isDnsMessageType(request.headers['content-type'])) {
      sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', unsupportedMediaTypeMessage(request));
      return;
    }
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      sendError(reply, 400, 'INVALID_DNS_MESSAGE', EMPTY_BODY_MESSAGE);
      return;
    }
    answerWire(core, body, replyResponder(reply), httpClient(core.wireHandler.queryLog, request));
  });

  app.get('/resolve', { schema: resolveSchema }, (request, reply) => {
    const q = request.query as DohQuery;
    answerJson(core, reply, q, jsonContentType(request, q, 'application/json'), httpClient(core.wireHandler.queryLog, request));
  });
}
