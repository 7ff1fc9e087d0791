// Cache policy through the cache stage, with a fake clock and a counting fake upstream stage:
// TTL decay and clamps, RFC 2308 negative caching, serve-stale (RFC 8767), coalescing, prefetch.
import { describe, expect, it } from 'vitest';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { recordTtl, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord, Question } from '../../dns/types.js';
import { linkStages } from '../stage.js';
import { FakeClock, ScriptedStage, soaRecord, txtRecord, upstreamAnswer, upstreamsFailed, type ScriptedReply } from '../testing/harness.js';
import { CacheStage } from './cache-stage.js';
import type { CacheStageOptions } from './config.js';

const OPTIONS: CacheStageOptions = {
  maxEntries: 1000,
  maxBytes: 1 << 20,
  minTtl: 0,
  maxTtl: 86_400,
  negativeMinTtl: 0,
  negativeMaxTtl: 3_600,
  serveStale: true,
  staleMaxAge: 86_400,
  staleTtl: 30,
  clientDeadlineMs: 50,
  staleRefreshMs: 30_000,
  prefetch: true,
  prefetchMinHits: 2,
  prefetchThreshold: 0.1,
};

const txt = (name: string, ttl: number): DnsRecord => txtRecord(name, ttl);
const soa = (ttl: number, minimum: number): DnsRecord => soaRecord(ttl, minimum);
const positive = (ttl: number): Resolution => upstreamAnswer(txt('_dnslink.example', ttl));
const failure: Resolution = upstreamsFailed();

/** A cache stage in front of a scripted upstream, on a fake clock. */
function cacheUnderTest(reply: ScriptedReply, options: CacheStageOptions, now: () => number) {
  const stage = new CacheStage(options, undefined, now);
  const upstream = new ScriptedStage(reply);
  linkStages([stage, upstream]);
  return { stage, upstream };
}

function setup(reply: ScriptedReply, overrides: Partial<CacheStageOptions> = {}) {
  const clock = new FakeClock();
  const { stage, upstream } = cacheUnderTest(reply, { ...OPTIONS, ...overrides }, clock.now);
  const question: Question = makeQuestion('_dnslink.example', RRType.TXT);
  const ask = async () => stage.resolve(question, { caller: 'udp' });
  const advance = (ms: number) => clock.advance(ms);
  /** Caches the first answer, lets it expire (TTL 60), and makes the upstream answer `next` from now on. */
  const expireThenAnswer = async (next: ScriptedReply) => {
    await ask();
    advance(61_000);
    upstream.reply = next;
  };
  return { stage, upstream, question, ask, advance, expireThenAnswer };
}

const servedTtl = (res: Resolution) => res.ttlOverride ?? (res.answers[0] ? recordTtl(res.answers[0]) : 0) - (res.ttlAge ?? 0);

