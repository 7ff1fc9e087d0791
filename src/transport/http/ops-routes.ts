// Operational routes on the HTTP listener: /healthz for load balancers and container health
// checks, /metrics in Prometheus text format.
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { ResolverCore } from '../../core/resolver-core.js';

export function registerOpsRoutes(app: FastifyInstance, core: ResolverCore): void {
  app.get('/healthz', async () => ({
    status: 'ok',
    /** The cluster worker that answered (dns.workers > 1); absent in a single process. */
    worker: cluster.worker?.id,
    upstreams: core.upstreams.endpoints.map((e) => e.url),
    cache: { entries: core.cache.cache.size, bytes: core.cache.cache.bytes, inflight: core.cache.pending },
    localRecords: core.local.size,
  }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', core.metrics.registry.contentType);
    return core.metrics.render();
  });
}
