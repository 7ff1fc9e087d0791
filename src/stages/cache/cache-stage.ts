// Caching stage: fresh hits answered synchronously from pre-encoded entries; concurrent misses for
// one question share one question to the stages below; popular entries are refreshed before they expire; when
// upstreams fail or miss the client's deadline, expired entries are served stale (RFC 8767, EDE 3).
import { EdeCode } from '../../dns/constants.js';
import { internalErrorResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import { AnswerStore, type CacheEntry } from './answer-store.js';
import type { CacheStageOptions } from './config.js';
import type { CacheMetrics } from './metrics.js';

export class CacheStage implements Stage {
  readonly name = 'cache';
  next: Stage = UNLINKED;
  readonly store: AnswerStore;
  private readonly inflight = new Map<string, Promise<Resolution>>();

  constructor(
    private readonly options: CacheStageOptions,
    private readonly metrics?: CacheMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new AnswerStore(options, now);
    if (metrics) metrics.stats = () => ({ entries: this.store.size, bytes: this.store.bytes });
  }

  resolve(question: Question, _ctx: QueryContext): Resolution | Promise<Resolution> {
    const now = this.now();
    const entry = this.store.get(question.key, now);
    if (entry && now < entry.expiresAt) {
      entry.hits++;
      this.metrics?.hits.inc();
      if (this.options.prefetch) this.maybePrefetch(question, entry, now);
      return this.freshView(entry, now);
    }
    this.metrics?.misses.inc();
    if (entry && this.options.serveStale) {
      if (entry.refreshFailedAt !== undefined && now - entry.refreshFailedAt < this.options.staleRefreshMs) {
        return this.staleView(entry, 'upstreams failed recently; serving the last known answer');
      }
      return this.raceWithStale(this.fetch(question), entry, now);
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
    const started = new Promise<Resolution>((resolve) => resolve(this.next.resolve(question, { caller: 'cache' })))
      .then((res) => {
        if (res.source === 'error') return res;
        // Answer with the stored form, so a miss carries the same clamped TTLs as later hits.
        return this.store.put(question.key, res)?.resolution ?? res;
      })
      .catch((err: unknown) => internalErrorResolution(err))
      .then((res) => {
        if (res.source === 'error') {
          const old = this.store.get(question.key);
          if (old) old.refreshFailedAt = this.now();
        }
        return res;
      });
    const tracked = started.finally(() => this.inflight.delete(question.key));
    this.inflight.set(question.key, tracked);
    return tracked;
  }

  private raceWithStale(pending: Promise<Resolution>, entry: CacheEntry, now: number): Promise<Resolution> {
    const deadline = now + this.options.clientDeadlineMs;
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
