// The operator's denylist rules, fleet-wide: checked (one rule of the format, bounded, a reason),
// weighed by a dry run against the names served (past denylist.maxNewlyBlockedPercent, or a name
// of wide reach: NEEDS_FORCE), written with their audit record to the control store, and put in
// force on every process (and, with a fleet store, every instance as it reconciles); expiries
// honoured. Also the admin side of the lists: their status, a check, accepting a held version.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CodedError, errorMessage } from '../errors.js';
import type { DenylistAuditEvent, ListStatus, Weighing } from '../stages/denylist/denylist-manager.js';
import { GUARD_MIN_NEWLY_BLOCKED } from '../stages/denylist/denylist-manager.js';
import { operatorRuleProblem, rulesInForce, type OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import type { SubjectExplanation } from '../stages/denylist/verdict.js';
import type { ControlPlane, ChangeContext } from './control-plane.js';
import type { DenylistCall, DenylistResults } from './denylist-replica.js';
import { RULE_ID } from './denylist-rule-records.js';
import { checkExpiry, checkReason } from './override-rules.js';
import { NeedsForceError, wideReach, type WideReach } from './reach-guard.js';
import type { Replica } from './replica.js';
import type { DenylistRuleChange, NewAuditRecord } from './store.js';

export interface DenylistRuleInput {
  rule?: unknown;
  reason?: unknown;
  expiresAt?: unknown;
}

export interface DenylistRuleResult {
  dryRun: boolean;
  rule: OperatorRuleRecord;
  /** What it would newly block (or did) among the names served in the last 24 hours, summed over the processes. */
  newlyBlocked: { count: number; served: number; percent: number; names: string[] };
}

/**
 * The name of an `/ipns/NAME[...]` rule when it reads as a DNS name: one with a dot, or a label
 * too short to be a key (IPNS keys are CIDs or multihashes of 46 characters and more); a key or a
 * double hash reaches no domain.
 */
function ruleDomain(rule: string): string | undefined {
  const m = /^!?\/ipns\/([^/*]+)/.exec(rule);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  return name.includes('.') || name.length < 40 ? name : undefined;
}

export class DenylistControl {
  private records: OperatorRuleRecord[] = [];
  /** The rule set (ids) last put in force: a sync that reads the same set sends nothing. */
  private appliedKey = '';
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly control: ControlPlane,
    private readonly replica: Replica,
    private readonly log: Logger,
    private readonly maxNewlyBlockedPercent: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  private get store() {
    return this.control.store;
  }

  private async call<K extends DenylistCall['op']>(call: Extract<DenylistCall, { op: K }>): Promise<Array<DenylistResults[K]>> {
    if (!this.replica.denylist) throw new CodedError('DENYLIST_UNAVAILABLE', 'this process has no denylist stage to ask');
    return (await this.replica.denylist(call)) as Array<DenylistResults[K]>;
  }

  /** A hold or an accept made by a process's list manager, in the audit log. */
  async recordEvent(event: DenylistAuditEvent): Promise<void> {
    await this.store.appendAudit([{ token: event.token, action: event.action, name: event.list, before: event.before, after: event.after, dryRun: false }]);
  }

  /** Reads the rules from the store and puts those in force on every process (at start, and on each reconcile). */
  async sync(): Promise<void> {
    if (this.closed) return;
    this.records = (await this.store.denylistRules?.()) ?? [];
    await this.apply();
  }

  private async apply(): Promise<void> {
    const now = this.now();
    const inForce = rulesInForce(this.records, now);
    const key = inForce.map((r) => r.id).join(',');
    if (key !== this.appliedKey) {
      await this.call({ op: 'rules', records: inForce, now });
      this.appliedKey = key;
      this.log.info({ rules: inForce.length }, `operator denylist: ${inForce.length} rules in force`);
    }
    this.scheduleExpiry(now);
  }

  private scheduleExpiry(now: number): void {
    clearTimeout(this.expiryTimer);
    const next = Math.min(...this.records.map((r) => (r.expiresAt ? Date.parse(r.expiresAt) : Infinity)).filter((at) => at > now));
    if (!Number.isFinite(next) || this.closed) return;
    this.expiryTimer = setTimeout(() => void this.apply().catch((err: unknown) => this.log.error({ err }, 'operator denylist: an expiry could not be applied')), Math.min(next - now + 1, 2 ** 31 - 1));
    this.expiryTimer.unref();
  }

  private changeRule(change: DenylistRuleChange, audit: NewAuditRecord): Promise<boolean> {
    if (!this.store.changeDenylistRule) throw new CodedError('DENYLIST_UNAVAILABLE', `the ${this.store.kind} control store keeps no denylist rules`);
    return this.store.changeDenylistRule(change, audit);
  }

  list(): OperatorRuleRecord[] {
    return rulesInForce(this.records, this.now());
  }

  private refuseWhileDegraded(): void {
    const degraded = this.control.degraded ?? this.store.problem;
    if (degraded !== undefined) throw new CodedError('STORE_DEGRADED', `the control store cannot take changes now (${degraded}): the rules in force stay; retry once it is back`);
  }

  /** Sums what each process would newly block. */
  private async weigh(records: OperatorRuleRecord[]): Promise<{ count: number; served: number; percent: number; names: string[]; overLimit: boolean }> {
    const each: Weighing[] = await this.call({ op: 'weigh', records: rulesInForce(records, this.now()), now: this.now() });
    const count = each.reduce((n, w) => n + w.newlyBlocked, 0);
    const served = each.reduce((n, w) => n + w.served, 0);
    const percent = served === 0 ? 0 : (count / served) * 100;
    const names = [...new Set(each.flatMap((w) => w.examples))].slice(0, 20);
    return { count, served, percent, names, overLimit: count > GUARD_MIN_NEWLY_BLOCKED && percent > this.maxNewlyBlockedPercent() };
  }

  async add(input: DenylistRuleInput, ctx: ChangeContext): Promise<DenylistRuleResult> {
    if (typeof input.rule !== 'string') throw new CodedError('INVALID_RULE', '"rule" must be one rule of the compact denylist format, such as "/ipns/phish.example" or "/ipfs/CID"');
    const problem = operatorRuleProblem(input.rule);
    if (problem) throw new CodedError('INVALID_RULE', `rule ${JSON.stringify(input.rule.slice(0, 100))}: ${problem}`);
    const reason = checkReason(input.reason);
    const expiresAt = checkExpiry(input.expiresAt, this.now());
    const record: OperatorRuleRecord = { id: randomUUID(), rule: input.rule, reason, by: ctx.token, createdAt: new Date(this.now()).toISOString(), ...(expiresAt ? { expiresAt } : {}) };
    const weighing = await this.weigh([...this.records, record]);
    const newlyBlocked = { count: weighing.count, served: weighing.served, percent: weighing.percent, names: weighing.names };
    const audit = { token: ctx.token, action: 'denylist.add' as const, name: record.rule, reason, after: { ...record, newlyBlocked }, dryRun: ctx.dryRun, ...(ctx.force ? { force: true } : {}) };
    if (ctx.dryRun) {
      await this.store.appendAudit([audit]);
      return { dryRun: true, rule: record, newlyBlocked };
    }
    const domain = ruleDomain(record.rule);
    const reach: WideReach[] = [];
    const wide = domain && !record.rule.startsWith('!') ? wideReach(domain) : undefined;
    if (wide) reach.push(wide);
    if (ctx.force !== true && (reach.length > 0 || weighing.overLimit)) {
      const whys = reach.map((r) => r.why);
      if (weighing.overLimit) whys.push(`its dry run would newly block ${weighing.count} of the ${weighing.served} names served in the last 24 h (${weighing.percent.toFixed(1)}%, more than denylist.maxNewlyBlockedPercent ${this.maxNewlyBlockedPercent()}%)`);
      throw new NeedsForceError(`the rule ${record.rule} reaches wide: ${whys.join('; ')}; check the dry run below, then send it again with "force": true (CLI --force); the audit log records it`, { reach, dryRun: { rule: record.rule, newlyBlocked } });
    }
    this.refuseWhileDegraded();
    await this.changeRule({ add: record }, audit);
    this.log.info({ audit }, `admin denylist.add: ${record.rule}`);
    this.records = [...this.records, record];
    await this.apply();
    return { dryRun: false, rule: record, newlyBlocked };
  }

  async remove(id: string, input: { reason?: unknown }, ctx: ChangeContext): Promise<{ dryRun: boolean; removed: OperatorRuleRecord }> {
    const record = RULE_ID.test(id) ? this.records.find((r) => r.id === id) : undefined;
    if (!record && RULE_ID.test(id) && !ctx.dryRun) {
      // A stored record that failed its checks (skipped, reported at start) is removed by its id too.
      const reason = checkReason(input.reason);
      this.refuseWhileDegraded();
      const audit = { token: ctx.token, action: 'denylist.remove' as const, name: id, reason, before: null, after: null, dryRun: false };
      if (await this.changeRule({ remove: id }, audit)) {
        this.log.info({ audit }, `admin denylist.remove: the invalid record ${id}`);
        return { dryRun: false, removed: { id, rule: '(invalid record)', reason: 'an invalid record, never in force', by: '', createdAt: '' } };
      }
    }
    if (!record) throw new CodedError('RULE_NOT_FOUND', `no operator denylist rule has the id ${JSON.stringify(id.slice(0, 80))} (dnslinkd deny ls lists them)`);
    const reason = checkReason(input.reason);
    const audit = { token: ctx.token, action: 'denylist.remove' as const, name: record.rule, reason, before: record, after: null, dryRun: ctx.dryRun };
    if (ctx.dryRun) {
      await this.store.appendAudit([audit]);
      return { dryRun: true, removed: record };
    }
    this.refuseWhileDegraded();
    if (!(await this.changeRule({ remove: id }, audit))) throw new CodedError('RULE_NOT_FOUND', `the operator denylist rule ${id} was removed meanwhile`);
    this.log.info({ audit }, `admin denylist.remove: ${record.rule}`);
    this.records = this.records.filter((r) => r.id !== id);
    await this.apply();
    return { dryRun: false, removed: record };
  }

  /** Every list as each process has it (with --workers, one entry per worker). */
  async status(): Promise<{ lists: ListStatus[]; maxNewlyBlockedPercent: number; answer: string; operatorRules: number; processes?: number }> {
    const each = await this.call({ op: 'status' });
    const first = each[0] ?? { lists: [], maxNewlyBlockedPercent: this.maxNewlyBlockedPercent(), answer: 'nodata' };
    // Workers read their sources on their own: a list's status is the first worker's, held when any holds it.
    const lists = first.lists.map((l) => {
      const held = each.map((s) => s.lists.find((o) => o.name === l.name)?.held).find((h) => h !== undefined);
      return held ? { ...l, held } : l;
    });
    return { ...first, lists, operatorRules: this.list().length, ...(each.length > 1 ? { processes: each.length } : {}) };
  }

  async check(subject: string): Promise<{ subject: string; results: SubjectExplanation[] }> {
    if (subject === '' || subject.length > 2048 || /[\u0000-\u0020\u007f]/.test(subject)) throw new CodedError('INVALID_PARAMETER', 'subject must be a name or an /ipfs/CID[/PATH] or /ipns/NAME[/PATH] path, without spaces');
    const [first] = await this.call({ op: 'check', subject });
    return { subject, results: first ?? [] };
  }

  async accept(list: string, ctx: ChangeContext): Promise<{ list: string; version: string; entries: number; newlyBlocked: number; processes: number }> {
    this.refuseWhileDegraded();
    const each = await this.call({ op: 'accept', list, token: ctx.token }).catch((err: unknown) => {
      // A worker's refusal (nothing held) comes back as its message.
      if (err instanceof CodedError) throw err;
      throw new CodedError('DENYLIST_ACCEPT_FAILED', errorMessage(err));
    });
    const accepted = each.filter((r) => r !== null);
    const first = accepted[0];
    if (!first) throw new CodedError('NOTHING_HELD', `no version of ${list} is held: the newest one is in force`);
    await this.store.appendAudit([{ token: ctx.token, action: 'denylist.accept', name: list, after: first, dryRun: false }]);
    this.log.info({ list, version: first.version, token: ctx.token }, `admin denylist.accept: ${list} version ${first.version.slice(0, 12)} in force`);
    return { ...first, processes: accepted.length };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
  }
}
