// The cache snapshot's file format: a versioned header with a CRC-32 over the body, then records
// (answer origins, defined once, and entries: key, encoded sections, store time, TTL, hits). Encodes
// into chunks as the store is walked and decodes a whole file with every length and count checked,
// so a truncated, corrupt, hostile or other-version file is refused with the reason. No I/O.
import { crc32 } from 'node:zlib';
import { ANSWER_SOURCES, type AnswerSource } from '../../dns/resolution.js';
import type { ExtendedError } from '../../dns/types.js';
import { MAX_RCODE, MAX_SECTION_RECORDS, type AnswerOrigin, type CacheEntry, type SavedEntry } from './answer-store.js';

/**
 * Header, 64 bytes, big-endian: magic (8), version (u32), header length (u32), entries (u32),
 * origins (u32), body length (u64), written at (f64, ms since the epoch), CRC-32 over the body then
 * the first 40 header bytes (u32), reserved (20). CRC-32 (zlib's) finds truncation and flipped
 * bytes at a fraction of sha256's cost; a file made to pass it is still refused unless every
 * record holds together (decodeRecords).
 */
export const SNAPSHOT_MAGIC = Buffer.from('DNSLKCSH', 'latin1');
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 64;
const HASHED_HEADER_BYTES = 40;
const CHECKSUM_AT = 40;

const ORIGIN_RECORD = 1;
const ENTRY_RECORD = 2;
/** An entry's fixed fields: tag, origin, storedAt, ttl, hits, rcode, negative, three counts, key and body lengths. */
const ENTRY_FIXED_BYTES = 1 + 4 + 8 + 4 + 4 + 2 + 1 + 2 + 2 + 2 + 2 + 2;
/** Texts (upstream, EDE text) longer than this are cut when written. */
const MAX_TEXT_BYTES = 0xffff;
/** A cache key: a wire name (at most 255 bytes) plus type and class. */
const MAX_KEY_BYTES = 255 + 4;
const MIN_KEY_BYTES = 1 + 4;
const MAX_TTL = 0x7fffffff;
const MAX_HITS = 0xffffffff;

/** A snapshot the reader refuses, and why (one line for the operator). */
export class SnapshotRejected extends Error {}

export interface SnapshotHeader {
  version: number;
  entries: number;
  origins: number;
  bodyBytes: number;
  writtenAt: number;
}

/**
 * Serialises entries (and the origins they name, each defined once) into a chunk buffer; the
 * caller writes a chunk out when `fits` says the next record does not fit, then `reset`s it.
 */
export class SnapshotEncoder {
  readonly chunk: Buffer;
  used = 0;
  entries = 0;
  private readonly originIds = new Map<AnswerOrigin, number>();
  private crc = 0;
  /** How much of the chunk is in `crc`. */
  private hashed = 0;
  bodyBytes = 0;

