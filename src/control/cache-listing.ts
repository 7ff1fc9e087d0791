// What `GET /admin/v1/cache` lists: a bounded page of one process's cache entries (name, type, TTL
// left, stale, hits, origin), filtered by suffix and staleness, either in key order after a cursor
// or the busiest first (top N). The table is scanned in slices that yield, keeping only `limit`
// entries, so a million entries cost time in the background and never a million-row answer.
import { rcodeName } from '../dns/constants.js';
import { decodeName } from '../dns/names.js';
import { CodedError } from '../errors.js';
import { controlName } from './override-rules.js';
import type { AnswerStore, CacheEntry } from '../stages/cache/answer-store.js';
import { isAtOrUnder, nameKeyOf } from '../stages/cache/flush.js';
import { nameKeyOfKey } from '../stages/cache/answer-store.js';
import { yieldToEventLoop } from '../runtime/event-loop-yield.js';

/** Entries a page holds at most, and by default. */
export const CACHE_LIST_MAX = 1000;
export const CACHE_LIST_DEFAULT = 100;
/** Entries looked at between two yields of a scan. */
const SCAN_CHUNK = 4096;

export interface CacheListQuery {
  suffix?: string;
  /** Only entries past their TTL (served stale while upstreams fail). */
  stale?: boolean;
  /** The busiest N (most hits first) instead of a page in key order. */
  top?: number;
  limit: number;
  /** Entries after this position (key order): the previous page's `next`. */
  after?: { key: string; worker: number };
}

/** One cache entry as listed. */
export interface CacheListEntry {
  name: string;
  type: number;
  rcode: string;
  negative: boolean;
  /** Seconds before it expires (0 once stale). */
  ttlLeft: number;
  stale: boolean;
  hits: number;
  /** Where the answer was fetched from: upstream, ens, ens-fallback... */
  source: string;
  expiresAt: string;
  /** Until when it may still be served stale (serve-stale on), else its expiry. */
  serveUntil: string;
  /** The cluster worker holding it (with --workers). */
  worker?: number;
  /** The entry's cache key, base64url (what a cursor carries). */
  key: string;
}

export interface CacheListPage {
  entries: CacheListEntry[];
  /** Entries that matched the filters in this scan (every process's, summed). */
  matched: number;
  /** Pass as `cursor` for the next page; absent on the last page and for top N. */
  next?: string;
}

/** A listing's parameters from a query string: 4xx-worthy mistakes are INVALID_PARAMETER errors. */
export function parseCacheListQuery(q: { suffix?: string; stale?: string; top?: string; limit?: string; cursor?: string }): CacheListQuery {
  const whole = (raw: string | undefined, what: string, max: number): number | undefined => {
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new CodedError('INVALID_PARAMETER', `${what} must be a whole number from 1 to ${max} (got "${raw}")`);
    return Number(raw);
  };
  const top = whole(q.top, 'top', CACHE_LIST_MAX);
  const limit = whole(q.limit, 'limit', CACHE_LIST_MAX);
  if (top !== undefined && (limit !== undefined || q.cursor)) throw new CodedError('INVALID_PARAMETER', 'top takes no limit or cursor: it lists the N busiest entries at once');
  if (q.stale !== undefined && !['true', 'false', '1', '0', ''].includes(q.stale)) throw new CodedError('INVALID_PARAMETER', `stale must be true or false (got "${q.stale}")`);
  // As flush and cache show take names: a Unicode name in punycode, lower case.
  const raw = q.suffix ?? '';
  const trimmed = raw.replace(/\.$/, '');
  let suffix: string | undefined;
  if (trimmed !== '') {
    try {
      suffix = controlName(trimmed, 'suffix');
      nameKeyOf(suffix);
    } catch {
      throw new CodedError('INVALID_PARAMETER', `suffix must be a domain name such as example.org (got ${JSON.stringify(raw.length > 300 ? `${raw.slice(0, 300)}...` : raw)})`);
    }
  }
  return {
    ...(suffix !== undefined ? { suffix } : {}),
    ...(q.stale === 'true' || q.stale === '1' || q.stale === '' ? { stale: true } : {}),
    ...(top !== undefined ? { top } : {}),
    limit: top ?? limit ?? CACHE_LIST_DEFAULT,
    ...(q.cursor ? { after: decodeCursor(q.cursor) } : {}),
  };
}

export function encodeCursor(key: string, worker: number): string {
  return Buffer.from(JSON.stringify([Buffer.from(key, 'latin1').toString('base64url'), worker])).toString('base64url');
}

function decodeCursor(cursor: string): { key: string; worker: number } {
  try {
    const [key, worker] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof key === 'string' && typeof worker === 'number') return { key: Buffer.from(key, 'base64url').toString('latin1'), worker };
  } catch {
    // said below
  }
  throw new CodedError('INVALID_PARAMETER', 'cursor is not one this API gave: pass the `next` of the previous page as it is');
}

