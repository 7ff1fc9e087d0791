// How `dnslinkd status`, `override restore` and `override accept-reset` print the admin API's
// answers: the instance on one screen (version, uptime, chain, listeners, workers, cache,
// upstreams, ENS, the control store and its fleet, overrides in force, overrides held after a store
// reset, records skipped as invalid, overrides that cannot be built), and what a restore or an
// accept-reset did. Pure: text in, text out; tolerant of sections an older dnslinkd does not send.
import type { ControlStatus, HeldChangeResult } from '../control/control-plane.js';
import type { StatusReport } from '../control/status-report.js';
import type { Override } from '../stages/overrides/override.js';
import { instanceLines } from './status-instance-view.js';

const list = (overrides: Override[]): string[] => overrides.map((o) => `    ${o.name}  ${o.value}  (ttl ${o.ttl}${o.expiresAt ? `, expires ${o.expiresAt}` : ''}, by ${o.by}: ${o.reason})`);

/** The admin status, readable. */
export function statusText(s: ControlStatus | StatusReport): string {
  const lines = [
    ...instanceLines(s as Partial<StatusReport> & { ens?: unknown }),
    `store:      ${s.store.kind} ${s.store.location}`,
    `state:      ${s.degraded ? 'DEGRADED' : 'ok'}`,
    `overrides:  ${s.overrides} in force (store version ${s.version}, flush generation ${s.generation})`,
  ];
  if (s.degradedReason !== undefined) lines.push(`degraded:   ${s.degradedReason}`);
  const report = s as Partial<StatusReport>;
  if (report.controlStore?.syncLagSeconds !== undefined) lines.push(`sync lag:   ${report.controlStore.syncLagSeconds.toFixed(3)} s (last change read from the store to applied here)`);
  if (report.fleet) {
    if ('error' in report.fleet) lines.push(`fleet:      unknown (${report.fleet.error})`);
    else {
      lines.push(`fleet:      ${report.fleet.live} instance${report.fleet.live === 1 ? '' : 's'} seen live (${report.fleet.instances.length} known)`);
      for (const i of report.fleet.instances) lines.push(`    ${i.host} pid ${i.pid}  admin ${i.admin}  ${i.version}  overrides v${i.overridesVersion}  ${i.live ? 'live' : 'gone'}, last seen ${i.lastSeen}${i.self ? '  (this one)' : ''}`);
    }
  }
  if (report.overridesInForce?.length) {
    lines.push(...list(report.overridesInForce as Override[]));
    if (report.overridesInForce.length < s.overrides) lines.push(`    ... and ${s.overrides - report.overridesInForce.length} more (dnslinkd override ls)`);
  }
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
