// How the stage gets a source for each configured list: sources/DenylistSource (URL and file
// fetching, the data dir's copies) behind the one factory the list manager is given.
import type { DenylistSourceOptions } from './config.js';
import type { DenylistSourceDeps, DenylistSourceLike } from './list-types.js';
import { DenylistSource } from './sources/index.js';

export function makeDenylistSource(options: DenylistSourceOptions, deps: DenylistSourceDeps): DenylistSourceLike {
  return new DenylistSource(options, deps);
}
