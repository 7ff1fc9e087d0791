// The fleet store's change log, reader side: logGap says whether log members cover every version
// asked (a version written by hand, a malformed or out-of-range member: a full read), and
// ControlPlane.sync against a scripted store with a change log applies only the changed names,
// reads the whole set only when the log cannot say (none, another epoch, a field count that
// differs), and drops a held override the log says was removed on purpose.
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../src/control/control-plane.js';
import { ControlMetrics } from '../../../src/control/metrics.js';
import { logGap } from '../../../src/control/redis-change-log.js';
import type { OverrideUpdate, Replica } from '../../../src/control/replica.js';
import type { ControlDelta, ControlSnapshot, ControlStore } from '../../../src/control/store.js';
import type { Override } from '../../../src/stages/overrides/override.js';

describe('logGap (is every version in the log?)', () => {
  it('covered: every version from+1..to has a member, several names per version', () => {
    expect(logGap(['4 a.example', '4 b.example', '5 a.example', '6 c.example'], 3, 6)).toBeUndefined();
    expect(logGap([], 6, 6)).toBeUndefined();
  });
  it('a version with no member (bumped by hand) is a gap', () => {
    expect(logGap(['4 a.example', '4 b.example', '6 c.example'], 3, 6)).toMatch(/version 5 is not in the change log/);
    expect(logGap(['4 a.example'], 3, 6)).toMatch(/3 versions, 1 log entries/);
  });
  it('a member that is not <version> <name> in range is a gap', () => {
    expect(logGap(['4 a.example', 'x b.example'], 3, 5)).toMatch(/is not <version> <name>/);
    expect(logGap(['4 a.example', '5 '], 3, 5)).toMatch(/is not <version> <name>/);
    expect(logGap(['4 a.example', '9 b.example'], 3, 5)).toMatch(/is not <version> <name> in \(3, 5\]/);
    expect(logGap(['3 a.example', '4 b.example'], 3, 4)).toMatch(/is not <version> <name>/);
  });
});

