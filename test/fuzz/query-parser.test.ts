// Fuzz target 1, the query parser (src/dns/query-parser.ts) and the refusals built from its
// verdict (FORMERR, NOTIMP, BADVERS): arbitrary bytes, valid queries, hostile queries and mutations
// of them never throw, get a parse, a drop or a FORMERR by one rule, and a parse agrees with
// dns-packet's decoding.
import { createRequire } from 'node:module';
import * as dnsPacket from 'dns-packet';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rcode } from '../../src/dns/constants.js';
import { packetTypes } from '../../src/dns/dns-packet-internals.js';
import { parseQuery, type ParseResult } from '../../src/dns/query-parser.js';
import { buildErrorResponse } from '../../src/dns/response-builder.js';
import { encodeQuerySpec, HEADER, hostileQuery, lowerAscii, querySpec } from './support/dns-arbitraries.js';
import { fuzz, mutated, replayCorpus } from './support/fuzz-run.js';

const TARGET = 'query-parser';
const packetClasses = createRequire(import.meta.url)('dns-packet/classes.js') as { toString(klass: number): string };
const QR = 0x8000;

/** Labels of a wire name, checked independently of the parser: each 1..63 bytes, 255 in all. */
function wireLabels(name: Buffer): Buffer[] {
  const labels: Buffer[] = [];
  let at = 0;
  while (name[at] !== 0) {
    const len = name[at]!;
    expect(len).toBeGreaterThan(0);
    expect(len).toBeLessThanOrEqual(63);
    labels.push(name.subarray(at + 1, at + 1 + len));
    at += len + 1;
  }
  expect(at + 1).toBe(name.length);
  expect(name.length).toBeLessThanOrEqual(255);
  return labels;
}

function summary(result: ParseResult): unknown {
  if (!result.ok) return result;
  const { id, flags, type, class: klass, key, questionEnd, edns } = result.query;
  return { id, flags, type, klass, key, questionEnd, edns };
}

/** The property every packet must satisfy. */
function checkPacket(packet: Buffer): void {
  const result = parseQuery(packet);
  expect(summary(parseQuery(Buffer.from(packet)))).toEqual(summary(result)); // one verdict per input

  if (packet.length < HEADER || (packet.readUInt16BE(2) & QR) !== 0) {
    expect(result).toEqual({ ok: false, action: 'drop' });
    return;
  }
  if (!result.ok) {
    expect(result.action).toBe('formerr');
    if (result.action !== 'formerr') return;
    expect(result.id).toBe(packet.readUInt16BE(0));
    expect(result.flags).toBe(packet.readUInt16BE(2));
    const reply = dnsPacket.decode(buildErrorResponse(result.id, result.flags, Rcode.FORMERR));
    expect(reply.id).toBe(result.id);
    expect((reply.flags ?? 0) & 0xf).toBe(Rcode.FORMERR);
    expect(reply.questions).toEqual([]);
    return;
  }

  const query = result.query;
  expect(packet.readUInt16BE(4)).toBe(1);
  expect(query.id).toBe(packet.readUInt16BE(0));
  expect(query.opcode).toBe((packet.readUInt16BE(2) >> 11) & 0xf);
  expect(query.questionEnd).toBeLessThanOrEqual(packet.length);
  const labels = wireLabels(query.nameWire);
  expect(query.questionEnd).toBe(HEADER + query.nameWire.length + 4);
  expect(query.name).toBe(labels.map((l) => l.toString('utf8')).join('.'));
  expect(Buffer.from(query.key, 'latin1')).toEqual(
    Buffer.concat([lowerAscii(query.nameWire), packet.subarray(query.questionEnd - 4, query.questionEnd)]),
  );

  // The refusal a parsed query can get (NOTIMP for an opcode, BADVERS for an EDNS version) echoes
  // its question and decodes.
  const rcode = query.opcode !== 0 ? Rcode.NOTIMP : Rcode.BADVERS;
  const refusal = buildErrorResponse(query.id, query.flags, rcode, { packet, end: query.questionEnd }, query.edns ? { payload: 1232 } : undefined);
  const refused = dnsPacket.decode(refusal);
  expect(refused.id).toBe(query.id);
  expect(refusal.subarray(HEADER, query.questionEnd)).toEqual(packet.subarray(HEADER, query.questionEnd));
  expect((refused.flags ?? 0) & 0xf).toBe(rcode & 0xf);
  if (query.edns) expect((refused.additionals?.[0] as { extendedRcode?: number } | undefined)?.extendedRcode).toBe(rcode >> 4);

  // dns-packet reads the same header and question (counts other than the question's zeroed)...
  const headerAndQuestion = Buffer.from(packet.subarray(0, query.questionEnd));
  headerAndQuestion.fill(0, 6, 12);
  const decoded = dnsPacket.decode(headerAndQuestion);
  expect(decoded.id).toBe(query.id);
  expect(decoded.questions).toHaveLength(1);
  expect(decoded.questions![0]!.name).toBe(query.name === '' ? '.' : query.name);
  expect(decoded.questions![0]!.type).toBe(packetTypes.toString(query.type));

  // ...and, when it can decode the whole message, the same EDNS.
  let whole: dnsPacket.Packet | undefined;
  try {
    whole = dnsPacket.decode(packet);
  } catch {
    whole = undefined;
  }
  if (whole) {
    const opts = (whole.additionals ?? []).filter((rr) => rr.type === 'OPT') as Array<{ udpPayloadSize: number; ednsVersion: number; flag_do: boolean }>;
    if (opts.length === 1) {
      expect(query.edns).toEqual({ udpSize: opts[0]!.udpPayloadSize, version: opts[0]!.ednsVersion, dnssecOk: opts[0]!.flag_do });
    } else {
      expect(opts).toHaveLength(0);
      expect(query.edns).toBeNull();
    }
  }
}

