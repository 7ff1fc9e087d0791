// The overrides stage alone: an override answers TXT at both names at once, authoritatively with
// its TTL and EDE 4 giving the reason, ahead of everything below; other types and names pass;
// an expired override stops applying by itself; a new set replaces the old one whole.
import { describe, expect, it } from 'vitest';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import type { Resolution } from '../../dns/resolution.js';
import { FakeClock, stageUnderTest, txtRecord, upstreamAnswer, upstreamsFailed } from '../testing/harness.js';
import { checkOverrideValue, type Override } from './override.js';
import { OverridesStage } from './overrides-stage.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const override = (name: string, extra: Partial<Override> = {}): Override => ({
  name,
  value: `/ipfs/${CID}/site`,
  ttl: 30,
  reason: 'registrar incident #42',
  by: 'test',
  createdAt: '2026-11-25T00:00:00.000Z',
  updatedAt: '2026-11-25T00:00:00.000Z',
  ...extra,
});
const fromBelow = upstreamAnswer(txtRecord('_dnslink.example.org', 300, 'dnslink=/ipfs/bafy-from-dns'));
const txtOf = (res: Resolution) => res.answers.map((a) => joinTxtStrings((a as { data?: unknown }).data));

describe('overrides stage', () => {
  it('answers TXT at _dnslink.<name> (the set replaced) with its TTL, aa and EDE 4 naming the reason, synchronously', () => {
    const stage = new OverridesStage();
    const { next, ask } = stageUnderTest(stage, fromBelow);
    stage.replaceAll([override('example.org')]);
    for (const name of ['_dnslink.example.org', '_DNSLINK.Example.ORG']) {
      const res = ask(name, RRType.TXT);
      expect(res).not.toBeInstanceOf(Promise);
      expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'override', authoritative: true, ede: { code: EdeCode.FORGED_ANSWER, text: 'override: registrar incident #42' } });
      expect(txtOf(res as Resolution)).toEqual([`dnslink=/ipfs/${CID}/site`]);
      expect((res as Resolution).answers[0]).toMatchObject({ ttl: 30 });
    }
    expect(next.calls).toBe(0);
  });

  it('at the bare name keeps the TXT strings below (SPF, verification) and replaces only the dnslink= ones, one TTL for the set', async () => {
    const stage = new OverridesStage();
    const below = upstreamAnswer(
      txtRecord('example.org', 300, 'v=spf1 -all'),
      txtRecord('example.org', 20, 'google-site-verification=abc'),
      txtRecord('example.org', 300, 'dnslink=/ipfs/bafy-from-dns'),
    );
    const { next, ask } = stageUnderTest(stage, below);
    stage.replaceAll([override('example.org')]);
    const res = await ask('example.org', RRType.TXT);
    expect(next.calls).toBe(1);
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'override', authoritative: true, ede: { code: EdeCode.FORGED_ANSWER, text: 'override: registrar incident #42' } });
    expect(txtOf(res).sort()).toEqual([`dnslink=/ipfs/${CID}/site`, 'google-site-verification=abc', 'v=spf1 -all']);
    expect(res.answers.map((a) => (a as { ttl?: number }).ttl)).toEqual([20, 20, 20]);
    // What the stage below gave is left as it was (the cache holds the upstream's answer, not the merge).
    expect(txtOf(below).sort()).toEqual(['dnslink=/ipfs/bafy-from-dns', 'google-site-verification=abc', 'v=spf1 -all']);
  });

  it('at the bare name answers the override alone when the stages below fail, and says so in the EDE text', async () => {
    for (const reply of [upstreamsFailed(), () => Promise.reject(new Error('boom'))]) {
      const stage = new OverridesStage();
      const { ask } = stageUnderTest(stage, reply);
      stage.replaceAll([override('example.org')]);
      const res = await ask('example.org', RRType.TXT);
      expect(txtOf(res)).toEqual([`dnslink=/ipfs/${CID}/site`]);
      expect(res.ede?.text).toMatch(/^override: registrar incident #42 \(other TXT records of the name left out: the resolvers below (answered SERVFAIL|failed: boom)\)$/);
    }
    const nx = new OverridesStage();
    const { ask } = stageUnderTest(nx, { ...upstreamsFailed(), rcode: Rcode.NXDOMAIN, ede: undefined });
    nx.replaceAll([override('example.org')]);
    const res = await ask('example.org', RRType.TXT);
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, ede: { text: 'override: registrar incident #42' } });
  });

  it('caps the TTL at the remaining life of an override that expires', async () => {
    const clock = new FakeClock(Date.parse('2026-11-25T10:00:00Z'));
    const stage = new OverridesStage(undefined, clock.now);
    const { ask } = stageUnderTest(stage, fromBelow);
    stage.replaceAll([override('example.org', { ttl: 60, expiresAt: '2026-11-25T10:00:20Z' })]);
    const ttlOf = (res: Resolution) => res.ttlOverride ?? (res.answers[0] as { ttl: number }).ttl;
    expect(ttlOf(await ask('_dnslink.example.org', RRType.TXT))).toBe(20);
    clock.advance(12_500);
    expect(ttlOf(await ask('_dnslink.example.org', RRType.TXT))).toBe(7);
    expect(ttlOf(await ask('example.org', RRType.TXT))).toBe(7);
  });

  it('leaves out an override whose answers cannot be built, and serves the others', async () => {
    const stage = new OverridesStage();
    const { ask } = stageUnderTest(stage, fromBelow);
    const skipped = stage.replaceAll([override('huge.example', { value: `/ipfs/${CID}/${'a'.repeat(70_000)}` }), override('example.org')]);
    expect(skipped).toEqual([{ name: 'huge.example', why: expect.stringMatching(/out of range|past the 65535/) }]);
    expect(await ask('_dnslink.huge.example', RRType.TXT)).toBe(fromBelow);
    expect((await ask('_dnslink.example.org', RRType.TXT)).source).toBe('override');
  });

  it('passes other types, other names and names under it to the next stage', async () => {
    const stage = new OverridesStage();
    const { next, ask } = stageUnderTest(stage, fromBelow);
    stage.replaceAll([override('example.org')]);
    expect(await ask('example.org', RRType.A)).toBe(fromBelow);
    expect(await ask('_dnslink.www.example.org', RRType.TXT)).toBe(fromBelow);
    expect(await ask('_dnslink.example.com', RRType.TXT)).toBe(fromBelow);
    expect(next.calls).toBe(3);
  });

  it('stops applying an expired override by itself, and a new set replaces the old one whole', async () => {
    const clock = new FakeClock(Date.parse('2026-11-25T10:00:00Z'));
    const stage = new OverridesStage(undefined, clock.now);
    const { ask } = stageUnderTest(stage, fromBelow);
    stage.replaceAll([override('a.example', { expiresAt: '2026-11-25T10:05:00Z' }), override('b.example')]);
    expect((await ask('_dnslink.a.example', RRType.TXT)).source).toBe('override');
    clock.advance(5 * 60_000 - 1);
    expect((await ask('_dnslink.a.example', RRType.TXT)).source).toBe('override');
    clock.advance(1);
    expect(await ask('_dnslink.a.example', RRType.TXT)).toBe(fromBelow);
    expect((await ask('_dnslink.b.example', RRType.TXT)).source).toBe('override');
    stage.replaceAll([]);
    expect(await ask('_dnslink.b.example', RRType.TXT)).toBe(fromBelow);
  });
});

describe('override values', () => {
  it('accepts /ipfs/<cid>[/path], /ipns/<key> and /ipns/<domain>[/path]', () => {
    for (const value of [`/ipfs/${CID}`, `/ipfs/${CID}/a/b.html`, '/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', '/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8', '/ipns/docs.ipfs.tech/x']) {
      expect(checkOverrideValue(value), value).toEqual({ value });
    }
  });
  it('names what is wrong with a bad one', () => {
    const error = (value: string) => ('error' in checkOverrideValue(value) ? (checkOverrideValue(value) as { error: string }).error : 'accepted');
    expect(error('ipfs://bafy')).toMatch(/must start with \/ipfs\/ or \/ipns\//);
    expect(error('/ipfs/')).toMatch(/no CID after \/ipfs\//);
    expect(error('/ipfs/not-a-cid')).toMatch(/invalid CID "not-a-cid"/);
    expect(error(`/ipfs/${CID}/a b`)).toMatch(/holds " " \(U\+0020\)/);
    expect(error('/ipns/bad_name!')).toMatch(/neither a key nor a valid domain/);
    expect(error('/swarm/abc')).toMatch(/must start with/);
  });
});
