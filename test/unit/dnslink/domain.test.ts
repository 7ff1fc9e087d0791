import { describe, expect, it } from 'vitest';
import { MAX_DOMAIN_LENGTH, normalizeDomain } from '../../../src/dnslink/domain.js';

const label63 = 'a'.repeat(63);

describe('normalizeDomain', () => {
  it('strips one leading _dnslink. and one trailing dot', () => {
    expect(normalizeDomain('_dnslink.example.com.')).toEqual({ domain: 'example.com' });
    expect(normalizeDomain('example.com.')).toEqual({ domain: 'example.com' });
    expect(normalizeDomain('_dnslink.example.com')).toEqual({ domain: 'example.com' });
  });

  it('strips only one _dnslink. prefix', () => {
    expect(normalizeDomain('_dnslink._dnslink.example.com')).toEqual({ domain: '_dnslink.example.com' });
  });

  it('strips only one trailing dot, so a second one leaves an empty label', () => {
    expect(normalizeDomain('example.com..')).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'EMPTY_PART' } });
  });

  it('accepts 244 characters and rejects 245', () => {
    expect(MAX_DOMAIN_LENGTH).toBe(244);
    const base = `${label63}.${label63}.${label63}.`; // 192 characters
    const ok = base + 'b'.repeat(244 - base.length);
    expect(ok.length).toBe(244);
    expect(normalizeDomain(ok)).toEqual({ domain: ok });
    expect(normalizeDomain(`_dnslink.${ok}.`)).toEqual({ domain: ok });
    expect(normalizeDomain(`${ok}c`)).toEqual({
      error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG', domain: `${ok}c` },
    });
  });

  it('measures the 244 limit in UTF-16 code units like @dnslink/js, then the wire in bytes', () => {
    // A 4-byte character is 2 code units. Three labels of 15 (60 bytes each) and a 61-letter
    // label: 154 code units, 244 bytes, so _dnslink.<name> is exactly 255 bytes on the wire.
    const emoji = '\u{1F600}'.repeat(15);
    const fits = [emoji, emoji, emoji, 'a'.repeat(61)].join('.');
    expect([fits.length, new TextEncoder().encode(fits).length]).toEqual([154, 244]);
    expect(normalizeDomain(fits)).toEqual({ domain: fits });
    expect(normalizeDomain(`${fits}b`)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
    // 243 code units but 483 UTF-8 bytes: the reference would accept it, but no DNS message can
    // carry it (labels of 120 bytes), so it is TOO_LONG rather than an error at the wire.
    const labels = ['ü'.repeat(60), 'ü'.repeat(60), 'ü'.repeat(60), 'ü'.repeat(60)].join('.');
    expect(labels.length).toBe(243);
    expect(normalizeDomain(labels)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
  });

  it('accepts a 63-character label and rejects a 64-character one', () => {
    expect(normalizeDomain(`${label63}.com`)).toEqual({ domain: `${label63}.com` });
    expect(normalizeDomain(`${label63}a.com`)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
  });

  it('also rejects what no DNS message can carry: a label over 63 UTF-8 bytes, a name over 255', () => {
    const label62Bytes = 'é'.repeat(31); // 31 characters, 62 bytes
    expect(normalizeDomain(`${label62Bytes}.example`)).toEqual({ domain: `${label62Bytes}.example` });
    expect(normalizeDomain(`${'é'.repeat(40)}.example`)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
    // 4 labels of 31 'é' (62 bytes): 127 characters, but _dnslink.<name> is 10 + 4 * 63 + 8 = 270 bytes.
    const wide = `${Array.from({ length: 4 }, () => label62Bytes).join('.')}.example`;
    expect(wide.length).toBeLessThan(244);
    expect(normalizeDomain(wide)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
  });

  it.each(['', '.', 'a..b', '.a.b', '_dnslink..', '_dnslink..example.com'])('rejects empty label in %j', (input) => {
    expect(normalizeDomain(input)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'EMPTY_PART' } });
  });

  it.each(['日本語.example.com', 'b\u00fccher.example', '*.8.example', 's!ome.example', 'dnslink.dev/abcd?foo=bar', '\uFFFD.x', '123', '_'])(
    'keeps %j as it is',
    (input) => {
      expect(normalizeDomain(input)).toEqual({ domain: input });
    },
  );
});
