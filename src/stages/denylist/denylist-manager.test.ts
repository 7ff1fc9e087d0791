// The list manager with a scripted source: the guard holds a version that would newly block more
// than denylist.maxNewlyBlockedPercent of the names served (the cache's and those asked lately),
// `accept` applies it, a small change applies at once, and the applied version survives a restart.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { Rcode, RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { CacheStage } from '../cache/cache-stage.js';
import { cacheStageOptions } from '../cache/config.js';
import { linkStages } from '../stage.js';
import { FakeClock, ScriptedStage, txtRecord, upstreamAnswer } from '../testing/harness.js';
import type { DenylistConfig } from './config.js';
import { APPLIED_FILE, DenylistManager, GUARD_MIN_NEWLY_BLOCKED, START_WAIT_MS } from './denylist-manager.js';
import { DenylistStage } from './denylist-stage.js';
import type { CompiledDenylist, DenylistSourceLike } from './list-types.js';
import { parseDenylist } from './format/index.js';

/** A list of these rules, parsed as any list is. */
const tinyList = (name: string, text: string) => parseDenylist(text, { name });

/** A source the test hands versions to. */
class ScriptedSource implements DenylistSourceLike {
  private listener: ((list: CompiledDenylist) => void) | undefined;
  constructor(private readonly first?: CompiledDenylist) {}
  async start() {
    if (this.first) this.listener?.(this.first);
  }
  async stop() {}
  async refresh() {}
  onCandidate(listener: (list: CompiledDenylist) => void) {
    this.listener = listener;
  }
  offer(list: CompiledDenylist) {
    this.listener?.(list);
  }
  async loadKept() {
    return undefined;
  }
  status() {
    return { name: 'badbits', kind: 'blocked' as const, source: 'https://lists.example/badbits.deny', unavailable: false };
  }
}

const defaults = configSchema.parse({});
const NAMES = Array.from({ length: 20 }, (_, i) => `site${i}.example`);

function setup(dataDir: string, first?: CompiledDenylist) {
  const clock = new FakeClock(Date.now());
  const cache = new CacheStage({ ...cacheStageOptions(defaults.cache, defaults.clientDeadlineMs), serveStale: false, prefetch: false }, undefined, clock.now);
  const stage = new DenylistStage({ answer: 'nodata', mirrors: [] }, undefined, clock.now);
  const upstream = new ScriptedStage((q) => upstreamAnswer(txtRecord(q.name, 300, `dnslink=/ipns/${q.name.replace('_dnslink.', '')}-target`)));
  linkStages([cache, stage, upstream]);
  const config: DenylistConfig = { sources: [{ name: 'badbits', url: 'https://lists.example/badbits.deny', refreshIntervalMs: 1000, kind: 'blocked' }], answer: 'nodata', maxNewlyBlockedPercent: 10 };
  const source = new ScriptedSource(first);
  const audits: unknown[] = [];
  const manager = new DenylistManager({ stage, cache, config, dataDir, log: pino({ level: 'silent' }), now: clock.now, makeSource: () => source });
  manager.audit = async (event) => void audits.push(event);
  const ask = async (name: string) => cache.resolve(makeQuestion(`_dnslink.${name}`, RRType.TXT), { caller: 'udp' });
  return { manager, source, ask, audits, stage };
}

const blocking = (names: readonly string[]) => tinyList('badbits', names.map((n) => `/ipns/${n}`).join('\n'));

describe('denylist manager: the guard', () => {
  it('holds a version that would newly block most served names; the previous stays in force until accepted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'denylist-'));
    const t = setup(dataDir);
    await t.manager.start();
    for (const name of NAMES) await t.ask(name);
    // One name blocked: applied at once (at or under the floor of GUARD_MIN_NEWLY_BLOCKED names).
    const small = blocking([NAMES[0]!]);
    await t.manager.offer('badbits', small);
    expect((await t.ask(NAMES[0]!)).ede?.text).toBe(`blocked by denylist badbits rule /ipns/${NAMES[0]}`);
    // Most names: held.
    const wide = blocking(NAMES.slice(0, 15));
    await t.manager.offer('badbits', wide);
    const status = t.manager.status().lists.find((l) => l.name === 'badbits')!;
    expect(status.version).toBe(small.version);
    expect(status.held).toMatchObject({ version: wide.version, newlyBlocked: 14, served: 20 });
    expect(14).toBeGreaterThan(GUARD_MIN_NEWLY_BLOCKED);
    expect(t.manager.healthNote()).toContain('dnslinkd deny accept badbits');
    expect(t.audits).toEqual([expect.objectContaining({ action: 'denylist.hold', list: 'badbits' })]);
    expect((await t.ask(NAMES[5]!)).rcode).toBe(Rcode.NOERROR);
    expect((await t.ask(NAMES[5]!)).answers).toHaveLength(1);
    // Accepted: in force, the cached answers it blocks evicted at once.
    await t.manager.accept('badbits', 'ops');
    expect((await t.ask(NAMES[5]!)).ede?.text).toBe(`blocked by denylist badbits rule /ipns/${NAMES[5]}`);
    expect(t.manager.healthNote()).toBeUndefined();
    // The accept is the admin's to audit (once, whatever the number of processes): no event here.
    expect(t.audits).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dataDir, APPLIED_FILE), 'utf8'))).toEqual({ badbits: wide.version });
    await expect(t.manager.accept('badbits', 'ops')).rejects.toMatchObject({ code: 'NOTHING_HELD' });
  });

  it('applies again at a restart the version applied before, unweighed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'denylist-'));
    const wide = blocking(NAMES.slice(0, 15));
    const first = setup(dataDir);
    await first.manager.start();
    await first.manager.offer('badbits', wide);
    // Nothing served yet: applied.
    expect(first.manager.status().lists[1]!.version).toBe(wide.version);
    // A restart: the names served meanwhile would make the guard hold it, but it was applied before.
    const again = setup(dataDir, wide);
    for (const name of NAMES) again.stage.recent.add(name);
    await again.manager.start();
    expect(again.manager.status().lists[1]).toMatchObject({ version: wide.version });
    expect(again.manager.status().lists[1]!.held).toBeUndefined();
  });

  it('weighs the names asked lately beside the cached ones', async () => {
    const t = setup(mkdtempSync(join(tmpdir(), 'denylist-')));
    await t.manager.start();
    for (const name of NAMES) t.stage.recent.add(name);
    const weighing = await t.manager.weigh(t.manager.listsWith('badbits', blocking(NAMES.slice(0, 10))));
    expect(weighing).toMatchObject({ served: 20, newlyBlocked: 10, percent: 50, overLimit: true });
  });

  it('does not hold a start past START_WAIT_MS for a source whose first read hangs', async () => {
    vi.useFakeTimers();
    try {
      const t = setup(mkdtempSync(join(tmpdir(), 'denylist-')));
      t.source.start = () => new Promise<void>(() => {});
      let started = false;
      const start = t.manager.start().then(() => (started = true));
      await vi.advanceTimersByTimeAsync(START_WAIT_MS - 100);
      expect(started).toBe(false);
      await vi.advanceTimersByTimeAsync(200);
      await start;
      expect(started).toBe(true);
      expect(t.manager.healthNote()).toContain('denylist badbits DEGRADED');
    } finally {
      vi.useRealTimers();
    }
  });
});
