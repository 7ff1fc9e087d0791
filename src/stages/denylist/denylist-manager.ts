// Which version of each list is in force: candidates from the sources (and the operator's rules
// from the control store) are weighed by the guard against the names served in the last 24 hours,
// applied or held, the applied version of each list kept in the data dir across restarts; and on
// every change the cache's entries the change blocks or unblocks are evicted (a walk that yields).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CodedError } from '../../errors.js';
import type { CacheStage } from '../cache/cache-stage.js';
import { OPERATOR_LIST, type DenylistConfig, type DenylistSourceOptions } from './config.js';
import type { DenylistStage } from './denylist-stage.js';
import type { CompiledDenylist, DenylistSourceDeps, DenylistSourceLike, DenylistSourceStatus, ListKind } from './list-types.js';
import type { DenylistMetrics } from './metrics.js';
import { RECENT_WINDOW_MS } from './recent-names.js';
import { forEachCachedName } from './served-names.js';
import { checkWith, explain, type ListInForce, type SubjectExplanation } from './verdict.js';

/** A version newly blocking this many served names or fewer is never held: a share of a handful of names says nothing. */
export const GUARD_MIN_NEWLY_BLOCKED = 5;
/** How long a start waits for a source's first read (the data dir's copy, then its URL or file) before it goes on. */
export const START_WAIT_MS = 10_000;
/** How long a stop waits for a source's read under way. */
const STOP_WAIT_MS = 1_000;
/** Resolves to `value` after `ms`, without holding the process open. */
function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
/** Newly blocked names named in a hold, a dry run or the status. */
const EXAMPLES_SHOWN = 20;
/** Where the applied version (sha256) of each list is kept, in the data dir. */
export const APPLIED_FILE = 'denylists-applied.json';

export type MakeDenylistSource = (options: DenylistSourceOptions, deps: DenylistSourceDeps) => DenylistSourceLike | undefined;

/** What a new version would do to the names served in the last 24 hours. */
export interface Weighing {
  /** Distinct DNSLink names served (cached TXT answers, names asked recently). */
  served: number;
  newlyBlocked: number;
  /** newlyBlocked / served, in percent (0 when nothing was served). */
  percent: number;
  /** Some of the names it would newly block. */
  examples: string[];
  /** Past denylist.maxNewlyBlockedPercent (and GUARD_MIN_NEWLY_BLOCKED): held, or a rule that needs force. */
  overLimit: boolean;
}

export interface HeldVersion extends Weighing {
  version: string;
  entries: number;
  /** ISO time it was held. */
  at: string;
}

/** A change of the lists worth an audit record (a hold, an accept). */
export interface DenylistAuditEvent {
  action: 'denylist.hold' | 'denylist.accept';
  list: string;
  token: string;
  before?: unknown;
  after?: unknown;
}

export interface ListStatus {
  name: string;
  kind: ListKind;
  source: string;
  version?: string;
  entries?: number;
  badLines?: number;
  lastFetch?: DenylistSourceStatus['lastFetch'];
  loadedFrom?: string;
  held?: HeldVersion;
}

interface ManagedList {
  name: string;
  kind: ListKind;
  source?: DenylistSourceLike;
  inForce?: CompiledDenylist;
  held?: { list: CompiledDenylist; weighing: HeldVersion };
}

export interface DenylistManagerDeps {
  stage: DenylistStage;
  cache: CacheStage;
  config: DenylistConfig;
  dataDir: string;
  /** Other data dirs whose kept copies a source reads at start when dataDir has none (DenylistSourceDeps). */
  fallbackDataDirs?: readonly string[];
  log: Logger;
  now?: () => number;
  metrics?: DenylistMetrics;
  makeSource?: MakeDenylistSource;
}

export class DenylistManager {
  /** Operator rules first, then the sources in configuration order: the first list with a match decides. */
  private readonly lists: ManagedList[];
  private applied: Record<string, string> = {};
  /** Applies, holds and accepts one at a time (each may walk the cache). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  /** Reports a hold or an accept to the audit log (set by the control plane). */
  audit: ((event: DenylistAuditEvent) => Promise<void>) | undefined;

