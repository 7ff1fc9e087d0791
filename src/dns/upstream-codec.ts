// The messages dnslinkd exchanges with upstream resolvers: an outgoing query carrying the
// question's name bytes exactly (EDNS0, no DO); an answer matched to it on its raw question bytes
// and decoded, each record read by dns-packet from its own exact wire form and keeping it (an
// answer whose records do not all parse is refused), the OPT pulled out into rcode bits and the EDE.
import * as dnsPacket from 'dns-packet';
import { DEFAULT_UDP_PAYLOAD, EDNS_OPTION_EDE, Flag, HEADER_SIZE, RRType } from './constants.js';
import { writeOpt } from './edns.js';
import { MAX_NAME_WIRE, sameWireName } from './names.js';
import { CodedError } from '../errors.js';
import { packetCodecs } from './dns-packet-internals.js';
import { withRecordWire, type RecordWire } from './record-sections.js';
import type { DnsRecord, ExtendedError, Question } from './types.js';

export interface DecodedResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  ede?: ExtendedError;
}

/** Encodes an outgoing query with EDNS0 (our payload size, no DO). */
export function encodeQuery(id: number, question: Question, payload = DEFAULT_UDP_PAYLOAD): Buffer {
  const name = question.nameWire;
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

/**
 * True when `buf` is a response to the query with `id` for `question`: QR set, one question whose
 * name bytes equal ours (ASCII case aside), same type and same class. Read from the raw bytes, so
 * the root, any class and any label byte match exactly.
 */
export function responseMatches(buf: Buffer, id: number, question: Question): boolean {
  if (buf.length < HEADER_SIZE || buf.readUInt16BE(0) !== id || (buf.readUInt16BE(2) & Flag.QR) === 0) return false;
  if (buf.readUInt16BE(4) !== 1) return false;
  const nameEnd = HEADER_SIZE + question.nameWire.length;
  if (nameEnd + 4 > buf.length || !sameWireName(buf.subarray(HEADER_SIZE, nameEnd), question.nameWire)) return false;
  return buf.readUInt16BE(nameEnd) === question.type && buf.readUInt16BE(nameEnd + 2) === question.class;
}

/** Reads the (possibly compressed) name at `offset`; returns it uncompressed and the offset past it. */
function readName(buf: Buffer, offset: number): { wire: Buffer; end: number } | undefined {
  const labels: Buffer[] = [];
  let length = 1;
  let end = -1;
  let at = offset;
  for (let jumps = 0; jumps < 128; ) {
    if (at >= buf.length) return undefined;
    const len = buf[at]!;
    if (len === 0) {
      labels.push(buf.subarray(at, at + 1));
      return { wire: Buffer.concat(labels, length), end: end < 0 ? at + 1 : end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= buf.length) return undefined;
      const target = buf.readUInt16BE(at) & 0x3fff;
      if (target >= at) return undefined; // pointers go back only
      if (end < 0) end = at + 2;
      at = target;
      jumps++;
      continue;
    }
    if ((len & 0xc0) !== 0 || at + 1 + len > buf.length) return undefined;
    length += len + 1;
    if (length > MAX_NAME_WIRE) return undefined;
    labels.push(buf.subarray(at, at + 1 + len));
    at += 1 + len;
  }
  return undefined;
}

/** How names sit in the rdata of the types whose names may be compressed: fixed bytes, names, strings. */
type RdataPart = { fixed: number } | 'name' | 'string';
const NAME_ONLY: RdataPart[] = ['name'];
const RDATA_LAYOUTS = new Map<number, RdataPart[]>([
  [RRType.NS, NAME_ONLY],
  [3, NAME_ONLY], // MD
  [4, NAME_ONLY], // MF
  [RRType.CNAME, NAME_ONLY],
  [7, NAME_ONLY], // MB
  [8, NAME_ONLY], // MG
  [9, NAME_ONLY], // MR
  [RRType.PTR, NAME_ONLY],
  [39, NAME_ONLY], // DNAME
  [RRType.SOA, ['name', 'name', { fixed: 20 }]],
  [14, ['name', 'name']], // MINFO
  [17, ['name', 'name']], // RP
  [RRType.MX, [{ fixed: 2 }, 'name']],
  [18, [{ fixed: 2 }, 'name']], // AFSDB
  [21, [{ fixed: 2 }, 'name']], // RT
  [36, [{ fixed: 2 }, 'name']], // KX
  [26, [{ fixed: 2 }, 'name', 'name']], // PX
  [RRType.SRV, [{ fixed: 6 }, 'name']],
  [35, [{ fixed: 4 }, 'string', 'string', 'string', 'name']], // NAPTR
]);

/** The rdata at [start, end) with its names uncompressed; undefined when it does not parse. */
function readRdata(buf: Buffer, type: number, start: number, end: number): Buffer | undefined {
  const layout = RDATA_LAYOUTS.get(type);
  if (!layout) return buf.subarray(start, end);
  const parts: Buffer[] = [];
  let at = start;
  for (const part of layout) {
    if (part === 'name') {
      const name = readName(buf, at);
      if (!name) return undefined;
      parts.push(name.wire);
      at = name.end;
    } else {
      const size = part === 'string' ? (at < end ? buf[at]! + 1 : -1) : part.fixed;
      if (size < 0 || at + size > end) return undefined;
      parts.push(buf.subarray(at, at + size));
      at += size;
    }
  }
  return at === end ? Buffer.concat(parts) : undefined;
}

interface SectionWires {
  answers: RecordWire[];
  authorities: RecordWire[];
  /** Without the OPT record, as DecodedResponse.additionals. */
  additionals: RecordWire[];
}

/** Every record of a message in wire form with names uncompressed; undefined when it does not parse. */
function readSectionWires(buf: Buffer): SectionWires | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  const counts = [buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)] as const;
  let at = HEADER_SIZE;
  for (let q = buf.readUInt16BE(4); q > 0; q--) {
    const name = readName(buf, at);
    if (!name) return undefined;
    at = name.end + 4;
  }
  const sections: RecordWire[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const owner = readName(buf, at);
      if (!owner || owner.end + 10 > buf.length) return undefined;
      const fixed = buf.subarray(owner.end, owner.end + 10);
      const type = fixed.readUInt16BE(0);
      const rdStart = owner.end + 10;
      const rdEnd = rdStart + fixed.readUInt16BE(8);
      if (rdEnd > buf.length) return undefined;
      at = rdEnd;
      if (type === RRType.OPT) continue;
      const rdata = readRdata(buf, type, rdStart, rdEnd);
      if (!rdata || rdata.length > 0xffff) return undefined;
      const head = Buffer.from(fixed);
      head.writeUInt16BE(rdata.length, 8);
      sections[s]!.push({ bytes: Buffer.concat([owner.wire, head, rdata]), ownerLength: owner.wire.length });
    }
  }
  return { answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]! };
}

