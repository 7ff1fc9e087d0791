// The operator control plane: flushes and overrides checked, written durably to the store with
// their audit records, then applied to this instance's replicas (or, with a fleet store, to every
// instance as each reconciles). Dry runs say what would change and change nothing. Overrides that
// expire are removed by themselves, with an audit record saying so. A change made here costs O(1)
// in the number of overrides (only the changed ones reach the replicas); imports and syncs of large
// sets are applied in chunks that yield, so the DNS port keeps answering.
import type { CounterSamples } from './counter-samples.js';
import type { ApiAnswer } from '../core/gateway-answer.js';
import type { Logger } from 'pino';
import { resolveGatewayValue, isGatewayFailure } from '../dnslink/gateway.js';
import type { TxtLookup } from '../dnslink/resolve.js';
import { CodedError, errorMessage } from '../errors.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import { checkOverrideValue, expiryOf, inForce, type Override } from '../stages/overrides/override.js';
import type { InvalidRecord } from './invalid-records.js';
import type { CacheListPage, CacheListQuery } from './cache-listing.js';
import type { FleetPresence } from './fleet-presence.js';
import type { InstanceStatusView } from './instance-status.js';
import type { ControlMetrics } from './metrics.js';
import { checkExpiry, checkReason, checkTtl, controlName } from './override-rules.js';
import { ipnsTargetProblem } from './override-content.js';
import { DEFAULT_MAX_FLUSH_ENTRIES, requireForceForFlush, requireForceForNames, wideReach, type WideReach } from './reach-guard.js';
import { heldPhrase, missingFrom, removedNames, RESET_CHOICES, type StoreResetView } from './store-reset.js';
import type { EnsStatusView, OverrideUpdate, Replica } from './replica.js';
import { UnbuildableOverrides, type UnbuildableOverride } from './unbuildable-overrides.js';
import { forEachInChunks, WORK_CHUNK, yieldToEventLoop } from '../runtime/event-loop-yield.js';
import type { AuditQuery, AuditRecord, ControlStore, NewAuditRecord, OverrideChange } from './store.js';
import type { DenylistControl } from './denylist-control.js';

/** Who asks for a change and whether it is only a question (dry run). */
export interface ChangeContext {
  token: string;
  dryRun: boolean;
  /** The caller accepts a change with a wide reach (reach-guard.ts); recorded in the audit log. */
  force?: boolean;
}

/** The audit record's mark of a forced change. */
const forced = (ctx: ChangeContext): { force?: true } => (ctx.force === true ? { force: true } : {});

export interface OverrideInput {
  value?: string;
  ttl?: number;
  expiresAt?: string;
  reason?: string;
}

/** What a change to one override did (or, for a dry run, would do). */
export interface OverrideChangeResult {
  dryRun: boolean;
  name: string;
  before: Override | null;
  after: Override | null;
  /** What the name resolves to before and after, as DNSLink values (null: nothing known). */
  answers: { before: string | null; after: string | null };
  /** Cached entries of the name removed (for a dry run: that would be). */
  cache: { removed: number };
}

/** What a restore or an accept-reset did (or, for a dry run, would do). */
export interface HeldChangeResult {
  dryRun: boolean;
  /** The overrides published again, or dropped. */
  overrides: Override[];
  /** Ones a restore left as the store has them. */
  skipped: Array<{ name: string; why: string }>;
}

export interface ControlStatus {
  store: { kind: string; location: string };
  version: number;
  generation: number;
  overrides: number;
  /** True while the store is unreachable or overrides are held after a reset. */
  degraded: boolean;
  degradedReason?: string;
  storeReset?: StoreResetView;
  invalidRecords: { count: number; records: InvalidRecord[] };
  /** Overrides skipped because their answers cannot be built (never served). */
  unbuildableOverrides: { count: number; overrides: UnbuildableOverride[] };
}

export interface FlushResult {
  dryRun: boolean;
  removed: number;
  generation: number;
}

/** Audit records read back at most, to tell a removal from a loss, and how far before the last read. */
const RESET_AUDIT_SCAN = 10_000;
const RESET_AUDIT_MARGIN_MS = 60_000;
/** setTimeout's longest delay (about 24.8 days): a later expiry is scheduled in steps. */
const MAX_TIMER_MS = 2_147_483_647;
/** Reads of the change log retried while changes made here land during them (then the next reconcile reads again). */
const LOG_READ_ATTEMPTS = 5;
/** An import logs one line per override up to this many, one line for all past it (each is in the audit log). */
const IMPORT_LOG_LINES = 100;

function invalid(code: string, message: string): CodedError {
  return new CodedError(code, message);
}

/** A reason given with one imported override: the admin API's rules. */
function checkImportReason(reason: unknown, where: string): void {
  try {
    checkReason(reason);
  } catch (err) {
    if (err instanceof CodedError) throw invalid('INVALID_IMPORT', `${where}: ${err.message}`);
    throw err;
  }
}

/** True when both are the same override record (a cheap field check, no serialisation). */
function sameOverride(a: Override | undefined, b: Override | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.name === b.name && a.value === b.value && a.ttl === b.ttl && a.reason === b.reason && a.expiresAt === b.expiresAt && a.pinned === b.pinned && a.by === b.by && a.createdAt === b.createdAt && a.updatedAt === b.updatedAt
  );
}

function flushTargetName(target: FlushTarget): string | undefined {
  return 'name' in target ? target.name : 'suffix' in target ? target.suffix : undefined;
}

/** How long a change waits for the name's current answer from the stages (its answers line). */
const CURRENT_ANSWER_DEADLINE_MS = 1_000;
const LATE = Symbol('late');