describe('cache stage', () => {
  it('a hit, fresh or stale, says where its answer first came from (the origin kept with the entry)', async () => {
    const fromEns: Resolution = { ...positive(60), source: 'ens', upstream: '#1 http://rpc.test' };
    const { ask, advance, upstream } = setup(fromEns);
    const miss = await ask();
    expect([miss.source, miss.origin]).toEqual(['ens', 'ens']);
    const hit = await ask();
    expect([hit.source, hit.origin, hit.upstream]).toEqual(['cache', 'ens', '#1 http://rpc.test']);
    advance(61_000);
    upstream.reply = failure;
    const stale = await ask();
    expect([stale.source, stale.origin]).toEqual(['stale', 'ens']);
  });

  it('answers the second query from the cache with a decreasing TTL', async () => {
    const { upstream, ask, advance } = setup(positive(60));
    expect((await ask()).source).toBe('upstream');
    advance(10_500);
    const hit = await ask();
    expect(hit.source).toBe('cache');
    expect(servedTtl(hit)).toBe(50);
    expect(upstream.calls).toBe(1);
  });

  it('answers a hit synchronously (no promise)', async () => {
    const { stage, question, ask } = setup(positive(60));
    await ask();
    expect(stage.resolve(question, { caller: 'udp' })).not.toBeInstanceOf(Promise);
  });

  it('clamps TTLs to minTtl and maxTtl', async () => {
    const low = setup(positive(5), { minTtl: 30 });
    await low.ask();
    low.advance(20_000);
    expect((await low.ask()).source).toBe('cache');
    expect(low.upstream.calls).toBe(1);

    const high = setup(positive(86_400), { maxTtl: 10 });
    const first = await high.ask();
    expect(first.source).toBe('upstream');
    expect(servedTtl(first)).toBe(10); // the miss is clamped too, not only later hits
    high.advance(1_000);
    expect(servedTtl(await high.ask())).toBe(9);
    high.advance(10_000);
    await high.ask();
    expect(high.upstream.calls).toBe(2);
  });

  it('caches NXDOMAIN for the SOA minimum (RFC 2308), clamped by negativeMaxTtl', async () => {
    const nx: Resolution = { rcode: Rcode.NXDOMAIN, answers: [], authorities: [soa(3600, 20)], additionals: [], source: 'upstream' };
    const { upstream, ask, advance } = setup(nx);
    await ask();
    advance(19_000);
    const cached = await ask();
    expect(cached.rcode).toBe(Rcode.NXDOMAIN);
    expect(cached.source).toBe('cache');
    expect(upstream.calls).toBe(1);
    advance(2_000);
    await ask();
    expect(upstream.calls).toBe(2);

    const clamped = setup({ ...nx, authorities: [soa(7200, 7200)] }, { negativeMaxTtl: 5 });
    await clamped.ask();
    clamped.advance(6_000);
    await clamped.ask();
    expect(clamped.upstream.calls).toBe(2);
  });

  it('does not cache a negative answer without SOA', async () => {
    const { upstream, ask } = setup({ rcode: Rcode.NXDOMAIN, answers: [], authorities: [], additionals: [], source: 'upstream' });
    await ask();
    await ask();
    expect(upstream.calls).toBe(2);
  });

  it('serves stale with TTL 30 and EDE 3 when the upstream fails after expiry', async () => {
    const { ask, expireThenAnswer } = setup(positive(60));
    await expireThenAnswer(failure);
    const stale = await ask();
    expect(stale.source).toBe('stale');
    expect(stale.ttlOverride).toBe(30);
    expect(stale.ede?.code).toBe(EdeCode.STALE_ANSWER);
    expect(stale.answers).toHaveLength(1);
  });

  it('serves stale when the upstream is slower than the client deadline, then refreshes', async () => {
    let release: (r: Resolution) => void = () => {};
    const { ask, expireThenAnswer, stage } = setup(positive(60));
    await expireThenAnswer(() => new Promise<Resolution>((resolve) => (release = resolve)));
    const stale = await ask(); // clientDeadlineMs is 50 ms of real time
    expect(stale.source).toBe('stale');
    release(positive(120));
    await new Promise((r) => setImmediate(r));
    expect(stage.pending).toBe(0);
    const fresh = await ask();
    expect(fresh.source).toBe('cache');
    expect(servedTtl(fresh)).toBe(120);
  });

  it('does not serve stale an entry flushed while the upstream was slow: the upstream answer is awaited (its slab may hold other bytes)', async () => {
    let release: (r: Resolution) => void = () => {};
    const { ask, expireThenAnswer, stage } = setup(positive(60));
    await expireThenAnswer(() => new Promise<Resolution>((resolve) => (release = resolve)));
    const answer = ask();
    expect(await stage.flush({ name: 'example' })).toBe(1);
    await new Promise((r) => setTimeout(r, 80)); // past clientDeadlineMs (50 ms of real time)
    release(failure);
    const res = await answer;
    expect(res.source).toBe('error');
    expect(res.rcode).toBe(Rcode.SERVFAIL);
  });

  it('after a failed refresh, answers stale at once without asking upstream (stale-refresh window)', async () => {
    const { advance, ask, expireThenAnswer, upstream } = setup(positive(60));
    await expireThenAnswer(failure);
    await ask();
    const calls = upstream.calls;
    advance(1_000);
    expect((await ask()).source).toBe('stale');
    expect(upstream.calls).toBe(calls);
    advance(30_000);
    await ask();
    expect(upstream.calls).toBe(calls + 1);
  });

  it('once told the upstreams changed, asks again at once despite a failed refresh; the entries stay', async () => {
    const { advance, ask, expireThenAnswer, stage, upstream } = setup(positive(60));
    await expireThenAnswer(failure);
    await ask();
    const calls = upstream.calls;
    advance(1_000);
    upstream.reply = positive(120);
    stage.forgetRefreshFailures();
    expect(stage.store.size).toBe(1);
    const res = await ask();
    expect(upstream.calls).toBe(calls + 1);
    expect(res.source).toBe('upstream');
    expect(servedTtl(res)).toBe(120);
  });

  it('reconfigure: new clamps apply to answers stored from then on; entries held stay', async () => {
    const { advance, ask, stage, upstream } = setup(positive(600));
    expect(servedTtl(await ask())).toBe(600);
    stage.reconfigure({ ...OPTIONS, maxTtl: 60, maxEntries: 1 });
    expect(servedTtl(await ask())).toBe(600);
    expect(stage.store.size).toBe(1);
    advance(601_000);
    upstream.reply = positive(600);
    expect(servedTtl(await ask())).toBe(60);
    // The store's bounds stay as they were sized at start.
    expect(stage.store.policy.maxEntries).toBe(OPTIONS.maxEntries);
  });

  it('gives SERVFAIL with the upstream EDE when nothing stale is left', async () => {
    const { upstream, ask, advance } = setup(positive(60), { staleMaxAge: 10 });
    await ask();
    advance(71_000);
    upstream.reply = failure;
    const res = await ask();
    expect(res.rcode).toBe(Rcode.SERVFAIL);
    expect(res.ede?.code).toBe(EdeCode.NO_REACHABLE_AUTHORITY);
  });

  it('does not serve stale when serveStale is off', async () => {
    const { ask, expireThenAnswer } = setup(positive(60), { serveStale: false });
    await expireThenAnswer(failure);
    expect((await ask()).rcode).toBe(Rcode.SERVFAIL);
  });

  it('coalesces N concurrent misses into one upstream query', async () => {
    let release: (r: Resolution) => void = () => {};
    const { upstream, ask } = setup(() => new Promise<Resolution>((resolve) => (release = resolve)));
    const pending = Array.from({ length: 50 }, () => ask());
    release(positive(60));
    const results = await Promise.all(pending);
    expect(upstream.calls).toBe(1);
    expect(results.every((r) => r.answers.length === 1)).toBe(true);
  });

  it('prefetches a popular entry in the last 10% of its TTL, once', async () => {
    const { stage, upstream, ask, advance } = setup(positive(100));
    await ask();
    await ask();
    await ask(); // popular: 2 hits
    advance(85_000);
    await ask();
    expect(upstream.calls).toBe(1); // 15% left: no prefetch yet
    advance(6_000);
    const hit = await ask(); // 9% left: answered from cache and refreshed behind it
    expect(hit.source).toBe('cache');
    await ask();
    await new Promise((r) => setImmediate(r));
    expect(upstream.calls).toBe(2);
    expect(stage.pending).toBe(0);
    advance(10_000);
    expect((await ask()).source).toBe('cache'); // the prefetched answer
    expect(upstream.calls).toBe(2);
  });

  it('turns a throwing stage below into SERVFAIL, never a rejected promise', async () => {
    const { ask } = setup(() => Promise.reject(new Error('boom')));
    const res = await ask();
    expect(res.rcode).toBe(Rcode.SERVFAIL);
    expect(res.ede).toMatchObject({ code: EdeCode.OTHER, text: 'internal error: boom' });
  });

  it('answers SERVFAIL when an upstream answer cannot be stored (a label over 63 bytes), and never rejects', async () => {
    const unencodable: Resolution = { ...positive(60), answers: [txt(`${'x'.repeat(64)}.example`, 60)] };
    const { ask, expireThenAnswer } = setup(positive(60));
    await expireThenAnswer(unencodable);
    // Expired entry + bad refresh: the stale race must not leave a rejected promise behind.
    const res = await ask();
    expect(res.source).toBe('stale');
    // No stale entry: the client gets SERVFAIL with the reason.
    const fresh = setup(unencodable);
    const direct = await fresh.ask();
    expect(direct.rcode).toBe(Rcode.SERVFAIL);
    expect(direct.ede).toMatchObject({ code: EdeCode.OTHER, text: expect.stringMatching(/label length 64/) });
  });

  it('bounds the cache by entry count', async () => {
    let n = 0;
    const { stage } = cacheUnderTest(() => Promise.resolve(positive(60)), { ...OPTIONS, maxEntries: 3 }, () => 0);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await stage.resolve(makeQuestion(`_dnslink.${name}.example`, RRType.TXT), { caller: 'udp' });
      n++;
    }
    expect(n).toBe(5);
    expect(stage.store.size).toBe(3);
  });
});

