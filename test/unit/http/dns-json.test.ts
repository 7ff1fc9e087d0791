// The DNS JSON rendering and the small parsers of the HTTP layer: record types by name or number,
// TXT quoting as Cloudflare does, max-age rules, ?dns= decoding, inlined gateway labels.
import { describe, expect, it } from 'vitest';
import { httpMaxAge } from '../../../src/core/wire-handler.js';
import { parseRecordType } from '../../../src/dns/record-types.js';
import type { Resolution } from '../../../src/dns/resolution.js';
import type { DnsRecord } from '../../../src/dns/types.js';
import { decodeInlinedLabel, isInlinedLabel } from '../../../src/listeners/http/dnslink-routes.js';
import { recordData } from '../../../src/dns/presentation.js';
import { toDnsJson } from '../../../src/listeners/http/dns-json.js';
import { decodeDnsParam } from '../../../src/listeners/http/doh-wire.js';

const res = (answers: DnsRecord[], extra: Partial<Resolution> = {}): Resolution => ({
  rcode: 0,
  answers,
  authorities: [],
  additionals: [],
  source: 'cache',
  ...extra,
});
const txt = (data: unknown, ttl = 60): DnsRecord => ({ name: '_dnslink.x.test', type: 'TXT', class: 'IN', ttl, data }) as DnsRecord;
const soa: DnsRecord = {
  name: 'test',
  type: 'SOA',
  class: 'IN',
  ttl: 30,
  data: { mname: 'ns.test', rname: 'admin.test', serial: 7, refresh: 3600, retry: 600, expire: 86400, minimum: 30 },
};

describe('parseRecordType', () => {
  it('takes names in any case, numbers and TYPEn; defaults to A', () => {
    expect(parseRecordType('TXT')).toBe(16);
    expect(parseRecordType('aaaa')).toBe(28);
    expect(parseRecordType('16')).toBe(16);
    expect(parseRecordType('TYPE65')).toBe(65);
    expect(parseRecordType(undefined)).toBe(1);
    expect(parseRecordType('')).toBe(1);
  });
  it('rejects unknown names and out-of-range numbers', () => {
    for (const bad of ['NOPE', '0', '65536', '70000', 'TYPE0', 'T X T', '-1']) expect(parseRecordType(bad)).toBeUndefined();
  });
});

describe('recordData', () => {
  it('quotes TXT as Cloudflare does, one quoted string per character-string', () => {
    expect(recordData(txt([Buffer.from('dnslink=/ipfs/bafy')]))).toBe('"dnslink=/ipfs/bafy"');
    expect(recordData(txt([Buffer.from('a'), Buffer.from('b')]))).toBe('"a" "b"');
    expect(recordData(txt('say "hi" \\ ü'))).toBe('"say \\"hi\\" \\\\ \\195\\188"');
    expect(recordData(txt('x'.repeat(300)))).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
  });
  it('writes other types in presentation form', () => {
    expect(recordData({ name: 'a.test', type: 'A', class: 'IN', ttl: 1, data: '192.0.2.1' })).toBe('192.0.2.1');
    expect(recordData({ name: 'a.test', type: 'CNAME', class: 'IN', ttl: 1, data: 'b.test' })).toBe('b.test.');
    expect(recordData({ name: 'a.test', type: 'MX', class: 'IN', ttl: 1, data: { preference: 10, exchange: 'mx.test' } })).toBe('10 mx.test.');
    expect(recordData(soa)).toBe('ns.test. admin.test. 7 3600 600 86400 30');
    // A type without a presentation form here: RFC 3597 generic data.
    expect(recordData({ name: 'a.test', type: 'NULL', class: 'IN', ttl: 1, data: Buffer.from([1, 2, 3]) } as DnsRecord)).toBe('\\# 3 010203');
  });
  it('writes HINFO as two quoted character-strings, as dig does (the RFC 8482 answer to ANY)', () => {
    expect(recordData({ name: 'a.test', type: 'HINFO', class: 'IN', ttl: 1, data: { cpu: 'RFC8482', os: '' } })).toBe('"RFC8482" ""');
    expect(recordData({ name: 'a.test', type: 'HINFO', class: 'IN', ttl: 1, data: { cpu: 'x', os: 'say "hi"' } })).toBe('"x" "say \\"hi\\""');
  });
});

describe('toDnsJson and max-age', () => {
  it('renders the Google/Cloudflare field set with aged TTLs', () => {
    const aged = res([txt([Buffer.from('v')], 60)], { ttlAge: 10 });
    const json = toDnsJson('_dnslink.x.test', 16, aged, { cd: true });
    expect(json).toEqual({
      Status: 0,
      TC: false,
      RD: true,
      RA: true,
      AD: false,
      CD: true,
      Question: [{ name: '_dnslink.x.test.', type: 16 }],
      Answer: [{ name: '_dnslink.x.test.', type: 16, TTL: 50, data: '"v"' }],
    });
    expect(httpMaxAge(aged)).toBe(50); // the JSON and wire answers share one max-age rule
  });
  it('uses the smallest answer TTL, the SOA TTL for negative answers, 0 for errors', () => {
    expect(httpMaxAge(res([txt('a', 60), txt('b', 20)]))).toBe(20);
    expect(httpMaxAge(res([txt('a', 60)], { ttlOverride: 30 }))).toBe(30);
    expect(httpMaxAge(res([], { rcode: 3, authorities: [soa] }))).toBe(30);
    expect(httpMaxAge(res([], { authorities: [soa] }))).toBe(30);
    expect(httpMaxAge(res([]))).toBe(0);
    expect(httpMaxAge(res([txt('a', 60)], { rcode: 2 }))).toBe(0);
    const nx = toDnsJson('nope.test', 16, res([], { rcode: 3, authorities: [soa] }), { cd: false });
    expect(nx.Authority?.[0]?.type).toBe(6);
  });
});

describe('decodeDnsParam', () => {
  it('decodes base64url with or without padding', () => {
    expect(decodeDnsParam('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeDnsParam('AAE')).toEqual(Buffer.from([0, 1]));
    expect(decodeDnsParam('AAE=')).toEqual(Buffer.from([0, 1]));
    expect(decodeDnsParam('-_8')).toEqual(Buffer.from([0xfb, 0xff]));
  });
  it('says why a value is unusable', () => {
    expect(decodeDnsParam('')).toMatch(/empty/);
    expect(decodeDnsParam('a+b/')).toMatch(/not base64url/);
    expect(decodeDnsParam('AAAAA')).toMatch(/length/);
  });
});

describe('inlined subdomain-gateway labels', () => {
  it('decodes - to . and -- to -, as boxo does', () => {
    expect(decodeInlinedLabel('en-wikipedia--on--ipfs-org')).toBe('en.wikipedia-on-ipfs.org');
    expect(decodeInlinedLabel('docs-ipfs-tech')).toBe('docs.ipfs.tech');
    expect(isInlinedLabel('en-wikipedia--on--ipfs-org')).toBe(true);
    expect(isInlinedLabel('docs.ipfs.tech')).toBe(false);
    expect(isInlinedLabel('localhost')).toBe(false);
  });
});
