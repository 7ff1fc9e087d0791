// Overrides that cannot be served because their answers cannot be built (a record that never met
// the admin API's checks, or a rule of an older version): left out of what the replicas get, never
// stopping a start or the other overrides, and reported: an error log per name when first seen,
// a gauge, the list for /admin/v1/status and a /healthz note.
import type { Logger } from 'pino';
import { overrideWireProblem, type Override } from '../stages/overrides/override.js';

export interface UnbuildableOverride {
  name: string;
  why: string;
  /** ISO time it was first seen. */
  since: string;
}

/** Names listed in the status (the count goes on beyond). */
const LISTED = 100;

export class UnbuildableOverrides {
  private current = new Map<string, UnbuildableOverride>();

  constructor(
    private readonly log: Logger,
    private readonly onCount: (count: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The overrides whose answers can be built; the others are reported (and forgotten once gone or fixed). */
  buildable(overrides: readonly Override[]): Override[] {
    const ok: Override[] = [];
    const found = new Map<string, UnbuildableOverride>();
    for (const override of overrides) {
      const why = overrideWireProblem(override);
      if (why === undefined) {
        ok.push(override);
        continue;
      }
      const earlier = this.current.get(override.name);
      if (earlier?.why === why) {
        found.set(override.name, earlier);
        continue;
      }
      found.set(override.name, { name: override.name, why, since: new Date(this.now()).toISOString() });
      this.log.error({ name: override.name, why }, `override of ${override.name} skipped, never served: its answer cannot be built (${why}); set it again with a shorter value, or remove it (dnslinkd override rm ${override.name})`);
    }
    if (found.size > 0 || this.current.size > 0) {
      this.current = found;
      this.onCount(found.size);
    }
    return ok;
  }

  /** Like buildable, for some overrides set (`set`) and removed (`gone`) only: the others' reports are kept. */
  buildableChanges(set: readonly Override[], gone: readonly string[]): Override[] {
    let changed = false;
    const ok: Override[] = [];
    for (const name of gone) changed = this.current.delete(name) || changed;
    for (const override of set) {
      const why = overrideWireProblem(override);
      if (why === undefined) {
        ok.push(override);
        changed = this.current.delete(override.name) || changed;
        continue;
      }
      if (this.current.get(override.name)?.why === why) continue;
      this.current.set(override.name, { name: override.name, why, since: new Date(this.now()).toISOString() });
      changed = true;
      this.log.error({ name: override.name, why }, `override of ${override.name} skipped, never served: its answer cannot be built (${why}); set it again with a shorter value, or remove it (dnslinkd override rm ${override.name})`);
    }
    if (changed) this.onCount(this.current.size);
    return ok;
  }

  get count(): number {
    return this.current.size;
  }

  list(): UnbuildableOverride[] {
    return [...this.current.values()].slice(0, LISTED);
  }
}
