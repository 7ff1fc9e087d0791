// One denylist source: a list fetched from a URL (conditional requests, bounded body, timeout) or
// read from a file (watched, and re-read on refresh), each new version compiled in slices and
// handed to the listeners; the last two versions kept in <dataDir>/denylists/ so a restart without
// network still blocks. What to do with a new version (apply it or hold it) is the stage's guard.
import type { Logger } from 'pino';
import type { CompiledDenylist } from '../format/types.js';
import type { DenylistSourceConfig, DenylistSourceStatus } from './types.js';

export interface DenylistSourceDeps {
  /** The daemon's data dir: lists are kept in <dataDir>/denylists/. */
  dataDir: string;
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

export class DenylistSource {
  constructor(
    readonly config: DenylistSourceConfig,
    private readonly deps: DenylistSourceDeps,
  ) {
    void this.deps;
  }

  /**
   * Loads the list: from the data dir first (the last version kept), then from its URL or file.
   * Resolves even when no version can be read at all (status().unavailable says so); then
   * refreshes every refreshIntervalMs (a file also when it changes on disk).
   */
  async start(): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** Stops the timer and the file watcher; waits for a read under way. */
  async stop(): Promise<void> {}

  /** Fetches the URL (conditionally) or re-reads the file now; called on SIGHUP too. Never rejects. */
  async refresh(): Promise<void> {}

  /** `listener` gets every new version read (a version differing from the last one handed out). */
  onCandidate(listener: (list: CompiledDenylist) => void): void {
    void listener;
  }

  /**
   * A version kept in the data dir (the newest two are), compiled again: e.g. the version the
   * stage had applied when the newest one is held by its guard. Undefined when it is not kept.
   */
  async loadKept(version: string): Promise<CompiledDenylist | undefined> {
    void version;
    return undefined;
  }

  status(): DenylistSourceStatus {
    throw new Error('not implemented yet');
  }
}
