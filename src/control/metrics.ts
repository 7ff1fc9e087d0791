// Metrics of the control plane: flushes and the entries they removed, overrides in force and the
// answers they gave, audit writes, store errors, and (with a fleet store) sync lag, degraded state,
// records skipped as invalid, and resets (overrides held here that the store lost).
import { Counter, Gauge, type Registry } from 'prom-client';

export class ControlMetrics {
  readonly flushes: Counter<'target'>;
  readonly flushedEntries: Counter;
  readonly auditWrites: Counter<'action'>;
  readonly storeErrors: Counter<'operation'>;
  readonly storeFaults: Counter<'reason'>;
  readonly overridesActive: Gauge;
  readonly degraded: Gauge;
  readonly syncLag: Gauge;
  readonly invalidRecords: Gauge<'key'>;
  readonly heldAfterReset: Gauge;
  readonly storeResets: Counter<'cause'>;
  readonly unbuildableOverrides: Gauge;
  readonly syncReads: Counter<'read'>;

  constructor(registry: Registry) {
    this.flushes = new Counter({ name: 'dnslinkd_flushes_total', help: 'Cache flushes applied, by target (name, suffix, all)', labelNames: ['target'] as const, registers: [registry] });
    this.flushedEntries = new Counter({ name: 'dnslinkd_flushed_entries_total', help: 'Cache entries removed by flushes', registers: [registry] });
    this.auditWrites = new Counter({ name: 'dnslinkd_audit_writes_total', help: 'Audit records written, by action', labelNames: ['action'] as const, registers: [registry] });
    this.storeErrors = new Counter({ name: 'dnslinkd_store_errors_total', help: 'Control store operations that failed', labelNames: ['operation'] as const, registers: [registry] });
    this.storeFaults = new Counter({
      name: 'dnslinkd_control_store_errors_total',
      help: 'Faults of the control store by reason (STORE_REPLACED: its file deleted or replaced; SQLITE_FULL: disk full; other SQLite codes)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.overridesActive = new Gauge({ name: 'dnslinkd_overrides_active', help: 'Overrides in force', registers: [registry] });
    this.degraded = new Gauge({ name: 'dnslinkd_control_degraded', help: '1 while the shared control store is unreachable (serving the last state it had)', registers: [registry] });
    this.invalidRecords = new Gauge({
      name: 'dnslinkd_control_invalid_records',
      help: 'Records of the shared store skipped as invalid, by Redis key (overrides and counters: as of the last read; flush and audit logs: met since start or the last store reset)',
      labelNames: ['key'] as const,
      registers: [registry],
    });
    this.heldAfterReset = new Gauge({ name: 'dnslinkd_control_store_reset_held', help: 'Overrides served here that the shared store lost (a reset): held until restored or dropped', registers: [registry] });
    this.storeResets = new Counter({ name: 'dnslinkd_control_store_resets_total', help: 'Times the shared store was found new (emptied or replaced) or gone back to an older state', labelNames: ['cause'] as const, registers: [registry] });
    this.unbuildableOverrides = new Gauge({ name: 'dnslinkd_overrides_unbuildable', help: 'Overrides skipped, never served, because their answers cannot be built (see /admin/v1/status)', registers: [registry] });
    this.syncReads = new Counter({
      name: 'dnslinkd_fleet_sync_reads_total',
      help: 'Reads of the shared store by a reconcile, by what was read: changes (the change log since the version applied here) or full (the whole override set)',
      labelNames: ['read'] as const,
      registers: [registry],
    });
    this.syncLag = new Gauge({ name: 'dnslinkd_fleet_sync_lag_seconds', help: 'Time from a change in the store to this instance applying it, last seen', registers: [registry] });
  }
}
