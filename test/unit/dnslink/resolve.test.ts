import { describe, expect, it } from 'vitest';
import { resolveDnslink, type TxtLookup, type TxtLookupResult } from '../../../src/dnslink/resolve.js';
import { fakeLookup, rcode, txt } from './fake-lookup.js';

const zone = (entries: Array<[string, TxtLookupResult]>) => fakeLookup(new Map(entries));

describe('resolveDnslink', () => {
  it('answers from _dnslink.<domain> without looking up the bare domain', async () => {
    const { lookup, asked } = zone([
      ['_dnslink.example.com', txt(['dnslink=/ipfs/EFGH'], 60)],
      ['example.com', txt(['dnslink=/ipfs/efgh'])],
    ]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({
      links: { ipfs: [{ identifier: 'EFGH', ttl: 60 }] },
      log: [],
      txtEntries: [{ value: '/ipfs/EFGH', ttl: 60 }],
    });
    expect(asked).toEqual(['_dnslink.example.com']);
  });

  it('strips _dnslink. and the trailing dot of the input before the lookup', async () => {
    const { lookup, asked } = zone([['_dnslink.example.com', txt(['dnslink=/ns/x'])]]);
    await resolveDnslink('_dnslink.example.com.', lookup);
    expect(asked).toEqual(['_dnslink.example.com']);
  });

  it('strips a single _dnslink. prefix (nested prefixes are names of their own)', async () => {
    const { lookup, asked } = zone([
      ['_dnslink._dnslink.example.com', txt(['dnslink=/ns/MNOP'])],
      ['_dnslink.example.com', txt(['dnslink=/ns/IJKL'])],
    ]);
    const result = await resolveDnslink('_dnslink._dnslink.example.com', lookup);
    expect(result).toMatchObject({ links: { ns: [{ identifier: 'MNOP', ttl: 100 }] }, log: [] });
    expect(asked).toEqual(['_dnslink._dnslink.example.com']);
  });

  it('falls back to the bare domain only on NXDOMAIN and logs FALLBACK first', async () => {
    const { lookup, asked } = zone([['example.com', txt(['dnslink=/ns/ABCD', 'dnslink=/ns/'], 42)]]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({
      links: { ns: [{ identifier: 'ABCD', ttl: 42 }] },
      log: [{ code: 'FALLBACK' }, { code: 'INVALID_ENTRY', entry: 'dnslink=/ns/', reason: 'NO_IDENTIFIER' }],
      txtEntries: [{ value: '/ns/ABCD', ttl: 42 }],
    });
    expect(asked).toEqual(['_dnslink.example.com', 'example.com']);
  });

  it('returns an empty FALLBACK result when the bare domain has no dnslink entry', async () => {
    const { lookup } = zone([['example.com', txt(['txtentry=now'])]]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({ links: {}, log: [{ code: 'FALLBACK' }], txtEntries: [] });
  });

  it('does not fall back when _dnslink.<domain> exists without a dnslink entry', async () => {
    const { lookup, asked } = zone([
      ['_dnslink.example.com', txt(['txtentry=now'])],
      ['example.com', txt(['dnslink=/ns/abcd'])],
    ]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({ links: {}, log: [], txtEntries: [] });
    expect(asked).toEqual(['_dnslink.example.com']);
  });

  it('does not fall back on NOERROR with no TXT records (NODATA)', async () => {
    const { lookup, asked } = zone([
      ['_dnslink.example.com', { rcode: 0, records: [] }],
      ['example.com', txt(['dnslink=/ns/abcd'])],
    ]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({ links: {}, log: [], txtEntries: [] });
    expect(asked).toEqual(['_dnslink.example.com']);
  });

  it.each([1, 2, 4, 5, 6, 7, 8, 9, 10, 11])('rcode %i on _dnslink.<domain> is DNS_RCODE_<n> without fallback', async (code) => {
    const { lookup, asked } = zone([
      ['_dnslink.example.com', rcode(code)],
      ['example.com', txt(['dnslink=/ns/abcd'])],
    ]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({
      error: { code: `DNS_RCODE_${code}`, rcode: code, domain: '_dnslink.example.com' },
    });
    expect(asked).toEqual(['_dnslink.example.com']);
  });

  it('SERVFAIL on the fallback name is DNS_RCODE_2', async () => {
    const { lookup } = zone([['example.com', rcode(2)]]);
    expect(await resolveDnslink('example.com', lookup)).toMatchObject({ error: { code: 'DNS_RCODE_2', domain: 'example.com' } });
  });

  it('NXDOMAIN on both names is DNS_RCODE_3', async () => {
    const { lookup, asked } = zone([]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({
      error: { code: 'DNS_RCODE_3', rcode: 3, domain: 'example.com' },
    });
    expect(asked).toEqual(['_dnslink.example.com', 'example.com']);
  });

  it.each([
    ['a..b', 'EMPTY_PART'],
    ['', 'EMPTY_PART'],
    [`${'a'.repeat(64)}.com`, 'TOO_LONG'],
    [`${'abcdefghi.'.repeat(24)}abcde`, 'TOO_LONG'],
  ])('INVALID_DOMAIN for %j (%s) and no lookup at all', async (input, reason) => {
    const { lookup, asked } = zone([]);
    expect(await resolveDnslink(input, lookup)).toEqual({ error: { code: 'INVALID_DOMAIN', reason, domain: input } });
    expect(asked).toEqual([]);
  });

  it.each([
    '日本語.example.com',
    'b\u00fccher.example.com',
    'президент.рф',
    '\uFFFD.example.com',
    'domain.com©.example.com',
    '*.8.example.com',
    's!ome.9.example.com',
    'dnslink.dev/abcd?foo=bar',
    'xn--froschgrn-x9a.example.com',
    '127.0.0.1',
    'abc',
  ])('passes %j to the lookup unchanged', async (name) => {
    const { lookup, asked } = zone([[`_dnslink.${name}`, txt(['dnslink=/testnamespace/BATU'])]]);
    expect(await resolveDnslink(name, lookup)).toEqual({
      links: { testnamespace: [{ identifier: 'BATU', ttl: 100 }] },
      log: [],
      txtEntries: [{ value: '/testnamespace/BATU', ttl: 100 }],
    });
    expect(asked).toEqual([`_dnslink.${name}`]);
  });

  it('lets an exception of the lookup propagate unchanged', async () => {
    const failure = new Error('upstream timeout');
    const lookup: TxtLookup = async () => {
      throw failure;
    };
    await expect(resolveDnslink('example.com', lookup)).rejects.toBe(failure);
  });

  it('returns several namespaces at once with per-link TTLs', async () => {
    const { lookup } = zone([
      [
        '_dnslink.example.com',
        {
          rcode: 0,
          records: [
            { value: 'dnslink=/ipns/example.net', ttl: 300 },
            { value: 'dnslink=/ipfs/bafyb', ttl: 60 },
            { value: 'dnslink=/ipfs/bafya', ttl: 120 },
          ],
        },
      ],
    ]);
    expect(await resolveDnslink('example.com', lookup)).toEqual({
      links: {
        ipfs: [
          { identifier: 'bafya', ttl: 120 },
          { identifier: 'bafyb', ttl: 60 },
        ],
        ipns: [{ identifier: 'example.net', ttl: 300 }],
      },
      log: [],
      txtEntries: [
        { value: '/ipfs/bafya', ttl: 120 },
        { value: '/ipfs/bafyb', ttl: 60 },
        { value: '/ipns/example.net', ttl: 300 },
      ],
    });
  });
});