  constructor(private readonly deps: DenylistManagerDeps) {
    this.now = deps.now ?? Date.now;
    this.lists = [
      { name: OPERATOR_LIST, kind: 'blocked' },
      ...deps.config.sources.map((options): ManagedList => {
        const source = deps.makeSource?.(options, { dataDir: deps.dataDir, ...(deps.fallbackDataDirs ? { fallbackDataDirs: deps.fallbackDataDirs } : {}), log: deps.log.child({ denylist: options.name }), now: this.now });
        return { name: options.name, kind: options.kind, ...(source ? { source } : {}) };
      }),
    ];
    if (deps.metrics) {
      deps.metrics.source = {
        entries: () => this.lists.flatMap((l) => (l.inForce ? [{ list: l.name, entries: l.inForce.entries }] : [])),
        sources: () => this.lists.flatMap((l) => (l.source ? [l.source.status()] : [])),
        held: () => this.lists.filter((l) => l.source).map((l) => ({ list: l.name, held: l.held !== undefined })),
      };
    }
  }

  get maxNewlyBlockedPercent(): number {
    return this.deps.config.maxNewlyBlockedPercent;
  }

  /** Reads the applied versions, then starts every source; a source that cannot start is logged and left (healthz says so). */
  async start(): Promise<void> {
    this.applied = this.readApplied();
    await Promise.all(
      this.lists.map(async (managed) => {
        const source = managed.source;
        if (!source) return;
        source.onCandidate((list) => void this.offer(managed.name, list));
        try {
          // The version applied before (kept in the data dir) is in force before any newer one is weighed.
          const applied = this.applied[managed.name];
          const kept = applied === undefined ? undefined : await source.loadKept(applied);
          if (kept) await this.offer(managed.name, kept);
          // A list server that does not answer never holds the start for long: its fetch goes on.
          const started = source.start();
          if ((await Promise.race([started.then(() => true), delay(START_WAIT_MS, false)])) === false) {
            this.deps.log.warn({ list: managed.name, waitedMs: START_WAIT_MS }, `denylist ${managed.name}: still being read after ${START_WAIT_MS / 1000} s; starting meanwhile${kept ? ' with the version applied before' : ' without it'}`);
            started.catch((err: unknown) => this.deps.log.error({ err, list: managed.name }, `denylist ${managed.name} could not be started`));
          }
        } catch (err) {
          this.deps.log.error({ err, list: managed.name }, `denylist ${managed.name} could not be started: not blocking by it until it can be read`);
        }
      }),
    );
    await this.queue;
  }

  /** Stops every source; a fetch still under way is not waited for past STOP_WAIT_MS. */
  async stop(): Promise<void> {
    await Promise.race([Promise.allSettled(this.lists.map((l) => l.source?.stop())), delay(STOP_WAIT_MS, undefined)]);
  }

  /** Reads or fetches every source again (a reload): a file is read whatever its stamp says. */
  async refresh(): Promise<void> {
    await Promise.allSettled(this.lists.map((l) => l.source?.refresh({ reread: true })));
  }

  private managed(name: string): ManagedList {
    const managed = this.lists.find((l) => l.name === name);
    if (!managed) throw new Error(`no denylist named ${name}`);
    return managed;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * A new version of a source's list: applied at once when it is the version applied before (a
   * restart), else weighed by the guard and applied or held.
   */
  offer(name: string, list: CompiledDenylist): Promise<void> {
    return this.serially(async () => {
      const managed = this.managed(name);
      if (managed.inForce?.version === list.version) {
        managed.held = undefined;
        return;
      }
      if (this.applied[name] !== list.version) {
        const weighing = await this.weigh(this.listsWith(name, list));
        if (weighing.overLimit) {
          const held: HeldVersion = { ...weighing, version: list.version, entries: list.entries, at: new Date(this.now()).toISOString() };
          managed.held = { list, weighing: held };
          this.deps.log.warn(
            { list: name, version: list.version, inForce: managed.inForce?.version, newlyBlocked: weighing.newlyBlocked, served: weighing.served, percent: weighing.percent, examples: weighing.examples },
            `denylist ${name}: new version HELD, not applied: it would newly block ${weighing.newlyBlocked} of the ${weighing.served} names served in the last 24 h (${weighing.percent.toFixed(1)}%, more than denylist.maxNewlyBlockedPercent ${this.maxNewlyBlockedPercent}%); the previous version stays in force; check it, then dnslinkd deny accept ${name}`,
          );
          await this.audit?.({ action: 'denylist.hold', list: name, token: 'system', before: managed.inForce ? { version: managed.inForce.version } : null, after: held }).catch((err: unknown) => this.deps.log.error({ err }, 'the audit record of a held denylist version could not be written'));
          return;
        }
      }
      await this.apply(managed, list);
    });
  }

