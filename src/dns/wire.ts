// DNS wire format for the hot path: parse a query's header, question and OPT without a full
// decode, derive the cache key from the raw bytes, and assemble responses from pre-encoded record
// sections (ID, flags and TTLs patched in place). Upstream messages are decoded by dns-packet.
import * as dnsPacket from 'dns-packet';
import {
  DEFAULT_UDP_PAYLOAD,
  EDNS_OPTION_EDE,
  Flag,
  MIN_UDP_PAYLOAD,
  RRType,
  Rcode,
} from './constants.js';
import { packetCodecs, packetTypes } from './dns-packet-internals.js';
import type { DnsRecord, EncodedSections, ExtendedError, Question, Resolution } from './types.js';

export const HEADER_SIZE = 12;
const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
const MAX_TXT_STRING = 255;

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

function decodeLabels(packet: Buffer, start: number, end: number): string {
  if (end - start === 1) return '';
  let name = '';
  let offset = start;
  while (offset < end - 1) {
    const len = packet[offset]!;
    if (name.length > 0) name += '.';
    name += packet.toString('utf8', offset + 1, offset + 1 + len);
    offset += len + 1;
  }
  return name;
}

/** Cache key from wire bytes: ASCII-lower-cased name, then type and class, as latin1. */
function keyFromWire(packet: Buffer, start: number, end: number): string {
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = packet[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      upper = true;
      break;
    }
  }
  if (!upper) return packet.toString('latin1', start, end);
  const lowered = Buffer.from(packet.subarray(start, end));
  lowerAsciiInPlace(lowered, 0, end - start - 4);
  return lowered.toString('latin1');
}

function lowerAsciiInPlace(buf: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) buf[i] = c + 0x20;
  }
}

/** Encodes a presentation name (no escapes, raw UTF-8 labels) to wire; throws on a bad label. */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed.length === 0 ? [] : trimmed.split('.');
  const parts: Buffer[] = [];
  let total = 1;
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > MAX_LABEL) {
      throw new RangeError(`invalid label length ${bytes.length} in name "${name}"`);
    }
    parts.push(Buffer.from([bytes.length]), bytes);
    total += bytes.length + 1;
  }
  if (total > MAX_NAME_WIRE) throw new RangeError(`name "${name}" is longer than 255 bytes on the wire`);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts, total);
}

/** The cache key of a question given by name (must equal the key derived from wire bytes). */
export function questionKey(name: string, type: number, klass: number): string {
  const wire = encodeName(name);
  const buf = Buffer.allocUnsafe(wire.length + 4);
  wire.copy(buf, 0);
  lowerAsciiInPlace(buf, 0, wire.length);
  buf.writeUInt16BE(type, wire.length);
  buf.writeUInt16BE(klass, wire.length + 2);
  return buf.toString('latin1');
}

export function makeQuestion(name: string, type: number, klass = 1): Question {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return { name: bare, type, class: klass, key: questionKey(bare, type, klass) };
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
    this.decodedName ??= decodeLabels(this.packet, HEADER_SIZE, this.nameEnd);
    return this.decodedName;
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

/** Splits TXT strings longer than 255 bytes into 255-byte strings (dns-packet writes them broken). */
export function splitTxtStrings(data: string | Buffer | Array<string | Buffer>): Buffer[] {
  const items = Array.isArray(data) ? data : [data];
  const out: Buffer[] = [];
  for (const item of items) {
    const bytes = typeof item === 'string' ? Buffer.from(item, 'utf8') : item;
    if (bytes.length === 0) out.push(bytes);
    for (let i = 0; i < bytes.length; i += MAX_TXT_STRING) out.push(bytes.subarray(i, i + MAX_TXT_STRING));
  }
  return out;
}

/** The strings of one TXT record concatenated and decoded as UTF-8 (the DNSLink reading). */
export function joinTxtStrings(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) {
    return Buffer.concat(data.map((d) => (Buffer.isBuffer(d) ? d : Buffer.from(String(d), 'utf8')))).toString('utf8');
  }
  return '';
}

export function recordTtl(record: DnsRecord): number {
  return (record as { ttl?: number }).ttl ?? 0;
}

function normalizeRecord(record: DnsRecord): DnsRecord {
  if (record.type === 'TXT') {
    return { ...record, data: splitTxtStrings(record.data as string | Buffer | Array<string | Buffer>) };
  }
  return record;
}

