// The operator control plane: flushes and overrides checked, written durably to the store with
// their audit records, then applied to this instance's replicas (or, with a fleet store, to every
// instance as each reconciles). Dry runs say what would change and change nothing. Overrides that
// expire are removed by themselves, with an audit record saying so.
import type { Logger } from 'pino';
import { resolveGatewayValue, isGatewayFailure } from '../dnslink/gateway.js';
import { parseDnslinkHostname } from '../dnslink/hostname.js';
import { describeDnslinkResultError, type TxtLookup } from '../dnslink/resolve.js';
import { CodedError, errorMessage } from '../errors.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import { checkOverrideValue, DEFAULT_OVERRIDE_TTL, expiryOf, inForce, type Override } from '../stages/overrides/override.js';
import type { ControlMetrics } from './metrics.js';
import type { Replica } from './replica.js';
import type { AuditQuery, AuditRecord, ControlStore, NewAuditRecord, OverrideChange } from './store.js';

/** Who asks for a change and whether it is only a question (dry run). */
export interface ChangeContext {
  token: string;
  dryRun: boolean;
}

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

export interface FlushResult {
  dryRun: boolean;
  removed: number;
  generation: number;
}

const MAX_REASON = 500;
const MAX_TTL = 86_400;
/** setTimeout's longest delay (about 24.8 days): a later expiry is scheduled in steps. */
const MAX_TIMER_MS = 2_147_483_647;

function invalid(code: string, message: string): CodedError {
  return new CodedError(code, message);
}

/** An admin name: a host name, lower-cased, without `_dnslink.` or a trailing dot. */
function controlName(raw: string, what = 'name'): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) throw invalid('INVALID_NAME', `${what} "${raw}" is a URL: give the domain name alone`);
  const parsed = parseDnslinkHostname(raw);
  if ('error' in parsed) throw invalid('INVALID_NAME', `${what}: ${describeDnslinkResultError(parsed.error)}`);
  return parsed.domain.toLowerCase();
}

function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim() === '') throw invalid('REASON_REQUIRED', 'a reason is required: say why, for the audit log and the answers');
  if (reason.length > MAX_REASON) throw invalid('INVALID_REASON', `the reason is ${reason.length} characters; at most ${MAX_REASON}`);
  return reason.trim();
}

function checkTtl(ttl: unknown): number {
  if (ttl === undefined) return DEFAULT_OVERRIDE_TTL;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw invalid('INVALID_TTL', `ttl must be a whole number of seconds from 0 to ${MAX_TTL}`);
  return ttl;
}

function checkExpiry(expiresAt: unknown, now: number): string | undefined {
  if (expiresAt === undefined || expiresAt === null) return undefined;
  const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(at)) throw invalid('INVALID_EXPIRY', `expiresAt must be an ISO time such as 2026-12-01T12:00:00Z (got ${JSON.stringify(expiresAt)})`);
  if (at <= now) throw invalid('INVALID_EXPIRY', `expiresAt ${new Date(at).toISOString()} is already past`);
  return new Date(at).toISOString();
}

function flushTargetName(target: FlushTarget): string | undefined {
  return 'name' in target ? target.name : 'suffix' in target ? target.suffix : undefined;
}

export class ControlPlane {
  private overrides = new Map<string, Override>();
  private version = -1;
  private generation = 0;
  /** The shared store's identity as last seen (a new one: its flush log is applied from the start). */
  private epoch: string | undefined;
  /** Why the shared store cannot be reached now (writes are refused), or undefined. */
  private degradedReason: string | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Reloads the configuration file (POST /admin/v1/reload); set where the process can (src/lifecycle/reload.ts). */
  reload?: (dryRun: boolean, by: string) => Promise<object>;