  /** Whether a version of the list is held. */
  held(name: string): boolean {
    return this.lists.some((l) => l.name === name && l.held !== undefined);
  }

  /** Throws DENYLIST_NOT_FOUND unless a source of that name is configured. */
  requireSource(name: string): void {
    if (!this.lists.some((l) => l.name === name && l.source)) throw new CodedError('DENYLIST_NOT_FOUND', `no denylist source is named ${name} (denylist.sources)`);
  }

  /** Applies the held version of a list (dnslinkd deny accept LIST). */
  accept(name: string, token: string): Promise<{ list: string; version: string; entries: number; newlyBlocked: number }> {
    return this.serially(async () => {
      const managed = this.lists.find((l) => l.name === name && l.source);
      if (!managed) throw new CodedError('DENYLIST_NOT_FOUND', `no denylist source is named ${name} (denylist.sources)`);
      const held = managed.held;
      if (!held) throw new CodedError('NOTHING_HELD', `no version of ${name} is held: the newest one is in force`);
      // Audited once by the admin side (denylist-control.ts), not by each process that applies it.
      void token;
      await this.apply(managed, held.list);
      return { list: name, version: held.list.version, entries: held.list.entries, newlyBlocked: held.weighing.newlyBlocked };
    });
  }

  /** The operator's rules as one list (from the control store), applied without the guard: their dry run needed force already. */
  setOperatorList(list: CompiledDenylist | undefined): Promise<void> {
    return this.serially(async () => {
      const managed = this.managed(OPERATOR_LIST);
      if (managed.inForce?.version === list?.version) return;
      await this.apply(managed, list);
    });
  }

  /** The lists in force with `name`'s replaced by `list` (undefined: without it). */
  listsWith(name: string, list: CompiledDenylist | undefined): ListInForce[] {
    return this.lists.flatMap((l) => {
      const version = l.name === name ? list : l.inForce;
      return version ? [{ list: version, kind: l.kind }] : [];
    });
  }

  /** What the lists `candidate` would newly block among the names served in the last 24 hours. */
  async weigh(candidate: readonly ListInForce[]): Promise<Weighing> {
    const current = this.deps.stage.lists.all;
    const newly = new Map<string, boolean>();
    const consider = (name: string, values: readonly string[], blockedNow: boolean) => {
      if (newly.get(name) === true) return;
      const subjects = [...this.deps.stage.namesOf(name), ...values];
      const before = blockedNow || checkWith(current, subjects) !== undefined;
      newly.set(name, !before && checkWith(candidate, subjects) !== undefined);
    };
    await forEachCachedName(this.deps.cache.store, this.now() - RECENT_WINDOW_MS, (served) => consider(served.name, served.values, served.blocked));
    for (const name of this.deps.stage.recent.names()) if (!newly.has(name)) consider(name, [], false);
    const examples: string[] = [];
    let count = 0;
    for (const [name, blocked] of newly) {
      if (!blocked) continue;
      count++;
      if (examples.length < EXAMPLES_SHOWN) examples.push(name);
    }
    const percent = newly.size === 0 ? 0 : (count / newly.size) * 100;
    return { served: newly.size, newlyBlocked: count, percent, examples, overLimit: count > GUARD_MIN_NEWLY_BLOCKED && percent > this.maxNewlyBlockedPercent };
  }