/** Encodes answer, authority and additional records once, recording each TTL's offset. */
export function encodeSections(answers: DnsRecord[], authorities: DnsRecord[], additionals: DnsRecord[]): EncodedSections {
  const all = [...answers, ...authorities, ...additionals].map(normalizeRecord);
  let size = 0;
  for (const record of all) size += packetCodecs.answer.encodingLength(record);
  const body = Buffer.alloc(size);
  const ttlOffsets = new Uint32Array(all.length);
  const ttls = new Uint32Array(all.length);
  let offset = 0;
  all.forEach((record, i) => {
    encodeName(record.name); // validates labels: dns-packet would silently corrupt a long one
    packetCodecs.answer.encode(record, body, offset);
    ttlOffsets[i] = offset + packetCodecs.name.encodingLength(record.name) + 4;
    ttls[i] = recordTtl(record);
    offset += packetCodecs.answer.encode.bytes;
  });
  return {
    body,
    answerCount: answers.length,
    authorityCount: authorities.length,
    additionalCount: additionals.length,
    ttlOffsets,
    ttls,
  };
}

export function encodedSectionsOf(res: Resolution): EncodedSections {
  if (!res.encoded) res.encoded = encodeSections(res.answers, res.authorities, res.additionals);
  return res.encoded;
}

function optSize(ede: ExtendedError | undefined): number {
  return 11 + (ede ? 6 + Buffer.byteLength(ede.text, 'utf8') : 0);
}

function writeOpt(out: Buffer, offset: number, payload: number, rcode: number, ede: ExtendedError | undefined): number {
  out[offset] = 0;
  out.writeUInt16BE(RRType.OPT, offset + 1);
  out.writeUInt16BE(payload, offset + 3);
  out[offset + 5] = (rcode >> 4) & 0xff; // extended rcode, upper 8 bits
  out[offset + 6] = 0; // version
  out.writeUInt16BE(0, offset + 7); // DO=0: we do not return DNSSEC records
  if (!ede) {
    out.writeUInt16BE(0, offset + 9);
    return offset + 11;
  }
  const textLen = out.write(ede.text, offset + 17, 'utf8');
  out.writeUInt16BE(6 + textLen, offset + 9);
  out.writeUInt16BE(EDNS_OPTION_EDE, offset + 11);
  out.writeUInt16BE(2 + textLen, offset + 13);
  out.writeUInt16BE(ede.code, offset + 15);
  return offset + 17 + textLen;
}

export interface ResponseOptions {
  /** Largest message the client accepts (UDP), or undefined for stream transports. */
  sizeLimit?: number;
  /** Payload size we advertise in our OPT. */
  advertisedPayload?: number;
}

/** The UDP size limit for a query: 512 without EDNS, else the client's size within our own. */
export function udpSizeLimit(query: WireQuery, ourPayload: number): number {
  if (!query.edns) return MIN_UDP_PAYLOAD;
  return Math.max(MIN_UDP_PAYLOAD, Math.min(query.edns.udpSize, ourPayload));
}

/**
 * Builds the response to `query` from a resolution: header patched from the query, the client's
 * own question bytes, the pre-encoded sections with TTLs aged, and an OPT when the client sent one.
 */
export function buildResponse(query: WireQuery, res: Resolution, options: ResponseOptions = {}): Buffer {
  const sections = encodedSectionsOf(res);
  const questionLen = query.questionEnd - HEADER_SIZE;
  const rcode = res.rcode;
  const ede = query.edns ? res.ede : undefined;
  const opt = query.edns ? optSize(ede) : 0;
  let total = HEADER_SIZE + questionLen + sections.body.length + opt;
  const truncated = options.sizeLimit !== undefined && total > options.sizeLimit;
  if (truncated) total = HEADER_SIZE + questionLen + opt;

  const out = Buffer.allocUnsafe(total);
  out.writeUInt16BE(query.id, 0);
  let flags = Flag.QR | (query.flags & (0x7800 | Flag.RD | Flag.CD)) | Flag.RA | (rcode & 0xf);
  if (res.authoritative) flags |= Flag.AA;
  if (truncated) flags |= Flag.TC;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
  let offset = query.questionEnd;
  if (truncated) {
    out.writeUInt32BE(0, 6);
    out.writeUInt16BE(opt ? 1 : 0, 10);
  } else {
    out.writeUInt16BE(sections.answerCount, 6);
    out.writeUInt16BE(sections.authorityCount, 8);
    out.writeUInt16BE(sections.additionalCount + (opt ? 1 : 0), 10);
    sections.body.copy(out, offset);
    const age = res.ttlAge ?? 0;
    const override = res.ttlOverride;
    if (age !== 0 || override !== undefined) {
      const { ttlOffsets, ttls } = sections;
      for (let i = 0; i < ttlOffsets.length; i++) {
        const ttl = override ?? (ttls[i]! > age ? ttls[i]! - age : 0);
        out.writeUInt32BE(ttl, offset + ttlOffsets[i]!);
      }
    }
    offset += sections.body.length;
  }
  if (opt) writeOpt(out, offset, options.advertisedPayload ?? DEFAULT_UDP_PAYLOAD, rcode, ede);
  return out;
}

