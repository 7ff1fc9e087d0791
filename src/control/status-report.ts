// The whole answer of GET /admin/v1/status: the control plane's own fields (store, version,
// degraded...) kept as they are, plus the instance (version, uptime, chain, listeners, workers), its
// cache and upstreams summed over its processes, the fleet's instances seen, the sync lag, the
// overrides in force (the first OVERRIDES_SHOWN) and each process's own view. Also the override in
// force for a name `cache show` asks about.
import { DNSLINK_PREFIX } from '../dnslink/domain.js';
import type { Override } from '../stages/overrides/override.js';
import type { ControlPlane, ControlStatus } from './control-plane.js';
import type { FleetInstanceView } from './fleet-presence.js';
import { mergeUpstreams, sumCaches, type CacheStatusView, type InstanceStatusView, type UpstreamStatusView } from './instance-status.js';
import { VERSION } from '../version.js';
import { errorMessage } from '../errors.js';

/** Overrides listed in the status at most (`overrides` counts them all). */
export const OVERRIDES_SHOWN = 50;

export interface StatusReport extends ControlStatus {
  instance: {
    version: string;
    pid: number;
    startedAt: string;
    uptimeSeconds: number;
    chain: string[];
    listeners: Record<string, string>;
    /** Serving processes: 1, or the workers of --workers N. */
    workers: number;
  };
  cache: CacheStatusView;
  upstreams: UpstreamStatusView[];
  /** ENS as configured: on or off and its RPC endpoints (origins only). */
  ensEndpoints: { enabled: boolean; endpoints: string[] };
  controlStore: { kind: string; location: string; degraded: boolean; version: number; syncLagSeconds?: number };
  /** The instances sharing the fleet store (state.redis); absent with the embedded store. */
  fleet?: { instances: FleetInstanceView[]; live: number } | { error: string };
  overridesInForce: Array<Pick<Override, 'name' | 'value' | 'ttl' | 'pinned' | 'expiresAt' | 'by' | 'reason'>>;
  processes: InstanceStatusView[];
}

export async function statusReport(control: ControlPlane, now = Date.now()): Promise<StatusReport> {
  const base = control.status();
  const processes = await control.processes();
  const first = processes[0];
  let fleet: StatusReport['fleet'];
  if (control.fleet) {
    try {
      const instances = await control.fleet.instances();
      fleet = { instances, live: instances.filter((i) => i.live).length };
    } catch (err) {
      fleet = { error: errorMessage(err) };
    }
  }
  const active = control.active();
  return {
    ...base,
    instance: {
      version: VERSION,
      pid: process.pid,
      startedAt: new Date(now - process.uptime() * 1000).toISOString(),
      uptimeSeconds: Math.floor(process.uptime()),
      chain: first?.chain ?? [],
      listeners: first?.listeners ?? {},
      workers: processes.length,
    },
    cache: sumCaches(processes),
    upstreams: mergeUpstreams(processes),
    ensEndpoints: first?.ens ?? { enabled: false, endpoints: [] },
    controlStore: { kind: base.store.kind, location: base.store.location, degraded: base.degraded, version: base.version, ...(control.syncLagSeconds !== undefined ? { syncLagSeconds: control.syncLagSeconds } : {}) },
    ...(fleet ? { fleet } : {}),
    overridesInForce: active.slice(0, OVERRIDES_SHOWN).map((o) => ({ name: o.name, value: o.value, ttl: o.ttl, pinned: o.pinned, expiresAt: o.expiresAt, by: o.by, reason: o.reason })),
    processes,
  };
}

/** The override in force for a name as `cache show` gives it (bare or `_dnslink.`), or null. */
export function overrideInForce(control: ControlPlane, name: string): Override | null {
  const bare = name.startsWith(DNSLINK_PREFIX) ? name.slice(DNSLINK_PREFIX.length) : name;
  try {
    return control.get(bare) ?? null;
  } catch {
    return null; // not a name an override can have
  }
}