  constructor(chunkBytes: number) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** Bytes `entry` takes (its origin's definition too, when new). */
  sizeOf(entry: CacheEntry): number {
    const origin = this.originIds.has(entry.origin) ? 0 : originBytes(entry.origin);
    return origin + ENTRY_FIXED_BYTES + entry.key.length + entry.bodyLength;
  }

  fits(bytes: number): boolean {
    return this.used + bytes <= this.chunk.length;
  }

  /** Appends `entry` (only while the store holds it: its sections are read from its slab). */
  add(entry: CacheEntry): void {
    let id = this.originIds.get(entry.origin);
    if (id === undefined) {
      id = this.originIds.size;
      this.originIds.set(entry.origin, id);
      this.addOrigin(entry.origin);
    }
    const c = this.chunk;
    let at = this.used;
    at = c.writeUInt8(ENTRY_RECORD, at);
    at = c.writeUInt32BE(id, at);
    at = c.writeDoubleBE(entry.storedAt, at);
    at = c.writeUInt32BE(entry.ttl, at);
    at = c.writeUInt32BE(Math.min(entry.hits, MAX_HITS), at);
    at = c.writeUInt16BE(entry.rcode, at);
    at = c.writeUInt8(entry.negative ? 1 : 0, at);
    at = c.writeUInt16BE(entry.answerCount, at);
    at = c.writeUInt16BE(entry.authorityCount, at);
    at = c.writeUInt16BE(entry.additionalCount, at);
    const key = entry.key;
    at = c.writeUInt16BE(key.length, at);
    // A key is latin1 (one byte a character): copied by hand, cheaper than Buffer#write for ~30 bytes.
    for (let i = 0; i < key.length; i++) c[at + i] = key.charCodeAt(i);
    at += key.length;
    at = c.writeUInt16BE(entry.bodyLength, at);
    at += entry.slab.copy(c, at, entry.bodyStart, entry.bodyStart + entry.bodyLength);
    this.used = at;
    this.entries++;
  }

  private addOrigin(origin: AnswerOrigin): void {
    const c = this.chunk;
    let at = c.writeUInt8(ORIGIN_RECORD, this.used);
    at = c.writeUInt8(ANSWER_SOURCES.indexOf(origin.source), at);
    at = writeText(c, at, origin.upstream ?? '');
    at = c.writeUInt8(origin.ede ? 1 : 0, at);
    at = c.writeUInt16BE(origin.ede?.code ?? 0, at);
    at = writeText(c, at, origin.ede?.text ?? '');
    this.used = at;
  }

  /** Checksums the bytes encoded since the last call (spreads the work over the slices of a write). */
  hashEncoded(): void {
    if (this.hashed === this.used) return;
    this.crc = crc32(this.chunk.subarray(this.hashed, this.used), this.crc);
    this.hashed = this.used;
  }

  /** The bytes encoded since the last reset, hashed: write them out before `reset`. */
  take(): Buffer {
    this.hashEncoded();
    this.bodyBytes += this.used;
    return this.chunk.subarray(0, this.used);
  }

  reset(): void {
    this.used = 0;
    this.hashed = 0;
  }

  /** The header, once every chunk has been taken. */
  header(writtenAt: number): Buffer {
    const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
    SNAPSHOT_MAGIC.copy(header, 0);
    header.writeUInt32BE(SNAPSHOT_VERSION, 8);
    header.writeUInt32BE(SNAPSHOT_HEADER_BYTES, 12);
    header.writeUInt32BE(this.entries, 16);
    header.writeUInt32BE(this.originIds.size, 20);
    header.writeBigUInt64BE(BigInt(this.bodyBytes), 24);
    header.writeDoubleBE(writtenAt, 32);
    header.writeUInt32BE(crc32(header.subarray(0, HASHED_HEADER_BYTES), this.crc), CHECKSUM_AT);
    return header;
  }
}

function originBytes(origin: AnswerOrigin): number {
  return 1 + 1 + 2 + textBytes(origin.upstream ?? '') + 1 + 2 + 2 + textBytes(origin.ede?.text ?? '');
}

function textBytes(text: string): number {
  return Math.min(Buffer.byteLength(text), MAX_TEXT_BYTES);
}

function writeText(buf: Buffer, at: number, text: string): number {
  const bytes = Buffer.from(text).subarray(0, MAX_TEXT_BYTES);
  at = buf.writeUInt16BE(bytes.length, at);
  return at + bytes.copy(buf, at);
}

/** Reads and checks the header of a whole snapshot file, and its checksum; throws SnapshotRejected saying why. */
export function readHeader(file: Buffer): SnapshotHeader {
  if (file.length < SNAPSHOT_HEADER_BYTES) throw new SnapshotRejected(`truncated: ${file.length} bytes, shorter than the ${SNAPSHOT_HEADER_BYTES}-byte header`);
  if (!file.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw new SnapshotRejected('not a dnslinkd cache snapshot (wrong magic bytes)');
  const version = file.readUInt32BE(8);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotRejected(`format version ${version}, this dnslinkd reads version ${SNAPSHOT_VERSION}`);
  if (file.readUInt32BE(12) !== SNAPSHOT_HEADER_BYTES) throw new SnapshotRejected('corrupt header (header length)');
  const bodyBytes = Number(file.readBigUInt64BE(24));
  const present = file.length - SNAPSHOT_HEADER_BYTES;
  if (bodyBytes > present) throw new SnapshotRejected(`truncated: ${present} of ${bodyBytes} body bytes`);
  if (bodyBytes < present) throw new SnapshotRejected(`corrupt: ${present - bodyBytes} bytes past the end of the body`);
  const checksum = crc32(file.subarray(0, HASHED_HEADER_BYTES), crc32(file.subarray(SNAPSHOT_HEADER_BYTES)));
  if (checksum !== file.readUInt32BE(CHECKSUM_AT)) throw new SnapshotRejected('corrupt: checksum mismatch');
  return { version, entries: file.readUInt32BE(16), origins: file.readUInt32BE(20), bodyBytes, writtenAt: file.readDoubleBE(32) };
}

/** How often (entries) a decode asks whether to yield to the event loop. */
const YIELD_CHECK_EVERY = 256;

/**
 * Decodes the records of a checked file (`readHeader` first), handing each entry to `take` (one
 * object, filled anew for each: read it at once); every
 * few hundred entries, yields to the event loop when `shouldYield` says so. Throws SnapshotRejected
 * on the first record that does not hold together (lengths, counts, names, sections walked to their end).
 */
export async function decodeRecords(file: Buffer, header: SnapshotHeader, take: (entry: SavedEntry) => void, shouldYield: () => boolean = () => false): Promise<void> {
  const origins: AnswerOrigin[] = [];
  const sources = ANSWER_SOURCES as readonly AnswerSource[];
  let entries = 0;
  let at = SNAPSHOT_HEADER_BYTES;
  const end = file.length;
  const need = (bytes: number, what: string) => {
    if (at + bytes > end) throw new SnapshotRejected(`corrupt: ${what} at byte ${at} runs past the end`);
  };
  const text = (what: string): string => {
    need(2, what);
    const length = file.readUInt16BE(at);
    need(2 + length, what);
    at += 2 + length;
    return file.toString('utf8', at - length, at);
  };
  // One object handed to `take` for every entry (read at once, never kept): no garbage per entry.
  const saved: SavedEntry = { key: '', bytes: file, bodyStart: 0, bodyLength: 0, rcode: 0, negative: false, origin: undefined as unknown as AnswerOrigin, storedAt: 0, ttl: 0, hits: 0, answerCount: 0, authorityCount: 0, additionalCount: 0 };
  while (at < end) {
    const tag = file[at]!;
    if (tag === ORIGIN_RECORD) {
      if (origins.length >= header.origins) throw new SnapshotRejected(`corrupt: more origins than the header's ${header.origins}`);
      need(2, 'an origin');
      const source = sources[file[at + 1]!];
      if (!source) throw new SnapshotRejected(`corrupt: unknown answer source ${file[at + 1]} at byte ${at}`);
      at += 2;
      const upstream = text('an upstream');
      need(3, 'an EDE');
      const hasEde = file[at] === 1;
      const code = file.readUInt16BE(at + 1);
      at += 3;
      const edeText = text('an EDE text');
      const ede: ExtendedError | undefined = hasEde ? { code, text: edeText } : undefined;
      origins.push({ source, upstream: upstream || undefined, ede });
    } else if (tag === ENTRY_RECORD) {
      if (entries >= header.entries) throw new SnapshotRejected(`corrupt: more entries than the header's ${header.entries}`);
      need(ENTRY_FIXED_BYTES - 2, 'an entry');
      const record = at;
      const origin = origins[file.readUInt32BE(at + 1)];
      if (!origin) throw new SnapshotRejected(`corrupt: entry at byte ${record} names an undefined origin`);
      const storedAt = file.readDoubleBE(at + 5);
      const ttl = file.readUInt32BE(at + 13);
      const hits = file.readUInt32BE(at + 17);
      const rcode = file.readUInt16BE(at + 21);
      const negative = file[at + 23]!;
      const answerCount = file.readUInt16BE(at + 24);
      const authorityCount = file.readUInt16BE(at + 26);
      const additionalCount = file.readUInt16BE(at + 28);
      const keyLength = file.readUInt16BE(at + 30);
      at += 32;
      if (!Number.isFinite(storedAt) || ttl > MAX_TTL || rcode > MAX_RCODE || negative > 1) throw new SnapshotRejected(`corrupt: entry at byte ${record} has out-of-range fields`);
      if (answerCount > MAX_SECTION_RECORDS || authorityCount > MAX_SECTION_RECORDS || additionalCount > MAX_SECTION_RECORDS) throw new SnapshotRejected(`corrupt: entry at byte ${record} has too many records`);
      if (keyLength < MIN_KEY_BYTES || keyLength > MAX_KEY_BYTES) throw new SnapshotRejected(`corrupt: entry at byte ${record} has a key of ${keyLength} bytes`);
      need(keyLength + 2, 'a key');
      if (nameEnd(file, at, at + keyLength - 4) !== at + keyLength - 4) throw new SnapshotRejected(`corrupt: entry at byte ${record} has a key that is no wire name`);
      const key = file.toString('latin1', at, at + keyLength);
      at += keyLength;
      const bodyLength = file.readUInt16BE(at);
      at += 2;
      need(bodyLength, 'the sections');
      if (!sectionsHoldTogether(file, at, at + bodyLength, answerCount + authorityCount + additionalCount)) throw new SnapshotRejected(`corrupt: entry at byte ${record} has sections that do not parse`);
      saved.key = key;
      saved.bodyStart = at;
      saved.bodyLength = bodyLength;
      saved.rcode = rcode;
      saved.negative = negative === 1;
      saved.origin = origin;
      saved.storedAt = storedAt;
      saved.ttl = ttl;
      saved.hits = hits;
      saved.answerCount = answerCount;
      saved.authorityCount = authorityCount;
      saved.additionalCount = additionalCount;
      at += bodyLength;
      entries++;
      take(saved);
      if (entries % YIELD_CHECK_EVERY === 0 && shouldYield()) await new Promise<void>((resolve) => setImmediate(resolve));
    } else {
      throw new SnapshotRejected(`corrupt: unknown record ${tag} at byte ${at}`);
    }
  }
  if (entries !== header.entries || origins.length !== header.origins) {
    throw new SnapshotRejected(`corrupt: ${entries} entries and ${origins.length} origins, the header says ${header.entries} and ${header.origins}`);
  }
}

/** The offset just past the uncompressed wire name at `at` (labels of 1-63 bytes, 255 bytes in all), or -1. */
function nameEnd(buf: Buffer, at: number, end: number): number {
  const start = at;
  while (at < end) {
    const length = buf[at]!;
    if (length === 0) return at + 1 - start > 255 ? -1 : at + 1;
    if (length > 63) return -1;
    at += length + 1;
  }
  return -1;
}

/** Whether bytes [start, end) are exactly `records` resource records (owner name, type, class, TTL, RDLENGTH, RDATA), names uncompressed. */
function sectionsHoldTogether(bytes: Buffer, start: number, end: number, records: number): boolean {
  let at = start;
  for (let i = 0; i < records; i++) {
    at = nameEnd(bytes, at, end);
    if (at < 0 || at + 10 > end) return false;
    at += 10 + bytes.readUInt16BE(at + 8);
    if (at > end) return false;
  }
  return at === end;
}