export class ControlPlane {
  /** Told of every change made here once it is recorded (its audit record): the change stream (src/changes/). */
  onAudited: ((record: NewAuditRecord) => void) | undefined;
  /** The overrides served: the store's, and the ones held after a reset. */
  private overrides = new Map<string, Override>();
  /** The store's overrides as last read or written. */
  private stored = new Map<string, Override>();
  /** Overrides this instance served that the store lost (a reset): still served until restored or dropped. */
  private held = new Map<string, Override>();
  /** The held overrides as last applied to the replicas (what /healthz and the status report). */
  private heldServed: Override[] = [];
  private heldSince: number | undefined;
  private heldCause: string | undefined;
  /** When the store's state was last read (ms). */
  private lastReadAt: number | undefined;
  private version = -1;
  private generation = 0;
  /** The shared store's identity as last seen (a new one: its flush log is applied from the start). */
  private epoch: string | undefined;
  /** Why the shared store cannot be reached now (writes are refused), or undefined. */
  private degradedReason: string | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** When the expiry timer fires (epoch ms), Infinity when none is set. */
  private expiryTimerAt = Infinity;
  /** Override versions this instance wrote and applied itself (their change notices need no reconcile). */
  private readonly ownVersions = new Set<number>();
  /** Override changes of this instance between their write and their application here. */
  private readonly changesInFlight = new Set<Promise<unknown>>();
  /** Changes to the replicas, one after the other (a large one is applied in chunks). */
  private replicaQueue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Overrides left out of what the replicas serve because their answers cannot be built. */
  readonly unbuildable: UnbuildableOverrides;
  /** Reloads the configuration file (POST /admin/v1/reload); set where the process can (src/lifecycle/reload.ts). */
  reload?: (dryRun: boolean, by: string) => Promise<object>;
  /** The instances sharing a fleet store (state.redis), for the status; unset with the embedded store. */
  fleet?: FleetPresence;
  /** The console's counter samples (GET /admin/v1/samples); set where the admin listener runs. */
  samples?: CounterSamples;
  /** Seconds from the last change read from the store to its application here (a fleet's sync lag). */
  syncLagSeconds: number | undefined;
  /** admin.maxFlushEntries as in force (a reload swaps it): a flush removing more needs force. */
  maxFlushEntries: () => number = () => DEFAULT_MAX_FLUSH_ENTRIES;
  /** The operator's denylist rules (denylist-control.ts): read again at start and at every reconcile. */
  denylist?: DenylistControl;

  constructor(
    readonly store: ControlStore,
    private readonly replica: Replica,
    private readonly log: Logger,
    private readonly metrics: ControlMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.unbuildable = new UnbuildableOverrides(log, (count) => metrics.unbuildableOverrides.set(count), now);
  }

  /** Loads the store's state and applies it; the caches are empty, so earlier flushes are moot. */
  async start(): Promise<void> {
    const snapshot = await this.store.snapshot();
    this.generation = snapshot.generation;
    this.epoch = snapshot.epoch;
    await this.adopt(snapshot.overrides, snapshot.version, false);
    this.log.info({ store: this.store.kind, location: this.store.location, overrides: this.active().length, version: snapshot.version, generation: snapshot.generation }, 'control store opened');
    await this.expireDue();
    await this.denylist?.sync();
  }

  /**
   * Reconciles with the store: newer overrides are applied (and their names flushed), then flushes
   * not yet applied (all caches when some were trimmed from the log before this instance saw them).
   * A store that is new (another epoch) or went back (restored) is adopted as it is, except for the
   * overrides this instance served that it lost: those are held and still served, and said so
   * (store-reset.ts), until the operator restores or drops them. So is an override gone from the
   * store without the audit record every removal writes.
   */
  async sync(): Promise<void> {
    await this.syncOverridesAndFlushes();
    await this.denylist?.sync();
  }

  private async syncOverridesAndFlushes(): Promise<void> {
    if (await this.syncFromLog()) return;
    if (this.store.changesSince) this.metrics.syncReads.inc({ read: 'full' });
    const previousRead = this.lastReadAt;
    const versionBefore = this.version;
    // What this instance had when a read began: a store older than that went back. Changes made here
    // while the read runs (it yields while it checks a large set) are newer than it, not a sign.
    let readFrom = { version: this.version, generation: this.generation };
    let snapshot = await this.store.snapshot();
    const reset = snapshot.epoch !== undefined && this.epoch !== undefined && snapshot.epoch !== this.epoch;
    const wentBack = (s: typeof snapshot) => !reset && (s.version < readFrom.version || s.generation < readFrom.generation);
    // A change made here may have landed between that read and now: read again before concluding.
    if (wentBack(snapshot)) {
      readFrom = { version: this.version, generation: this.generation };
      snapshot = await this.store.snapshot();
    }
    this.lastReadAt = this.now();
    const behind = wentBack(snapshot);
    if (reset || behind) {
      this.log.warn(
        { store: this.store.kind, location: this.store.location, version: snapshot.version, generation: snapshot.generation, had: { version: this.version, generation: this.generation } },
        reset ? 'the control store is a new one (emptied or replaced): adopting its overrides and every flush in its log' : 'the control store went back (restored from a copy?): adopting its state',
      );
      this.metrics.storeResets.inc({ cause: reset ? 'new' : 'went-back' });
      if (reset) {
        this.generation = 0;
        this.store.invalid?.clear();
      } else this.generation = Math.min(this.generation, snapshot.generation);
    }
    this.epoch = snapshot.epoch ?? this.epoch;
    const storeSet = new Map(snapshot.overrides.map((o) => [o.name, o]));
    const now = this.now();
    // Overrides this instance had from the store and the store no longer has.
    let lost: Override[] = [];
    if (reset || behind) lost = missingFrom(this.stored.values(), storeSet);
    else if (snapshot.version === this.version) lost = missingFrom(this.stored.values(), storeSet); // gone, and no change recorded
    else if (snapshot.version > this.version) {
      const vanished = missingFrom(this.stored.values(), storeSet).filter((o) => inForce(o, now));
      for (const name of [...this.held.keys()]) if (storeSet.has(name)) this.held.delete(name); // set again (restored) in the store: it wins
      if (vanished.length > 0 || this.held.size > 0) {
        // A removal writes its audit record in the same script: none (newest first) means it was lost.
        const since = Math.min(previousRead ?? now, this.heldSince ?? now) - RESET_AUDIT_MARGIN_MS;
        const removed = removedNames(await this.store.audit({ since: new Date(since).toISOString(), limit: RESET_AUDIT_SCAN }));
        lost = vanished.filter((o) => !removed.has(o.name));
        const dropped = [...this.held.keys()].filter((name) => removed.has(name));
        for (const name of dropped) this.held.delete(name);
        if (dropped.length > 0) this.log.info({ names: dropped.slice(0, 20), count: dropped.length }, 'overrides held since a store reset were removed or the reset accepted on another instance: no longer held');
      }
    }
    // A change made here while the audit log was read is newer than this snapshot: the notice it sent reconciles again.
    if (!reset && !behind && this.version !== versionBefore) return;
    lost = lost.filter((o) => inForce(o, now) && !this.held.has(o.name));
    if (lost.length > 0) this.hold(lost, reset ? 'the store is a new one (emptied or replaced)' : behind ? 'the store went back (restored from an older copy?)' : 'overrides left the store without the audit record of a removal');
    if (reset || behind || snapshot.version !== this.version || lost.length > 0) {
      await this.adopt(snapshot.overrides, snapshot.version, true);
      if (snapshot.changedAt && !reset) this.lag(snapshot.changedAt);
    }
    await this.applyFlushes(snapshot.generation);
  }

