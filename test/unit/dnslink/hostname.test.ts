// The host-name rules of the gateway paths: URLs reduced to their host, Unicode to punycode,
// `_dnslink.` and a trailing dot stripped once, and every other invalid name an INVALID_DOMAIN
// that names the reason and the character.
import { describe, expect, it } from 'vitest';
import { parseDnslinkHostname } from '../../../src/dnslink/hostname.js';

const ok = (input: string) => {
  const r = parseDnslinkHostname(input);
  if ('error' in r) throw new Error(`${input}: ${JSON.stringify(r.error)}`);
  return r;
};
const reason = (input: string) => {
  const r = parseDnslinkHostname(input);
  return 'error' in r ? `${r.error.reason}${r.error.detail ? `: ${r.error.detail}` : ''}` : `valid: ${r.domain}`;
};

describe('parseDnslinkHostname', () => {
  it('keeps an ASCII host name as given, without notes', () => {
    expect(ok('docs.ipfs.tech')).toEqual({ domain: 'docs.ipfs.tech', notes: [] });
    expect(ok('Example.ORG.').domain).toBe('Example.ORG');
    expect(ok('_dnslink.foo_bar-1.example').domain).toBe('foo_bar-1.example');
  });

  it('converts Unicode to punycode (IDNA), saying so', () => {
    expect(ok('bücher.example')).toEqual({ domain: 'xn--bcher-kva.example', notes: ['"bücher.example" is an internationalized name: looked up as xn--bcher-kva.example'] });
    expect(ok('президент.рф').domain).toBe('xn--d1abbgf6aiiy.xn--p1ai');
    expect(ok('ＡＢＣ.example').domain).toBe('abc.example'); // IDNA maps full-width letters
  });

  it('reduces an http(s) or ipns URL to its host, saying so', () => {
    expect(ok('https://example.org/')).toEqual({ domain: 'example.org', notes: ['"https://example.org/" is a URL: resolving its host example.org'] });
    expect(ok('http://Bücher.example:8080/path?q=1').domain).toBe('xn--bcher-kva.example');
    expect(ok('ipns://en.wikipedia-on-ipfs.org/wiki/').domain).toBe('en.wikipedia-on-ipfs.org');
  });

  it('refuses URLs that name no host', () => {
    expect(reason('ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/')).toMatch(/^NOT_A_HOST: a ipfs URL names no host/);
    expect(reason('file:///etc/passwd')).toMatch(/^NOT_A_HOST/);
    expect(reason('https://[::1]/')).toMatch(/^INVALID_CHARACTER: "\[" \(U\+005B\)/);
  });

  it('names the character no host name holds', () => {
    expect(reason('a b.example')).toBe('INVALID_CHARACTER: (U+0020) is not allowed in a host name');
    expect(reason('a\u0000b.example')).toBe('INVALID_CHARACTER: (U+0000) is not allowed in a host name');
    expect(reason('dnslink.dev/abcd?foo=bar')).toBe('INVALID_CHARACTER: "/" (U+002F) is not allowed in a host name');
    expect(reason('*.example')).toMatch(/^INVALID_CHARACTER: "\*"/);
    expect(reason('s!ome.example')).toMatch(/^INVALID_CHARACTER: "!"/);
    expect(reason('ex\uFFFDample.com')).toMatch(/^INVALID_IDN/);
  });

  it('keeps the reference length and empty-label rules, measured after IDNA', () => {
    expect(reason('a..example')).toBe('EMPTY_PART');
    expect(reason('')).toBe('EMPTY_PART');
    expect(reason(`${'a'.repeat(64)}.example`)).toBe('TOO_LONG');
    expect(reason(`${'é'.repeat(60)}.example`)).toBe('TOO_LONG'); // 66 characters of punycode
    expect(reason(`${'é'.repeat(40)}.example`)).toBe(`valid: xn--9c${'a'.repeat(40)}.example`);
  });
});
