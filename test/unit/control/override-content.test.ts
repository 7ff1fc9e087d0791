// What an override's text may say: /ipns/ values name a key (libp2p-key CID or peer ID) or another
// domain, never the override's own name; reasons are printable text. Also through the rules the
// stores use (parseStoredOverride) and the admin API's checkReason.
import { describe, expect, it } from 'vitest';
import { ipnsTargetProblem, reasonTextProblem } from '../../../src/control/override-content.js';
import { checkReason, parseStoredOverride } from '../../../src/control/override-rules.js';

const KEY = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8';
const PEER_ID = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf';
const DAG_PB = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

describe('ipnsTargetProblem', () => {
  it('accepts a key, a peer ID, a CIDv0 peer ID and another domain', () => {
    for (const value of [`/ipns/${KEY}`, `/ipns/${KEY}/a`, `/ipns/${PEER_ID}`, '/ipns/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', '/ipns/docs.ipfs.tech/x', `/ipfs/${DAG_PB}`]) {
      expect(ipnsTargetProblem('site.example', value), value).toBeUndefined();
    }
  });
  it('refuses a self-loop, at the name and at _dnslink.<name>, any case', () => {
    expect(ipnsTargetProblem('site.example', '/ipns/site.example')).toMatch(/points at site\.example itself.*loop/);
    expect(ipnsTargetProblem('site.example', '/ipns/_dnslink.site.example/x')).toMatch(/loop/);
    expect(ipnsTargetProblem('site.example', '/ipns/SITE.Example.')).toMatch(/loop/);
  });
  it('refuses a CID that is not a key, and a one-label name', () => {
    expect(ipnsTargetProblem('site.example', `/ipns/${DAG_PB}`)).toMatch(/multicodec 0x70, not an IPNS key/);
    expect(ipnsTargetProblem('site.example', '/ipns/localhost')).toMatch(/one label/);
  });
});

describe('reasons', () => {
  it('refuses control and format characters, naming the code point', () => {
    expect(reasonTextProblem('line\nbreak')).toMatch(/U\+000A at character 5/);
    expect(reasonTextProblem('abc\u200Edef')).toMatch(/U\+200E/);
    expect(reasonTextProblem('abc\u202Efed')).toMatch(/U\+202E/);
    expect(reasonTextProblem('\u0007bell')).toMatch(/U\+0007/);
    expect(reasonTextProblem('x\u0085y')).toMatch(/U\+0085/);
    expect(reasonTextProblem('x\u2028y')).toMatch(/U\+2028/);
    expect(reasonTextProblem('INC-42: phishing — ticket «7» 🚨 éè 中文')).toBeUndefined();
  });
  it('checkReason: INVALID_REASON for unprintable or over 500 characters', () => {
    expect(() => checkReason('a\tb')).toThrow(expect.objectContaining({ code: 'INVALID_REASON' }));
    expect(() => checkReason('a\u200Eb')).toThrow(expect.objectContaining({ code: 'INVALID_REASON' }));
    expect(() => checkReason('x'.repeat(501))).toThrow(expect.objectContaining({ code: 'INVALID_REASON' }));
    expect(checkReason('x'.repeat(500))).toHaveLength(500);
  });
});

describe('records read back from a store', () => {
  const stored = (over: Record<string, unknown>) =>
    JSON.stringify({ name: 'site.example', value: `/ipns/${KEY}`, ttl: 60, reason: 'ok', by: 'local', createdAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z', ...over });
  it('are checked with the same rules', () => {
    expect(parseStoredOverride('site.example', stored({}))).toHaveProperty('override');
    expect(parseStoredOverride('site.example', stored({ value: '/ipns/site.example' }))).toEqual({ error: expect.stringMatching(/loop/) });
    expect(parseStoredOverride('site.example', stored({ value: `/ipns/${DAG_PB}` }))).toEqual({ error: expect.stringMatching(/not an IPNS key/) });
    expect(parseStoredOverride('site.example', stored({ reason: 'evil\u202Etxt' }))).toEqual({ error: expect.stringMatching(/U\+202E/) });
  });
});