/** A valid query: parsed, and what it carries is what dns-packet decodes from it. */
function checkRoundTrip(packet: Buffer): void {
  const decoded = dnsPacket.decode(packet);
  const result = parseQuery(packet);
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  const { query } = result;
  const [question] = decoded.questions ?? [];
  expect(decoded.id).toBe(query.id);
  expect(question?.name).toBe(query.name === '' ? '.' : query.name);
  expect(question?.type).toBe(packetTypes.toString(query.type));
  expect(question?.class).toBe(packetClasses.toString(query.class));
  const opt = (decoded.additionals ?? []).find((rr) => rr.type === 'OPT') as { udpPayloadSize: number } | undefined;
  expect(query.edns?.udpSize).toBe(opt?.udpPayloadSize);
  checkPacket(packet);
}

const arbitraryBytes = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b));
const validQueries = querySpec.map(encodeQuerySpec);

describe(`fuzz: ${TARGET}`, () => {
  it('replays the saved corpus (a seed whose comment ends in a verdict gets that verdict)', async () => {
    const replayed = await replayCorpus(TARGET, (packet, comment) => {
      checkPacket(packet);
      const expected = /: (parsed|FORMERR|dropped)\b/.exec(comment)?.[1];
      const result = parseQuery(packet);
      const verdict = result.ok ? 'parsed' : result.action === 'drop' ? 'dropped' : 'FORMERR';
      if (expected) expect(verdict).toBe(expected);
    });
    expect(replayed).toBeGreaterThan(0);
  });

  it('arbitrary bytes, valid, hostile and mutated queries: never throws, one verdict, agrees with dns-packet', () => {
    const packets = fc.oneof(arbitraryBytes, validQueries, hostileQuery, mutated(validQueries), mutated(hostileQuery));
    const runs = fuzz(TARGET, packets, checkPacket, 6000);
    console.log(`${TARGET}: ${runs} packets`);
  });

  it('a valid query round-trips: id, name, type, class and EDNS size as dns-packet decodes them', () => {
    const runs = fuzz(TARGET, validQueries, checkRoundTrip, 1000);
    console.log(`${TARGET}: ${runs} valid queries round-tripped`);
  });
});