/** An entry with its raw cache key (latin1): the order pages and cursors follow is the raw keys' byte order. */
interface Ranked {
  entry: CacheListEntry;
  raw: string;
}

/**
 * Orders two listed entries: raw key order (then worker), or the busiest first for top N. Never the
 * base64url `key`: its order is not the raw keys', which the cursor compares.
 */
function listOrder(top: boolean): (a: Ranked, b: Ranked) => number {
  const byKey = (a: Ranked, b: Ranked) => (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : (a.entry.worker ?? 0) - (b.entry.worker ?? 0));
  return top ? (a, b) => b.entry.hits - a.entry.hits || byKey(a, b) : byKey;
}

function listed(entry: CacheEntry, now: number, staleWindowMs: number, worker: number | undefined): CacheListEntry {
  const nameEnd = entry.key.length - 4;
  const expiresAt = entry.expiresAt;
  return {
    name: decodeName(Buffer.from(entry.key, 'latin1'), 0, nameEnd),
    type: entry.key.charCodeAt(nameEnd) * 256 + entry.key.charCodeAt(nameEnd + 1),
    rcode: rcodeName(entry.rcode),
    negative: entry.negative,
    ttlLeft: Math.max(0, Math.ceil((expiresAt - now) / 1000)),
    stale: now >= expiresAt,
    hits: entry.hits,
    source: entry.origin.source,
    expiresAt: new Date(expiresAt).toISOString(),
    serveUntil: new Date(expiresAt + staleWindowMs).toISOString(),
    ...(worker !== undefined ? { worker } : {}),
    key: Buffer.from(entry.key, 'latin1').toString('base64url'),
  };
}

/**
 * One process's page: the `limit` first matching entries after `after` in key order, or the
 * `limit` busiest. Keeps `limit` entries at most while it scans.
 */
export async function listCache(store: AnswerStore, query: CacheListQuery, now: number, worker?: number): Promise<CacheListPage> {
  const suffixKey = query.suffix !== undefined ? nameKeyOf(query.suffix) : undefined;
  const staleWindowMs = store.policy.serveStale ? store.policy.staleMaxAge * 1000 : 0;
  const after = query.after;
  const self = worker ?? 0;
  const top = query.top !== undefined;
  const order = listOrder(top);
  // Kept sorted; past `limit`, the last is dropped (a small array: limit is at most 1000).
  const kept: Ranked[] = [];
  let matched = 0;
  let seen = 0;
  const { entries, current } = store.walk();
  for (const entry of entries) {
    if (++seen % SCAN_CHUNK === 0) {
      await yieldToEventLoop();
      if (!current()) break;
    }
    if (!store.holds(entry)) continue;
    if (suffixKey !== undefined && !isAtOrUnder(nameKeyOfKey(entry.key), suffixKey)) continue;
    if (query.stale && now < entry.expiresAt) continue;
    if (now > entry.expiresAt + staleWindowMs) continue; // past serving: gone at its next lookup
    matched++;
    if (after && !top && (entry.key < after.key || (entry.key === after.key && self <= after.worker))) continue;
    if (kept.length >= query.limit) {
      const last = kept[kept.length - 1]!;
      if (top ? entry.hits < last.entry.hits || (entry.hits === last.entry.hits && entry.key >= last.raw) : entry.key >= last.raw) continue;
    }
    const item: Ranked = { entry: listed(entry, now, staleWindowMs, worker), raw: entry.key };
    let at = kept.length;
    while (at > 0 && order(item, kept[at - 1]!) < 0) at--;
    kept.splice(at, 0, item);
    if (kept.length > query.limit) kept.pop();
  }
  return { entries: kept.map((k) => k.entry), matched };
}

/** Pages of several processes (workers) as one: ordered, cut to the limit, with the next cursor. */
export function mergePages(pages: CacheListPage[], query: CacheListQuery): CacheListPage {
  const top = query.top !== undefined;
  const all = pages
    .flatMap((p) => p.entries)
    .map((entry): Ranked => ({ entry, raw: Buffer.from(entry.key, 'base64url').toString('latin1') }))
    .sort(listOrder(top));
  const entries = all.slice(0, query.limit).map((r) => r.entry);
  const matched = pages.reduce((sum, p) => sum + p.matched, 0);
  const last = all[Math.min(all.length, query.limit) - 1];
  const more = !top && last !== undefined && (all.length > query.limit || pages.some((p) => p.entries.length >= query.limit));
  return { entries, matched, ...(more ? { next: encodeCursor(last.raw, last.entry.worker ?? 0) } : {}) };
}
