// Pre-encoding of a resolution's record sections: encoded once (when cached or first served),
// with the offset of every TTL recorded so a response can patch TTLs in place instead of encoding.
// A record that carries its exact wire form (an upstream's, or an owner name as the client asked
// it) is written from those bytes, so names pass through byte for byte.
import { packetCodecs } from './dns-packet-internals.js';
import { encodeName } from './names.js';
import { recordTtl, type Resolution } from './resolution.js';
import { splitTxtStrings } from './txt-strings.js';
import type { DnsRecord, EncodedSections } from './types.js';

/** Where a record keeps its exact wire form (it survives object spread, as TTL changes make). */
const RECORD_WIRE = Symbol('dnslinkd.recordWire');

/** One resource record as it goes on the wire, names uncompressed; `ownerLength` bytes of owner name first. */
export interface RecordWire {
  bytes: Buffer;
  ownerLength: number;
}

type WithWire = { [RECORD_WIRE]?: RecordWire };

/** The exact wire form `record` carries, if any. */
export function recordWireOf(record: DnsRecord): RecordWire | undefined {
  return (record as WithWire)[RECORD_WIRE];
}

/** `record` carrying its exact wire form. */
export function withRecordWire(record: DnsRecord, wire: RecordWire): DnsRecord {
  return Object.assign({ ...record }, { [RECORD_WIRE]: wire });
}

/** `record` with `ownerWire` as its owner name on the wire (e.g. the question's name, byte for byte). */
export function withOwnerWire(record: DnsRecord, ownerWire: Buffer): DnsRecord {
  const atRoot = normalizeRecord({ ...record, name: '.' });
  const encoded = packetCodecs.answer.encode(atRoot, Buffer.alloc(packetCodecs.answer.encodingLength(atRoot)), 0);
  // The root owner is one zero byte: everything after it is type, class, TTL and rdata.
  return withRecordWire(record, { bytes: Buffer.concat([ownerWire, encoded.subarray(1)]), ownerLength: ownerWire.length });
}

function normalizeRecord(record: DnsRecord): DnsRecord {
  if (record.type === 'TXT') {
    return { ...record, data: splitTxtStrings(record.data as string | Buffer | Array<string | Buffer>) };
  }
  return record;
}

/** Encodes answer, authority and additional records once, recording each TTL's offset. */
export function encodeSections(answers: DnsRecord[], authorities: DnsRecord[], additionals: DnsRecord[]): EncodedSections {
  const all = [...answers, ...authorities, ...additionals].map((record) => (recordWireOf(record) ? record : normalizeRecord(record)));
  let size = 0;
  for (const record of all) size += recordWireOf(record)?.bytes.length ?? packetCodecs.answer.encodingLength(record);
  const body = Buffer.alloc(size);
  const ttlOffsets = new Uint32Array(all.length);
  let offset = 0;
  all.forEach((record, i) => {
    const ttl = recordTtl(record);
    const wire = recordWireOf(record);
    if (wire) {
      wire.bytes.copy(body, offset);
      ttlOffsets[i] = offset + wire.ownerLength + 4;
      body.writeUInt32BE(ttl, ttlOffsets[i]!);
      offset += wire.bytes.length;
    } else {
      encodeName(record.name); // validates labels: dns-packet would silently corrupt a long one
      packetCodecs.answer.encode(record, body, offset);
      ttlOffsets[i] = offset + packetCodecs.name.encodingLength(record.name) + 4;
      offset += packetCodecs.answer.encode.bytes;
    }
  });
  return {
    body,
    answerCount: answers.length,
    authorityCount: authorities.length,
    additionalCount: additionals.length,
    ttlOffsets,
  };
}

/**
 * The offset of the TTL of the record at `at` in `body`: past its owner name (labels up to the
 * root byte, or up to a compression pointer, which our sections never hold), type and class.
 */
export function ttlOffsetOf(body: Uint8Array, at: number): number {
  for (let len = body[at]!; len !== 0; len = body[at]!) {
    if ((len & 0xc0) === 0xc0) return at + 2 + 4;
    at += len + 1;
  }
  return at + 1 + 4;
}

/** The offset just past the record whose TTL is at `ttlAt` (TTL, RDLENGTH, RDATA). */
export function recordEndAfterTtl(body: Uint8Array, ttlAt: number): number {
  return ttlAt + 6 + ((body[ttlAt + 4]! << 8) | body[ttlAt + 5]!);
}

/**
 * The smallest stored TTL of the first `count` records of the sections (answers first, then
 * authorities), read where a walk of their bytes finds them: nothing allocated (a DoH hit's max-age).
 */
export function leastStoredTtl(sections: EncodedSections, count: number): number {
  const bytes = sections.slab ?? sections.body;
  let at = sections.bodyStart ?? 0;
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const ttlAt = ttlOffsetOf(bytes, at);
    least = Math.min(least, bytes.readUInt32BE(ttlAt));
    at = recordEndAfterTtl(bytes, ttlAt);
  }
  return least;
}

/** The TTL offsets of the first `count` records laid out from offset 0 of `body`, found by walking them. */
export function ttlOffsetsIn(body: Uint8Array, count: number): Uint32Array {
  const offsets = new Uint32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = ttlOffsetOf(body, at);
    at = recordEndAfterTtl(body, offsets[i]!);
  }
  return offsets;
}

/** The records of encoded sections decoded back (for the APIs, never for a cache hit). */
export function decodeSections(sections: Pick<EncodedSections, 'body' | 'answerCount' | 'authorityCount' | 'additionalCount'>): {
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
} {
  let at = 0;
  const take = (count: number): DnsRecord[] => {
    const records: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      records.push(packetCodecs.answer.decode(sections.body, at) as DnsRecord);
      at += packetCodecs.answer.decode.bytes;
    }
    return records;
  };
  const answers = take(sections.answerCount);
  const authorities = take(sections.authorityCount);
  return { answers, authorities, additionals: take(sections.additionalCount) };
}

/** The encoded sections of `res`, encoding them on first use. */
export function encodedSectionsOf(res: Resolution): EncodedSections {
  if (!res.encoded) res.encoded = encodeSections(res.answers, res.authorities, res.additionals);
  return res.encoded;
}
