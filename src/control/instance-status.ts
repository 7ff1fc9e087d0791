// What one serving process says of itself for `/admin/v1/status` (`dnslinkd status`): version,
// uptime, chain, listeners, its cache (entries, bytes, hits, stale answers served), its upstreams'
// state and last error, and ENS; and the sum of several processes' (workers') views. The listeners'
// addresses are recorded by the instance once it listens.
import type { ResolverCore } from '../core/resolver-core.js';
import { CHAIN_ORDER } from '../stages/chain.js';
import { VERSION } from '../version.js';

export interface UpstreamStatusView {
  url: string;
  /** ok: its last attempt got an answer; failing: it did not (within the penalty time); unused: never asked yet. */
  state: 'ok' | 'failing' | 'unused';
  lastAnswerAt?: string;
  lastErrorAt?: string;
  lastError?: string;
}

export interface CacheStatusView {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses), null before any question. */
  hitRatio: number | null;
  /** Expired answers served because upstreams failed or were slow (RFC 8767). */
  staleServed: number;
}

export interface InstanceStatusView {
  pid: number;
  /** The cluster worker (with --workers). */
  worker?: number;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  chain: string[];
  listeners: Record<string, string>;
  cache: CacheStatusView;
  /** Queries answered so far, by transport (dnslinkd_queries_total; the console's charts). */
  queries?: Record<string, number>;
  /** Upstream attempts failed and ENS RPC requests failed (not `ok` nor `reverted`) so far; the console's charts. */
  errors?: { upstream: number; ens: number };
  /** dnslinkd_upstream_latency_seconds' sum and count so far (a mean between two samples). */
  upstreamLatency?: { sum: number; count: number };
  upstreams: UpstreamStatusView[];
  ens: { enabled: boolean; endpoints: string[] };
}

const listenersOf = new WeakMap<ResolverCore, Record<string, string>>();

/** The addresses this process listens on (dns, http, https), as `host:port`. */
export function recordListeners(core: ResolverCore, listeners: Record<string, string>): void {
  listenersOf.set(core, listeners);
}

/** The origin of an RPC URL (its path and query may carry an API key: never shown). */
function endpointOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

function ratio(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : Math.round((hits / (hits + misses)) * 10_000) / 10_000;
}

async function counterValue(core: ResolverCore, name: string): Promise<number> {
  const metric = core.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const got = await metric.get();
  return got.values.reduce((sum, v) => sum + v.value, 0);
}

/** dnslinkd_queries_total summed by transport. */
async function queriesByTransport(core: ResolverCore): Promise<Record<string, number>> {
  const metric = core.metrics.registry.getSingleMetric('dnslinkd_queries_total');
  const out: Record<string, number> = {};
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const transport = String(v.labels.transport ?? 'unknown');
    out[transport] = (out[transport] ?? 0) + v.value;
  }
  return out;
}

/** A metric's values summed, those whose labels `keep` accepts (all by default), by metric name (a histogram's _sum, _count...). */
async function summed(core: ResolverCore, name: string, keep: (labels: Record<string, unknown>) => boolean = () => true): Promise<Record<string, number>> {
  const metric = core.metrics.registry.getSingleMetric(name);
  const out: Record<string, number> = {};
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    if (!keep(v.labels)) continue;
    const key = (v as { metricName?: string }).metricName ?? name;
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

export async function instanceStatus(core: ResolverCore, now = Date.now()): Promise<InstanceStatusView> {
  const store = core.stages.cache.store;
  const hits = await counterValue(core, 'dnslinkd_cache_hits_total');
  const misses = await counterValue(core, 'dnslinkd_cache_misses_total');
  const staleServed = await counterValue(core, 'dnslinkd_stale_answers_total');
  const upstreams = core.stages.upstream.pool.health().endpoints.map((e): UpstreamStatusView => {
    const state = e.failing ? 'failing' : e.lastAnswerAt === undefined && e.lastErrorAt === undefined ? 'unused' : e.lastAnswerAt !== undefined && (e.lastErrorAt === undefined || e.lastAnswerAt >= e.lastErrorAt) ? 'ok' : 'failing';
    return {
      url: e.url,
      state,
      ...(e.lastAnswerAt !== undefined ? { lastAnswerAt: iso(e.lastAnswerAt) } : {}),
      ...(e.lastErrorAt !== undefined ? { lastErrorAt: iso(e.lastErrorAt), lastError: e.lastErrorCode } : {}),
    };
  });
  const uptimeSeconds = Math.floor(process.uptime());
  return {
    pid: process.pid,
    version: VERSION,
    startedAt: new Date(now - process.uptime() * 1000).toISOString(),
    uptimeSeconds,
    chain: [...CHAIN_ORDER],
    listeners: listenersOf.get(core) ?? {},
    cache: { entries: store.size, bytes: store.bytes, maxEntries: store.policy.maxEntries, maxBytes: store.policy.maxBytes, hits, misses, hitRatio: ratio(hits, misses), staleServed },
    queries: await queriesByTransport(core),
    errors: {
      upstream: (await summed(core, 'dnslinkd_upstream_errors_total')).dnslinkd_upstream_errors_total ?? 0,
      ens: (await summed(core, 'dnslinkd_ens_rpc_requests_total', (l) => l.result !== 'ok' && l.result !== 'reverted')).dnslinkd_ens_rpc_requests_total ?? 0,
    },
    upstreamLatency: await (async () => {
      const h = await summed(core, 'dnslinkd_upstream_latency_seconds');
      return { sum: h.dnslinkd_upstream_latency_seconds_sum ?? 0, count: h.dnslinkd_upstream_latency_seconds_count ?? 0 };
    })(),
    upstreams,
    ens: { enabled: core.stages.ens.enabled, endpoints: core.config.ens.rpc.map(endpointOrigin) },
  };
}

/** Several processes' caches as one (workers each hold their own). */
export function sumCaches(views: readonly InstanceStatusView[]): CacheStatusView {
  const sum = (pick: (c: CacheStatusView) => number) => views.reduce((total, v) => total + pick(v.cache), 0);
  const hits = sum((c) => c.hits);
  const misses = sum((c) => c.misses);
  return { entries: sum((c) => c.entries), bytes: sum((c) => c.bytes), maxEntries: sum((c) => c.maxEntries), maxBytes: sum((c) => c.maxBytes), hits, misses, hitRatio: ratio(hits, misses), staleServed: sum((c) => c.staleServed) };
}

/** Each upstream once: failing when a process finds it failing, with the latest error any saw. */
export function mergeUpstreams(views: readonly InstanceStatusView[]): UpstreamStatusView[] {
  const byUrl = new Map<string, UpstreamStatusView>();
  const rank = { failing: 2, ok: 1, unused: 0 } as const;
  const later = (a: string | undefined, b: string | undefined) => (a === undefined ? b : b === undefined ? a : a > b ? a : b);
  for (const u of views.flatMap((v) => v.upstreams)) {
    const had = byUrl.get(u.url);
    if (!had) {
      byUrl.set(u.url, { ...u });
      continue;
    }
    const lastErrorAt = later(had.lastErrorAt, u.lastErrorAt);
    byUrl.set(u.url, {
      url: u.url,
      state: rank[u.state] > rank[had.state] ? u.state : had.state,
      ...(later(had.lastAnswerAt, u.lastAnswerAt) ? { lastAnswerAt: later(had.lastAnswerAt, u.lastAnswerAt) } : {}),
      ...(lastErrorAt ? { lastErrorAt, lastError: lastErrorAt === u.lastErrorAt ? u.lastError : had.lastError } : {}),
    });
  }
  return [...byUrl.values()];
}
