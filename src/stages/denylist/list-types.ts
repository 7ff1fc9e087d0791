// The shape of a compiled list and of a list source as the denylist stage uses them: the contract
// of src/stages/denylist/format/ (the IPIP-383 parser and matcher) and sources/ (fetching, the data
// dir's copies), restated structurally so the stage depends on the contract, not on their code.
import type { Logger } from 'pino';

/** The rule that decided a match: its list, its text (a double-hash rule as its hash), its line, and whether it allows. */
export interface DenylistRuleRef {
  list: string;
  rule: string;
  line: number;
  allow: boolean;
}

export interface CompiledDenylist {
  readonly name: string;
  /** sha256 hex of the list's bytes. */
  readonly version: string;
  readonly entries: number;
  readonly header: { version?: string; name?: string; hints: Record<string, string> };
  readonly badLines: number;
  /** The deciding (last matching) rule for a DNSLink or ENS name. */
  matchName(name: string): DenylistRuleRef | undefined;
  /** The deciding rule for /ipfs/CID[/path] or /ipns/NAME[/path]. */
  matchPath(path: string): DenylistRuleRef | undefined;
}

export type ListKind = 'blocked' | 'censored';

export interface DenylistSourceStatus {
  name: string;
  kind: ListKind;
  source: string;
  version?: string;
  entries?: number;
  lastFetch?: { at: string | number; result: 'ok' | 'not-modified' | 'error'; error?: string };
  loadedFrom?: string;
}

/** One subscribed list: fetched or read, kept in the data dir, offered as candidates. */
export interface DenylistSourceLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  refresh(): Promise<void>;
  onCandidate(listener: (list: CompiledDenylist) => void): void;
  status(): DenylistSourceStatus;
}

export interface DenylistSourceDeps {
  dataDir: string;
  log: Logger;
  now?: () => number;
}
