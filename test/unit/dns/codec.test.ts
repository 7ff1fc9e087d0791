// DNS codec edge cases (src/dns/): query parsing (malformed input, EDNS, case), cache keys, long TXT
// strings, raw UTF-8 labels, TTL patching and truncation.
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { Flag, RRType, Rcode } from '../../../src/dns/constants.js';
import { encodeName, makeQuestion } from '../../../src/dns/names.js';
import { parseQuery, type WireQuery } from '../../../src/dns/query-parser.js';
import { recordTtl, type Resolution } from '../../../src/dns/resolution.js';
import { buildErrorResponse, buildResponse, udpSizeLimit } from '../../../src/dns/response-builder.js';
import { splitTxtStrings } from '../../../src/dns/txt-strings.js';
import { decodeResponse, encodeQuery, responseMatches } from '../../../src/dns/upstream-codec.js';
import { encodeSections } from '../../../src/dns/record-sections.js';

function query(name: string, type: dnsPacket.RecordType = 'TXT', edns?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: 0 } as dnsPacket.Answer] : [],
  });
}

function parsed(buf: Buffer): WireQuery {
  const result = parseQuery(buf);
  if (!result.ok) throw new Error(`unexpected parse failure: ${JSON.stringify(result)}`);
  return result.query;
}

function txtResolution(name: string, strings: string[], ttl = 60): Resolution {
  return {
    rcode: 0,
    answers: [{ name, type: 'TXT', class: 'IN', ttl, data: strings }],
    authorities: [],
    additionals: [],
    source: 'upstream',
  };
}

describe('parseQuery', () => {
  it('reads id, flags, question and EDNS', () => {
    const q = parsed(query('_dnslink.Example.COM', 'TXT', 4096));
    expect(q.id).toBe(4242);
    expect(q.name).toBe('_dnslink.Example.COM');
    expect(q.type).toBe(RRType.TXT);
    expect(q.class).toBe(1);
    expect(q.edns).toEqual({ udpSize: 4096, version: 0, dnssecOk: false });
  });

  it('keys are case-insensitive and equal to keys built from names', () => {
    const upper = parsed(query('_DNSLINK.EXAMPLE.com'));
    const lower = parsed(query('_dnslink.example.com'));
    expect(upper.key).toBe(lower.key);
    expect(makeQuestion('_dnslink.Example.com', RRType.TXT).key).toBe(lower.key);
    expect(makeQuestion('_dnslink.example.com.', RRType.TXT).key).toBe(lower.key);
    expect(parsed(query('_dnslink.example.com', 'A')).key).not.toBe(lower.key);
  });

  it('keeps raw UTF-8 labels and odd characters as they are', () => {
    const q = parsed(query('_dnslink.ünïcödé.*!?.example'));
    expect(q.name).toBe('_dnslink.ünïcödé.*!?.example');
    expect(encodeName(q.name).equals(q.packet.subarray(12, q.questionEnd - 4))).toBe(true);
  });

  it('drops packets shorter than a header and responses', () => {
    expect(parseQuery(Buffer.from([1, 2, 3, 4, 5]))).toEqual({ ok: false, action: 'drop' });
    const response = query('example.com');
    response.writeUInt16BE(response.readUInt16BE(2) | Flag.QR, 2);
    expect(parseQuery(response)).toEqual({ ok: false, action: 'drop' });
  });

  it('answers FORMERR for a readable header with a broken question', () => {
    const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    const junk = Buffer.concat([header, Buffer.from([0x3f, 0x61, 0x62])]);
    const result = parseQuery(junk);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ action: 'formerr', id: 0x1234 });
  });

  it('answers FORMERR for zero or several questions, compression in the question, truncated OPT', () => {
    const none = Buffer.from([0, 1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseQuery(none)).toMatchObject({ action: 'formerr' });
    const two = query('a.example');
    two.writeUInt16BE(2, 4);
    expect(parseQuery(two)).toMatchObject({ action: 'formerr' });
    const pointer = Buffer.concat([Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 0x0c, 0, 16, 0, 1])]);
    expect(parseQuery(pointer)).toMatchObject({ action: 'formerr' });
    const withOpt = query('a.example', 'TXT', 1232);
    expect(parseQuery(withOpt.subarray(0, withOpt.length - 3))).toMatchObject({ action: 'formerr' });
  });
});

describe('TXT strings', () => {
  it('splits strings over 255 bytes and round-trips a 1000-byte value', () => {
    const long = 'dnslink=/ipfs/' + 'x'.repeat(986);
    const parts = splitTxtStrings(long);
    expect(parts.map((p) => p.length)).toEqual([255, 255, 255, 235]);
    const q = parsed(query('_dnslink.long.example'));
    const wire = buildResponse(q, txtResolution('_dnslink.long.example', [long]));
    const decoded = decodeResponse(wire);
    const data = (decoded.answers[0] as { data: Buffer[] }).data;
    expect(Buffer.concat(data).toString()).toBe(long);
    expect(data.length).toBe(4);
  });

  it('splits by bytes, not characters, for UTF-8 values', () => {
    const parts = splitTxtStrings('é'.repeat(200)); // 400 bytes
    expect(parts.map((p) => p.length)).toEqual([255, 145]);
  });
});

