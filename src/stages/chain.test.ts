// The chain as declared: built from a configuration, in the documented order, each stage's `next`
// the one after it, the last one's past the end; and docs/architecture.md lists the same order.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { RRType, Rcode } from '../dns/constants.js';
import { makeQuestion } from '../dns/names.js';
import { buildChain, CHAIN_ORDER } from './chain.js';
import { END_OF_CHAIN, linkStages, UNLINKED, type Stage } from './stage.js';
import { ScriptedStage, upstreamAnswer } from './testing/harness.js';

function built() {
  const config = loadConfig({ env: {}, flags: { upstreams: [] }, resolvConf: '/nonexistent' });
  return buildChain({ config, registry: new Registry(), log: pino({ level: 'silent' }), now: Date.now });
}

describe('the resolver chain', () => {
  it('builds every declared stage in order and links each to the next', () => {
    const { head, stages } = built();
    const order: string[] = [];
    for (let stage: Stage = head; stage !== END_OF_CHAIN; stage = stage.next) order.push(stage.name);
    expect(order).toEqual(['query-policy', 'overrides', 'local-records', 'cache', 'denylist', 'ens', 'upstream']);
    expect(order).toEqual(CHAIN_ORDER);
    expect(Object.keys(stages)).toEqual(CHAIN_ORDER);
    expect(stages.upstream.next).toBe(END_OF_CHAIN);
  });

  it('answers a question that passes every stage down to the upstream stage', async () => {
    const { head } = built();
    const res = await head.resolve(makeQuestion('_dnslink.nothing-local.example', RRType.TXT), { caller: 'cli' });
    expect(res).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error', ede: { text: 'no upstream resolvers are configured' } });
  });

  it('is drawn in docs/architecture.md in the same order', () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const positions = CHAIN_ORDER.map((name) => doc.indexOf(`stages/${name}/`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});

describe('linkStages', () => {
  it('sets each next, ends at END_OF_CHAIN, and returns the head', async () => {
    const a = new ScriptedStage(upstreamAnswer());
    const b = new ScriptedStage(upstreamAnswer());
    expect(linkStages([a, b])).toBe(a);
    expect(a.next).toBe(b);
    expect(b.next).toBe(END_OF_CHAIN);
    expect(await END_OF_CHAIN.resolve(makeQuestion('x.example', RRType.A), { caller: 'cli' })).toMatchObject({ rcode: Rcode.SERVFAIL, source: 'error' });
  });

  it('an empty chain answers like the end of one', () => {
    expect(linkStages([])).toBe(END_OF_CHAIN);
  });

  it('a stage asked to pass a question on before linking says so', () => {
    expect(() => UNLINKED.resolve(makeQuestion('x.example', RRType.A), { caller: 'cli' })).toThrow(/before the chain was linked/);
  });
});
