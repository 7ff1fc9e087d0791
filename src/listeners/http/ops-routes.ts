// Operational routes on the HTTP listener: /healthz (readiness, for load balancers: 503 when every
// upstream failed its last attempt; no upstream addresses), /livez (liveness, for container health
// checks: 200 while the process serves HTTP), /metrics in Prometheus text format.
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { controlHealth, describeControlHealth } from '../../control/health.js';
import type { ResolverCore } from '../../core/resolver-core.js';
import { describeEnsHealth, withoutAddresses } from '../../stages/ens/rpc-health.js';
import type { PoolHealth } from '../../stages/upstream/upstream-pool.js';
import { healthSchema, liveSchema } from './schemas.js';

export interface Readiness {
  ready: boolean;
  reason: string;
  upstreams: { configured: number; failing: number; errors: string[] };
  /** Seconds until the oldest failure stops counting (when not ready). */
  retryAfter?: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Ready unless every configured upstream failed its last attempt within the pool's penalty time. */
export function readiness(health: PoolHealth, now: number): Readiness {
  const configured = health.endpoints.length;
  const failing = health.endpoints.filter((e) => e.failing);
  const errors = [...new Set(failing.map((e) => e.lastErrorCode ?? 'UPSTREAM_NETWORK'))].sort();
  const upstreams = { configured, failing: failing.length, errors };
  const window = `in the last ${Math.round(health.penaltyMs / 1000)} s`;
  if (configured === 0) {
    return {
      ready: true,
      reason: 'no upstreams are configured: local records and the cache answer, other names get SERVFAIL',
      upstreams,
    };
  }
  if (failing.length < configured) {
    return {
      ready: true,
      reason:
        failing.length === 0
          ? `${plural(configured, 'upstream')} configured, none failed its last attempt ${window}`
          : `${failing.length} of ${plural(configured, 'upstream')} failed its last attempt ${window} (${errors.join(', ')}); the others answer`,
      upstreams,
    };
  }
  const oldest = Math.min(...failing.map((e) => e.lastErrorAt ?? now));
  return {
    ready: false,
    reason:
      `${configured === 1 ? 'the only upstream' : `all ${configured} upstreams`} failed ${configured === 1 ? 'its' : 'their'} last attempt ${window} ` +
      `(${errors.join(', ')}): only local records and cached answers (stale ones included) are served until one answers again`,
    upstreams,
    retryAfter: Math.max(1, Math.ceil((oldest + health.penaltyMs - now) / 1000)),
  };
}

export function registerOpsRoutes(app: FastifyInstance, core: ResolverCore): void {
  const pool = core.stages.upstream.pool;
  app.get('/healthz', { schema: healthSchema }, async (_request, reply) => {
    const r = readiness(pool.health(), Date.now());
    // A degraded control store does not make the instance unready (it still answers, with the
    // last state it had), but the body says so.
    const control = controlHealth(core.metrics.registry);
    const note = control && describeControlHealth(control);
    // Failing ENS endpoints do not make the instance unready either (DNS names still resolve).
    const ens = core.stages.ens.health();
    const ensNote = ens && describeEnsHealth(ens);
    // A denylist version held by the guard, or a list never read: said, not unready.
    const denylistNote = core.denylist.healthNote();
    const reason = [r.reason, note, ensNote, denylistNote].filter(Boolean).join('; ');
    void reply.code(r.ready ? 200 : 503).header('cache-control', 'no-store');
    if (r.retryAfter !== undefined) void reply.header('retry-after', String(r.retryAfter));
    return {
      status: r.ready ? 'ready' : 'not-ready',
      reason,
      /** The cluster worker that answered (dns.workers > 1); absent in a single process. */
      worker: cluster.worker?.id,
      upstreams: r.upstreams,
      cache: { entries: core.stages.cache.store.size, bytes: core.stages.cache.store.bytes, inflight: core.stages.cache.pending },
      localRecords: core.stages['local-records'].size,
      ...(control ? { control } : {}),
      ...(ens ? { ens: withoutAddresses(ens) } : {}),
      ...(denylistNote ? { denylist: { degraded: core.denylist.degraded, note: denylistNote } } : {}),
    };
  });
  app.get('/livez', { schema: liveSchema }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return { status: 'alive' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', core.metrics.registry.contentType);
    return core.metrics.render();
  });
}
