// ControlPlane.sync against a scripted store: newer versions adopted (not older ones a local
// change overtook), every flush applied once in order, a trimmed log makes a full flush, a new
// store (epoch) or one that went back is adopted, except the overrides it lost (held, said so, until
// restored or dropped); an override gone without an audit record is held, one removed is not; lag
// recorded; degraded refuses writes.
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../src/control/control-plane.js';
import { ControlMetrics } from '../../../src/control/metrics.js';
import type { Replica } from '../../../src/control/replica.js';
import type { AuditRecord, ControlSnapshot, ControlStore, FlushRecord, NewAuditRecord, OverrideChange } from '../../../src/control/store.js';
import type { FlushTarget } from '../../../src/stages/cache/flush.js';
import type { Override } from '../../../src/stages/overrides/override.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const o = (name: string, value = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34'): Override => ({
  name,
  value,
  ttl: 60,
  reason: 'r',
  by: 't',
  createdAt: '2026-11-25T11:00:00Z',
  updatedAt: '2026-11-25T11:00:00Z',
});

function setup() {
  const state: { snap: ControlSnapshot; flushes: FlushRecord[]; audit: AuditRecord[] } = { snap: { version: 1, generation: 2, overrides: [], epoch: 'e1' }, flushes: [], audit: [] };
  const changes: OverrideChange[][] = [];
  const audits: NewAuditRecord[][] = [];
  const store: ControlStore = {
    kind: 'redis',
    location: 'redis://x',
    snapshot: async () => structuredClone(state.snap),
    flushesAfter: async (g) => state.flushes.filter((f) => f.generation > g),
    changeOverrides: async (c, a) => {
      changes.push(c);
      audits.push(a);
      return 1;
    },
    recordFlush: async () => ({ generation: 1, target: { all: true }, negativeOnly: false, time: '' }),
    appendAudit: async (a) => void audits.push(a),
    audit: async () => state.audit,
    close: async () => {},
  };
  const flushed: FlushTarget[] = [];
  const applied = new Map<string, Override>();
  const replica: Replica = {
    applyOverrides: async (list) => {
      applied.clear();
      for (const x of list) applied.set(x.name, x);
    },
    changeOverrides: async (updates) => {
      for (const u of updates) if (u.after) applied.set(u.name, u.after);
      else applied.delete(u.name);
    },
    flush: async (target, _n, dryRun) => (dryRun ? 0 : (flushed.push(target), 1)),
    cached: async () => [],
    cachedTxt: async () => undefined,
  };
  const registry = new Registry();
  const control = new ControlPlane(store, replica, pino({ level: 'silent' }), new ControlMetrics(registry), () => NOW);
  const flush = (generation: number, name: string, minutesAgo = 0): FlushRecord => ({ generation, target: { name }, negativeOnly: false, time: new Date(NOW - minutesAgo * 60_000).toISOString() });
  const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  return { state, control, flushed, applied: () => [...applied.values()], flush, gauge, changes, audits };
}