describe('cache stage: refresh (a source below saw the value change)', () => {
  const valueOf = (res: Resolution | undefined) => (res?.answers[0] as { data?: string[] } | undefined)?.data?.join('');
  const answer = (value: string): Resolution => upstreamAnswer(txtRecord('_dnslink.example', 3600, value));

  it('re-resolves a held question at once and replaces the entry, long before its TTL', async () => {
    const { stage, upstream, question, ask } = setup(answer('dnslink=/ipfs/old'));
    await ask();
    upstream.reply = answer('dnslink=/ipfs/new');
    expect(valueOf(await stage.refresh(question))).toBe('dnslink=/ipfs/new');
    expect(valueOf(await ask())).toBe('dnslink=/ipfs/new');
    expect(upstream.calls).toBe(2);
  });

  it('fetches nothing for a question not held', async () => {
    const { stage, upstream, question } = setup(answer('dnslink=/ipfs/old'));
    expect(await stage.refresh(question)).toBeUndefined();
    expect(upstream.calls).toBe(0);
  });

  it('does not take the answer of a fetch that started before the change: it fetches again after it', async () => {
    const { stage, upstream, question, ask } = setup(answer('dnslink=/ipfs/old'), { prefetchMinHits: 1, prefetchThreshold: 1 });
    await ask();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    upstream.reply = async () => {
      await gate;
      return answer('dnslink=/ipfs/old');
    };
    await ask(); // a hit that starts a prefetch, held at the gate (it read the old value)
    const refreshed = stage.refresh(question);
    upstream.reply = answer('dnslink=/ipfs/new');
    release();
    expect(valueOf(await refreshed)).toBe('dnslink=/ipfs/new');
    expect(valueOf(await ask())).toBe('dnslink=/ipfs/new');
  });
});
