// Caching stage: fresh hits answered synchronously from pre-encoded entries; concurrent misses for
// one question share one upstream query; popular entries are refreshed before they expire; when
// upstreams fail or miss the client's deadline, expired entries are served stale (RFC 8767, EDE 3).
import { AnswerCache, type CacheEntry, type CachePolicy } from '../cache/answer-cache.js';
import { EdeCode, Rcode } from '../dns/constants.js';
import type { Question, Resolution } from '../dns/types.js';
import type { Metrics } from '../observability/metrics.js';
import { errorMessage } from '../errors.js';
import { emptyResolution, type QueryContext, type Stage } from './stage.js';

function internalFailure(err: unknown): Resolution {
  return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.OTHER, text: `internal error: ${errorMessage(err)}` } };
}

export interface CacheStageOptions extends CachePolicy {
  /** TTL given to stale answers (RFC 8767 suggests 30 s). */
  staleTtl: number;
  /** Wait this long for upstreams before answering stale, when the client set no deadline. */
  clientDeadlineMs: number;
  /** After a failed refresh, answer stale at once for this long (RFC 8767 stale-refresh-time). */
  staleRefreshMs: number;
  prefetch: boolean;
  /** Hits an entry needs before it is worth refreshing ahead of expiry. */
  prefetchMinHits: number;
  /** Refresh when less than this fraction of the TTL is left. */
  prefetchThreshold: number;
}

export class CacheStage implements Stage {
  readonly name = 'cache';
  readonly cache: AnswerCache;
  private readonly inflight = new Map<string, Promise<Resolution>>();

  constructor(
    private readonly next: Stage,
    private readonly options: CacheStageOptions,
    private readonly metrics?: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new AnswerCache(options, now);
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const now = this.now();
    const entry = this.cache.get(question.key, now);
    if (entry && now < entry.expiresAt) {
      entry.hits++;
      this.metrics?.cacheHits.inc();
      if (this.options.prefetch) this.maybePrefetch(question, entry, now);
      return this.freshView(entry, now);
    }
    this.metrics?.cacheMisses.inc();
    if (entry && this.options.serveStale) {
      if (entry.refreshFailedAt !== undefined && now - entry.refreshFailedAt < this.options.staleRefreshMs) {
        return this.staleView(entry, 'upstreams failed recently; serving the last known answer');
      }
      return this.raceWithStale(this.fetch(question), entry, ctx, now);
    }
    return this.fetch(question);
  }

  /** Number of upstream queries in flight (for tests and /healthz). */
  get pending(): number {
    return this.inflight.size;
  }

  private freshView(entry: CacheEntry, now: number): Resolution {
    const age = Math.floor((now - entry.storedAt) / 1000);
    const view = entry.view;
    if (view && view.ttlAge === age) return view;
    entry.view = { ...entry.resolution, source: 'cache', ttlAge: age };
    return entry.view;
  }

  private staleView(entry: CacheEntry, why: string): Resolution {
    this.metrics?.staleAnswers.inc();
    return {
      ...entry.resolution,
      source: 'stale',
      ttlOverride: this.options.staleTtl,
      ede: { code: EdeCode.STALE_ANSWER, text: why },
    };
  }

  private maybePrefetch(question: Question, entry: CacheEntry, now: number): void {
    if (entry.hits < this.options.prefetchMinHits || this.inflight.has(question.key)) return;
    const left = entry.expiresAt - now;
    if (left > entry.ttl * 1000 * this.options.prefetchThreshold) return;
    this.metrics?.prefetches.inc();
    void this.fetch(question);
  }

  /** One upstream query per question at a time; the answer is stored when it arrives. */
  private fetch(question: Question): Promise<Resolution> {
    const running = this.inflight.get(question.key);
    if (running) {
      this.metrics?.coalesced.inc();
      return running;
    }
    // Never rejects: a prefetch runs unawaited. A stage that throws, or an upstream answer that
    // cannot be stored (re-encoding fails), becomes a SERVFAIL saying why.
    const started = new Promise<Resolution>((resolve) => resolve(this.next.resolve(question, { transport: 'internal' })))
      .then((res) => {
        if (res.source === 'error') return res;
        // Answer with the stored form, so a miss carries the same clamped TTLs as later hits.
        return this.cache.store(question.key, res)?.resolution ?? res;
      })
      .catch((err: unknown) => internalFailure(err))
      .then((res) => {
        if (res.source === 'error') {
          const old = this.cache.get(question.key);
          if (old) old.refreshFailedAt = this.now();
        }
        return res;
      });
    const tracked = started.finally(() => this.inflight.delete(question.key));
    this.inflight.set(question.key, tracked);
    return tracked;
  }

  private raceWithStale(pending: Promise<Resolution>, entry: CacheEntry, ctx: QueryContext, now: number): Promise<Resolution> {
    const deadline = ctx.deadline ?? now + this.options.clientDeadlineMs;
    return new Promise<Resolution>((resolve) => {
      const timer = setTimeout(
        () => resolve(this.staleView(entry, 'upstreams did not answer before the client deadline')),
        Math.max(0, deadline - now),
      );
      void pending.then((res) => {
        clearTimeout(timer);
        resolve(res.source === 'error' ? this.staleView(entry, `upstreams failed: ${res.ede?.text ?? 'unknown error'}`) : res);
      });
    });
  }
}
