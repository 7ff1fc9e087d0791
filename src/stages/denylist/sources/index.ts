// Where denylists come from: URLs and files, kept in the data dir. Entry point of
// src/stages/denylist/sources/ (README.md there says what it owns).
export { DEFAULT_REFRESH_INTERVAL_MS, DenylistSource, FETCH_TIMEOUT_MS, MAX_LIST_BYTES, MIN_REFRESH_INTERVAL_MS, type DenylistSourceDeps } from './denylist-source.js';
export type { DenylistFetchStatus, DenylistKind, DenylistSourceConfig, DenylistSourceStatus } from './types.js';
