// The answer store and its policy: which answers may be kept and for how long (TTLs clamped,
// negative answers by the SOA minimum per RFC 2308), bounded by entry count and bytes (lru-cache),
// and kept past expiry for the serve-stale window (RFC 8767). No I/O; the clock is injected.
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

/** How long an answer may be cached and the records as stored; undefined when not cacheable. */
function cacheableForm(res: Resolution, policy: CachePolicy): { ttl: number; negative: boolean; resolution: Resolution } | undefined {
  const base = { rcode: res.rcode, source: res.source, upstream: res.upstream } as const;
  if (res.rcode === Rcode.NOERROR && res.answers.length > 0) {
    const fix = (rr: DnsRecord) => withTtl(rr, clamp(recordTtl(rr), policy.minTtl, policy.maxTtl));
    const answers = res.answers.map(fix);
    const ttl = Math.min(...answers.map(recordTtl));
    const resolution: Resolution = { ...base, answers, authorities: res.authorities.map(fix), additionals: res.additionals.map(fix) };
    return { ttl, negative: false, resolution };
  }
  if (res.rcode === Rcode.NXDOMAIN || (res.rcode === Rcode.NOERROR && res.answers.length === 0)) {
    const soa = soaOf(res);
    if (!soa || soa.type !== 'SOA') return undefined; // RFC 2308 5: no SOA, no negative caching
    const ttl = clamp(Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0), policy.negativeMinTtl, policy.negativeMaxTtl);
    const resolution: Resolution = { ...base, answers: [], authorities: [withTtl(soa, ttl)], additionals: [] };
    return { ttl, negative: true, resolution };
  }
  return undefined;
}

export class AnswerStore {
  private readonly lru: LRUCache<string, CacheEntry>;

  constructor(
    readonly policy: CachePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new LRUCache<string, CacheEntry>({
      max: policy.maxEntries,
      maxSize: policy.maxBytes,
      sizeCalculation: (entry) => entry.resolution.encoded!.body.length + entry.key.length + ENTRY_OVERHEAD_BYTES,
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
    return entry;
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

