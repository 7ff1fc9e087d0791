// A shared store that came back empty or replaced (Redis restarted without persistence, FLUSHALL,
// restored from an older copy): the words and the rules that tell a lost override from one removed
// on purpose. An override leaves the store legitimately only with an audit record (a removal, an
// expiry, an accepted reset, written in the same script); one that is gone without one was lost,
// and the instance that served it keeps holding it until the operator restores or drops it. No I/O.
import type { Override } from '../stages/overrides/override.js';
import type { AuditRecord } from './store.js';

/** The /healthz phrase (a contract: operators and alerts match it). */
export function heldPhrase(held: number): string {
  return `store reset: ${held} overrides held here are not in the store`;
}

/** What an operator does about it. */
export const RESET_CHOICES = 'publish them again with `dnslinkd override restore` (--dry-run lists them) or drop them with `dnslinkd override accept-reset --reason R`';

const REMOVALS = new Set<AuditRecord['action']>(['override.remove', 'override.expire', 'override.accept-reset']);

/**
 * Names whose newest audit record (dry runs aside) in `records` (newest first) says the override
 * was removed: their leaving the store was a change, not a loss.
 */
export function removedNames(records: readonly AuditRecord[]): Set<string> {
  const seen = new Set<string>();
  const removed = new Set<string>();
  for (const r of records) {
    if (r.dryRun || r.name === undefined || seen.has(r.name)) continue;
    seen.add(r.name);
    if (REMOVALS.has(r.action) && (r.after === null || r.after === undefined)) removed.add(r.name);
  }
  return removed;
}

/** The overrides of `had` that `store` has no record of, by name. */
export function missingFrom(had: Iterable<Override>, store: ReadonlyMap<string, Override>): Override[] {
  return [...had].filter((o) => !store.has(o.name));
}

/** How the admin API and `dnslinkd status` show a reset. */
export interface StoreResetView {
  /** Overrides held here that the store does not have (served until restored or dropped). */
  held: number;
  /** ISO time this instance noticed. */
  since: string;
  /** Why it concluded so. */
  cause: string;
  overrides: Override[];
  /** What to do. */
  choices: string;
}