describe('ControlPlane.sync (fleet reconcile)', () => {
  it('adopts a newer version, flushing the names whose override changed, and records the lag', async () => {
    const t = setup();
    await t.control.start();
    t.state.snap = { ...t.state.snap, version: 2, overrides: [o('a.example')], changedAt: new Date(NOW - 250).toISOString() };
    await t.control.sync();
    expect(t.applied().map((x) => x.name)).toEqual(['a.example']);
    expect(t.flushed).toEqual([{ name: 'a.example' }]);
    expect(await t.gauge('dnslinkd_fleet_sync_lag_seconds')).toBe(0.25);
    await t.control.sync(); // nothing new
    expect(t.flushed).toHaveLength(1);
  });

  it('applies each flush above its generation once, in order', async () => {
    const t = setup();
    await t.control.start();
    t.state.flushes = [t.flush(1, 'old.example'), t.flush(2, 'seen.example'), t.flush(3, 'x.example'), t.flush(4, 'y.example', 0.05)];
    t.state.snap.generation = 4;
    await t.control.sync();
    await t.control.sync();
    expect(t.flushed).toEqual([{ name: 'x.example' }, { name: 'y.example' }]);
    expect(await t.gauge('dnslinkd_fleet_sync_lag_seconds')).toBe(3);
  });

  it('flushes everything when flushes it never applied were trimmed from the log', async () => {
    const t = setup();
    await t.control.start();
    t.state.flushes = [t.flush(9, 'z.example')];
    t.state.snap.generation = 9;
    await t.control.sync();
    expect(t.flushed).toEqual([{ all: true }, { name: 'z.example' }]);
  });

  it('adopts a new store (another epoch): its overrides, even at a lower version, and every flush in its log; holds the ones it lost', async () => {
    const t = setup();
    t.state.snap = { version: 5, generation: 7, overrides: [o('a.example')], epoch: 'e1' };
    await t.control.start();
    t.state.snap = { version: 1, generation: 1, overrides: [o('b.example')], epoch: 'e2' };
    t.state.flushes = [t.flush(1, 'new.example')];
    await t.control.sync();
    expect(t.applied().map((x) => x.name).sort()).toEqual(['a.example', 'b.example']);
    expect(t.flushed).toEqual(expect.arrayContaining([{ name: 'b.example' }, { name: 'new.example' }]));
    expect(t.control.status()).toMatchObject({ version: 1, generation: 1, degraded: true, storeReset: { held: 1, overrides: [{ name: 'a.example' }] } });
    expect(await t.gauge('dnslinkd_control_store_reset_held')).toBe(1);
  });

  it('an override gone from the store at a newer version: held without an audit record of its removal, dropped with one', async () => {
    const t = setup();
    t.state.snap = { version: 2, generation: 0, overrides: [o('a.example'), o('b.example')], epoch: 'e1' };
    await t.control.start();
    t.state.audit = [{ id: '1-0', time: new Date(NOW).toISOString(), token: 'ops', action: 'override.remove', name: 'b.example', before: o('b.example'), after: null, dryRun: false }];
    t.state.snap = { version: 3, generation: 0, overrides: [], epoch: 'e1' };
    await t.control.sync();
    expect(t.applied().map((x) => x.name)).toEqual(['a.example']);
    expect(t.control.storeReset()).toMatchObject({ held: 1, cause: 'overrides left the store without the audit record of a removal' });
    // Another instance accepted the reset: its audit record makes this one drop it too.
    t.state.audit.unshift({ id: '2-0', time: new Date(NOW).toISOString(), token: 'ops', action: 'override.accept-reset', name: 'a.example', before: o('a.example'), after: null, dryRun: false });
    t.state.snap = { ...t.state.snap, version: 4 };
    await t.control.sync();
    expect(t.applied()).toEqual([]);
    expect(t.control.storeReset()).toBeUndefined();
  });

  it('restore publishes the held overrides only where the store has none; accept-reset drops them, audited', async () => {
    const t = setup();
    t.state.snap = { version: 5, generation: 0, overrides: [o('a.example'), o('b.example')], epoch: 'e1' };
    await t.control.start();
    t.state.snap = { version: 0, generation: 0, overrides: [], epoch: 'e2' };
    await t.control.sync();
    const ctx = { token: 'ops', dryRun: true };
    expect((await t.control.restoreHeld({}, ctx)).overrides.map((x) => x.name)).toEqual(['a.example', 'b.example']);
    expect(t.changes).toEqual([]);
    await expect(t.control.acceptReset({}, ctx)).rejects.toMatchObject({ code: 'REASON_REQUIRED' });
    t.state.snap = { version: 1, generation: 0, overrides: [o('a.example'), o('b.example', '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')], epoch: 'e2' };
    t.state.snap.overrides[1]!.updatedAt = '2026-11-25T11:30:00Z'; // set meanwhile elsewhere: the store keeps it
    const restored = await t.control.restoreHeld({}, { ...ctx, dryRun: false });
    expect(t.changes[0]).toEqual([
      { name: 'a.example', after: o('a.example'), ifAbsent: true },
      { name: 'b.example', after: o('b.example'), ifAbsent: true },
    ]);
    expect(restored.overrides.map((x) => x.name)).toEqual(['a.example']);
    expect(restored.skipped).toEqual([{ name: 'b.example', why: 'set in the store meanwhile: the store keeps its own' }]);
    expect(t.control.storeReset()).toBeUndefined();
    expect(t.audits.flat().map((a) => a.action)).toEqual(['override.restore', 'override.restore', 'override.restore', 'override.restore']);
  });

  it('adopts a store that went back (restored copy, same epoch), then follows it', async () => {
    const t = setup();
    t.state.snap = { version: 5, generation: 7, overrides: [o('a.example')], epoch: 'e1' };
    await t.control.start();
    t.state.snap = { version: 3, generation: 4, overrides: [], epoch: 'e1' };
    await t.control.sync();
    expect(t.applied().map((x) => x.name)).toEqual(['a.example']); // lost by the store: held
    expect(t.control.status()).toMatchObject({ version: 3, generation: 4, storeReset: { held: 1, cause: 'the store went back (restored from an older copy?)' } });
    t.state.snap.generation = 5;
    t.state.flushes = [t.flush(5, 'after.example')];
    await t.control.sync();
    expect(t.flushed.at(-1)).toEqual({ name: 'after.example' });
  });

  it('refuses changes with STORE_DEGRADED while degraded, and sets the gauge', async () => {
    const t = setup();
    await t.control.start();
    t.control.setDegraded('connection lost');
    expect(await t.gauge('dnslinkd_control_degraded')).toBe(1);
    expect(t.control.status()).toMatchObject({ degraded: true, degradedReason: 'connection lost' });
    const ctx = { token: 'ops', dryRun: false };
    await expect(t.control.setOverride('a.example', { value: o('a.example').value, reason: 'x' }, ctx)).rejects.toMatchObject({ code: 'STORE_DEGRADED' });
    await expect(t.control.flush({ all: true }, false, ctx)).rejects.toMatchObject({ code: 'STORE_DEGRADED' });
    await expect(t.control.flush({ all: true }, false, { ...ctx, dryRun: true })).rejects.toMatchObject({ code: 'STORE_DEGRADED' });
    t.control.setDegraded(undefined);
    expect(await t.gauge('dnslinkd_control_degraded')).toBe(0);
    await expect(t.control.flush({ all: true }, false, ctx)).resolves.toMatchObject({ dryRun: false });
  });
});
