// The pool's health for readiness: per upstream the last answer and the last error with its code;
// failing while its last attempt got no answer within the penalty time. An answer of any rcode
// (SERVFAIL, REFUSED) shows the upstream reachable; a later answer or the penalty passing clears it.
import { describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { FakeClock } from '../testing/harness.js';
import { answerTxt, useFakeDnsServers } from '../testing/fake-dns-server.js';
import { UpstreamPool } from './upstream-pool.js';

const server = useFakeDnsServers();
const question = makeQuestion('_dnslink.example.com', RRType.TXT);
/** A TCP port nothing listens on: connection refused at once. */
const CLOSED = 'tcp://127.0.0.1:1';

describe('UpstreamPool.health', () => {
  it('knows nothing of upstreams not asked yet: none failing', () => {
    const pool = new UpstreamPool(['udp://127.0.0.1:5300', CLOSED], { timeoutMs: 100 });
    expect(pool.health()).toEqual({
      endpoints: [
        { url: 'udp://127.0.0.1:5300', failing: false },
        { url: CLOSED, failing: false },
      ],
      penaltyMs: 30_000,
    });
  });

  it('records the last answer and the last error with its code; failing until the penalty passes', async () => {
    const clock = new FakeClock();
    const good = await server((q) => [answerTxt(q, ['dnslink=/ipfs/ok'])]);
    const goodUrl = `udp://127.0.0.1:${good.port}`;
    const pool = new UpstreamPool([CLOSED, goodUrl], { timeoutMs: 500, now: clock.now, penaltyMs: 10_000 });
    await pool.query(question);
    expect(pool.health().endpoints).toEqual([
      { url: CLOSED, lastErrorAt: clock.now(), lastErrorCode: 'UPSTREAM_NETWORK', failing: true },
      { url: goodUrl, lastAnswerAt: clock.now(), failing: false },
    ]);
    clock.advance(9_999);
    expect(pool.health().endpoints[0]!.failing).toBe(true);
    clock.advance(1);
    expect(pool.health().endpoints[0]).toMatchObject({ failing: false, lastErrorCode: 'UPSTREAM_NETWORK' });
  });

  it('every upstream failing: each with its error code', async () => {
    const silent = await server(() => null);
    const pool = new UpstreamPool([`udp://127.0.0.1:${silent.port}`, CLOSED], { timeoutMs: 100 });
    await expect(pool.query(question)).rejects.toMatchObject({ code: 'UPSTREAMS_FAILED' });
    const { endpoints } = pool.health();
    expect(endpoints.map((e) => [e.failing, e.lastErrorCode])).toEqual([
      [true, 'UPSTREAM_TIMEOUT'],
      [true, 'UPSTREAM_NETWORK'],
    ]);
  });

  it('an answer after a failure clears it; SERVFAIL and REFUSED are answers', async () => {
    let rcode = -1; // -1: say nothing
    const flaky = await server((q) => (rcode < 0 ? null : [answerTxt(q, [], { flags: rcode })]));
    const url = `udp://127.0.0.1:${flaky.port}`;
    const pool = new UpstreamPool([url], { timeoutMs: 100 });
    await expect(pool.query(question)).rejects.toMatchObject({ code: 'UPSTREAMS_FAILED' });
    expect(pool.health().endpoints[0]).toMatchObject({ failing: true, lastErrorCode: 'UPSTREAM_TIMEOUT' });
    rcode = 2; // SERVFAIL
    expect(await pool.query(question)).toMatchObject({ usable: false, response: { rcode: 2 } });
    const after = pool.health().endpoints[0]!;
    expect(after).toMatchObject({ failing: false, lastErrorCode: 'UPSTREAM_TIMEOUT' });
    expect(after.lastAnswerAt).toBeGreaterThanOrEqual(after.lastErrorAt!);
  });
});