  /** Puts `list` in force for `managed` (undefined: none), records it, and evicts the cached answers it changes. */
  private async apply(managed: ManagedList, list: CompiledDenylist | undefined): Promise<void> {
    const previous = managed.inForce;
    managed.inForce = list;
    managed.held = undefined;
    this.deps.stage.lists.replace(this.listsWith(managed.name, list));
    if (managed.source && list) {
      this.recordApplied(managed.name, list.version);
      await managed.source.pinApplied?.(list.version);
    }
    const evicted = await this.evictChanged();
    this.deps.log.info(
      { list: managed.name, version: list?.version, previous: previous?.version, entries: list?.entries ?? 0, badLines: list?.badLines ?? 0, evicted },
      `denylist ${managed.name}: ${list ? `version ${list.version.slice(0, 12)} in force (${list.entries} rules)` : 'no rules in force'}; ${evicted} cached names evicted`,
    );
  }

  /**
   * Evicts the cached names whose answer the lists in force now decide otherwise: every cached
   * block (it may be lifted) and every answer now blocked. The next question asks again below.
   */
  private async evictChanged(): Promise<number> {
    const lists = this.deps.stage.lists.all;
    const victims = new Set<string>();
    await forEachCachedName(this.deps.cache.store, -Infinity, (served) => {
      if (served.blocked || checkWith(lists, [...this.deps.stage.namesOf(served.name), ...served.values]) !== undefined) victims.add(served.name);
    });
    let done = 0;
    for (const name of victims) {
      await this.deps.cache.flush({ name });
      if (++done % 500 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return victims.size;
  }

  /** Which list and rule decide for a name or an /ipfs/ or /ipns/ path, every list's match beside it. */
  check(subject: string): SubjectExplanation[] {
    const lists = this.deps.stage.lists.all;
    const subjects = subject.startsWith('/') ? [subject] : this.deps.stage.namesOf(subject.toLowerCase().replace(/\.$/, ''));
    return subjects.map((s) => explain(lists, s));
  }

  status(): { lists: ListStatus[]; maxNewlyBlockedPercent: number; answer: string } {
    const lists = this.lists.map((l): ListStatus => {
      const source = l.source?.status();
      return {
        name: l.name,
        kind: l.kind,
        source: source?.source ?? 'control store (dnslinkd deny add)',
        ...(l.inForce ? { version: l.inForce.version, entries: l.inForce.entries, badLines: l.inForce.badLines } : {}),
        ...(source?.lastFetch ? { lastFetch: source.lastFetch } : {}),
        ...(source?.loadedFrom ? { loadedFrom: source.loadedFrom } : {}),
        ...(l.held ? { held: l.held.weighing } : {}),
      };
    });
    return { lists, maxNewlyBlockedPercent: this.maxNewlyBlockedPercent, answer: this.deps.config.answer };
  }

  /** What /healthz says about the lists (a version held, a list never read), or undefined when all is well. */
  healthNote(): string | undefined {
    const notes: string[] = [];
    for (const l of this.lists) {
      if (l.held) notes.push(`denylist ${l.name}: a new version is HELD (it would newly block ${l.held.weighing.newlyBlocked} of ${l.held.weighing.served} served names); the previous one stays in force: dnslinkd deny accept ${l.name}`);
      else if (l.source && !l.inForce) notes.push(`denylist ${l.name} DEGRADED: no version could be read (${l.source.status().lastFetch?.error ?? 'not read yet'}): not blocking by it`);
    }
    return notes.length ? notes.join('; ') : undefined;
  }

  get degraded(): boolean {
    return this.lists.some((l) => l.source && !l.inForce);
  }

  private readApplied(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(this.deps.dataDir, APPLIED_FILE), 'utf8'));
      if (!parsed || typeof parsed !== 'object') return {};
      const applied: Record<string, string> = {};
      for (const [name, version] of Object.entries(parsed as Record<string, unknown>)) if (typeof version === 'string' && /^[0-9a-f]{64}$/.test(version)) applied[name] = version;
      return applied;
    } catch {
      return {};
    }
  }

  private recordApplied(name: string, version: string): void {
    this.applied[name] = version;
    try {
      mkdirSync(this.deps.dataDir, { recursive: true });
      const path = join(this.deps.dataDir, APPLIED_FILE);
      writeFileSync(`${path}.tmp`, `${JSON.stringify(this.applied, null, 2)}\n`);
      renameSync(`${path}.tmp`, path);
    } catch (err) {
      this.deps.log.error({ err, dataDir: this.deps.dataDir }, `the applied version of denylist ${name} could not be recorded in the data dir: after a restart the guard weighs it again`);
    }
  }
}
