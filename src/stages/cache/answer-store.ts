// The answer store and its policy: which answers may be kept and for how long (TTLs clamped,
// negative answers by the SOA minimum per RFC 2308), bounded by entry count and bytes (lru-cache),
// kept past expiry for the serve-stale window (RFC 8767), and indexed by name so a flush finds a
// name's entries without a scan. No I/O; the clock is injected.
import { LRUCache } from 'lru-cache';
import { Rcode } from '../../dns/constants.js';
import { encodeSections } from '../../dns/record-sections.js';
import { recordTtl, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord } from '../../dns/types.js';

export interface CachePolicy {
  maxEntries: number;
  maxBytes: number;
  minTtl: number;
  maxTtl: number;
  negativeMinTtl: number;
  negativeMaxTtl: number;
  serveStale: boolean;
  /** Seconds past expiry an entry may still be served stale. */
  staleMaxAge: number;
}

export interface CacheEntry {
  key: string;
  /** Answer as stored: TTLs already clamped, sections pre-encoded. */
  resolution: Resolution;
  storedAt: number;
  expiresAt: number;
  ttl: number;
  negative: boolean;
  hits: number;
  /** Last time a refresh of this entry failed (ms), for RFC 8767 stale-refresh. */
  refreshFailedAt?: number;
  /** The fresh answer as last served, reused while its age in seconds is unchanged. */
  view?: Resolution;
}

const clamp = (value: number, min: number, max: number): number => Math.min(Math.max(value, min), max);
const ENTRY_OVERHEAD_BYTES = 256;

function withTtl(record: DnsRecord, ttl: number): DnsRecord {
  return { ...record, ttl } as DnsRecord;
}

function soaOf(res: Resolution): DnsRecord | undefined {
  return res.authorities.find((rr) => rr.type === 'SOA');
}

/** NXDOMAIN, or NOERROR with no answer (NODATA): what RFC 2308 caches as a negative answer. */
export function isNegativeAnswer(res: Pick<Resolution, 'rcode' | 'answers'>): boolean {
  return res.rcode === Rcode.NXDOMAIN || (res.rcode === Rcode.NOERROR && res.answers.length === 0);
}

/** How long an answer may be cached and the records as stored; undefined when not cacheable. */
function cacheableForm(res: Resolution, policy: CachePolicy): { ttl: number; negative: boolean; resolution: Resolution } | undefined {
  // The Extended DNS Error the answer came with is kept with it (an unsupported ENS namespace, an
  // upstream's own EDE): a hit tells the client what the miss did.
  const base = { rcode: res.rcode, source: res.source, upstream: res.upstream, ...(res.ede ? { ede: res.ede } : {}) } as const;
  if (res.rcode === Rcode.NOERROR && res.answers.length > 0) {
    const fix = (rr: DnsRecord) => withTtl(rr, clamp(recordTtl(rr), policy.minTtl, policy.maxTtl));
    const answers = res.answers.map(fix);
    const ttl = Math.min(...answers.map(recordTtl));
    const resolution: Resolution = { ...base, answers, authorities: res.authorities.map(fix), additionals: res.additionals.map(fix) };
    return { ttl, negative: false, resolution };
  }
  if (isNegativeAnswer(res)) {
    const soa = soaOf(res);
    if (!soa || soa.type !== 'SOA') return undefined; // RFC 2308 5: no SOA, no negative caching
    const ttl = clamp(Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0), policy.negativeMinTtl, policy.negativeMaxTtl);
    const resolution: Resolution = { ...base, answers: [], authorities: [withTtl(soa, ttl)], additionals: [] };
    return { ttl, negative: true, resolution };
  }
  return undefined;
}

/** The name part of a cache key (the key without its type and class). */
export const nameKeyOfKey = (key: string): string => key.slice(0, -4);

/** A flush scanning the index yields to the event loop after this long (checked every FLUSH_CHECK names). */
const FLUSH_SLICE_MS = 2;
const FLUSH_CHECK = 256;

