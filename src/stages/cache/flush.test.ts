// Cache flushes: which names each target takes (label by label), exact counts with stale entries
// included, negative-only flushes, answers fetched before a flush not stored after it, and a
// flush over many names that yields to the event loop instead of stalling it.
import { describe, expect, it } from 'vitest';
import { RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { linkStages } from '../stage.js';
import { FakeClock, ScriptedStage, soaRecord, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { nameKeyOfKey } from './answer-store.js';
import { CacheStage } from './cache-stage.js';
import { cacheConfigSchema, cacheStageOptions } from './config.js';
import { flushMatcher, isAtOrUnder, nameKeyOf } from './flush.js';

const negative = (): Resolution => ({ rcode: Rcode.NXDOMAIN, answers: [], authorities: [soaRecord(60, 60)], additionals: [], source: 'upstream' });

/** A cache in front of an upstream that answers NXDOMAIN for names starting with "nx" and TXT otherwise. */
function cache(options: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const stage = new CacheStage(cacheStageOptions(cacheConfigSchema.parse({ prefetch: false, ...options }), undefined), undefined, clock.now);
  const upstream = new ScriptedStage((q: Question) => (q.name.startsWith('nx') ? negative() : upstreamAnswer(txtRecord(q.name, 60))));
  linkStages([stage, upstream]);
  const ask = (name: string, type: number = RRType.TXT) => stage.resolve(makeQuestion(name, type), { caller: 'udp' });
  return { stage, upstream, clock, ask };
}

describe('flush targets', () => {
  const key = (name: string) => nameKeyOf(name);
  it('a name takes itself and its _dnslink. form, nothing under or above it', () => {
    const m = flushMatcher({ name: 'Example.org' });
    expect([key('example.org'), key('_dnslink.example.org'), key('EXAMPLE.ORG')].map(m)).toEqual([true, true, true]);
    expect([key('www.example.org'), key('org'), key('_dnslink.www.example.org')].map(m)).toEqual([false, false, false]);
    expect(flushMatcher({ name: '_dnslink.example.org' })(key('example.org'))).toBe(true);
  });
  it('a suffix takes the zone and everything under it, label by label', () => {
    expect(isAtOrUnder(key('a.b.example.org'), key('example.org'))).toBe(true);
    expect(isAtOrUnder(key('example.org'), key('example.org'))).toBe(true);
    expect(isAtOrUnder(key('xexample.org'), key('example.org'))).toBe(false);
    expect(isAtOrUnder(key('org'), key('example.org'))).toBe(false);
    // A label whose bytes look like the suffix's wire form is not a label boundary.
    // (a naive endsWith on the wire bytes says yes here)
    const crafted = Buffer.concat([Buffer.from([9, 0x61]), Buffer.from(key('example.org'), 'latin1').subarray(0, 8), Buffer.from(key('org'), 'latin1')]).toString('latin1');
    expect(isAtOrUnder(crafted, key('example.org'))).toBe(false);
    expect(isAtOrUnder(key('anything.at.all'), key('.'))).toBe(true);
  });
});

describe('CacheStage.flush', () => {
  it('removes a name in both forms and every type, counting stale entries, and the next query goes upstream', async () => {
    const { stage, upstream, clock, ask } = cache();
    for (const name of ['_dnslink.site.example', 'site.example', 'www.site.example']) await ask(name);
    await ask('site.example', RRType.A);
    clock.advance(120_000); // every entry expired but still held for serve-stale
    expect(stage.entriesFor('site.example')).toHaveLength(3);
    expect(await stage.flush({ name: 'site.example' })).toBe(3);
    expect(stage.entriesFor('site.example')).toHaveLength(0);
    expect(stage.store.size).toBe(1); // www.site.example stays
    const calls = upstream.calls;
    await ask('_dnslink.site.example');
    expect(upstream.calls).toBe(calls + 1);
  });

  it('removes a zone and everything under it, or everything, with exact counts', async () => {
    const { stage, ask } = cache();
    for (const name of ['a.example.org', 'b.a.example.org', 'example.org', 'example.com', 'xexample.org']) await ask(name);
    expect(await stage.flush({ suffix: 'example.org' })).toBe(3);
    expect(stage.store.size).toBe(2);
    expect(await stage.flush({ all: true })).toBe(2);
    expect(stage.store.size).toBe(0);
    expect(stage.store.names).toBe(0);
  });

  it('with negativeOnly, removes only negative answers', async () => {
    const { stage, ask } = cache();
    for (const name of ['nx1.example.org', 'nx2.example.org', 'ok.example.org']) expect((await ask(name)).source).toBe('upstream');
    expect(await stage.flush({ suffix: 'example.org' }, true)).toBe(2);
    expect(stage.store.size).toBe(1);
    expect(await stage.flush({ all: true }, true)).toBe(0);
    expect(stage.store.size).toBe(1);
  });

  it('an answer fetched before the flush is given to its callers but not stored after it', async () => {
    let release: (r: Resolution) => void = () => {};
    const { stage, upstream, ask } = cache();
    upstream.reply = () => new Promise<Resolution>((resolve) => (release = resolve));
    const pending = ask('slow.example');
    expect(await stage.flush({ name: 'slow.example' })).toBe(0);
    release(upstreamAnswer(txtRecord('slow.example', 60)));
    expect((await pending).rcode).toBe(Rcode.NOERROR);
    expect(stage.entriesFor('slow.example')).toHaveLength(0);
    // The flush also ended the coalescing: the next question is asked anew.
    upstream.reply = upstreamAnswer(txtRecord('slow.example', 60));
    await ask('slow.example');
    expect(upstream.calls).toBe(2);
    expect(stage.entriesFor('slow.example')).toHaveLength(1);
  });

  it('keeps the name index in step with the LRU: evicted entries leave it', async () => {
    const { stage, ask } = cache({ maxEntries: 2 });
    for (const name of ['a.example', 'b.example', 'c.example', 'd.example']) await ask(name);
    expect(stage.store.size).toBe(2);
    expect(stage.store.names).toBe(2);
    expect(await stage.flush({ name: 'a.example' })).toBe(0);
  });

  it('a suffix flush over many names yields to the event loop and still counts exactly', async () => {
    const { stage, ask } = cache({ maxEntries: 100_000 });
    for (let i = 0; i < 20_000; i++) await ask(`n${i}.big.example`);
    await ask('other.example');
    let ranDuringFlush = 0;
    const ticker = setInterval(() => ranDuringFlush++, 0);
    const removed = await stage.flush({ suffix: 'big.example' });
    clearInterval(ticker);
    expect(removed).toBe(20_000);
    expect(stage.store.size).toBe(1);
    expect(ranDuringFlush).toBeGreaterThan(0);
    expect(stage.entriesFor('other.example').map((e) => nameKeyOfKey(e.key))).toEqual([nameKeyOf('other.example')]);
  });
});
