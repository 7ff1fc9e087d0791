// ControlPlane changes reach the replica as changes, never as the whole set: set, change and
// remove each send exactly one update, and the replica's set stays equal to the control plane's;
// an import sends its overrides once; a change made here is recognised by its version (its fleet
// notice needs no reconcile), one made elsewhere is not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../src/control/control-plane.js';
import { EmbeddedStore } from '../../../src/control/embedded-store.js';
import { ControlMetrics } from '../../../src/control/metrics.js';
import type { OverrideUpdate, Replica } from '../../../src/control/replica.js';
import type { Override } from '../../../src/stages/overrides/override.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const ctx = { token: 'ops', dryRun: false };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-incremental-'));
  dirs.push(dir);
  const store = EmbeddedStore.open(dir);
  const served = new Map<string, Override>();
  const calls: { whole: number; updates: OverrideUpdate[][] } = { whole: 0, updates: [] };
  const replica: Replica = {
    applyOverrides: async (list) => {
      calls.whole++;
      served.clear();
      for (const x of list) served.set(x.name, x);
    },
    changeOverrides: async (updates) => {
      calls.updates.push([...updates]);
      for (const u of updates) if (u.after) served.set(u.name, u.after);
      else served.delete(u.name);
    },
    flush: async () => 0,
    cached: async () => [],
    cachedTxt: async () => undefined,
  };
  const control = new ControlPlane(store, replica, pino({ level: 'silent' }), new ControlMetrics(new Registry()));
  await control.start();
  const servedNames = () => [...served.keys()].sort();
  const activeNames = () => control.active().map((x) => x.name);
  return { control, store, calls, served, servedNames, activeNames };
}

describe('override changes, incrementally', () => {
  it('sends one update per set, change and remove, and keeps the replica equal to the set', async () => {
    const t = await setup();
    const items = Array.from({ length: 1200 }, (_, i) => ({ name: `n${i}.example`, value: `/ipfs/${CID}/${i}`, ttl: 60 }));
    await t.control.importOverrides(items, { reason: 'load' }, ctx);
    expect(t.calls.updates.flat()).toHaveLength(1200);
    expect(t.servedNames()).toEqual(t.activeNames());
    t.calls.updates.length = 0;

    await t.control.setOverride('new.example', { value: `/ipfs/${CID}`, reason: 'set' }, ctx);
    await t.control.setOverride('n5.example', { value: `/ipfs/${CID}/changed`, reason: 'change' }, ctx);
    await t.control.removeOverride('n6.example', { reason: 'remove' }, ctx);
    expect(t.calls.updates.map((u) => u.map((x) => [x.name, x.after?.value ?? null]))).toEqual([
      [['new.example', `/ipfs/${CID}`]],
      [['n5.example', `/ipfs/${CID}/changed`]],
      [['n6.example', null]],
    ]);
    expect(t.calls.whole).toBe(0);
    expect(t.servedNames()).toEqual(t.activeNames());
    expect(t.served.get('n5.example')?.value).toBe(`/ipfs/${CID}/changed`);
    // What a full rebuild from the store would serve.
    expect((await t.store.snapshot()).overrides.map((x) => x.name).sort()).toEqual(t.servedNames());
    await t.control.close();
  });

  it('knows the versions of its own changes (their fleet notices need no reconcile), not others', async () => {
    const t = await setup();
    await t.control.setOverride('a.example', { value: `/ipfs/${CID}`, reason: 'set' }, ctx);
    const mine = (await t.store.snapshot()).version;
    expect(await t.control.ownChange(mine)).toBe(true);
    expect(await t.control.ownChange(mine)).toBe(false); // once
    // A change written by another instance (straight to the store) is not this one's.
    await t.store.changeOverrides([{ name: 'b.example', after: { ...t.served.get('a.example')!, name: 'b.example' } }], []);
    expect(await t.control.ownChange(mine + 1)).toBe(false);
    await t.control.close();
  });

  it('a change made here after another instance changed the store (its notice not in yet) leaves the version behind: the next sync adopts the other change', async () => {
    const t = await setup();
    const now = new Date().toISOString();
    const elsewhere: Override = { name: 'elsewhere.example', value: `/ipfs/${CID}/elsewhere`, ttl: 60, reason: 'another instance', by: 'other', createdAt: now, updatedAt: now };
    // Another instance's change: in the store, its notice not yet received here.
    await t.store.changeOverrides([{ name: elsewhere.name, after: elsewhere }], []);
    await t.control.setOverride('here.example', { value: `/ipfs/${CID}/here`, reason: 'made here' }, ctx);
    expect(t.servedNames()).toEqual(['here.example']);
    // The periodic sync (or the other change's notice) reconciles: both are served.
    await t.control.sync();
    expect(t.servedNames()).toEqual(['elsewhere.example', 'here.example']);
    await t.control.close();
  });
});