const NOW = Date.parse('2026-12-03T12:00:00Z');
const o = (name: string, value = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34'): Override => ({ name, value, ttl: 60, reason: 'r', by: 't', createdAt: '2026-12-03T11:00:00Z', updatedAt: '2026-12-03T11:00:00Z' });
const OTHER = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

function setup(initial: Override[]) {
  const state: { snap: ControlSnapshot; delta: ControlDelta | undefined; snapshots: number } = { snap: { version: 3, generation: 0, overrides: initial, epoch: 'e1' }, delta: undefined, snapshots: 0 };
  const store: ControlStore = {
    kind: 'redis',
    location: 'redis://x',
    snapshot: async () => (state.snapshots++, structuredClone(state.snap)),
    changesSince: async () => structuredClone(state.delta),
    flushesAfter: async () => [],
    changeOverrides: async () => 1,
    recordFlush: async () => ({ generation: 1, target: { all: true }, negativeOnly: false, time: '' }),
    appendAudit: async () => {},
    audit: async () => [],
    close: async () => {},
  };
  const sent: OverrideUpdate[][] = [];
  const applied = new Map<string, Override>();
  const flushed: string[] = [];
  const replica: Replica = {
    applyOverrides: async () => {},
    changeOverrides: async (updates) => {
      sent.push([...updates]);
      for (const u of updates) if (u.after) applied.set(u.name, u.after);
      else applied.delete(u.name);
    },
    flush: async (target, _n, dryRun) => (dryRun ? 0 : (flushed.push('name' in target ? target.name : '*'), 1)),
    cached: async () => [],
    cachedTxt: async () => undefined,
  };
  const registry = new Registry();
  const control = new ControlPlane(store, replica, pino({ level: 'silent' }), new ControlMetrics(registry), () => NOW);
  const reads = async (read: string) => (await registry.getSingleMetric('dnslinkd_fleet_sync_reads_total')!.get()).values.find((v) => v.labels.read === read)?.value ?? 0;
  return { state, control, sent, applied: () => [...applied.keys()].sort(), flushed, reads };
}

describe('ControlPlane.sync with a change log', () => {
  it('applies only the names the log changed (no full read), flushing them; the version follows', async () => {
    const t = setup([o('a.example'), o('b.example'), o('c.example')]);
    await t.control.start();
    t.sent.length = 0;
    t.state.delta = { kind: 'delta', version: 5, generation: 0, epoch: 'e1', changes: [{ name: 'b.example', after: o('b.example', OTHER) }, { name: 'c.example', after: null }, { name: 'd.example', after: o('d.example') }] };
    await t.control.sync();
    expect(t.state.snapshots).toBe(1); // the start's only
    expect(t.sent).toEqual([[{ name: 'b.example', after: o('b.example', OTHER) }, { name: 'c.example', after: null }, { name: 'd.example', after: o('d.example') }]]);
    expect(t.applied()).toEqual(['a.example', 'b.example', 'd.example']);
    expect(t.flushed).toEqual(['b.example', 'c.example', 'd.example']);
    expect(t.control.status()).toMatchObject({ version: 5, overrides: 3 });
    expect(await t.reads('changes')).toBe(1);
    expect(await t.reads('full')).toBe(0);
  });

  it('nothing newer and the same number of records: nothing read beyond the counters', async () => {
    const t = setup([o('a.example')]);
    await t.control.start();
    t.state.delta = { kind: 'same', version: 3, generation: 0, epoch: 'e1', fields: 1, invalid: 0 };
    await t.control.sync();
    expect(t.state.snapshots).toBe(1);
    expect(await t.reads('changes')).toBe(1);
  });

  it('reads the whole set when the log cannot say, when the epoch differs, or when a record went without a version (held)', async () => {
    const t = setup([o('a.example'), o('b.example')]);
    await t.control.start();
    t.state.delta = undefined; // trimmed, or a version written by hand
    t.state.snap = { ...t.state.snap, version: 4, overrides: [o('a.example'), o('b.example'), o('e.example')] };
    await t.control.sync();
    expect(t.state.snapshots).toBe(2);
    expect(t.applied()).toEqual(['a.example', 'b.example', 'e.example']);

    t.state.delta = { kind: 'delta', version: 1, generation: 0, epoch: 'e2', changes: [] }; // FLUSHALL and a new store
    t.state.snap = { version: 1, generation: 0, overrides: [], epoch: 'e2' };
    await t.control.sync();
    expect(t.state.snapshots).toBe(3);
    expect(t.control.storeReset()).toMatchObject({ held: 3 });

    // Deleted by hand, no version: the counters alone show one record fewer.
    const u = setup([o('a.example'), o('b.example')]);
    await u.control.start();
    u.state.delta = { kind: 'same', version: 3, generation: 0, epoch: 'e1', fields: 1, invalid: 0 };
    u.state.snap = { ...u.state.snap, overrides: [o('a.example')] };
    await u.control.sync();
    expect(u.state.snapshots).toBe(2);
    expect(u.control.storeReset()).toMatchObject({ held: 1, overrides: [{ name: 'b.example' }] });
    expect(await u.reads('full')).toBe(1);
  });

  it('a held override the log says was removed (an accept-reset elsewhere) or set again (a restore) is no longer held', async () => {
    const t = setup([o('a.example'), o('b.example')]);
    await t.control.start();
    t.state.delta = { kind: 'same', version: 3, generation: 0, epoch: 'e1', fields: 0, invalid: 0 };
    t.state.snap = { ...t.state.snap, version: 4, overrides: [] };
    await t.control.sync(); // both lost without an audit record: held
    expect(t.control.storeReset()).toMatchObject({ held: 2 });
    t.state.delta = { kind: 'delta', version: 6, generation: 0, epoch: 'e1', changes: [{ name: 'a.example', after: null }, { name: 'b.example', after: o('b.example', OTHER) }] };
    await t.control.sync();
    expect(t.control.storeReset()).toBeUndefined();
    expect(t.applied()).toEqual(['b.example']);
    expect(t.control.get('b.example')?.value).toBe(OTHER);
  });
});