describe('buildResponse', () => {
  it('echoes the client question bytes and id, copies RD, sets RA', () => {
    const q = parsed(query('_dnslink.MiXeD.example'));
    const wire = buildResponse(q, txtResolution('_dnslink.mixed.example', ['dnslink=/ipfs/a']));
    const decoded = dnsPacket.decode(wire);
    expect(decoded.id).toBe(4242);
    expect(decoded.questions?.[0]?.name).toBe('_dnslink.MiXeD.example');
    expect(decoded.flags! & Flag.RD).toBeTruthy();
    expect(decoded.flags! & Flag.RA).toBeTruthy();
  });

  it('ages TTLs or overrides them, from one pre-encoded body', () => {
    const q = parsed(query('_dnslink.ttl.example'));
    const res = txtResolution('_dnslink.ttl.example', ['dnslink=/ipfs/a'], 300);
    expect(recordTtl(decodeResponse(buildResponse(q, res)).answers[0]!)).toBe(300);
    expect(recordTtl(decodeResponse(buildResponse(q, { ...res, ttlAge: 42 })).answers[0]!)).toBe(258);
    expect(recordTtl(decodeResponse(buildResponse(q, { ...res, ttlAge: 999 })).answers[0]!)).toBe(0);
    expect(recordTtl(decodeResponse(buildResponse(q, { ...res, ttlOverride: 30 })).answers[0]!)).toBe(30);
    expect(res.encoded).toBeDefined();
  });

  it('adds OPT with an Extended DNS Error only when the client sent EDNS', () => {
    const res: Resolution = { ...txtResolution('x.example', []), answers: [], rcode: Rcode.SERVFAIL, ede: { code: 22, text: 'all upstreams failed' } };
    const withEdns = decodeResponse(buildResponse(parsed(query('x.example', 'TXT', 1232)), res));
    expect(withEdns.rcode).toBe(Rcode.SERVFAIL);
    expect(withEdns.ede).toEqual({ code: 22, text: 'all upstreams failed' });
    const without = dnsPacket.decode(buildResponse(parsed(query('x.example')), res));
    expect(without.additionals).toHaveLength(0);
  });

  it('sets TC and drops records when the answer exceeds the UDP limit', () => {
    const strings = Array.from({ length: 12 }, (_, i) => `dnslink=/ipfs/${'b'.repeat(50)}${i}`);
    const res: Resolution = {
      ...txtResolution('big.example', []),
      answers: strings.map((s) => ({ name: 'big.example', type: 'TXT', class: 'IN', ttl: 60, data: [s] })),
    };
    const plain = parsed(query('big.example'));
    expect(udpSizeLimit(plain, 1232)).toBe(512);
    const truncated = dnsPacket.decode(buildResponse(plain, res, { sizeLimit: udpSizeLimit(plain, 1232) }));
    expect(truncated.flags! & Flag.TC).toBeTruthy();
    expect(truncated.answers).toHaveLength(0);
    const edns = parsed(query('big.example', 'TXT', 4096));
    expect(udpSizeLimit(edns, 1232)).toBe(1232);
    const full = dnsPacket.decode(buildResponse(edns, res, { sizeLimit: udpSizeLimit(edns, 1232) }));
    expect(full.flags! & Flag.TC).toBeFalsy();
    expect(full.answers).toHaveLength(12);
  });
});

describe('error responses and outgoing queries', () => {
  it('builds FORMERR with the id and no question', () => {
    const wire = buildErrorResponse(0xbeef, Flag.RD, Rcode.FORMERR);
    const decoded = dnsPacket.decode(wire);
    expect(decoded.id).toBe(0xbeef);
    expect(decoded.flags! & 0xf).toBe(Rcode.FORMERR);
    expect(decoded.questions).toHaveLength(0);
  });

  it('encodes BADVERS with the extended rcode in OPT', () => {
    const q = parsed(query('v.example', 'TXT', 1232));
    const wire = buildErrorResponse(q.id, q.flags, Rcode.BADVERS, { packet: q.packet, end: q.questionEnd }, { payload: 1232 });
    expect(decodeResponse(wire).rcode).toBe(Rcode.BADVERS);
  });

  it('encodes queries with RD, EDNS and the raw name', () => {
    const wire = encodeQuery(7, makeQuestion('_dnslink.ü.example', RRType.TXT));
    const decoded = dnsPacket.decode(wire);
    expect(decoded.id).toBe(7);
    expect(decoded.questions?.[0]).toMatchObject({ name: '_dnslink.ü.example', type: 'TXT' });
    expect(decoded.additionals?.[0]?.type).toBe('OPT');
  });

  it('rejects names with a label over 63 bytes instead of corrupting them', () => {
    expect(() => encodeName(`${'a'.repeat(64)}.example`)).toThrow(/label length 64/);
    expect(() => encodeName('a..example')).toThrow(/label length 0/);
  });
});

