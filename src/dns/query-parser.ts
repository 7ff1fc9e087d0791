// The hot path in: parses a query's header, its one question and its OPT record without a full
// decode, and takes the cache key straight from the question bytes. The name string is decoded
// only when a stage asks for it, which a cache hit does not.
import { Flag, HEADER_SIZE, RRType } from './constants.js';
import { decodeName, keyFromWire, MAX_LABEL, MAX_NAME_WIRE } from './names.js';
import type { Question } from './types.js';

export interface EdnsInfo {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface WireQuery extends Question {
  id: number;
  /** Raw header flags word of the query. */
  flags: number;
  opcode: number;
  /** Offset just past the question section. */
  questionEnd: number;
  edns: EdnsInfo | null;
  packet: Buffer;
}

export type ParseResult =
  | { ok: true; query: WireQuery }
  | { ok: false; action: 'drop' }
  | { ok: false; action: 'formerr'; id: number; flags: number; reason: string };

const DROP: ParseResult = { ok: false, action: 'drop' };

function formerr(packet: Buffer, reason: string): ParseResult {
  return { ok: false, action: 'formerr', id: packet.readUInt16BE(0), flags: packet.readUInt16BE(2), reason };
}

/** Reads an uncompressed name at `offset`; returns the offset past it or -1 when malformed. */
function skipQueryName(packet: Buffer, offset: number): number {
  let total = 0;
  for (;;) {
    if (offset >= packet.length) return -1;
    const len = packet[offset]!;
    if (len === 0) return offset + 1;
    if (len > MAX_LABEL) return -1; // compression pointers are not allowed in a query's question
    total += len + 1;
    if (total + 1 > MAX_NAME_WIRE) return -1;
    offset += len + 1;
  }
}

/** Skips any (possibly compressed) name; returns the offset past it or -1. */
function skipAnyName(packet: Buffer, offset: number): number {
  for (;;) {
    if (offset >= packet.length) return -1;
    const len = packet[offset]!;
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2 <= packet.length ? offset + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    offset += len + 1;
  }
}

/** A parsed query; the name string is decoded only when a stage asks for it (not on cache hits). */
class ParsedWireQuery implements WireQuery {
  readonly id: number;
  readonly opcode: number;
  readonly key: string;
  readonly class: number;
  private decodedName: string | undefined;

  constructor(
    readonly packet: Buffer,
    readonly flags: number,
    private readonly nameEnd: number,
    readonly type: number,
    klass: number,
    readonly questionEnd: number,
    readonly edns: EdnsInfo | null,
  ) {
    this.id = packet.readUInt16BE(0);
    this.opcode = (flags >> 11) & 0xf;
    this.class = klass;
    this.key = keyFromWire(packet, HEADER_SIZE, questionEnd);
  }

  get name(): string {
    this.decodedName ??= decodeName(this.packet, HEADER_SIZE, this.nameEnd);
    return this.decodedName;
  }

  get nameWire(): Buffer {
    return this.packet.subarray(HEADER_SIZE, this.nameEnd);
  }
}

/**
 * Parses a query packet. Shorter than a header, or a response (QR=1): dropped. Header readable but
 * the rest broken: FORMERR. Exactly one question is required (RFC 9619).
 */
export function parseQuery(packet: Buffer): ParseResult {
  if (packet.length < HEADER_SIZE) return DROP;
  const flags = packet.readUInt16BE(2);
  if (flags & Flag.QR) return DROP;
  const qdcount = packet.readUInt16BE(4);
  if (qdcount !== 1) return formerr(packet, `expected 1 question, got ${qdcount}`);
  const nameEnd = skipQueryName(packet, HEADER_SIZE);
  if (nameEnd < 0 || nameEnd + 4 > packet.length) return formerr(packet, 'malformed question');
  const type = packet.readUInt16BE(nameEnd);
  const klass = packet.readUInt16BE(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  let edns: EdnsInfo | null = null;
  const skipCount = packet.readUInt16BE(6) + packet.readUInt16BE(8);
  const arcount = packet.readUInt16BE(10);
  let offset = questionEnd;
  for (let i = 0; i < skipCount + arcount; i++) {
    const rrNameStart = offset;
    offset = skipAnyName(packet, offset);
    if (offset < 0 || offset + 10 > packet.length) return formerr(packet, 'malformed record section');
    const rrType = packet.readUInt16BE(offset);
    const rdlength = packet.readUInt16BE(offset + 8);
    if (i >= skipCount && rrType === RRType.OPT) {
      if (edns !== null) return formerr(packet, 'more than one OPT record');
      if (packet[rrNameStart] !== 0) return formerr(packet, 'OPT owner is not the root');
      edns = {
        udpSize: packet.readUInt16BE(offset + 2),
        version: packet[offset + 5]!,
        dnssecOk: (packet.readUInt16BE(offset + 6) & 0x8000) !== 0,
      };
    }
    offset += 10 + rdlength;
    if (offset > packet.length) return formerr(packet, 'record data past end of packet');
  }

  const query = new ParsedWireQuery(packet, flags, nameEnd, type, klass, questionEnd, edns);
  return { ok: true, query };
}