/** A bare error response (FORMERR, NOTIMP, BADVERS...) echoing the question when it is readable. */
export function buildErrorResponse(
  id: number,
  queryFlags: number,
  rcode: number,
  question?: { packet: Buffer; end: number },
  edns?: { payload: number; ede?: ExtendedError },
): Buffer {
  const questionLen = question ? question.end - HEADER_SIZE : 0;
  const opt = edns ? optSize(edns.ede) : 0;
  const out = Buffer.alloc(HEADER_SIZE + questionLen + opt);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(Flag.QR | (queryFlags & (0x7800 | Flag.RD | Flag.CD)) | Flag.RA | (rcode & 0xf), 2);
  out.writeUInt16BE(question ? 1 : 0, 4);
  out.writeUInt16BE(edns ? 1 : 0, 10);
  if (question) question.packet.copy(out, HEADER_SIZE, HEADER_SIZE, question.end);
  if (edns) writeOpt(out, HEADER_SIZE + questionLen, edns.payload, rcode, edns.ede);
  return out;
}

export interface DecodedResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  question?: { name: string; type: number; class: number };
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  ede?: ExtendedError;
}

/** A record type by number or mnemonic (`TXT`, `TYPE65`); 0 when unknown. */
export function typeNumber(type: string | number): number {
  if (typeof type === 'number') return type;
  const m = /^TYPE(\d+)$/i.exec(type);
  if (m) return Number(m[1]);
  return packetTypes.toType(type.toUpperCase());
}

/** Decodes an upstream response with dns-packet; OPT is pulled out of the additional section. */
export function decodeResponse(buf: Buffer): DecodedResponse {
  const packet = dnsPacket.decode(buf);
  const q = packet.questions?.[0];
  const additionals: DnsRecord[] = [];
  let ede: ExtendedError | undefined;
  let extendedRcode = 0;
  for (const rr of packet.additionals ?? []) {
    if (rr.type === 'OPT') {
      extendedRcode = (rr as { extendedRcode?: number }).extendedRcode ?? 0;
      for (const option of (rr as { options?: Array<{ code: number; data?: Buffer }> }).options ?? []) {
        if (option.code === EDNS_OPTION_EDE && option.data && option.data.length >= 2) {
          ede = { code: option.data.readUInt16BE(0), text: option.data.toString('utf8', 2) };
        }
      }
    } else {
      additionals.push(rr);
    }
  }
  const flags = packet.flags ?? 0;
  return {
    id: packet.id ?? 0,
    rcode: ((extendedRcode << 4) | (flags & 0xf)) >>> 0,
    truncated: (flags & Flag.TC) !== 0,
    question: q ? { name: q.name, type: typeNumber(q.type), class: q.class === 'IN' || q.class === undefined ? 1 : 255 } : undefined,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
    additionals,
    ede,
  };
}

/** Encodes an outgoing query with EDNS0 (our payload size, no DO). */
export function encodeQuery(id: number, question: Question, payload = DEFAULT_UDP_PAYLOAD): Buffer {
  const name = encodeName(question.name);
  const out = Buffer.alloc(HEADER_SIZE + name.length + 4 + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(Flag.RD, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  name.copy(out, HEADER_SIZE);
  let offset = HEADER_SIZE + name.length;
  out.writeUInt16BE(question.type, offset);
  out.writeUInt16BE(question.class, offset + 2);
  offset += 4;
  writeOpt(out, offset, payload, 0, undefined);
  return out;
}

export { Rcode };
