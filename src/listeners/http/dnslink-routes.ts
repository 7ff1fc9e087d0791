// The gateway resolution API: GET /v1/dnslink/{name} answers the DNSLink a gateway serves for a
// name (boxo semantics through the core's DNSLink service, so the same cache, stale answers and
// traces), or with all=true every entry in the dnslink.dev shape; errors map to 400/404/409/502/508.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Traced } from '../../core/dnslink-service.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { Rcode } from '../../dns/constants.js';
import { isGatewayFailure, type GatewayErrorCode, type GatewayResult } from '../../dnslink/gateway.js';
import { describeDnslinkResultError, isDnslinkFailure, type DnslinkResult } from '../../dnslink/resolve.js';
import { BLOCK_STATUS } from '../../stages/denylist/block.js';
import { ALLOW_ORIGIN } from './cors.js';
import { httpClient, noteDnslinkRequest, queryLogClock } from './http-query-log.js';
import { sendError } from './http-errors.js';
import { dnslinkSchema } from './schemas.js';

/**
 * A subdomain gateway inlines a DNSLink name into one label (boxo / specs): `-` stands for `.`
 * and `--` for `-`. A name with no dot and at least one dash is read that way.
 */
export function decodeInlinedLabel(label: string): string {
  return label.replaceAll('--', '\u0000').replaceAll('-', '.').replaceAll('\u0000', '-');
}

export function isInlinedLabel(name: string): boolean {
  return !name.includes('.') && name.includes('-');
}

const STATUS: Readonly<Record<string, number>> = {
  INVALID_DOMAIN: 400,
  NO_DNSLINK: 404,
  INVALID_CID: 404,
  DNS_RCODE_3: 404,
  MULTIPLE_DNSLINK: 409,
  LOOP: 508,
  TOO_MANY_HOPS: 508,
};

function errorStatus(code: GatewayErrorCode | string): number {
  return STATUS[code] ?? 502;
}

interface DnslinkQuery {
  recursive?: boolean;
  all?: boolean;
}

interface Naming {
  /** The name looked up (an inlined label decoded, a URL's host, punycode), or the input when invalid. */
  name: string;
  /** Set when the request named it differently. */
  input?: string;
  inlined?: boolean;
  /** What the name rules did to the input (a URL reduced to its host, IDNA). */
  notes?: string[];
}

/** The name a request asks for: an inlined subdomain-gateway label decoded. */
function requestedName(raw: string): { name: string; inlined: boolean } {
  const inlined = isInlinedLabel(raw);
  return { name: inlined ? decodeInlinedLabel(raw) : raw, inlined };
}

function naming(raw: string, traced: Traced<unknown>): Naming {
  const requested = requestedName(raw);
  const name = traced.domain ?? requested.name;
  const notes = traced.notes.length > 0 ? { notes: traced.notes } : {};
  return name === raw ? { name, ...notes } : { name, input: raw, ...(requested.inlined ? { inlined: true } : {}), ...notes };
}

function sendDnslinkError(
  reply: FastifyReply,
  traced: Traced<unknown>,
  names: Naming,
  code: string,
  message: string,
  extra: Record<string, unknown>,
): void {
  let status = errorStatus(code);
  let finalCode = code;
  let finalMessage = message;
  if (traced.upstreamFailed && code.startsWith('DNS_RCODE_')) {
    status = 502;
    finalCode = 'UPSTREAM_FAILED';
    const why = traced.lookups.find((l) => l.ede)?.ede?.text;
    finalMessage = `no upstream answered and no stale answer was cached (${message}${why ? `: ${why}` : ''})`;
  }
  sendError(reply, status, finalCode, finalMessage, { ...names, ...extra, lookups: traced.lookups });
}

/** For an overridden result, the operator's reason (from the override's Extended DNS Error). */
function overrideReason(traced: Traced<unknown>): { reason?: string } {
  const text = traced.lookups.find((l) => l.source === 'override')?.ede?.text;
  return text === undefined ? {} : { reason: text.replace(/^override: /, '') };
}

/** A name or value a denylist blocks: 410 (blocked) or 451 (censored) with the list and the rule; true when sent. */
function sendBlocked(reply: FastifyReply, names: Naming, traced: Traced<unknown>): boolean {
  const block = traced.blocked;
  if (!block) return false;
  sendError(reply, BLOCK_STATUS[block.code], block.code, block.message, { list: block.list, rule: block.rule, ...names, domain: block.domain, lookups: traced.lookups });
  return true;
}

function sendGateway(reply: FastifyReply, names: Naming, traced: Traced<GatewayResult>): void {
  if (sendBlocked(reply, names, traced)) return;
  const { result } = traced;
  if (isGatewayFailure(result)) {
    const { reason } = result.error;
    sendDnslinkError(reply, traced, names, result.error.code, result.error.message, { domain: result.error.domain, ...(reason ? { reason } : {}), hops: result.hops });
    return;
  }
  const body = {
    ...names,
    value: result.value,
    namespace: result.namespace,
    ...(result.cidV1 !== undefined ? { cid: result.cidV1 } : {}),
    path: result.path,
    ttl: result.ttl,
    source: traced.source,
    ...overrideReason(traced),
    cached: traced.cached,
    stale: traced.stale,
    hops: result.hops,
    log: result.log,
    lookups: traced.lookups,
  };
  void reply.header('cache-control', `max-age=${result.ttl}`).header(ALLOW_ORIGIN, '*').send(body);
}

function sendAll(reply: FastifyReply, names: Naming, traced: Traced<DnslinkResult>): void {
  if (sendBlocked(reply, names, traced)) return;
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