  /**
   * Reconciles from a shared store's change log (redis-change-log.ts) when it can: only the names
   * changed since the version applied here are read and applied, O(changes) rather than
   * O(overrides). True when done; false when only a full read can say (a new store, one that went
   * back, a log that does not reach back or misses a version, a record deleted by hand).
   */
  private async syncFromLog(): Promise<boolean> {
    if (!this.store.changesSince || this.epoch === undefined || this.version < 0) return false;
    for (let attempt = 0; attempt < LOG_READ_ATTEMPTS; attempt++) {
      const versionBefore = this.version;
      const delta = await this.store.changesSince(versionBefore);
      if (!delta || delta.epoch !== this.epoch || delta.version < versionBefore || delta.generation < this.generation) return false;
      // A change made here landed meanwhile: what was read may be older than it; read again from it.
      if (this.version !== versionBefore) continue;
      if (delta.kind === 'same' && delta.fields !== this.stored.size + delta.invalid) return false;
      this.lastReadAt = this.now();
      this.metrics.syncReads.inc({ read: 'changes' });
      if (delta.kind === 'delta') await this.applyStoreChanges(delta.changes, delta.version, delta.changedAt);
      await this.applyFlushes(delta.generation);
      return true;
    }
    return true; // changes made here kept landing: the next notice or interval reads again
  }

  /**
   * Applies changes read from the store's log (another instance's, or ones this instance applied
   * already): the maps updated in one turn (a change made here meanwhile would be overwritten by an
   * older read), the replicas sent only what differs, every changed name flushed.
   */
  private async applyStoreChanges(changes: ReadonlyArray<{ name: string; after: Override | null }>, version: number, changedAt: string | undefined): Promise<void> {
    const updates: OverrideUpdate[] = [];
    const set: Override[] = [];
    const gone: string[] = [];
    let heldChanged = false;
    for (const { name, after } of changes) {
      // A name the store logged was changed there on purpose (with its audit record): the store's now.
      if (this.held.delete(name)) heldChanged = true;
      if (after) {
        this.stored.set(name, after);
        set.push(after);
      } else {
        this.stored.delete(name);
        gone.push(name);
      }
      if (sameOverride(this.overrides.get(name), after ?? undefined)) continue;
      if (after) this.overrides.set(name, after);
      else this.overrides.delete(name);
      updates.push({ name, after });
    }
    this.version = version;
    const servable = new Set(this.unbuildable.buildableChanges(set, gone).map((o) => o.name));
    await this.toReplicas(updates.map((u) => (u.after && !servable.has(u.name) ? { name: u.name, after: null } : u)));
    await forEachInChunks(updates, async (u) => void (await this.replica.flush({ name: u.name }, false, false)));
    for (const o of set) this.expiryAdded(o);
    if (heldChanged) this.heldServed = [...this.held.values()];
    this.servedCounts();
    if (changedAt && updates.length > 0) this.lag(changedAt);
  }

  /** Applies the flushes of the store's log above the generation applied here (all caches when some were trimmed before this instance saw them). */
  private async applyFlushes(storeGeneration: number): Promise<void> {
    if (storeGeneration > this.generation) {
      const flushes = await this.store.flushesAfter(this.generation);
      if ((flushes[0]?.generation ?? storeGeneration + 1) > this.generation + 1) {
        this.log.warn({ from: this.generation, to: storeGeneration }, 'flushes were trimmed from the store before this instance applied them: flushing the whole cache');
        this.countFlush({ all: true }, await this.replica.flush({ all: true }, false, false));
      }
      for (const flush of flushes) {
        const removed = await this.replica.flush(flush.target, flush.negativeOnly, false);
        this.countFlush(flush.target, removed);
        this.generation = flush.generation;
        this.lag(flush.time);
      }
      this.generation = Math.max(this.generation, storeGeneration);
    }
  }

  /** Keeps serving overrides the store lost, and says so once (log, metric, status, /healthz). */
  private hold(lost: Override[], cause: string): void {
    for (const o of lost) this.held.set(o.name, o);
    this.heldSince ??= this.now();
    this.heldCause = cause;
    this.log.warn(
      { store: this.store.location, cause, held: this.held.size, names: [...this.held.keys()].slice(0, 20) },
      `${heldPhrase(this.held.size)}: ${cause}; still serving them. ${RESET_CHOICES}`,
    );
  }

