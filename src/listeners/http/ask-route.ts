// GET /v1/ask?domain=NAME for on-demand TLS (Caddy's on_demand_tls ask): 200 when NAME has a valid
// DNSLink (DNS, ENS or an ENS mirror name) that is not blocked, 404 when it has none, 400 for a name
// that is not one, 502 when no upstream answered; through the same DNSLink service and cache as
// /v1/dnslink/{name}, so certificates are asked for only for names a gateway will serve.
import type { FastifyInstance } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';
import { isGatewayFailure } from '../../dnslink/gateway.js';
import { sendError } from './http-errors.js';
import { askSchema } from './changes-schemas.js';

export function registerAskRoute(app: FastifyInstance, core: ResolverCore): void {
  app.get('/v1/ask', { schema: askSchema }, async (request, reply) => {
    const { domain } = request.query as { domain: string };
    const traced = await core.dnslink.resolveForGateway(domain, { recursive: true }, 'api');
    const { result } = traced;
    if (!isGatewayFailure(result)) {
      void reply.header('cache-control', 'max-age=0').send({ domain: traced.domain ?? domain, value: result.value, source: traced.source });
      return reply;
    }
    const { code, message } = result.error;
    if (code === 'INVALID_DOMAIN') return sendError(reply, 400, code, message, { domain });
    if (traced.upstreamFailed && code.startsWith('DNS_RCODE_')) return sendError(reply, 502, 'UPSTREAM_FAILED', `no upstream answered for ${domain} and nothing was cached: no certificate now (${message})`, { domain });
    return sendError(reply, 404, code, `${domain} has no DNSLink a gateway serves (${message}): no certificate for it`, { domain });
  });
}
