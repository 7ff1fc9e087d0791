// How the stage gets a source for each configured list: the sources module (URL and file fetching,
// the data dir's copies) behind the one factory the list manager is given.
import type { DenylistSourceOptions } from './config.js';
import type { DenylistSourceDeps, DenylistSourceLike } from './list-types.js';

/** Until sources/ lands: none (every list is reported as not read). */
export function makeDenylistSource(_options: DenylistSourceOptions, _deps: DenylistSourceDeps): DenylistSourceLike | undefined {
  return undefined;
}