/**
 * The record dns-packet reads from exactly `wire` (its names uncompressed), carrying it. Read from
 * its own bytes, not from the whole message: there a decoder that reads past its rdata (CAA's, on
 * a short one) sets the next record's owner, TTL or data from bytes that are not theirs, and the
 * records would no longer be what the wire form served says.
 */
function recordOf(wire: RecordWire): DnsRecord {
  const record = packetCodecs.answer.decode(wire.bytes, 0);
  if (packetCodecs.answer.decode.bytes !== wire.bytes.length) {
    throw new CodedError('UPSTREAM_BAD_RESPONSE', `malformed response: a ${record.type} record's data does not fill its length`);
  }
  return withRecordWire(record, wire);
}

/**
 * Decodes an upstream response: the header and the OPT (extended rcode, EDE) as dns-packet reads
 * the message, each record as dns-packet reads its own uncompressed wire form (recordOf). Throws
 * on what does not parse, including what dns-packet alone would accept (a record or an OPT past the
 * end of the message, rdata longer or shorter than its names and numbers): such an answer is dropped.
 */
export function decodeResponse(buf: Buffer): DecodedResponse {
  const wires = readSectionWires(buf);
  if (!wires) throw new CodedError('UPSTREAM_BAD_RESPONSE', 'malformed response: a name, a record or its rdata runs past its bounds');
  const packet = dnsPacket.decode(buf);
  let ede: ExtendedError | undefined;
  let extendedRcode = 0;
  for (const rr of packet.additionals ?? []) {
    if (rr.type !== 'OPT') continue;
    extendedRcode = (rr as { extendedRcode?: number }).extendedRcode ?? 0;
    for (const option of (rr as { options?: Array<{ code: number; data?: Buffer }> }).options ?? []) {
      if (option.code === EDNS_OPTION_EDE && option.data && option.data.length >= 2) {
        ede = { code: option.data.readUInt16BE(0), text: option.data.toString('utf8', 2) };
      }
    }
  }
  const flags = packet.flags ?? 0;
  return {
    id: packet.id ?? 0,
    rcode: ((extendedRcode << 4) | (flags & 0xf)) >>> 0,
    truncated: (flags & Flag.TC) !== 0,
    answers: wires.answers.map(recordOf),
    authorities: wires.authorities.map(recordOf),
    additionals: wires.additionals.map(recordOf),
    ede,
  };
}
