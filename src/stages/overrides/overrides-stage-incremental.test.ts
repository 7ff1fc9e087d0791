// The overrides stage changed one override at a time (set, change, remove) holds exactly what a
// full rebuild from the resulting set holds: every name answers the same at both owners.
import { describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import type { Resolution } from '../../dns/resolution.js';
import { stageUnderTest, txtRecord, upstreamAnswer } from '../testing/harness.js';
import type { Override } from './override.js';
import { OverridesStage } from './overrides-stage.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const override = (name: string, value: string, extra: Partial<Override> = {}): Override => ({
  name,
  value: `/ipfs/${CID}/${value}`,
  ttl: 30,
  reason: `reason ${value}`,
  by: 'test',
  createdAt: '2026-11-25T00:00:00.000Z',
  updatedAt: '2026-11-25T00:00:00.000Z',
  ...extra,
});
const below = upstreamAnswer(txtRecord('_dnslink.example.org', 300, 'dnslink=/ipfs/from-below'));

/** What the stage answers for every name asked, at both owners. */
function answersOf(stage: OverridesStage, names: string[]) {
  const { ask } = stageUnderTest(stage, below);
  return names.flatMap((name) =>
    [`_dnslink.${name}`, name].map((owner) => {
      const res = ask(owner, RRType.TXT) as Resolution;
      return { owner, source: res.source, answers: res.answers, ede: res.ede };
    }),
  );
}

describe('overrides stage, changed incrementally', () => {
  it('set, change and remove keep the table equal to a full rebuild', () => {
    const names = Array.from({ length: 200 }, (_, i) => `n${i}.example.org`);
    const incremental = new OverridesStage();
    const current = new Map<string, Override>();
    incremental.replaceAll(names.slice(0, 100).map((n) => override(n, 'start')));
    for (const n of names.slice(0, 100)) current.set(n, override(n, 'start'));
    names.forEach((n, i) => {
      if (i % 3 === 0) {
        incremental.remove(n);
        current.delete(n);
      } else if (i % 3 === 1) {
        const o = override(n, `changed${i}`, i % 2 ? { ttl: 5 } : {});
        incremental.set(o);
        current.set(n, o);
      }
    });
    incremental.remove('never-set.example.org');
    const rebuilt = new OverridesStage();
    rebuilt.replaceAll([...current.values()]);
    expect(incremental.size).toBe(current.size);
    const asked = [...names, 'never-set.example.org'];
    expect(answersOf(incremental, asked)).toEqual(answersOf(rebuilt, asked));
    // Removed names pass on to the next stage; set ones answer from the override.
    expect(answersOf(incremental, ['n0.example.org'])[0]!.source).not.toBe('override');
    expect(answersOf(incremental, ['n1.example.org'])[0]!.source).toBe('override');
  });
});
