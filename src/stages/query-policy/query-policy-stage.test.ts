// The query policy alone, in front of a scripted next stage: what it answers itself (ANY, and
// everything but TXT with forwarding off) never reaches the next stage; the rest passes unchanged.
import { describe, expect, it } from 'vitest';
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { encodedSectionsOf } from '../../dns/record-sections.js';
import type { Resolution } from '../../dns/resolution.js';
import { stageUnderTest, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { QueryPolicyStage } from './query-policy-stage.js';

const passed = upstreamAnswer(txtRecord('_dnslink.example', 60));

describe('query policy stage', () => {
  it('answers ANY itself with the RFC 8482 HINFO record, synchronously', () => {
    const { next, ask } = stageUnderTest(new QueryPolicyStage({ forward: true }), passed);
    const res = ask('example.org', RRType.ANY);
    expect(res).not.toBeInstanceOf(Promise);
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'policy' });
    const answers = (res as { answers: unknown[] }).answers;
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ name: 'example.org', type: 'HINFO', class: 'IN', ttl: 3600, data: { cpu: 'RFC8482', os: '' } });
    expect(next.calls).toBe(0);
  });

  it('owns the ANY answer by the question\'s exact name bytes', () => {
    const question = { ...makeQuestion('x.example', RRType.ANY), nameWire: Buffer.from([3, 0x61, 0x2e, 0xff, 7, ...Buffer.from('example'), 0]) };
    const stage = new QueryPolicyStage({ forward: true });
    const res = stage.resolve(question, { caller: 'udp' }) as Resolution;
    const body = encodedSectionsOf(res).body;
    expect(body.subarray(0, question.nameWire.length)).toEqual(question.nameWire);
  });

  it('refuses zone transfers with EDE 21 and meta-type questions, never passing them on', async () => {
    const { next, ask } = stageUnderTest(new QueryPolicyStage({ forward: true }), passed);
    for (const type of [252, 251]) expect(await ask('example.org', type)).toMatchObject({ rcode: Rcode.REFUSED, source: 'policy', ede: { code: EdeCode.NOT_SUPPORTED } });
    for (const type of [41, 249, 250]) expect((await ask('example.org', type)).rcode, `type ${type}`).toBe(Rcode.FORMERR);
    for (const type of [0, 128, 200, 253, 254, 65535]) expect((await ask('example.org', type)).rcode, `type ${type}`).toBe(Rcode.REFUSED);
    expect(next.calls).toBe(0);
    for (const type of [RRType.A, 256, 65280, 127]) await ask('example.org', type);
    expect(next.calls).toBe(4);
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
