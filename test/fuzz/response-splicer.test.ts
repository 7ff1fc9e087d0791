// Fuzz target 2, the response splicer: an upstream answer matched to a query (responseMatches),
// decoded, scrubbed (scrubSections) and kept as pre-encoded sections (encodeSections), then spliced into the
// response to a client's query (buildResponse: ID, flags, TTLs, TC past the UDP size). For any
// query and stored answer the result is a message dns-packet decodes, with the client's ID and
// question bytes, the TTLs asked for and no more bytes than the client accepts; random and mutated
// upstream answers never throw and never match another question.
import * as dnsPacket from 'dns-packet';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scrubSections } from '../../src/dns/answer-scrub.js';
import { packetCodecs } from '../../src/dns/dns-packet-internals.js';
import { parseQuery, type WireQuery } from '../../src/dns/query-parser.js';
import { recordTtl, remainingTtl, type Resolution } from '../../src/dns/resolution.js';
import { buildResponse, udpSizeLimit } from '../../src/dns/response-builder.js';
import { decodeResponse, responseMatches, type DecodedResponse } from '../../src/dns/upstream-codec.js';
import { encodeQuerySpec, frame, HEADER, lowerAscii, querySpec, unframe, upstreamResponse } from './support/dns-arbitraries.js';
import { fuzz, mutated, replayCorpus } from './support/fuzz-run.js';

const TARGET = 'response-splicer';
const QR = 0x8000;
const TC = 0x0200;
const NO_OVERRIDE = 0xffffffff;

/** How the stored answer is served: its age, a stale TTL override, UDP or a stream, our payload size. */
interface ServeParams {
  ttlAge: number;
  ttlOverride: number | undefined;
  udp: boolean;
  payload: number;
}

function encodeParams(p: ServeParams): Buffer {
  const out = Buffer.alloc(11);
  out.writeUInt32BE(p.ttlAge, 0);
  out.writeUInt32BE(p.ttlOverride ?? NO_OVERRIDE, 4);
  out[8] = p.udp ? 1 : 0;
  out.writeUInt16BE(p.payload, 9);
  return out;
}

function decodeParams(buf: Buffer): ServeParams {
  const padded = Buffer.concat([buf, Buffer.alloc(11)]);
  const override = padded.readUInt32BE(4);
  return { ttlAge: padded.readUInt32BE(0), ttlOverride: override === NO_OVERRIDE ? undefined : override, udp: padded[8] !== 0, payload: padded.readUInt16BE(9) };
}

/** The matcher's verdict against the message itself: same ID, QR, one question, same name (ASCII case aside), type, class. */
function checkMatchVerdict(response: Buffer, query: WireQuery, matches: boolean): void {
  const nameEnd = HEADER + query.nameWire.length;
  const sameQuestion =
    response.length >= nameEnd + 4 &&
    response.readUInt16BE(0) === query.id &&
    (response.readUInt16BE(2) & QR) !== 0 &&
    response.readUInt16BE(4) === 1 &&
    lowerAscii(response.subarray(HEADER, nameEnd)).equals(lowerAscii(query.nameWire)) &&
    response.readUInt16BE(nameEnd) === query.type &&
    response.readUInt16BE(nameEnd + 2) === query.class;
  expect(matches).toBe(sameQuestion);
  if (!matches) return;
  const headerAndQuestion = Buffer.from(response.subarray(0, nameEnd + 4));
  headerAndQuestion.fill(0, 6, 12);
  const [asked] = dnsPacket.decode(headerAndQuestion).questions ?? [];
  expect(asked?.name.toLowerCase()).toBe((query.name === '' ? '.' : query.name).toLowerCase());
}

/** A record's fields as dns-packet reads them, TTL aside (and the wire form a stored record carries). */
function withoutTtl(record: dnsPacket.Answer): unknown {
  return Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'ttl'));
}

/** How far the inputs got: a run that never reaches the splice tests little, so the counts are printed. */
const reached = { matched: 0, scrubbed: 0, spliced: 0, cut: 0 };

/**
 * The records of a response, each read by dns-packet from its own bytes (the stored records are
 * read that way too: a decoder that reads past its rdata, as CAA's does on a short one, would
 * otherwise see the bytes of whatever follows).
 */
function recordsServed(out: Buffer, questionEnd: number): dnsPacket.Answer[] {
  const records: dnsPacket.Answer[] = [];
  let at = questionEnd;
  while (at < out.length) {
    packetCodecs.answer.decode(out, at);
    const size = packetCodecs.answer.decode.bytes;
    records.push(packetCodecs.answer.decode(out.subarray(at, at + size), 0));
    at += size;
  }
  return records;
}

