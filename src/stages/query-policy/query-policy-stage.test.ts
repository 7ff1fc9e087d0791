// The query policy alone, in front of a scripted next stage: what it answers itself (ANY, and
// everything but TXT with forwarding off) never reaches the next stage; the rest passes unchanged.
import { describe, expect, it } from 'vitest';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { stageUnderTest, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { QueryPolicyStage } from './query-policy-stage.js';

const passed = upstreamAnswer(txtRecord('_dnslink.example', 60));

describe('query policy stage', () => {
  it('answers ANY itself with the RFC 8482 HINFO record, synchronously', () => {
    const { next, ask } = stageUnderTest(new QueryPolicyStage({ forward: true }), passed);
    const res = ask('example.org', RRType.ANY);
    expect(res).not.toBeInstanceOf(Promise);
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'policy' });
    expect((res as { answers: unknown[] }).answers).toEqual([
      { name: 'example.org', type: 'HINFO', class: 'IN', ttl: 3600, data: { cpu: 'RFC8482', os: '' } },
    ]);
    expect(next.calls).toBe(0);
  });

  it('passes every other question to the next stage with its context when forwarding is on', async () => {
    const { next, ask } = stageUnderTest(new QueryPolicyStage({ forward: true }), passed);
    for (const type of [RRType.A, RRType.AAAA, RRType.TXT, RRType.NS]) expect(await ask('example.org', type, 'doh')).toBe(passed);
    expect(next.asked.map((a) => a.question.type)).toEqual([RRType.A, RRType.AAAA, RRType.TXT, RRType.NS]);
    expect(next.asked.every((a) => a.ctx.caller === 'doh')).toBe(true);
  });

  it('with forwarding off refuses all but TXT with EDE 18, and still passes TXT on', async () => {
    const { next, ask } = stageUnderTest(new QueryPolicyStage({ forward: false }), passed);
    const refused = await ask('example.org', RRType.A);
    expect(refused).toMatchObject({ rcode: Rcode.REFUSED, source: 'policy', ede: { code: EdeCode.PROHIBITED } });
    expect(refused.ede?.text).toMatch(/forwarding is off/);
    expect(next.calls).toBe(0);
    expect(await ask('_dnslink.example.org', RRType.TXT)).toBe(passed);
    expect(next.calls).toBe(1);
  });
});
