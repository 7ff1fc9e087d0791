// What /healthz says about the control plane (store kind, degraded or not). The control plane is
// started beside the HTTP listener, not inside it: it registers its status here under the
// instance's metrics registry, which both share. Absent (no control plane in this process, as in a
// cluster worker): /healthz says nothing about it.
import type { Registry } from 'prom-client';

export interface ControlHealth {
  store: 'embedded' | 'redis';
  /** True while the shared store is unreachable: the last state is served, changes are refused. */
  degraded: boolean;
  /** Why, when degraded. */
  reason?: string;
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