function checkSplice(input: Buffer): void {
  const [queryPacket = Buffer.alloc(0), upstreamPacket = Buffer.alloc(0), paramBytes = Buffer.alloc(0)] = unframe(input);
  const parsed = parseQuery(queryPacket);
  if (!parsed.ok) return; // the splicer only ever sees parsed queries (target 1 covers the rest)
  const query = parsed.query;
  const params = decodeParams(paramBytes);

  const matches = responseMatches(upstreamPacket, query.id, query);
  checkMatchVerdict(upstreamPacket, query, matches);
  if (!matches) return;
  reached.matched++;
  let decoded: DecodedResponse;
  try {
    decoded = decodeResponse(upstreamPacket);
  } catch {
    return; // dropped, as the upstream exchange drops what dns-packet cannot decode
  }

  // Scrubbed as the upstream stage scrubs before the cache stores: never throws, and once is enough.
  const scrubbed = scrubSections(query, decoded);
  expect(scrubSections(query, scrubbed).dropped).toEqual({ answer: 0, authority: 0, additional: 0 });
  if (scrubbed.dropped.answer + scrubbed.dropped.authority + scrubbed.dropped.additional > 0) reached.scrubbed++;

  const res: Resolution = {
    rcode: decoded.rcode,
    answers: scrubbed.answers,
    authorities: scrubbed.authorities,
    additionals: scrubbed.additionals,
    ede: decoded.ede,
    source: 'cache',
    ttlAge: params.ttlAge,
    ttlOverride: params.ttlOverride,
  };
  const sizeLimit = params.udp ? udpSizeLimit(query, params.payload) : undefined;
  const out = buildResponse(query, res, { sizeLimit, advertisedPayload: params.payload });
  const whole = buildResponse(query, res, { advertisedPayload: params.payload });

  const cut = sizeLimit !== undefined && whole.length > sizeLimit;
  reached.spliced++;
  if (cut) reached.cut++;
  if (sizeLimit !== undefined) {
    expect(out.length).toBeLessThanOrEqual(sizeLimit);
    // What the client said it takes (RFC 6891: 512 without EDNS, and for any smaller size).
    expect(out.length).toBeLessThanOrEqual(query.edns ? Math.max(512, query.edns.udpSize) : 512);
  }
  const flags = out.readUInt16BE(2);
  expect((flags & TC) !== 0).toBe(cut);
  expect(flags & QR).toBe(QR);
  expect(flags & 0x7900).toBe(query.flags & 0x7900); // opcode and RD echoed
  expect(flags & 0xf).toBe(res.rcode & 0xf);

  const message = dnsPacket.decode(out);
  expect(message.id).toBe(query.id);
  expect(out.subarray(HEADER, query.questionEnd)).toEqual(query.packet.subarray(HEADER, query.questionEnd));
  const additionals = message.additionals ?? [];
  const opts = additionals.filter((rr) => rr.type === 'OPT') as Array<{ udpPayloadSize: number; extendedRcode: number }>;
  if (query.edns) {
    expect(opts).toHaveLength(1);
    expect(opts[0]!.udpPayloadSize).toBe(params.payload);
    expect(opts[0]!.extendedRcode).toBe((res.rcode >> 4) & 0xff);
  } else {
    expect(opts).toHaveLength(0);
  }

  const served = recordsServed(out, query.questionEnd);
  const sections: Array<[dnsPacket.Answer[], dnsPacket.Answer[]]> = [
    [served.slice(0, message.answers?.length ?? 0), res.answers],
    [served.slice(message.answers?.length ?? 0, served.length - (message.additionals?.length ?? 0)), res.authorities],
    [served.slice(served.length - (message.additionals?.length ?? 0)).filter((rr) => rr.type !== 'OPT'), res.additionals],
  ];
  for (const [served, stored] of sections) {
    if (cut) {
      expect(served).toHaveLength(0);
      continue;
    }
    expect(served.map(withoutTtl)).toEqual(stored.map(withoutTtl));
    expect(served.map(recordTtl)).toEqual(stored.map((record) => remainingTtl(recordTtl(record), res)));
  }

  // The same stored sections answer another query of the same key (a cache hit): another ID, the
  // name in upper case, no EDNS, over UDP.
  const other = Buffer.from(query.packet.subarray(0, query.questionEnd));
  other.writeUInt16BE(query.id ^ 0xffff, 0);
  other.writeUInt16BE(0, 10);
  other.set(upperAscii(query.nameWire), HEADER);
  const hit = parseQuery(other);
  expect(hit.ok).toBe(true);
  if (!hit.ok) return;
  expect(hit.query.key).toBe(query.key);
  const hitOut = buildResponse(hit.query, res, { sizeLimit: udpSizeLimit(hit.query, params.payload), advertisedPayload: params.payload });
  expect(hitOut.length).toBeLessThanOrEqual(512);
  const hitMessage = dnsPacket.decode(hitOut);
  expect(hitMessage.id).toBe(query.id ^ 0xffff);
  expect(hitOut.subarray(HEADER, hit.query.questionEnd)).toEqual(other.subarray(HEADER));
  expect((hitMessage.additionals ?? []).filter((rr) => rr.type === 'OPT')).toHaveLength(0);
}

function upperAscii(bytes: Buffer): Buffer {
  return Buffer.from(bytes.map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c)));
}

const params: fc.Arbitrary<Buffer> = fc
  .record({
    ttlAge: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 0xffffffff })),
    ttlOverride: fc.option(fc.oneof(fc.constantFrom(0, 30), fc.integer({ min: 0, max: 0xfffffffe })), { nil: undefined }),
    udp: fc.boolean(),
    payload: fc.oneof(fc.constantFrom(512, 1232, 4096), fc.integer({ min: 512, max: 0xffff })),
  })
  .map(encodeParams);

const splices: fc.Arbitrary<Buffer> = querySpec.chain((spec) => {
  const upstream = upstreamResponse(spec);
  const answers = fc.oneof(
    { weight: 4, arbitrary: upstream },
    { weight: 2, arbitrary: mutated(upstream) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  );
  return fc.tuple(answers, params).map(([answer, p]) => frame([encodeQuerySpec(spec), answer, p]));
});

describe(`fuzz: ${TARGET}`, () => {
  it('replays the saved corpus', async () => {
    expect(await replayCorpus(TARGET, checkSplice)).toBeGreaterThan(0);
  });

  it('queries x stored upstream answers: well-formed, ID and question echoed, TTLs as asked, within the UDP size', () => {
    const runs = fuzz(TARGET, splices, checkSplice, 3000);
    console.log(`${TARGET}: ${runs} query/answer pairs, ${reached.matched} matched (${reached.scrubbed} of them scrubbed), ${reached.spliced} spliced, ${reached.cut} of them cut (TC)`);
    expect(reached.spliced).toBeGreaterThan(runs / 10);
  });
});
