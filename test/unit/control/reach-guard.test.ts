// The wide-reach guard: which names reach more than one site (one label, special-use, IP literal,
// public suffix from tldts' list), and the NEEDS_FORCE refusals of overrides and flushes with their
// dry-run figures, unless forced.
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../../src/errors.js';
import { NeedsForceError, requireForceForFlush, requireForceForNames, wideReach } from '../../../src/control/reach-guard.js';

const kind = (name: string) => wideReach(name)?.kind;

describe('wideReach', () => {
  it('names one label, special-use names, IP literals and public suffixes', () => {
    expect(kind('com')).toBe('one-label');
    expect(kind('localhost')).toBe('special-use');
    expect(kind('arpa')).toBe('special-use');
    expect(kind('local')).toBe('special-use');
    expect(kind('invalid')).toBe('special-use');
    expect(kind('test')).toBe('special-use');
    expect(kind('in-addr.arpa')).toBe('special-use');
    expect(kind('ip6.arpa')).toBe('special-use');
    expect(kind('foo.in-addr.arpa')).toBe('special-use');
    expect(kind('4.3.2.1.in-addr.arpa')).toBe('special-use');
    expect(kind('b.a.ip6.arpa')).toBe('special-use');
    expect(kind('1.2.3.4')).toBe('ip-literal');
    expect(kind('::1')).toBe('ip-literal');
    expect(kind('[2001:db8::1]')).toBe('ip-literal');
    expect(kind('10.1.2')).toBe('ip-literal');
    expect(kind('co.uk')).toBe('public-suffix');
    expect(kind('CO.UK.')).toBe('public-suffix');
    expect(kind('github.io')).toBe('public-suffix');
    expect(kind('intranet')).toBe('one-label');
  });

  it('leaves names of one site alone', () => {
    for (const name of ['example.com', 'ipfs.io', 'docs.ipfs.tech', 'bbc.co.uk', 'me.github.io', 'x.dnslink.test', 'a.test', 'swarm.eth', 'home.arpa.example.org', 'mail.local.example']) {
      expect(wideReach(name), name).toBeUndefined();
    }
  });

  it('says why, naming the list for a public suffix', () => {
    expect(wideReach('co.uk')?.why).toMatch(/co\.uk is a public suffix \(ICANN section of the Public Suffix List\)/);
    expect(wideReach('github.io')?.why).toMatch(/private section/);
    expect(wideReach('foo.in-addr.arpa')?.why).toMatch(/under in-addr\.arpa/);
  });
});

describe('requireForceForNames', () => {
  const reach = ['com', 'co.uk'].map((n) => wideReach(n)!);

  it('refuses with NEEDS_FORCE, the reach and the dry run, unless forced', () => {
    let err: unknown;
    try {
      requireForceForNames(reach, false, 'an import of 3 overrides', { overrides: 3 }, '2 cache entries would be removed');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NeedsForceError);
    expect(err).toBeInstanceOf(CodedError);
    const e = err as NeedsForceError;
    expect(e.code).toBe('NEEDS_FORCE');
    expect(e.message).toMatch(/an import of 3 overrides reaches wide: com has one label.*co\.uk is a public suffix.*dry run: 2 cache entries would be removed.*"force": true/);
    expect(e.details).toEqual({ reach: [expect.objectContaining({ name: 'com', kind: 'one-label' }), expect.objectContaining({ name: 'co.uk', kind: 'public-suffix' })], dryRun: { overrides: 3 } });
    expect(() => requireForceForNames(reach, true, 'x', {}, '')).not.toThrow();
    expect(() => requireForceForNames([], false, 'x', {}, '')).not.toThrow();
  });
});

describe('requireForceForFlush', () => {
  const refusal = (fn: () => void): NeedsForceError => {
    try {
      fn();
    } catch (e) {
      return e as NeedsForceError;
    }
    throw new Error('not refused');
  };

  it('refuses a suffix of one label or a public suffix, with the dry run', () => {
    const e = refusal(() => requireForceForFlush({ target: { suffix: 'com' }, removed: 7, maxFlushEntries: 100_000, negativeOnly: false }, false));
    expect(e.code).toBe('NEEDS_FORCE');
    expect(e.message).toMatch(/a flush of every name under com reaches wide: com has one label.*7 entries would be removed/);
    expect(e.details.dryRun).toEqual({ target: { suffix: 'com' }, negativeOnly: false, removed: 7, maxFlushEntries: 100_000 });
    expect(refusal(() => requireForceForFlush({ target: { suffix: 'co.uk' }, removed: 0, maxFlushEntries: 10, negativeOnly: true }, undefined)).details.reach[0]?.kind).toBe('public-suffix');
  });

  it('refuses more entries than admin.maxFlushEntries, at any target', () => {
    const e = refusal(() => requireForceForFlush({ target: { suffix: 'example.org' }, removed: 11, maxFlushEntries: 10, negativeOnly: false }, false));
    expect(e.message).toMatch(/would remove 11 cache entries, more than admin\.maxFlushEntries \(10\)/);
    expect(e.details.reach).toEqual([]);
    expect(() => requireForceForFlush({ target: { suffix: 'example.org' }, removed: 10, maxFlushEntries: 10, negativeOnly: false }, false)).not.toThrow();
    expect(() => requireForceForFlush({ target: { name: 'com' }, removed: 1, maxFlushEntries: 10, negativeOnly: false }, false)).not.toThrow();
    expect(() => requireForceForFlush({ target: { suffix: 'com' }, removed: 11, maxFlushEntries: 10, negativeOnly: false }, true)).not.toThrow();
  });
});