  /** Records how late a change made at `time` (in the store) was applied here. */
  private lag(time: string): void {
    const ms = this.now() - Date.parse(time);
    if (!Number.isFinite(ms)) return;
    this.syncLagSeconds = Math.max(0, ms) / 1000;
    this.metrics.syncLag.set(this.syncLagSeconds);
  }

  /** Marks the shared store unreachable (a reason) or reachable again (undefined): while it is, writes are refused. */
  setDegraded(reason: string | undefined): void {
    this.degradedReason = reason;
    this.metrics.degraded.set(reason === undefined ? 0 : 1);
  }

  get degraded(): string | undefined {
    return this.degradedReason;
  }

  /**
   * Makes `overrides` the store's set, served with the ones held after a reset (a name the store
   * has is the store's); with `flushChanged`, flushes every name whose override changed.
   */
  private async adopt(overrides: Override[], version: number, flushChanged: boolean): Promise<void> {
    this.stored = new Map(overrides.map((o) => [o.name, o]));
    this.version = version;
    for (const name of [...this.held.keys()]) if (this.stored.has(name)) this.held.delete(name);
    await this.serve(flushChanged);
  }

  /**
   * Applies the store's set and the held one to the replicas: only the overrides that differ from
   * what is served, in chunks that yield; with `flushChanged`, flushes every name whose override changed.
   */
  private async serve(flushChanged: boolean): Promise<void> {
    const next = new Map([...this.held, ...this.stored]);
    const updates: OverrideUpdate[] = [];
    // In one turn (a change made here meanwhile would be diffed against a set it is not in): a field compare per override.
    for (const name of this.overrides.keys()) if (!next.has(name)) updates.push({ name, after: null });
    for (const [name, o] of next) if (!sameOverride(this.overrides.get(name), o)) updates.push({ name, after: o });
    this.overrides = next;
    const held = [...this.held.values()];
    // One whose answers cannot be built is left out (and reported), never stopping the others: a
    // cheap check of each (no encoding), the replicas sent only what changed.
    const servable = new Set(this.unbuildable.buildable([...next.values()]).map((o) => o.name));
    await this.toReplicas(updates.map((u) => (u.after && !servable.has(u.name) ? { name: u.name, after: null } : u)));
    // What health and status report: the held overrides the replicas serve now.
    this.heldServed = held;
    if (flushChanged) await forEachInChunks(updates, async (u) => void (await this.replica.flush({ name: u.name }, false, false)));
    this.servedCounts();
    this.scheduleExpiry();
  }

