// The gateway resolution API: GET /v1/dnslink/{name} answers the DNSLink a gateway serves for a
// name (boxo semantics through the core's DNSLink service, so the same cache, stale answers and
// traces), or with all=true every entry in the dnslink.dev shape; errors map to 400/404/409/502/508.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Traced } from '../../core/dnslink-service.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { Rcode } from '../../dns/constants.js';
import type { GatewayResult } from '../../dnslink/gateway.js';
import { blockedAnswer, dnslinkErrorAnswer, gatewayAnswer, naming, overrideReason, requestedName, type ApiAnswer, type Naming } from '../../core/gateway-answer.js';
import { describeDnslinkResultError, isDnslinkFailure, type DnslinkResult } from '../../dnslink/resolve.js';
import { ALLOW_ORIGIN } from './cors.js';
import { httpClient, noteDnslinkRequest, queryLogClock } from './http-query-log.js';
import { sendError } from './http-errors.js';
import { dnslinkSchema } from './schemas.js';

export { decodeInlinedLabel, isInlinedLabel } from '../../core/gateway-answer.js';

function sendAnswer(reply: FastifyReply, answer: ApiAnswer): void {
  const { code, message, ...rest } = answer.body;
  if (answer.status !== 200) return sendError(reply, answer.status, code ?? 'ERROR', message ?? '', rest);
  void reply.header('cache-control', `max-age=${answer.maxAge ?? 0}`).header(ALLOW_ORIGIN, '*').send(answer.body);
}

function sendDnslinkError(reply: FastifyReply, traced: Traced<unknown>, names: Naming, code: string, message: string, extra: Record<string, unknown>): void {
  sendAnswer(reply, dnslinkErrorAnswer(traced, names, code, message, extra));
}

function sendGateway(reply: FastifyReply, names: Naming, traced: Traced<GatewayResult>): void {
  sendAnswer(reply, gatewayAnswer(names, traced));
}

interface DnslinkQuery {
  recursive?: boolean;
  all?: boolean;
}

function sendAll(reply: FastifyReply, names: Naming, traced: Traced<DnslinkResult>): void {
  const blocked = blockedAnswer(names, traced);
  if (blocked) return sendAnswer(reply, blocked);
  const { result } = traced;
  if (isDnslinkFailure(result)) {
    const { error } = result;
    const reason = error.code === 'INVALID_DOMAIN' ? { reason: error.reason } : {};
    sendDnslinkError(reply, traced, names, error.code, describeDnslinkResultError(error), { domain: error.domain, ...reason });
    return;
  }
  const ttl = result.txtEntries.length > 0 ? Math.min(...result.txtEntries.map((e) => e.ttl)) : 0;
  const common = { ...names, links: result.links, txtEntries: result.txtEntries, log: result.log };
  if (result.txtEntries.length === 0) {
    sendError(reply, 404, 'NO_DNSLINK', 'no valid dnslink= TXT entry', { ...common, lookups: traced.lookups });
    return;
  }
  const body = { ...common, ttl, source: traced.source, ...overrideReason(traced), cached: traced.cached, stale: traced.stale, lookups: traced.lookups };
  void reply.header('cache-control', `max-age=${ttl}`).header(ALLOW_ORIGIN, '*').send(body);
}

/** What a request is counted as in dnslinkd_queries_total: the rcode of its last lookup, FORMERR when the name allowed none. */
function countedRcode(traced: Traced<unknown>): number {
  return traced.lookups.at(-1)?.rcode ?? Rcode.FORMERR;
}

export function registerDnslinkRoutes(app: FastifyInstance, core: ResolverCore): void {
  app.get('/v1/dnslink/:name', { schema: dnslinkSchema }, async (request, reply) => {
    const { name: raw } = request.params as { name: string };
    const q = request.query as DnslinkQuery;
    const { name } = requestedName(raw);
    const startedAt = queryLogClock(core.wireHandler.queryLog);
    if (q.all === true) {
      const traced = await core.dnslink.resolve(name, 'api');
      core.wireHandler.countQuery('api', countedRcode(traced));
      sendAll(reply, naming(raw, traced), traced);
      noteDnslinkRequest(core.wireHandler.queryLog, startedAt, httpClient(core.wireHandler.queryLog, request), traced);
    } else {
      const traced = await core.dnslink.resolveForGateway(name, { recursive: q.recursive ?? true }, 'api');
      core.wireHandler.countQuery('api', countedRcode(traced));
      sendGateway(reply, naming(raw, traced), traced);
      noteDnslinkRequest(core.wireHandler.queryLog, startedAt, httpClient(core.wireHandler.queryLog, request), traced);
    }
    return reply;
  });
}
