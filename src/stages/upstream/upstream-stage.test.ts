// The upstream stage alone, against in-process fake servers: a usable answer becomes an `upstream`
// resolution naming the server; every failure becomes SERVFAIL (or the rcode every upstream gave)
// marked `error` with an Extended DNS Error, so the cache can serve stale; metrics count both.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { answerTxt, useFakeDnsServers, type FakeReply } from '../testing/fake-dns-server.js';
import { UpstreamMetrics } from './metrics.js';
import { UpstreamStage } from './upstream-stage.js';

const fakeServer = useFakeDnsServers();
/** A fake upstream, as the URL the stage is given. */
const server = async (reply: FakeReply): Promise<string> => `udp://127.0.0.1:${(await fakeServer(reply)).port}`;

function stage(upstreams: string[], timeoutMs = 300, maxOutstanding = 2048) {
  const registry = new Registry();
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const upstream = new UpstreamStage({ upstreams, timeoutMs, maxOutstanding, metrics: new UpstreamMetrics(registry), log });
  return { upstream, registry, lines };
}
const question = makeQuestion('_dnslink.example.com', RRType.TXT);
const refuse: FakeReply = (q) => [answerTxt(q, [], { flags: 5 })];

describe('upstream stage', () => {
  it('turns an upstream answer into a resolution naming the upstream, and times it', async () => {
    const url = await server((q) => [answerTxt(q, ['dnslink=/ipfs/bafy'])]);
    const { upstream, registry } = stage([url]);
    const res = await upstream.resolve(question, { caller: 'udp' });
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'upstream', upstream: url });
    expect(res.answers).toHaveLength(1);
    expect(await registry.metrics()).toContain(`dnslinkd_upstream_latency_seconds_count{upstream="${url}"} 1`);
  });

  it('passes NXDOMAIN on as an answer, not a failure', async () => {
    const url = await server((q) => [answerTxt(q, [], { flags: 3 })]);
    const res = await stage([url]).upstream.resolve(question, { caller: 'udp' });
    expect(res).toMatchObject({ rcode: Rcode.NXDOMAIN, source: 'upstream' });
  });

  it('answers SERVFAIL with EDE 22 naming each failure when no upstream answers, and counts the errors', async () => {
    const silent = await server(() => null);
    const { upstream, registry } = stage([silent], 100);
    const res = await upstream.resolve(question, { caller: 'udp' });
    expect(res).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY } });
    expect(res.ede?.text).toMatch(/all upstreams failed: .*no answer from udp:\/\/127\.0\.0\.1:\d+ within 100 ms/);
    const errors = await registry.getSingleMetric('dnslinkd_upstream_errors_total')!.get();
    expect(errors.values).toEqual([{ value: 1, labels: { upstream: silent, code: 'UPSTREAM_TIMEOUT' } }]);
  });

  it('passes the rcode on, marked as an error, when every upstream refuses', async () => {
    const url = await server(refuse);
    const res = await stage([url]).upstream.resolve(question, { caller: 'udp' });
    expect(res).toMatchObject({ rcode: Rcode.REFUSED, source: 'error', upstream: url, ede: { code: EdeCode.NO_REACHABLE_AUTHORITY } });
  });

  it('serves SERVFAIL when every upstream answers FORMERR or NOTIMP (theirs would blame the client), keeping their rcode for DNSLink', async () => {
    for (const rcode of [Rcode.FORMERR, Rcode.NOTIMP]) {
      const url = await server((q) => [answerTxt(q, [], { flags: rcode })]);
      const res = await stage([url]).upstream.resolve(question, { caller: 'udp' });
      expect(res).toMatchObject({ rcode: Rcode.SERVFAIL, upstreamRcode: rcode, source: 'error', upstream: url, ede: { code: EdeCode.NO_REACHABLE_AUTHORITY } });
      expect(res.ede?.text).toMatch(/answered (FORMERR|NOTIMP)/);
    }
  });

  it('answers SERVFAIL with EDE 22 when no upstream is configured', async () => {
    const res = await stage([]).upstream.resolve(question, { caller: 'cli' });
    expect(res).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: 'no upstream resolvers are configured' } });
  });

  it('past upstream.maxOutstanding answers SERVFAIL at once, marked an error (the cache serves stale), counted; room again once answers come', async () => {
    const silent = await server(() => null);
    const { upstream, registry } = stage([silent], 200, 2);
    const waiting = [upstream.resolve(question, { caller: 'udp' }), upstream.resolve(makeQuestion('_dnslink.other.example', RRType.TXT), { caller: 'udp' })];
    const over = upstream.resolve(makeQuestion('_dnslink.third.example', RRType.TXT), { caller: 'udp' });
    expect(over).not.toBeInstanceOf(Promise); // answered at once, without waiting for anything
    expect(over).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error', ede: { code: EdeCode.OTHER } });
    expect((over as { ede: { text: string } }).ede.text).toMatch(/resolver saturated: upstream\.maxOutstanding \(2\)/);
    expect(await registry.getSingleMetric('dnslinkd_upstream_saturated_total')!.get()).toMatchObject({ values: [{ value: 1 }] });
    expect(await registry.getSingleMetric('dnslinkd_upstream_outstanding')!.get()).toMatchObject({ values: [{ value: 2 }] });
    await Promise.all(waiting);
    expect(await registry.getSingleMetric('dnslinkd_upstream_outstanding')!.get()).toMatchObject({ values: [{ value: 0 }] });
    expect(upstream.resolve(question, { caller: 'udp' })).toBeInstanceOf(Promise);
  });

  it('logs upstream failures at most once a second per kind, with their code and count, not once per query', async () => {
    const silent = await server(() => null);
    const { upstream, registry, lines } = stage([silent], 100);
    await Promise.all(Array.from({ length: 200 }, (_, i) => upstream.resolve(makeQuestion(`_dnslink.n${i}.example`, RRType.TXT), { caller: 'udp' })));
    const failed = lines.filter((l) => l.msg === 'upstream attempt failed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(failed[0]).toMatchObject({ upstream: silent, code: 'UPSTREAM_TIMEOUT', count: 1 });
    const errors = await registry.getSingleMetric('dnslinkd_upstream_errors_total')!.get();
    expect(errors.values).toEqual([{ value: 200, labels: { upstream: silent, code: 'UPSTREAM_TIMEOUT' } }]);
  });
});
