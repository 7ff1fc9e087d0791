// What /healthz says about the control plane (store kind, degraded or not, overrides held after a
// store reset, records skipped as invalid). The control plane is
// started beside the HTTP listener, not inside it: it registers its status here under the
// instance's metrics registry, which both share. Absent (no control plane in this process, as in a
// cluster worker): /healthz says nothing about it.
import type { Registry } from 'prom-client';
import { heldPhrase } from './store-reset.js';

export interface ControlHealth {
  store: 'embedded' | 'redis';
  /** True while the shared store is unreachable (the last state is served, changes are refused) or overrides are held after a reset. */
  degraded: boolean;
  /** Why it is unreachable, when it is. */
  reason?: string;
  /** Overrides served here that the store lost (a reset), until restored or dropped. */
  heldAfterReset?: number;
  /** Records of the store skipped as invalid. */
  invalidRecords?: number;
  /** Overrides skipped because their answers cannot be built. */
  unbuildableOverrides?: number;
}

/** What /healthz adds to its reason about the control plane, or undefined when all is well. */
export function describeControlHealth(h: ControlHealth): string | undefined {
  const notes: string[] = [];
  if (h.reason !== undefined) notes.push(`control store DEGRADED (${h.reason}: serving the last state, admin changes refused)`);
  if (h.heldAfterReset) notes.push(`control store DEGRADED (${heldPhrase(h.heldAfterReset)}: still serving them; dnslinkd override restore, or dnslinkd override accept-reset)`);
  if (h.unbuildableOverrides) notes.push(`note: ${h.unbuildableOverrides} overrides skipped, never served: their answers cannot be built (see /admin/v1/status)`);
  if (h.invalidRecords) notes.push(`note: ${h.invalidRecords} invalid records in the control store skipped, never served (see /admin/v1/status)`);
  return notes.length ? notes.join('; ') : undefined;
}

const providers = new WeakMap<Registry, () => ControlHealth>();

export function registerControlHealth(registry: Registry, provider: () => ControlHealth): void {
  providers.set(registry, provider);
}

export function unregisterControlHealth(registry: Registry): void {
  providers.delete(registry);
}

export function controlHealth(registry: Registry): ControlHealth | undefined {
  return providers.get(registry)?.();
}
