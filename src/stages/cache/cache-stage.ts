// Caching stage: fresh hits answered synchronously from pre-encoded entries; concurrent misses for
// one question share one question to the stages below; popular entries are refreshed before they
// expire; when upstreams fail or miss the client's deadline, expired entries are served stale
// (RFC 8767, EDE 3); a flush removes entries and voids the fetches under way for them.
import { EdeCode, RRType } from '../../dns/constants.js';
import { internalErrorResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import { AnswerStore, isNegativeAnswer, nameKeyOfKey, type CacheEntry } from './answer-store.js';
import { flushedNameKeys, flushMatcher, type FlushTarget } from './flush.js';
import type { CacheStageOptions } from './config.js';
import type { CacheMetrics } from './metrics.js';

/** A question being fetched from the stages below; a flush voids it so its answer is not stored. */
interface InflightFetch {
  promise: Promise<Resolution>;
  /** Set by a flush: `all` stores nothing, `negative` stores no negative answer. */
  voided?: 'all' | 'negative';
}

export class CacheStage implements Stage {
  readonly name = 'cache';
  next: Stage = UNLINKED;
  readonly store: AnswerStore;
  private readonly inflight = new Map<string, InflightFetch>();
  /** Refreshes that failed at or before this time do not hold off the next (see forgetRefreshFailures). */
  private refreshFailuresForgottenAt = -Infinity;
  /**
   * Called when a fetched TXT answer is about to replace an entry held (a refresh, a prefetch, a
   * miss on a stale entry), with both: the change stream compares their DNSLink values (src/changes/).
   */
  onRefresh: ((name: string, held: Resolution, fetched: Resolution) => void) | undefined;

  constructor(
    private readonly options: CacheStageOptions,
    private readonly metrics?: CacheMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new AnswerStore(options, now);
    if (metrics) metrics.stats = () => ({ entries: this.store.size, bytes: this.store.bytes });
  }

  /**
   * Other TTL clamps and serve-stale settings (a configuration reload), in place: the entries held
   * stay, answers stored from now on are clamped anew. The store's bounds (maxEntries, maxBytes)
   * size it at start and stay as they are.
   */
  reconfigure(options: CacheStageOptions): void {
    // The store reads the same policy object: both see the change at once.
    Object.assign(this.options, { ...options, maxEntries: this.options.maxEntries, maxBytes: this.options.maxBytes });
  }

  /**
   * The upstreams changed (a configuration reload): failed refreshes up to now no longer hold off
   * the next try (staleRefreshMs), so stale entries are refreshed from the new upstreams at once.
   */
  forgetRefreshFailures(): void {
    this.refreshFailuresForgottenAt = this.now();
  }

  resolve(question: Question, _ctx: QueryContext): Resolution | Promise<Resolution> {
    const now = this.now();
    const entry = this.store.get(question.key, now);
    if (entry && now < entry.expiresAt) {
      entry.recordHit();
      this.metrics?.hits.inc();
      if (this.options.prefetch) this.maybePrefetch(question, entry, now);
      return this.freshView(entry, now);
    }
    this.metrics?.misses.inc();
    if (entry && this.options.serveStale) {
      const failedAt = entry.refreshFailedAt;
      if (failedAt !== undefined && failedAt > this.refreshFailuresForgottenAt && now - failedAt < this.options.staleRefreshMs) {
        return this.staleView(entry, 'upstreams failed recently; serving the last known answer');
      }
      return this.raceWithStale(this.fetch(question), entry, now);
    }
    return this.fetch(question);
  }

  /**
   * Re-resolves a question held in the cache now and replaces its entry (a source below saw the
   * value change, e.g. the ENS chain watch). A fetch already under way may predate the change: it
   * is let finish, then a new one is made. Not held: nothing is fetched (resolves to undefined).
   */
  async refresh(question: Question): Promise<Resolution | undefined> {
    if (this.store.get(question.key) === undefined) return undefined;
    const running = this.inflight.get(question.key);
    if (running) await running.promise;
    return this.fetch(question);
  }

  /** Number of upstream queries in flight (for tests and /healthz). */
  get pending(): number {
    return this.inflight.size;
  }

  private freshView(entry: CacheEntry, now: number): Resolution {
    return entry.view('cache', Math.floor((now - entry.storedAt) / 1000));
  }

  private staleView(entry: CacheEntry, why: string): Resolution {
    this.metrics?.staleAnswers.inc();
    return entry.view('stale', 0, { ttl: this.options.staleTtl, ede: { code: EdeCode.STALE_ANSWER, text: why } });
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
    const key = question.key;
    const running = this.inflight.get(key);
    if (running) {
      this.metrics?.coalesced.inc();
      return running.promise;
    }
    const fetch: InflightFetch = { promise: undefined as unknown as Promise<Resolution> };
    // Never rejects: a prefetch runs unawaited. A stage that throws, or an upstream answer that
    // cannot be stored (re-encoding fails), becomes a SERVFAIL saying why.
    const staleHeld = this.options.serveStale && this.store.get(key) !== undefined;
    const started = new Promise<Resolution>((resolve) => resolve(this.next.resolve(question, { caller: 'cache', ...(staleHeld ? { staleHeld } : {}) })))
      .then((res) => {
        if (res.source === 'error') return res;
        // Fetched before a flush of this name: answer the callers, but store nothing.
        if (fetch.voided === 'all' || (fetch.voided === 'negative' && isNegativeAnswer(res))) return res;
        if (this.onRefresh && question.type === RRType.TXT) {
          const held = this.store.get(key);
          if (held) this.onRefresh(question.name, held.resolution, res);
        }
        // Answer with the stored form, so a miss carries the same clamped TTLs as later hits.
        return this.store.put(key, res)?.view(res.source, 0) ?? res;
      })
      .catch((err: unknown) => internalErrorResolution(err))
      .then((res) => {
        if (res.source === 'error' && !fetch.voided) {
          const old = this.store.get(key);
          if (old) old.refreshFailedAt = this.now();
        }
        return res;
      });
    fetch.promise = started.finally(() => {
      if (this.inflight.get(key) === fetch) this.inflight.delete(key);
    });
    this.inflight.set(key, fetch);
    return fetch.promise;
  }

  /**
   * Removes the cached entries `target` names (negative ones only, if asked), stale ones included,
   * and voids the fetches under way for those names so their answers are not stored after the
   * flush; the next question goes to the stages below. Resolves to the count of entries removed.
   * A dry run counts what would be removed and changes nothing.
   */
  async flush(target: FlushTarget, negativeOnly = false, dryRun = false): Promise<number> {
    const matches = flushMatcher(target);
    if (dryRun) {
      if ('name' in target) return this.store.removeNames(flushedNameKeys(target.name), negativeOnly, true);
      return this.store.removeWhere(matches, negativeOnly, 'all' in target, true);
    }
    for (const [key, fetch] of this.inflight) {
      if (!matches(nameKeyOfKey(key))) continue;
      fetch.voided = negativeOnly && fetch.voided !== 'all' ? 'negative' : 'all';
      this.inflight.delete(key);
    }
    if ('name' in target) return this.store.removeNames(flushedNameKeys(target.name), negativeOnly);
    return this.store.removeWhere(matches, negativeOnly, 'all' in target);
  }

  /** What is cached for a name, in its bare and `_dnslink.` forms (each type), stale entries included. */
  entriesFor(name: string): CacheEntry[] {
    return flushedNameKeys(name).flatMap((nameKey) => this.store.entriesOfName(nameKey));
  }

  private raceWithStale(pending: Promise<Resolution>, entry: CacheEntry, now: number): Promise<Resolution> {
    const deadline = now + this.options.clientDeadlineMs;
    // An entry evicted or flushed meanwhile is not served: its slab may hold other bytes by then.
    return new Promise<Resolution>((resolve) => {
      const timer = setTimeout(() => {
        if (this.store.holds(entry)) resolve(this.staleView(entry, 'upstreams did not answer before the client deadline'));
      }, Math.max(0, deadline - now));
      void pending.then((res) => {
        clearTimeout(timer);
        const failed = res.source === 'error' && this.store.holds(entry);
        resolve(failed ? this.staleView(entry, `upstreams failed: ${res.ede?.text ?? 'unknown error'}`) : res);
      });
    });
  }
}
