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

  it('measures length in UTF-16 code units like @dnslink/js', () => {
    // 243 code units but 483 UTF-8 bytes: accepted, because the reference counts code units.
    const labels = ['ü'.repeat(60), 'ü'.repeat(60), 'ü'.repeat(60), 'ü'.repeat(60)].join('.');
    expect(labels.length).toBe(243);
    expect(normalizeDomain(labels)).toEqual({ domain: labels });
  });

  it('accepts a 63-character label and rejects a 64-character one', () => {
    expect(normalizeDomain(`${label63}.com`)).toEqual({ domain: `${label63}.com` });
    expect(normalizeDomain(`${label63}a.com`)).toMatchObject({ error: { code: 'INVALID_DOMAIN', reason: 'TOO_LONG' } });
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
