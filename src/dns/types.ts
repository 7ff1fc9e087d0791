// The DNS shapes the codec and every stage share: a question, a resource record, an Extended DNS
// Error, and the pre-encoded record sections a cached answer keeps so a hit is a copy and a few
// patches. What a stage answers (a Resolution) is in resolution.ts.
import type { Answer } from 'dns-packet';

/** A resource record as dns-packet models it (never an OPT: EDNS is handled by the codec). */
export type DnsRecord = Answer;

export interface Question {
  /**
   * Name without the trailing dot, for reading (logs, APIs, DNSLink): labels decoded as UTF-8 and
   * joined with dots, so bytes that are not UTF-8 and dots inside a label do not survive it.
   */
  name: string;
  /** The name in wire form exactly as asked (every label byte, the root byte): what is forwarded. */
  nameWire: Buffer;
  type: number;
  class: number;
  /** Cache key: the lower-cased wire name plus type and class, as a latin1 string. */
  key: string;
}

export interface ExtendedError {
  code: number;
  text: string;
}

/**
 * Record sections encoded once, names uncompressed, so a response copies them and patches TTLs in
 * place. `ttlOffsets` may be computed on demand by walking `body` (a cached answer keeps
 * no table of them); responses find the TTLs by walking the copied records.
 */
export interface EncodedSections {
  /** The sections' bytes (a view made on demand when they sit in a slab). */
  readonly body: Buffer;
  /**
   * Set when the sections sit in a shared slab (cached answers): they are `bodyLength` bytes at
   * `bodyStart` of it, and responses copy them from there without making a view.
   */
  readonly slab?: Buffer;
  readonly bodyStart?: number;
  readonly bodyLength?: number;
  answerCount: number;
  authorityCount: number;
  additionalCount: number;
  readonly ttlOffsets: Uint32Array;
}
