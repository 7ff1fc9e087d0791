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
    upstreams: core.stages.upstream.pool.endpoints.map((e) => e.url),
    cache: { entries: core.stages.cache.store.size, bytes: core.stages.cache.store.bytes, inflight: core.stages.cache.pending },
    localRecords: core.stages['local-records'].size,
  }));
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', core.metrics.registry.contentType);
    return core.metrics.render();
  });
}
