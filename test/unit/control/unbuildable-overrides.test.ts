// Defence in depth for overrides that reach the control plane without the admin API's checks (a
// store of an older version, a hand-written record): one whose answers cannot be built is left out
// of what the replicas serve at start, adopt and sync, never stopping the start or the others, and
// reported (error log, dnslinkd_overrides_unbuildable, /admin/v1/status, the /healthz note).
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../../../src/control/control-plane.js';
import { describeControlHealth } from '../../../src/control/health.js';
import { ControlMetrics } from '../../../src/control/metrics.js';
import type { Replica } from '../../../src/control/replica.js';
import type { ControlSnapshot, ControlStore } from '../../../src/control/store.js';
import type { Override } from '../../../src/stages/overrides/override.js';
import { OverridesStage } from '../../../src/stages/overrides/overrides-stage.js';
import { UnbuildableOverrides } from '../../../src/control/unbuildable-overrides.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const o = (name: string, value = `/ipfs/${CID}`): Override => ({ name, value, ttl: 60, reason: 'r', by: 't', createdAt: '2026-11-25T11:00:00Z', updatedAt: '2026-11-25T11:00:00Z' });

describe('overrides whose answers cannot be built', () => {
  it('are skipped at start and sync, reported, and never stop the others', async () => {
    let snap: ControlSnapshot = { version: 1, generation: 0, overrides: [o('huge.example', `/ipfs/${CID}/${'a'.repeat(70_000)}`), o('good.example')] };
    const store = {
      kind: 'embedded',
      location: '/x/control.db',
      snapshot: async () => structuredClone(snap),
      flushesAfter: async () => [],
      appendAudit: async () => {},
      audit: async () => [],
      close: async () => {},
    } as unknown as ControlStore;
    // The replica is a real overrides stage: what it is given must build.
    const stage = new OverridesStage();
    // What the replica serves, as the control plane changes it (a whole set, or one change at a time).
    const served = new Set<string>();
    const appliedNames = () => [...served].sort();
    const replica: Replica = {
      applyOverrides: async (list) => {
        served.clear();
        for (const x of list) served.add(x.name);
        expect(stage.replaceAll(list)).toEqual([]);
      },
      changeOverrides: async (updates) => {
        for (const u of updates) {
          if (u.after) {
            stage.set(u.after);
            served.add(u.name);
          } else {
            stage.remove(u.name);
            served.delete(u.name);
          }
        }
      },
      flush: async () => 0,
      cached: async () => [],
      cachedTxt: async () => undefined,
    };
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
    const registry = new Registry();
    const control = new ControlPlane(store, replica, log, new ControlMetrics(registry));
    const gauge = async () => (await registry.getSingleMetric('dnslinkd_overrides_unbuildable')!.get()).values[0]?.value;

    await control.start();
    expect(appliedNames()).toEqual(['good.example']);
    expect(await gauge()).toBe(1);
    expect(control.status().unbuildableOverrides).toMatchObject({ count: 1, overrides: [{ name: 'huge.example', why: expect.stringMatching(/past the 65535 of a DNS message/) }] });
    expect(lines.join('')).toMatch(/"level":50.*"name":"huge\.example".*override of huge\.example skipped, never served/);
    expect(describeControlHealth({ store: 'embedded', degraded: false, unbuildableOverrides: control.unbuildable.count })).toMatch(/note: 1 overrides skipped, never served: their answers cannot be built/);

    // Logged once, not at every sync; set again with a value that fits, gone from the report.
    snap = { ...snap, version: 2, overrides: [...snap.overrides, o('other.example')] };
    await control.sync();
    expect(appliedNames()).toEqual(['good.example', 'other.example']);
    expect(lines.filter((l) => l.includes('skipped, never served'))).toHaveLength(1);
    snap = { ...snap, version: 3, overrides: [o('good.example'), o('huge.example'), o('other.example')] };
    await control.sync();
    expect(appliedNames()).toEqual(['good.example', 'huge.example', 'other.example']);
    expect(await gauge()).toBe(0);
    expect(control.status().unbuildableOverrides.count).toBe(0);
    await control.close();
  });
});

describe('UnbuildableOverrides.buildableChanges (a change log read: some names only)', () => {
  it('reports the changed ones that cannot be built, keeps the reports of the others, forgets a removed or fixed one', () => {
    const counts: number[] = [];
    const u = new UnbuildableOverrides(pino({ level: 'silent' }), (n) => counts.push(n));
    const huge = (name: string) => o(name, `/ipfs/${CID}/${'a'.repeat(70_000)}`);
    expect(u.buildable([huge('a.example'), o('b.example')]).map((x) => x.name)).toEqual(['b.example']);
    expect(u.buildableChanges([huge('c.example'), o('d.example')], []).map((x) => x.name)).toEqual(['d.example']);
    expect(u.list().map((x) => x.name).sort()).toEqual(['a.example', 'c.example']);
    expect(u.buildableChanges([o('c.example')], ['a.example']).map((x) => x.name)).toEqual(['c.example']);
    expect(u.count).toBe(0);
    expect(counts).toEqual([1, 2, 0]);
  });
});
