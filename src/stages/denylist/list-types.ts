// The shapes the denylist stage uses of its neighbours: the compiled list of format/ (the IPIP-383
// parser and matcher) and the source of sources/ (fetching, the data dir's copies), as the one
// place the stage names them; the source as an interface, so tests can script one.
import type { CompiledDenylist } from './format/index.js';
import type { DenylistSourceStatus } from './sources/index.js';

export type { CompiledDenylist, DenylistRuleRef } from './format/index.js';
export type { DenylistSourceDeps, DenylistSourceStatus } from './sources/index.js';

export type ListKind = 'blocked' | 'censored';

/** One subscribed list: fetched or read, kept in the data dir, offered as candidates (sources/DenylistSource). */
export interface DenylistSourceLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `reread`: read a file list even when its size, inode and mtime are unchanged (a reload). */
  refresh(options?: { reread?: boolean }): Promise<void>;
  onCandidate(listener: (list: CompiledDenylist) => void): void;
  /** A version kept in the data dir, compiled again (the one applied before, when the newest is held). */
  loadKept(version: string): Promise<CompiledDenylist | undefined>;
  /** Keeps the applied version in the data dir however many newer ones the guard holds. */
  pinApplied?(version: string): Promise<void>;
  status(): DenylistSourceStatus;
}