export class AnswerStore {
  private lru: LRUCache<string, CacheEntry>;
  /** name part of a key -> the keys (one per type and class) cached for it. */
  private byName = new Map<string, Set<string>>();

  constructor(
    readonly policy: CachePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = this.newLru();
  }

  private newLru(): LRUCache<string, CacheEntry> {
    const byName = this.byName;
    return new LRUCache<string, CacheEntry>({
      max: this.policy.maxEntries,
      maxSize: this.policy.maxBytes,
      sizeCalculation: (entry) => entry.resolution.encoded!.body.length + entry.key.length + ENTRY_OVERHEAD_BYTES,
      // Evicted, expired or deleted: out of the name index too (an overwrite keeps its key).
      dispose: (_entry, key, reason) => {
        if (reason === 'set') return;
        const nameKey = nameKeyOfKey(key);
        const keys = byName.get(nameKey);
        if (keys && keys.delete(key) && keys.size === 0) byName.delete(nameKey);
      },
    });
  }

  /** The entry for `key`, fresh or within the stale window; older entries are dropped. */
  get(key: string, now: number = this.now()): CacheEntry | undefined {
    const entry = this.lru.get(key);
    if (!entry) return undefined;
    const staleWindow = this.policy.serveStale ? this.policy.staleMaxAge * 1000 : 0;
    if (now > entry.expiresAt + staleWindow) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores an answer if the policy allows; returns the stored entry. */
  put(key: string, res: Resolution): CacheEntry | undefined {
    const form = cacheableForm(res, this.policy);
    if (!form) return undefined;
    const { resolution } = form;
    resolution.encoded = encodeSections(resolution.answers, resolution.authorities, resolution.additionals);
    const storedAt = this.now();
    const entry: CacheEntry = {
      key,
      resolution,
      storedAt,
      expiresAt: storedAt + form.ttl * 1000,
      ttl: form.ttl,
      negative: form.negative,
      hits: 0,
    };
    this.lru.set(key, entry);
    const nameKey = nameKeyOfKey(key);
    let keys = this.byName.get(nameKey);
    if (!keys) this.byName.set(nameKey, (keys = new Set()));
    keys.add(key);
    return entry;
  }

  /** Every entry cached for a name (each type and class), stale ones included. */
  entriesOfName(nameKey: string): CacheEntry[] {
    const entries: CacheEntry[] = [];
    for (const key of this.byName.get(nameKey) ?? []) {
      const entry = this.lru.peek(key);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /** Removes the entries of these names (negative ones only, if asked); the count removed (or, for a dry run, that would be). */
  removeNames(nameKeys: readonly string[], negativeOnly: boolean, dryRun = false): number {
    let removed = 0;
    for (const nameKey of nameKeys) {
      for (const key of [...(this.byName.get(nameKey) ?? [])]) {
        const entry = this.lru.peek(key);
        if (!entry || (negativeOnly && !entry.negative)) continue;
        if (dryRun || this.lru.delete(key)) removed++;
      }
    }
    return removed;
  }

  /**
   * Removes the entries of every name `matches` accepts (negative ones only, if asked); resolves to
   * the count removed. Scans the name index in slices of about 2 ms, yielding between them, so a
   * flush over a large cache never stalls the listeners. Everything, with negatives too, is dropped at once.
   */
  async removeWhere(matches: (nameKey: string) => boolean, negativeOnly: boolean, everything = false, dryRun = false): Promise<number> {
    if (everything && !negativeOnly) {
      if (dryRun) return this.lru.size;
      const removed = this.lru.size;
      this.byName = new Map();
      this.lru = this.newLru();
      return removed;
    }
    let removed = 0;
    let visited = 0;
    let sliceStart = performance.now();
    for (const nameKey of this.byName.keys()) {
      if (matches(nameKey)) removed += this.removeNames([nameKey], negativeOnly, dryRun);
      if (++visited % FLUSH_CHECK === 0 && performance.now() - sliceStart >= FLUSH_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return removed;
  }

  /** Names indexed (for tests and metrics). */
  get names(): number {
    return this.byName.size;
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

