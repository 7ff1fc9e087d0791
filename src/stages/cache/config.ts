// Configuration of the cache stage: the `cache` object (see README.md here and
// docs/configuration.md) and the top-level `clientDeadlineMs`, the older name of
// cache.clientDeadlineMs, still accepted.
import { z } from 'zod';
import { millis, seconds } from '../../config/units.js';
import type { CachePolicy } from './answer-store.js';

/** How long a client waits before an expired entry is served stale (RFC 8767 suggests 1.8 s). */
const DEFAULT_CLIENT_DEADLINE_MS = 1_800;

export const cacheConfigSchema = z
  .object({
    maxEntries: z.number().int().min(1).default(100_000),
    maxBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    minTtl: seconds.default(0),
    maxTtl: seconds.default(86_400),
    negativeMinTtl: seconds.default(0),
    negativeMaxTtl: seconds.default(3_600),
    serveStale: z.boolean().default(true),
    staleMaxAge: seconds.default(86_400),
    staleTtl: seconds.default(30),
    staleRefreshMs: z.number().int().min(0).default(30_000),
    /** Default DEFAULT_CLIENT_DEADLINE_MS, or the top-level clientDeadlineMs when that is set. */
    clientDeadlineMs: millis.optional(),
    prefetch: z.boolean().default(true),
    prefetchMinHits: z.number().int().min(1).default(2),
    prefetchThreshold: z.number().min(0).max(1).default(0.1),
    /** Save the cache in the data dir (snapshot.ts) at shutdown and every persistIntervalMs; load it at start. */
    persist: z.boolean().default(true),
    /** Between periodic snapshots; 0: only at shutdown. */
    persistIntervalMs: z.number().int().min(0).default(300_000),
  })
  .strict()
  .prefault({})
  .refine((c) => c.minTtl <= c.maxTtl, { message: 'minTtl must not exceed maxTtl', path: ['minTtl'] })
  .refine((c) => c.negativeMinTtl <= c.negativeMaxTtl, { message: 'negativeMinTtl must not exceed negativeMaxTtl', path: ['negativeMinTtl'] });

export type CacheConfig = z.output<typeof cacheConfigSchema>;

/** Top-level keys owned by the cache stage. */
export const cacheRootKeys = {
  /** The older name of cache.clientDeadlineMs. */
  clientDeadlineMs: millis.optional(),
};

export interface CacheStageOptions extends CachePolicy {
  /** TTL given to stale answers (RFC 8767 suggests 30 s). */
  staleTtl: number;
  /** Wait this long for the stages below before answering an expired entry stale. */
  clientDeadlineMs: number;
  /** After a failed refresh, answer stale at once for this long (RFC 8767 stale-refresh-time). */
  staleRefreshMs: number;
  prefetch: boolean;
  /** Hits an entry needs before it is worth refreshing ahead of expiry. */
  prefetchMinHits: number;
  /** Refresh when less than this fraction of the TTL is left. */
  prefetchThreshold: number;
}

/** Why a configuration naming the client deadline twice is refused, or undefined when it does not. */
export function clientDeadlineConflict(cache: CacheConfig, topLevel: number | undefined): string | undefined {
  if (topLevel === undefined || cache.clientDeadlineMs === undefined) return undefined;
  return 'set cache.clientDeadlineMs only: clientDeadlineMs is its older name, and both are set';
}

export function cacheStageOptions(cache: CacheConfig, topLevelClientDeadlineMs: number | undefined): CacheStageOptions {
  return { ...cache, clientDeadlineMs: cache.clientDeadlineMs ?? topLevelClientDeadlineMs ?? DEFAULT_CLIENT_DEADLINE_MS };
}
