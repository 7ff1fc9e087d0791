// The shapes every stage of the resolver speaks: a question, a resolution (records plus where they
// came from) and the pre-encoded form a cache keeps so a hit is a copy and a few patches.
import type { Answer } from 'dns-packet';

/** A resource record as dns-packet models it (never an OPT: EDNS is handled by the wire layer). */
export type DnsRecord = Answer;

export interface Question {
  /** Name without the trailing dot, exactly as asked (raw UTF-8 labels kept). */
  name: string;
  type: number;
  class: number;
  /** Cache key: the lower-cased wire name plus type and class, as a latin1 string. */
  key: string;
}

export interface ExtendedError {
  code: number;
  text: string;
}

/** Where an answer came from; transports and the API report it. */
export type AnswerSource = 'local' | 'cache' | 'stale' | 'upstream' | 'policy' | 'error';

/** Record sections encoded once, with the offsets of every TTL so they can be patched in place. */
export interface EncodedSections {
  body: Buffer;
  answerCount: number;
  authorityCount: number;
  additionalCount: number;
  ttlOffsets: Uint32Array;
  ttls: Uint32Array;
}

export interface Resolution {
  rcode: number;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  source: AnswerSource;
  /** Set when the answer is authoritative data of ours (local records, overrides). */
  authoritative?: boolean;
  ede?: ExtendedError;
  /** Which upstream answered (URL), when one did. */
  upstream?: string;
  /** Seconds to subtract from every TTL (cache age); `ttlOverride` wins when set (stale answers). */
  ttlAge?: number;
  ttlOverride?: number;
  encoded?: EncodedSections;
}