  constructor(
    readonly store: ControlStore,
    private readonly replica: Replica,
    private readonly log: Logger,
    private readonly metrics: ControlMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the store's state and applies it; the caches are empty, so earlier flushes are moot. */
  async start(): Promise<void> {
    const snapshot = await this.store.snapshot();
    this.generation = snapshot.generation;
    this.epoch = snapshot.epoch;
    await this.adopt(snapshot.overrides, snapshot.version, false);
    this.log.info({ store: this.store.kind, location: this.store.location, overrides: this.active().length, version: snapshot.version, generation: snapshot.generation }, 'control store opened');
    await this.expireDue();
  }

  /**
   * Reconciles with the store: newer overrides are applied (and their names flushed), then flushes
   * not yet applied (all caches when some were trimmed from the log before this instance saw them).
   * A store that is new (another epoch) or went back (restored) is adopted as it is.
   */
  async sync(): Promise<void> {
    let snapshot = await this.store.snapshot();
    const reset = snapshot.epoch !== undefined && this.epoch !== undefined && snapshot.epoch !== this.epoch;
    const wentBack = (s: typeof snapshot) => !reset && (s.version < this.version || s.generation < this.generation);
    // A change made here may have landed between that read and now: read again before concluding.
    if (wentBack(snapshot)) snapshot = await this.store.snapshot();
    const behind = wentBack(snapshot);
    if (reset || behind) {
      this.log.warn(
        { store: this.store.kind, location: this.store.location, version: snapshot.version, generation: snapshot.generation, had: { version: this.version, generation: this.generation } },
        reset ? 'the control store is a new one (emptied or replaced): adopting its overrides and every flush in its log' : 'the control store went back (restored from a copy?): adopting its state',
      );
      if (reset) this.generation = 0;
      else this.generation = Math.min(this.generation, snapshot.generation);
    }
    this.epoch = snapshot.epoch ?? this.epoch;
    if (reset || behind || snapshot.version > this.version) {
      await this.adopt(snapshot.overrides, snapshot.version, true);
      if (snapshot.changedAt && !reset) this.lag(snapshot.changedAt);
    }
    if (snapshot.generation > this.generation) {
      const flushes = await this.store.flushesAfter(this.generation);
      if ((flushes[0]?.generation ?? snapshot.generation + 1) > this.generation + 1) {
        this.log.warn({ from: this.generation, to: snapshot.generation }, 'flushes were trimmed from the store before this instance applied them: flushing the whole cache');
        this.countFlush({ all: true }, await this.replica.flush({ all: true }, false, false));
      }
      for (const flush of flushes) {
        const removed = await this.replica.flush(flush.target, flush.negativeOnly, false);
        this.countFlush(flush.target, removed);
        this.generation = flush.generation;
        this.lag(flush.time);
      }
      this.generation = Math.max(this.generation, snapshot.generation);
    }
  }

  /** Records how late a change made at `time` (in the store) was applied here. */
  private lag(time: string): void {
    const ms = this.now() - Date.parse(time);
    if (Number.isFinite(ms)) this.metrics.syncLag.set(Math.max(0, ms) / 1000);
  }

  /** Marks the shared store unreachable (a reason) or reachable again (undefined): while it is, writes are refused. */
  setDegraded(reason: string | undefined): void {
    this.degradedReason = reason;
    this.metrics.degraded.set(reason === undefined ? 0 : 1);
  }

  get degraded(): string | undefined {
    return this.degradedReason;
  }

  /** Makes `overrides` the set in force; with `flushChanged`, flushes every name whose override changed. */
  private async adopt(overrides: Override[], version: number, flushChanged: boolean): Promise<void> {
    const next = new Map(overrides.map((o) => [o.name, o]));
    const changed = flushChanged ? [...new Set([...this.overrides.keys(), ...next.keys()])].filter((name) => JSON.stringify(this.overrides.get(name)) !== JSON.stringify(next.get(name))) : [];
    this.overrides = next;
    this.version = version;
    await this.replica.applyOverrides([...next.values()]);
    for (const name of changed) await this.replica.flush({ name }, false, false);
    this.metrics.overridesActive.set(this.active().length);
    this.scheduleExpiry();
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

  /** What the name resolves to now as a DNSLink value: its override, or what is cached (stale included). */
  private async currentValue(name: string): Promise<string | null> {
    const override = this.get(name);
    if (override) return override.value;
    return (await this.cachedValue(name)) ?? null;
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
    this.metrics.auditWrites.inc({ action: record.action });
    this.log.info({ audit: record, ...extra }, `admin ${record.action}${record.dryRun ? ' (dry run)' : ''}`);
  }

  /** Sets or changes the override of a name (`pinned` when its value was frozen from the cache). */
  async setOverride(rawName: string, input: OverrideInput, ctx: ChangeContext, pinned = false): Promise<OverrideChangeResult> {
    const name = controlName(rawName);
    const reason = checkReason(input.reason);
    if (typeof input.value !== 'string') throw invalid('INVALID_VALUE', 'value is required: "/ipfs/<cid>[/path]" or "/ipns/<name>[/path]" (or pin: true to freeze what the name resolves to now)');
    const checked = checkOverrideValue(input.value);
    if ('error' in checked) throw invalid('INVALID_VALUE', checked.error);
    const now = new Date(this.now()).toISOString();
    const before = this.get(name) ?? null;
    const expiresAt = checkExpiry(input.expiresAt, this.now());
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
    const answers = { before: await this.currentValue(name), after: after ? after.value : ((await this.cachedValue(name)) ?? null) };
    const audit: NewAuditRecord = { token: ctx.token, action, name, reason, before, after, dryRun: ctx.dryRun };
    if (ctx.dryRun) {
      await this.write('audit', () => this.store.appendAudit([audit]));
      this.audited(audit);
      return { dryRun: true, name, before, after, answers, cache: { removed: await this.replica.flush({ name }, false, true) } };
    }
    const version = await this.write('override', () => this.store.changeOverrides([{ name, after, ...(before ? { ifUpdatedAt: before.updatedAt } : {}) }], [audit]));
    if (version === undefined) throw new CodedError('CONFLICT', `the override of ${name} changed meanwhile; read it again and retry`);
    const next = new Map(this.overrides);
    if (after) next.set(name, after);
    else next.delete(name);
    await this.adopt([...next.values()], version, false);
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
    items.forEach((item: unknown, i) => {
      const o = (item ?? {}) as Record<string, unknown>;
      const where = `item ${i}${typeof o.name === 'string' ? ` (${o.name})` : ''}`;
      if (typeof o.name !== 'string') throw invalid('INVALID_IMPORT', `${where}: name is required`);
      const name = controlName(o.name, `${where}: name`);
      const checked = typeof o.value === 'string' ? checkOverrideValue(o.value) : { error: 'value is required' };
      if ('error' in checked) throw invalid('INVALID_IMPORT', `${where}: ${checked.error}`);
      if (typeof o.expiresAt === 'string' && !inForce({ expiresAt: o.expiresAt }, this.now())) {
        skipped.push({ name, why: `expired at ${o.expiresAt}` });
        return;
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
      audits.push({ token: ctx.token, action: 'override.import', name, reason, before, after, dryRun: ctx.dryRun });
      results.push({ dryRun: ctx.dryRun, name, before, after, answers: { before: before?.value ?? null, after: after.value }, cache: { removed: 0 } });
    });
    if (ctx.dryRun) {
      await this.write('audit', () => this.store.appendAudit(audits));
      for (const r of results) r.cache.removed = await this.replica.flush({ name: r.name }, false, true);
      return { dryRun: true, changed: results, skipped };
    }
    if (changes.length === 0) return { dryRun: false, changed: [], skipped };
    const version = await this.write('import', () => this.store.changeOverrides(changes, audits));
    const next = new Map(this.overrides);
    for (const c of changes) next.set(c.name, c.after!);
    await this.adopt([...next.values()], version ?? this.version, false);
    for (const r of results) r.cache.removed = await this.replica.flush({ name: r.name }, false, false);
    for (const a of audits) this.audited(a);
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
    };
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

  status(): { store: { kind: string; location: string }; version: number; generation: number; overrides: number; degraded: boolean; degradedReason?: string } {
    return {
      store: { kind: this.store.kind, location: this.store.location },
      version: this.version,
      generation: this.generation,
      overrides: this.active().length,
      degraded: this.degradedReason !== undefined,
      ...(this.degradedReason !== undefined ? { degradedReason: this.degradedReason } : {}),
    };
  }

  cached(rawName: string) {
    return this.replica.cached(controlName(rawName));
  }

  /** Removes the overrides whose time has come (one audit record each), then waits for the next. */
  private async expireDue(): Promise<void> {
    const now = this.now();
    const due = [...this.overrides.values()].filter((o) => !inForce(o, now));
    for (const o of due) {
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

  private scheduleExpiry(): void {
    clearTimeout(this.expiryTimer);
    if (this.closed) return;
    let next = Infinity; // a loop, not Math.min(...all): that throws past ~100k arguments
    for (const o of this.overrides.values()) next = Math.min(next, expiryOf(o) ?? Infinity);
    if (!Number.isFinite(next)) return;
    this.expiryTimer = setTimeout(() => void this.expireDue(), Math.min(Math.max(0, next - this.now()), MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    await this.store.close();
  }
}
