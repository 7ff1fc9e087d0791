// What the control plane keeps and shares: overrides, the audit log and the flush log with its
// generation counter, behind one contract that the embedded store (one machine) and the Redis
// store (a fleet) both keep. Every change is atomic with its audit record.
import type { FlushTarget } from '../stages/cache/flush.js';
import type { OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import type { Override } from '../stages/overrides/override.js';
import type { InvalidRecords } from './invalid-records.js';

export type AuditAction =
  | 'override.set'
  | 'override.pin'
  | 'override.remove'
  | 'override.expire'
  | 'override.import'
  /** Overrides held by an instance after a store reset, published again (a shared store). */
  | 'override.restore'
  /** Overrides held by an instance after a store reset, dropped (a shared store). */
  | 'override.accept-reset'
  | 'cache.flush'
  /** An operator denylist rule added or removed (dnslinkd deny add / rm), or expired. */
  | 'denylist.add'
  | 'denylist.remove'
  /** A new version of a list held by the guard, or applied by dnslinkd deny accept. */
  | 'denylist.hold'
  | 'denylist.accept';

export interface AuditRecord {
  id: string;
  /** ISO time. */
  time: string;
  /** Label of the token that made the change (`system` for expiries). */
  token: string;
  action: AuditAction;
  name?: string;
  reason?: string;
  /** The state before and after (an override, or a flush's target and counts). */
  before?: unknown;
  after?: unknown;
  dryRun: boolean;
  /** Asked with force: a change with a wide reach accepted on purpose (reach-guard.ts). */
  force?: boolean;
}

export type NewAuditRecord = Omit<AuditRecord, 'id' | 'time'>;

export interface FlushRecord {
  /** The flush generation this flush made (1, 2, ...): replicas apply every one above theirs. */
  generation: number;
  target: FlushTarget;
  negativeOnly: boolean;
  time: string;
}

export interface ControlSnapshot {
  /** Bumped by every override change: a replica whose version is lower reloads the overrides. */
  version: number;
  /** The last flush generation. */
  generation: number;
  overrides: Override[];
  /** A shared store's identity: a new one (the store was emptied) makes replicas re-apply its whole flush log. */
  epoch?: string;
  /** ISO time of the last override change (a shared store: to measure how late a replica applies it). */
  changedAt?: string;
  /** ISO time the epoch was made (a shared store: when it began, empty). */
  epochAt?: string;
}

/** What a shared store's change log says since a version (ControlStore.changesSince). */
export type ControlDelta = { version: number; generation: number; epoch?: string; changedAt?: string } & (
  | {
      /** No override version newer: `fields` is how many records the store holds, `invalid` how many of them are skipped (a field deleted by hand shows as a smaller count). */
      kind: 'same';
      fields: number;
      invalid: number;
    }
  | {
      /** Every name changed since, with its record now (null: removed, or unreadable and reported). */
      kind: 'delta';
      changes: Array<{ name: string; after: Override | null }>;
    }
);

/** One override set (`after`) or removed (`after: null`); `ifUpdatedAt` makes it conditional. */
export interface OverrideChange {
  name: string;
  after: Override | null;
  /** Apply only if the stored override's updatedAt is this (an expiry racing an edit loses). */
  ifUpdatedAt?: string;
  /** Apply only if the store holds no override of the name (a restore never overwrites a newer one). */
  ifAbsent?: boolean;
}

export type DenylistRuleChange = { add: OperatorRuleRecord } | { remove: string };

export interface AuditQuery {
  name?: string;
  /** ISO time: records at or after it. */
  since?: string;
  /** ISO time: records at or before it. */
  until?: string;
  /** A record's id: only records older than it (the next page after it, newest first). */
  before?: string;
  /** Only the changes of this token label (`system` for expiries). */
  token?: string;
  /** Only this action (`override.pin`, `cache.flush`...). */
  action?: string;
  limit: number;
}

export interface ControlStore {
  readonly kind: 'embedded' | 'redis';
  /** Where the data is (a file path, a Redis URL without its password). */
  readonly location: string;
  /** Records read back that failed their checks and were skipped (a shared store). */
  readonly invalid?: InvalidRecords;
  /** Why the store cannot take changes now (the last write failed, a file replaced, a counter invalid), or undefined. */
  readonly problem?: string;
  snapshot(): Promise<ControlSnapshot>;
  /** A shared store with a change log: what changed since override version `version`, or undefined when only a full read (snapshot) can say. */
  changesSince?(version: number): Promise<ControlDelta | undefined>;
  /** Flushes with a generation above `generation`, oldest first. */
  flushesAfter(generation: number): Promise<FlushRecord[]>;
  /** Applies the changes that still hold and their audit records in one transaction; the new version, or undefined when nothing applied. */
  changeOverrides(changes: OverrideChange[], audit: NewAuditRecord[]): Promise<number | undefined>;
  /** Records a flush (a new generation) and its audit record in one transaction. */
  recordFlush(flush: Omit<FlushRecord, 'generation' | 'time'>, audit: NewAuditRecord): Promise<FlushRecord>;
  /** The operator's denylist rules, each checked as read (an invalid one skipped and reported). */
  denylistRules?(): Promise<OperatorRuleRecord[]>;
  /** Adds a rule or removes one by id, with its audit record, atomically; false when the rule to remove is not there. */
  changeDenylistRule?(change: DenylistRuleChange, audit: NewAuditRecord): Promise<boolean>;
  /** Audit records alone (dry runs, which change nothing else). */
  appendAudit(records: NewAuditRecord[]): Promise<void>;
  /** Newest first. */
  audit(query: AuditQuery): Promise<AuditRecord[]>;
  close(): Promise<void>;
}
