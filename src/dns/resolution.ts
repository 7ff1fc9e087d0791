// What a stage answers: the Resolution (records, rcode, where it came from, how old it is), the
// one list of answer sources, and the arithmetic every reader of a resolution shares (TTL left,
// the empty and internal-error answers). No I/O.
import { EdeCode, Rcode } from './constants.js';
import type { DnsRecord, EncodedSections, ExtendedError } from './types.js';

/**
 * Where an answer came from, one value per kind of stage answer. Lookups report it (the API's
 * `lookups[].source`); core/dnslink-service.ts maps each to what the resolution API calls it.
 */
export const ANSWER_SOURCES = ['policy', 'override', 'local', 'cache', 'stale', 'upstream', 'ens', 'ens-fallback', 'denylist', 'error'] as const;
export type AnswerSource = (typeof ANSWER_SOURCES)[number];

export interface Resolution {
  rcode: number;
  /**
   * The rcode every upstream answered when it is not the one served: FORMERR or NOTIMP, served as
   * SERVFAIL (they would blame the client's query). DNSLink reports it (DNS_RCODE_1, DNS_RCODE_4).
   */
  upstreamRcode?: number;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  source: AnswerSource;
  /**
   * Where a cached answer (source `cache` or `stale`) first came from (`upstream`, `ens`,
   * `ens-fallback`): the cache keeps it with the entry. Absent on answers that are not cached.
   */
  origin?: AnswerSource;
  /** Set when the answer is authoritative data of ours (local records, overrides). */
  authoritative?: boolean;
  ede?: ExtendedError;
  /** Which upstream answered (URL), when one did. */
  upstream?: string;
  /** Seconds to subtract from every TTL (cache age); `ttlOverride` wins when set (stale answers). */
  ttlAge?: number;
  ttlOverride?: number;
  /**
   * Seconds a stage's own negative answer without an SOA may be cached (a denylist block: the
   * cache stores it like any negative answer, within cache.negativeMinTtl..negativeMaxTtl).
   */
  negativeTtl?: number;
  encoded?: EncodedSections;
}

export function emptyResolution(rcode: number, source: AnswerSource): Resolution {
  return { rcode, answers: [], authorities: [], additionals: [], source };
}

/** SERVFAIL with EDE 0 saying what went wrong inside dnslinkd (a bug, never the client's input). */
export function internalErrorResolution(err: unknown): Resolution {
  const why = err instanceof Error ? err.message : String(err);
  return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.OTHER, text: `internal error: ${why}` } };
}

/** A record's TTL as stored (dns-packet leaves it optional). */
export function recordTtl(record: DnsRecord): number {
  return (record as { ttl?: number }).ttl ?? 0;
}

/** Seconds left of a TTL stored as `storedTtl`, as served for `res`: the override, or the stored TTL minus the age. */
export function remainingTtl(storedTtl: number, res: Pick<Resolution, 'ttlAge' | 'ttlOverride'>): number {
  if (res.ttlOverride !== undefined) return res.ttlOverride;
  const age = res.ttlAge ?? 0;
  return storedTtl > age ? storedTtl - age : 0;
}
