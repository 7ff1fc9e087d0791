// The gateway resolution API: GET /v1/dnslink/{name} answers the DNSLink a gateway serves for a
// name (boxo semantics through the core's DNSLink service, so the same cache, stale answers and
// traces), or with all=true every entry in the dnslink.dev shape; errors map to 400/404/409/502/508.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Traced } from '../../core/dnslink-service.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { normalizeDomain } from '../../dnslink/domain.js';
import { isGatewayFailure, type GatewayErrorCode, type GatewayResult } from '../../dnslink/gateway.js';
import { describeDnslinkResultError, isDnslinkFailure, type DnslinkResult } from '../../dnslink/resolve.js';
import { ALLOW_ORIGIN } from './cors.js';
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
  /** Resolved name (decoded, normalized when valid). */
  name: string;
  /** Set when the request named it differently. */
  input?: string;
  inlined?: boolean;
}

function naming(raw: string): Naming {
  const inlined = isInlinedLabel(raw);
  const decoded = inlined ? decodeInlinedLabel(raw) : raw;
  const normalized = normalizeDomain(decoded);
  const name = 'domain' in normalized ? normalized.domain : decoded;
  return name === raw ? { name } : { name, input: raw, ...(inlined ? { inlined: true } : {}) };
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

function sendGateway(reply: FastifyReply, names: Naming, traced: Traced<GatewayResult>): void {
  const { result } = traced;
  if (isGatewayFailure(result)) {
    sendDnslinkError(reply, traced, names, result.error.code, result.error.message, { domain: result.error.domain, hops: result.hops });
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
    stale: traced.stale,
    hops: result.hops,
    log: result.log,
    lookups: traced.lookups,
  };
  void reply.header('cache-control', `max-age=${result.ttl}`).header(ALLOW_ORIGIN, '*').send(body);
}

function sendAll(reply: FastifyReply, names: Naming, traced: Traced<DnslinkResult>): void {
  const { result } = traced;
  if (isDnslinkFailure(result)) {
    const { error } = result;
    sendDnslinkError(reply, traced, names, error.code, describeDnslinkResultError(error), { domain: error.domain });
    return;
  }
  const ttl = result.txtEntries.length > 0 ? Math.min(...result.txtEntries.map((e) => e.ttl)) : 0;
  const common = { ...names, links: result.links, txtEntries: result.txtEntries, log: result.log };
  if (result.txtEntries.length === 0) {
    sendError(reply, 404, 'NO_DNSLINK', 'no valid dnslink= TXT entry', { ...common, lookups: traced.lookups });
    return;
  }
  const body = { ...common, ttl, source: traced.source, stale: traced.stale, lookups: traced.lookups };
  void reply.header('cache-control', `max-age=${ttl}`).header(ALLOW_ORIGIN, '*').send(body);
}

export function registerDnslinkRoutes(app: FastifyInstance, core: ResolverCore): void {
  app.get('/v1/dnslink/:name', { schema: dnslinkSchema }, async (request, reply) => {
    const { name: raw } = request.params as { name: string };
    const q = request.query as DnslinkQuery;
    const names = naming(raw);
    if (q.all === true) {
      sendAll(reply, names, await core.dnslink.resolve(names.name, 'api'));
    } else {
      sendGateway(reply, names, await core.dnslink.resolveForGateway(names.name, { recursive: q.recursive ?? true }, 'api'));
    }
    return reply;
  });
}
