// How `dnslinkd status`, `override restore` and `override accept-reset` print the admin API's
// answers: the control plane's status in a few readable lines (store, overrides, degraded or not,
// overrides held after a store reset, records skipped as invalid, overrides that cannot be built), and what a restore or an
// accept-reset did. Pure: text in, text out.
import type { ControlStatus, HeldChangeResult } from '../control/control-plane.js';
import type { Override } from '../stages/overrides/override.js';

const list = (overrides: Override[]): string[] => overrides.map((o) => `    ${o.name}  ${o.value}  (ttl ${o.ttl}${o.expiresAt ? `, expires ${o.expiresAt}` : ''}, by ${o.by}: ${o.reason})`);

/** The admin status, readable. */
export function statusText(s: ControlStatus): string {
  const lines = [
    `store:      ${s.store.kind} ${s.store.location}`,
    `state:      ${s.degraded ? 'DEGRADED' : 'ok'}`,
    `overrides:  ${s.overrides} in force (store version ${s.version}, flush generation ${s.generation})`,
  ];
  if (s.degradedReason !== undefined) lines.push(`degraded:   ${s.degradedReason}`);
  if (s.storeReset) {
    const r = s.storeReset;
    lines.push(`store reset: ${r.held} overrides held here are not in the store (since ${r.since}: ${r.cause})`, ...list(r.overrides), `  ${r.choices}`);
  }
  const invalid = s.invalidRecords;
  if (invalid.count > 0) {
    lines.push(`invalid records: ${invalid.count} skipped, never served:`);
    for (const r of invalid.records) lines.push(`    ${r.key} ${r.id}: ${r.why} (since ${r.since})`);
  } else lines.push('invalid records: none');
  // Absent when talking to an older dnslinkd.
  const unbuildable = s.unbuildableOverrides;
  if (unbuildable && unbuildable.count > 0) {
    lines.push(`unbuildable overrides: ${unbuildable.count} skipped, never served (their answers cannot be built):`);
    for (const o of unbuildable.overrides) lines.push(`    ${o.name}: ${o.why} (since ${o.since})`);
  }
  return lines.join('\n');
}

/** What a restore or an accept-reset did, readable. */
export function heldChangeText(r: HeldChangeResult, verb: 'restore' | 'drop'): string {
  if (r.overrides.length === 0 && r.skipped.length === 0) return 'no overrides are held after a store reset: nothing to do';
  const done = verb === 'restore' ? 'published to the store again' : 'dropped (no longer served here)';
  const lines = [r.dryRun ? `dry run, nothing changed: would ${verb} ${r.overrides.length} overrides held after a store reset:` : `${r.overrides.length} overrides ${done}:`, ...list(r.overrides)];
  for (const s of r.skipped) lines.push(`  skipped ${s.name}: ${s.why}`);
  return lines.join('\n');
}