describe('upstream answers: matched on raw question bytes, records kept byte for byte', () => {
  const answerFor = (packet: Partial<dnsPacket.Packet> & { questions: dnsPacket.Question[] }, id = 9) =>
    dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE, ...packet });

  it('forwards the client\'s exact name bytes and matches the answer on them', () => {
    const client = parsed(Buffer.concat([Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([3, 0x61, 0x2e, 0xff, 2, 0x63, 0x6f, 0]), Buffer.from([0, 16, 0, 3])]));
    const wire = encodeQuery(9, client);
    expect(wire.subarray(12, 12 + client.nameWire.length)).toEqual(Buffer.from([3, 0x61, 0x2e, 0xff, 2, 0x63, 0x6f, 0]));
    expect(wire.readUInt16BE(12 + client.nameWire.length + 2)).toBe(3); // class CH kept
    const reply = Buffer.from(wire);
    reply.writeUInt16BE(0x8180, 2);
    expect(responseMatches(reply, 9, client)).toBe(true);
    reply[13] = 0x41; // "A" for "a": case does not matter
    expect(responseMatches(reply, 9, client)).toBe(true);
    reply[15] = 0xfe; // another byte: another name
    expect(responseMatches(reply, 9, client)).toBe(false);
  });

  it('matches the root name and any class, and nothing with another ID, type, class or no QR', () => {
    const root = makeQuestion('', RRType.NS);
    const ok = answerFor({ questions: [{ name: '.', type: 'NS', class: 'IN' }] });
    expect(responseMatches(ok, 9, root)).toBe(true);
    expect(responseMatches(ok, 10, root)).toBe(false);
    expect(responseMatches(ok, 9, makeQuestion('', RRType.SOA))).toBe(false);
    expect(responseMatches(ok, 9, makeQuestion('', RRType.NS, 3))).toBe(false);
    const chaos = makeQuestion('version.bind', RRType.TXT, 3);
    expect(responseMatches(answerFor({ questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] }), 9, chaos)).toBe(true);
    const query = Buffer.from(ok);
    query.writeUInt16BE(0x0100, 2);
    expect(responseMatches(query, 9, root)).toBe(false);
  });

  it('keeps each record\'s wire form with compressed names expanded, and re-encodes it exactly', () => {
    // x.example MX, answered with compressed names (dns-packet itself never compresses).
    const name = (text: string) => Buffer.concat([...text.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
    const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
    const rr = (owner: Buffer, type: number, ttl: number, rdata: Buffer) => Buffer.concat([owner, u16(type), u16(1), u32(ttl), u16(rdata.length), rdata]);
    const ptr = (offset: number) => u16(0xc000 | offset);
    const header = Buffer.from([0, 9, 0x81, 0x80, 0, 1, 0, 2, 0, 1, 0, 1]);
    const question = Buffer.concat([name('x.example'), u16(15), u16(1)]); // name at 12, "example" at 14
    const mx = rr(ptr(12), 15, 60, Buffer.concat([u16(10), Buffer.from([4]), Buffer.from('mail'), ptr(12)]));
    const txt = rr(ptr(12), 16, 60, Buffer.from([1, 0x61, 1, 0x62]));
    const soa = rr(ptr(14), 6, 300, Buffer.concat([Buffer.from([2]), Buffer.from('ns'), ptr(14), Buffer.from([5]), Buffer.from('admin'), ptr(14), u32(5), u32(1), u32(2), u32(3), u32(60)]));
    const opt = Buffer.concat([Buffer.from([0]), u16(41), u16(1232), u32(0), u16(0)]);
    const msg = Buffer.concat([header, question, mx, txt, soa, opt]);
    const decoded = decodeResponse(msg);
    const sections = encodeSections(decoded.answers, decoded.authorities, decoded.additionals);
    expect(sections.answerCount).toBe(2);
    expect(sections.additionalCount).toBe(0);
    expect(sections.body.includes(Buffer.from([0xc0]))).toBe(false); // no pointer survives
    const rebuilt = dnsPacket.decode(Buffer.concat([Buffer.from([0, 1, 0x81, 0x80, 0, 0, 0, 2, 0, 1, 0, 0]), sections.body]));
    expect(rebuilt.answers?.[0]).toMatchObject({ name: 'x.example', type: 'MX', data: { preference: 10, exchange: 'mail.x.example' } });
    expect(rebuilt.answers?.[1]).toMatchObject({ type: 'TXT', data: [Buffer.from('a'), Buffer.from('b')] });
    expect(rebuilt.authorities?.[0]).toMatchObject({ type: 'SOA', data: { mname: 'ns.example', minimum: 60 } });
  });

  it('writes the stored TTL into a record kept in wire form', () => {
    const msg = answerFor({ questions: [{ name: 'x.example', type: 'TXT' }], answers: [{ name: 'x.example', type: 'TXT', ttl: 86_400, data: 'v' }] });
    const [record] = decodeResponse(msg).answers;
    const sections = encodeSections([{ ...(record as dnsPacket.TxtAnswer), ttl: 42 }], [], []);
    expect(sections.body.readUInt32BE(sections.ttlOffsets[0]!)).toBe(42);
  });
});
