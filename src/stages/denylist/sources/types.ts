// The shapes of a denylist source: where a list comes from (a URL or a file), how often it is
// read again, and the status the admin API and /healthz show. The loader is denylist-source.ts.

export type DenylistKind = 'blocked' | 'censored';

export interface DenylistSourceConfig {
  /** The list's name: `[a-z0-9][a-z0-9._-]*`, used in rule refs, metrics and the data dir file name. */
  name: string;
  /** An http(s) URL serving the list (exactly one of url and file). */
  url?: string;
  /** A local file holding the list. */
  file?: string;
  /** How often the URL is fetched again or the file re-read (default 300000, at least 1000). */
  refreshIntervalMs: number;
  kind: DenylistKind;
}

export interface DenylistFetchStatus {
  /** ISO time of the fetch or read. */
  at: string;
  result: 'ok' | 'not-modified' | 'error';
  /** What went wrong (result 'error'), written for the operator. */
  error?: string;
}

export interface DenylistSourceStatus {
  name: string;
  kind: DenylistKind;
  /** The URL or the file path. */
  source: string;
  /** Version (sha256 hex of the content) of the last list handed to onCandidate. */
  version?: string;
  entries?: number;
  badLines?: number;
  lastFetch?: DenylistFetchStatus;
  /** Where the last list handed to onCandidate came from. */
  loadedFrom?: 'network' | 'file' | 'data-dir';
  /** True when no version of the list could be read at all (not from the source, not from the data dir). */
  unavailable: boolean;
}