  /** Runs one change of this instance (its write and its application here), tracked for `ownChange`. */
  private async inFlight<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.changesInFlight.add(running);
    try {
      return await running;
    } finally {
      this.changesInFlight.delete(running);
    }
  }

  /**
   * True when the change notice of override version `version` (a shared store) is of a change this
   * instance made and has applied already, so reconciling (reading the whole set) is not needed for
   * it; waits for this instance's changes in flight first (a notice can arrive before the write's reply).
   */
  async ownChange(version: number): Promise<boolean> {
    while (this.changesInFlight.size > 0) await Promise.allSettled([...this.changesInFlight]);
    return this.ownVersions.delete(version) && this.version === version;
  }

  /** Applies changes made here (written to the store, now at `version`): O(1) each, never a rebuild of the set. */
  private async applyChanges(updates: OverrideUpdate[], version: number): Promise<void> {
    // Only a version right after the one applied here is this change alone. Else changes of other
    // instances came between that this one has not applied yet: the version is left behind, so the
    // next reconcile (their notice, or the periodic sync) reads the whole set and adopts them too.
    if (version === this.version + 1) {
      this.ownVersions.add(version);
      this.version = version;
    }
    if (this.ownVersions.size > 1000) this.ownVersions.clear();
    let heldChanged = false;
    const replicas = this.toReplicas(updates);
    await forEachInChunks(updates, (u) => {
      if (this.held.delete(u.name)) heldChanged = true;
      if (u.after) {
        this.stored.set(u.name, u.after);
        this.overrides.set(u.name, u.after);
        this.expiryAdded(u.after);
      } else {
        this.stored.delete(u.name);
        this.overrides.delete(u.name);
      }
    });
    await replicas;
    if (heldChanged) this.heldServed = [...this.held.values()];
    this.servedCounts();
  }

  /** Sends changes to the replicas in the order they were made (a large one in chunks that yield). */
  private toReplicas(updates: OverrideUpdate[]): Promise<void> {
    if (updates.length === 0) return this.replicaQueue;
    const applied = this.replicaQueue.then(() => this.replica.changeOverrides(updates));
    this.replicaQueue = applied.catch(() => {});
    return applied;
  }

  /** The served and held counts (metrics), and the held state ended once nothing is held. */
  private servedCounts(): void {
    // Expired overrides are removed when due (expireDue), so the map's size is the count in force.
    this.metrics.overridesActive.set(this.overrides.size);
    if (this.held.size === 0) {
      this.heldSince = undefined;
      this.heldCause = undefined;
    }
    this.metrics.heldAfterReset.set(this.heldServed.length);
  }

  /** Overrides in force (set and not expired), by name. */
  active(): Override[] {
    const now = this.now();
    return [...this.overrides.values()].filter((o) => inForce(o, now)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get(rawName: string): Override | undefined {
    const override = this.overrides.get(controlName(rawName));
    return override && inForce(override, this.now()) ? override : undefined;
  }

  /** What a query for the name gets now as a DNSLink value: its override, else what the chain below answers. */
  private async currentValue(name: string): Promise<string | null> {
    const override = this.get(name);
    if (override) return override.value;
    return this.valueWithoutOverride(name);
  }

  /**
   * What a query for the name gets without an override (local records, cache, ENS, upstreams), or
   * null. A change waits for it at most CURRENT_ANSWER_DEADLINE_MS: past that (a slow or silent
   * upstream), the cache's answer stands for it, so an admin request never waits on an upstream.
   */
  private async valueWithoutOverride(name: string): Promise<string | null> {
    const replica = this.replica;
    if (!replica.resolvedTxt) return (await this.cachedValue(name)) ?? null;
    const resolved = resolveGatewayValue(name, (fqdn) => replica.resolvedTxt!(fqdn), { recursive: false }).then(
      (result) => (isGatewayFailure(result) ? null : result.value),
      () => null,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LATE>((resolve) => {
      timer = setTimeout(() => resolve(LATE), CURRENT_ANSWER_DEADLINE_MS);
    });
    const value = await Promise.race([resolved, late]);
    clearTimeout(timer);
    return value === LATE ? ((await this.cachedValue(name)) ?? null) : value;
  }

  /** The gateway value the cache holds for `name` (no lookup leaves this process), or undefined. */
  private async cachedValue(name: string): Promise<string | undefined> {
    const lookup: TxtLookup = async (fqdn) => {
      const cached = await this.replica.cachedTxt(fqdn);
      if (!cached) throw new CodedError('NOTHING_CACHED', `nothing is cached for ${fqdn} TXT`);
      return cached;
    };
    try {
      const result = await resolveGatewayValue(name, lookup, { recursive: false });
      return isGatewayFailure(result) ? undefined : result.value;
    } catch {
      return undefined;
    }
  }

  private async write<T>(operation: string, work: () => Promise<T>): Promise<T> {
    if (this.degradedReason !== undefined) {
      throw new CodedError(
        'STORE_DEGRADED',
        `the shared control store ${this.store.location} is unreachable (${this.degradedReason}): this instance serves the last state it had and accepts no change it could not share; retry once it is back`,
      );
    }
    try {
      return await work();
    } catch (err) {
      if (err instanceof CodedError) {
        // The store's own coded failures (STORE_FULL, STORE_REPLACED, ...) are store errors too; it logged them.
        if (err.code.startsWith('STORE_')) this.metrics.storeErrors.inc({ operation });
        throw err;
      }
      this.metrics.storeErrors.inc({ operation });
      this.log.error({ err, operation, store: this.store.kind }, 'control store write failed');
      throw new CodedError('STORE_UNAVAILABLE', `the control store could not record the change (${errorMessage(err)}); nothing was changed`);
    }
  }

  private audited(record: NewAuditRecord, extra: Record<string, unknown> = {}): void {
    this.onAudited?.(record);
    this.metrics.auditWrites.inc({ action: record.action });
    this.log.info({ audit: record, ...extra }, `admin ${record.action}${record.dryRun ? ' (dry run)' : ''}`);
  }

  /**
   * Many audit records of one action (an import): one log line each up to IMPORT_LOG_LINES, else
   * one line for all (counted the same; the store holds every record). Thousands of lines at once
   * would fill the log's buffer, and pino then waits for it synchronously: the DNS port with it.
   */
  private auditedMany(records: NewAuditRecord[]): void {
    const first = records[0];
    if (!first || records.length <= IMPORT_LOG_LINES) {
      for (const r of records) this.audited(r);
      return;
    }
    this.metrics.auditWrites.inc({ action: first.action }, records.length);
    for (const r of records) this.onAudited?.(r);
    this.log.info(
      { audit: { token: first.token, action: first.action, reason: first.reason, dryRun: first.dryRun, count: records.length, names: records.slice(0, IMPORT_LOG_LINES).map((r) => r.name) } },
      `admin ${first.action}${first.dryRun ? ' (dry run)' : ''}: ${records.length} overrides (every one in the audit log)`,
    );
  }

  /** Sets or changes the override of a name (`pinned` when its value was frozen from the cache). */
  async setOverride(rawName: string, input: OverrideInput, ctx: ChangeContext, pinned = false): Promise<OverrideChangeResult> {
    const name = controlName(rawName);
    const reason = checkReason(input.reason);
    if (typeof input.value !== 'string') throw invalid('INVALID_VALUE', 'value is required: "/ipfs/<cid>[/path]" or "/ipns/<name>[/path]" (or pin: true to freeze what the name resolves to now)');
    const checked = checkOverrideValue(input.value);
    if ('error' in checked) throw invalid(checked.code ?? 'INVALID_VALUE', checked.error);
    const target = ipnsTargetProblem(name, checked.value);
    if (target) throw invalid('INVALID_VALUE', `value: ${target}`);
    const now = new Date(this.now()).toISOString();
    const before = this.get(name) ?? null;
    const expiresAt = checkExpiry(input.expiresAt, this.now());
    await this.guardReach([wideReach(name)], ctx, `${pinned ? 'a pin' : 'an override'} of ${name}`, { name, before: before?.value ?? null, after: checked.value });
    const after: Override = {
      name,
      value: checked.value,
      ttl: checkTtl(input.ttl),
      reason,
      ...(expiresAt ? { expiresAt } : {}),
      ...(pinned ? { pinned: true } : {}),
      by: ctx.token,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    return this.change(name, before, after, pinned ? 'override.pin' : 'override.set', reason, ctx);
  }

  /** Freezes what the name resolves to now (its cached answer, stale included) as an override. */
  async pin(rawName: string, input: Omit<OverrideInput, 'value'>, ctx: ChangeContext): Promise<OverrideChangeResult> {
    const name = controlName(rawName);
    checkReason(input.reason);
    const value = await this.cachedValue(name);
    if (value === undefined) {
      throw new CodedError('NOTHING_CACHED', `nothing usable is cached for ${name} (no /ipfs/ or /ipns/ DNSLink at _dnslink.${name} or ${name}) to pin: set a value instead`);
    }
    return this.setOverride(name, { ...input, value }, ctx, true);
  }

  async removeOverride(rawName: string, input: { reason?: string }, ctx: ChangeContext): Promise<OverrideChangeResult> {
    const name = controlName(rawName);
    const reason = checkReason(input.reason);
    const before = this.get(name);
    if (!before) throw new CodedError('OVERRIDE_NOT_FOUND', `no override is in force for ${name}`);
    return this.change(name, before, null, 'override.remove', reason, ctx);
  }

  private async change(name: string, before: Override | null, after: Override | null, action: NewAuditRecord['action'], reason: string, ctx: ChangeContext): Promise<OverrideChangeResult> {
    const answers = { before: await this.currentValue(name), after: after ? after.value : await this.valueWithoutOverride(name) };
    const audit: NewAuditRecord = { token: ctx.token, action, name, reason, before, after, dryRun: ctx.dryRun, ...forced(ctx) };
    if (ctx.dryRun) {
      await this.write('audit', () => this.store.appendAudit([audit]));
      this.audited(audit);
      return { dryRun: true, name, before, after, answers, cache: { removed: await this.replica.flush({ name }, false, true) } };
    }
    // One held after a store reset is not in the store: the change applies only while it still is not.
    const condition = before && this.held.has(name) ? { ifAbsent: true } : before ? { ifUpdatedAt: before.updatedAt } : {};
    await this.inFlight(async () => {
      const version = await this.write('override', () => this.store.changeOverrides([{ name, after, ...condition }], [audit]));
      if (version === undefined) throw new CodedError('CONFLICT', `the override of ${name} changed meanwhile; read it again and retry`);
      await this.applyChanges([{ name, after }], version);
    });
    const removed = await this.replica.flush({ name }, false, false);
    this.audited(audit, { removed });
    return { dryRun: false, name, before, after, answers, cache: { removed } };
  }

  /**
   * Imports overrides (an export of another store): each checked, all applied in one transaction.
   * Who made each one and when are kept; an override whose expiry has passed is skipped and said so.
   */
  async importOverrides(items: unknown, input: { reason?: string }, ctx: ChangeContext): Promise<{ dryRun: boolean; changed: OverrideChangeResult[]; skipped: Array<{ name: string; why: string }> }> {
    const reason = checkReason(input.reason);
    if (!Array.isArray(items)) throw invalid('INVALID_IMPORT', 'an import is a JSON array of overrides ({name, value, ttl, expiresAt?, reason?})');
    const now = new Date(this.now()).toISOString();
    const results: OverrideChangeResult[] = [];
    const skipped: Array<{ name: string; why: string }> = [];
    const changes: OverrideChange[] = [];
    const audits: NewAuditRecord[] = [];
    const wide: Array<WideReach | undefined> = [];
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && i % WORK_CHUNK === 0) await yieldToEventLoop();
      const o = (items[i] ?? {}) as Record<string, unknown>;
      const where = `item ${i}${typeof o.name === 'string' ? ` (${o.name})` : ''}`;
      if (typeof o.name !== 'string') throw invalid('INVALID_IMPORT', `${where}: name is required`);
      const name = controlName(o.name, `${where}: name`);
      const checked = typeof o.value === 'string' ? checkOverrideValue(o.value) : { error: 'value is required' };
      if ('error' in checked) throw invalid('code' in checked && checked.code ? checked.code : 'INVALID_IMPORT', `${where}: ${checked.error}`);
      const target = ipnsTargetProblem(name, checked.value);
      if (target) throw invalid('INVALID_IMPORT', `${where}: value: ${target}`);
      if (typeof o.reason === 'string' && o.reason.trim()) checkImportReason(o.reason, where);
      if (typeof o.expiresAt === 'string' && !inForce({ expiresAt: o.expiresAt }, this.now())) {
        skipped.push({ name, why: `expired at ${o.expiresAt}` });
        continue;
      }
      const expiresAt = checkExpiry(o.expiresAt, this.now());
      const before = this.get(name) ?? null;
      const after: Override = {
        name,
        value: checked.value,
        ttl: checkTtl(o.ttl),
        reason: typeof o.reason === 'string' && o.reason.trim() ? o.reason.trim() : reason,
        ...(expiresAt ? { expiresAt } : {}),
        ...(o.pinned === true ? { pinned: true } : {}),
        by: typeof o.by === 'string' && o.by ? o.by : ctx.token,
        createdAt: typeof o.createdAt === 'string' ? o.createdAt : now,
        updatedAt: typeof o.updatedAt === 'string' ? o.updatedAt : now,
      };
      changes.push({ name, after });
      wide.push(wideReach(name));
      audits.push({ token: ctx.token, action: 'override.import', name, reason, before, after, dryRun: ctx.dryRun, ...forced(ctx) });
      results.push({ dryRun: ctx.dryRun, name, before, after, answers: { before: before?.value ?? null, after: after.value }, cache: { removed: 0 } });
    }
    await this.guardReach(wide, ctx, `an import of ${changes.length} overrides`, { overrides: changes.length });
    if (ctx.dryRun) {
      await this.write('audit', () => this.store.appendAudit(audits));
      await forEachInChunks(results, async (r) => void (r.cache.removed = await this.replica.flush({ name: r.name }, false, true)));
      return { dryRun: true, changed: results, skipped };
    }
    if (changes.length === 0) return { dryRun: false, changed: [], skipped };
    await this.inFlight(async () => {
      const version = await this.write('import', () => this.store.changeOverrides(changes, audits));
      await this.applyChanges(
        changes.map((c) => ({ name: c.name, after: c.after })),
        version ?? this.version,
      );
    });
    await forEachInChunks(results, async (r) => void (r.cache.removed = await this.replica.flush({ name: r.name }, false, false)));
    this.auditedMany(audits);
    return { dryRun: false, changed: results, skipped };
  }

  async flush(target: FlushTarget, negativeOnly: boolean, ctx: ChangeContext, reason?: string): Promise<FlushResult> {
    const checked: FlushTarget = 'all' in target ? { all: true } : 'name' in target ? { name: controlName(target.name) } : { suffix: controlName(target.suffix, 'suffix') };
    const audit: NewAuditRecord = {
      token: ctx.token,
      action: 'cache.flush',
      ...(flushTargetName(checked) ? { name: flushTargetName(checked)! } : {}),
      ...(reason ? { reason } : {}),
      after: { target: checked, negativeOnly },
      dryRun: ctx.dryRun,
      ...forced(ctx),
    };
    if (!ctx.dryRun && !ctx.force && !('all' in checked)) {
      requireForceForFlush({ target: checked, removed: await this.replica.flush(checked, negativeOnly, true), maxFlushEntries: this.maxFlushEntries(), negativeOnly }, ctx.force);
    }
    if (ctx.dryRun) {
      const removed = await this.replica.flush(checked, negativeOnly, true);
      await this.write('audit', () => this.store.appendAudit([audit]));
      this.audited(audit, { removed });
      return { dryRun: true, removed, generation: this.generation };
    }
    const record = await this.write('flush', () => this.store.recordFlush({ target: checked, negativeOnly }, audit));
    const removed = await this.replica.flush(checked, negativeOnly, false);
    this.generation = Math.max(this.generation, record.generation);
    this.countFlush(checked, removed);
    this.audited(audit, { removed, generation: record.generation });
    return { dryRun: false, removed, generation: record.generation };
  }

  /**
   * Refuses a change (not a dry run) to names of which some reach wide (reach-guard.ts) unless
   * forced, with what it would do: the names' cache entries it would remove besides `dryRun`.
   */
  private async guardReach(reach: Array<WideReach | undefined>, ctx: ChangeContext, what: string, dryRun: Record<string, unknown>): Promise<void> {
    const wide = reach.filter((r): r is WideReach => r !== undefined);
    if (ctx.dryRun || ctx.force === true || wide.length === 0) return;
    let removed = 0;
    for (const r of wide) removed += await this.replica.flush({ name: r.name }, false, true);
    const answers = 'after' in dryRun ? `override ${String(dryRun.before ?? '(none)')} -> ${String(dryRun.after)}, ` : '';
    requireForceForNames(wide, ctx.force, what, { ...dryRun, cache: { removed } }, `${answers}${removed} cache entries would be removed`);
  }

  private countFlush(target: FlushTarget, removed: number): void {
    this.metrics.flushes.inc({ target: 'all' in target ? 'all' : 'name' in target ? 'name' : 'suffix' });
    this.metrics.flushedEntries.inc(removed);
  }

  audit(query: AuditQuery): Promise<AuditRecord[]> {
    return this.store.audit(query);
  }

  /** A name as the control plane keys it (for audit queries). */
  normalizeName(raw: string): string {
    return controlName(raw);
  }

  /** The answer a gateway gets for the name now (GET /admin/v1/lookup/{name}, the console's look-up). */
  lookup(raw: string): Promise<ApiAnswer> {
    if (!this.replica.gatewayAnswer) throw new CodedError('LOOKUP_UNAVAILABLE', 'this process cannot look names up');
    return this.replica.gatewayAnswer(raw);
  }

  /** What each process serving this control plane says of itself (the status's instance part). */
  processes(): Promise<InstanceStatusView[]> {
    return this.replica.instanceStatus?.() ?? Promise.resolve([]);
  }

  /** A bounded page of the cache entries of every process (GET /admin/v1/cache). */
  cacheList(query: CacheListQuery): Promise<CacheListPage> {
    if (!this.replica.cacheList) throw new CodedError('CACHE_UNAVAILABLE', 'this process holds no cache to list');
    return this.replica.cacheList(query);
  }

  status(): ControlStatus {
    const reset = this.storeReset();
    const invalid = this.store.invalid;
    // Unreachable, or refusing writes (the last failed, a counter invalid): changes fail meanwhile.
    const degradedReason = this.degradedReason ?? this.store.problem;
    return {
      store: { kind: this.store.kind, location: this.store.location },
      version: this.version,
      generation: this.generation,
      overrides: this.active().length,
      degraded: degradedReason !== undefined || reset !== undefined,
      ...(degradedReason !== undefined ? { degradedReason } : {}),
      ...(reset ? { storeReset: reset } : {}),
      invalidRecords: { count: invalid?.count ?? 0, records: invalid?.list() ?? [] },
      unbuildableOverrides: { count: this.unbuildable.count, overrides: this.unbuildable.list() },
    };
  }

  /** The ENS section of the status: the RPC endpoints' health where the replicas run ENS (absent while it is off). */
  async ensStatus(): Promise<{ ens?: EnsStatusView }> {
    const ens = await this.replica.ensHealth?.();
    return ens ? { ens } : {};
  }

  /** The overrides held after a store reset, or undefined when none is. */
  storeReset(): StoreResetView | undefined {
    const now = this.now();
    const overrides = this.heldServed.filter((o) => inForce(o, now)).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (overrides.length === 0) return undefined;
    return { held: overrides.length, since: new Date(this.heldSince ?? this.now()).toISOString(), cause: this.heldCause ?? 'the store lost them', overrides, choices: RESET_CHOICES };
  }

  private heldInForce(): Override[] {
    const now = this.now();
    return [...this.held.values()].filter((o) => inForce(o, now)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Publishes the overrides held after a store reset again, each only where the store still has
   * none (a newer one set meanwhile wins), with an `override.restore` audit record each.
   */
  async restoreHeld(input: { reason?: string }, ctx: ChangeContext): Promise<HeldChangeResult> {
    const reason = input.reason === undefined || input.reason.trim() === '' ? 'restored after a store reset' : checkReason(input.reason);
    const held = this.heldInForce();
    const audits: NewAuditRecord[] = held.map((o) => ({ token: ctx.token, action: 'override.restore', name: o.name, reason, before: null, after: o, dryRun: ctx.dryRun }));
    if (held.length === 0) return { dryRun: ctx.dryRun, overrides: [], skipped: [] };
    await this.write('restore', async () => {
      if (ctx.dryRun) await this.store.appendAudit(audits);
      else await this.store.changeOverrides(held.map((o) => ({ name: o.name, after: o, ifAbsent: true })), audits);
    });
    for (const a of audits) this.audited(a);
    if (ctx.dryRun) return { dryRun: true, overrides: held, skipped: [] };
    const snapshot = await this.store.snapshot();
    // Every name now has a record in the store: this instance's, or a newer one set meanwhile.
    const skipped = held.filter((o) => snapshot.overrides.find((s) => s.name === o.name)?.updatedAt !== o.updatedAt).map((o) => ({ name: o.name, why: 'set in the store meanwhile: the store keeps its own' }));
    this.held.clear();
    await this.adopt(snapshot.overrides, snapshot.version, true);
    this.log.info({ restored: held.length - skipped.length, skipped: skipped.length }, 'overrides held since a store reset published to the store again');
    return { dryRun: false, overrides: held.filter((o) => !skipped.some((s) => s.name === o.name)), skipped };
  }

  /**
   * Drops the overrides held after a store reset (they stop being served here), with an
   * `override.accept-reset` audit record each; other instances holding the same names read those
   * records and drop theirs too.
   */
  async acceptReset(input: { reason?: string }, ctx: ChangeContext): Promise<HeldChangeResult> {
    const reason = checkReason(input.reason);
    const held = this.heldInForce();
    if (held.length === 0) return { dryRun: ctx.dryRun, overrides: [], skipped: [] };
    const audits: NewAuditRecord[] = held.map((o) => ({ token: ctx.token, action: 'override.accept-reset', name: o.name, reason, before: o, after: null, dryRun: ctx.dryRun }));
    if (ctx.dryRun) {
      await this.write('audit', () => this.store.appendAudit(audits));
      for (const a of audits) this.audited(a);
      return { dryRun: true, overrides: held, skipped: [] };
    }
    // Removals conditional on absence: they change nothing in the store but bump its version (the
    // others reconcile) and write the audit records in the same script.
    await this.write('accept-reset', () => this.store.changeOverrides(held.map((o) => ({ name: o.name, after: null, ifAbsent: true })), audits));
    for (const a of audits) this.audited(a);
    this.held.clear();
    await this.serve(true);
    this.log.info({ dropped: held.length }, 'overrides held since a store reset dropped (reset accepted)');
    return { dryRun: false, overrides: held, skipped: [] };
  }

  cached(rawName: string) {
    return this.replica.cached(controlName(rawName));
  }

  /** Removes the overrides whose time has come (one audit record each), then waits for the next. */
  private async expireDue(): Promise<void> {
    const now = this.now();
    const due = [...this.overrides.values()].filter((o) => !inForce(o, now));
    const heldDue = due.filter((d) => this.held.has(d.name));
    for (const o of heldDue) {
      // Held after a store reset, so not in the store: it leaves this instance, with its record.
      this.held.delete(o.name);
      const audit: NewAuditRecord = { token: 'system', action: 'override.expire', name: o.name, reason: `expired at ${o.expiresAt} (held since a store reset)`, before: o, after: null, dryRun: false };
      await this.store.appendAudit([audit]).then(
        () => this.audited(audit),
        (err: unknown) => this.log.warn({ err, name: o.name }, 'an override held since a store reset expired; its audit record could not be written'),
      );
    }
    if (heldDue.length > 0) await this.serve(true);
    for (const o of due.filter((d) => !this.held.has(d.name) && this.stored.has(d.name))) {
      const audit: NewAuditRecord = { token: 'system', action: 'override.expire', name: o.name, reason: `expired at ${o.expiresAt}`, before: o, after: null, dryRun: false };
      try {
        // Conditional: an edit made meanwhile (here or on another instance) wins over the expiry.
        const version = await this.store.changeOverrides([{ name: o.name, after: null, ifUpdatedAt: o.updatedAt }], [audit]);
        if (version !== undefined) this.audited(audit);
      } catch (err) {
        this.metrics.storeErrors.inc({ operation: 'expire' });
        this.log.warn({ err, name: o.name }, 'could not record an expired override; it no longer applies, and the store is asked again later');
      }
    }
    if (due.length > 0) await this.sync().catch((err: unknown) => this.log.warn({ err }, 'control sync after expiry failed'));
    else this.scheduleExpiry();
  }

  /** Sets the expiry timer to the earliest expiry of all overrides (a scan: at start, sync and expiry, not per change). */
  private scheduleExpiry(): void {
    let next = Infinity; // a loop, not Math.min(...all): that throws past ~100k arguments
    for (const o of this.overrides.values()) next = Math.min(next, expiryOf(o) ?? Infinity);
    this.setExpiryTimer(next);
  }

  /** One override set here: the timer moves earlier if it expires first (O(1)). A removal leaves it: when it fires, expireDue scans again. */
  private expiryAdded(override: Override): void {
    const at = expiryOf(override);
    if (at !== undefined && at < this.expiryTimerAt) this.setExpiryTimer(at);
  }

  private setExpiryTimer(at: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimerAt = Infinity;
    if (this.closed || !Number.isFinite(at)) return;
    this.expiryTimerAt = at;
    this.expiryTimer = setTimeout(() => void this.expireDue(), Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    await this.store.close();
  }
}
