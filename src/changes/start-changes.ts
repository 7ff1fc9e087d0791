// Starts the change stream of an instance: the stream itself, the fleet's Redis stream under it
// when state.redis is set, the webhooks on it, and the cache stage's refresh hook that records a
// refresh fetching other DNSLink values. Closed by the instance after its listeners.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { CacheStage } from '../stages/cache/cache-stage.js';
import { ChangeStream } from './change-stream.js';
import { FleetRelay } from './fleet-relay.js';
import { ChangeMetrics } from './metrics.js';
import { eventOfAudit, refreshChange } from './recorded-changes.js';
import type { ControlPlane } from '../control/control-plane.js';
import { WebhookDelivery } from './webhooks.js';

export interface RunningChanges {
  stream: ChangeStream;
  close(): Promise<void>;
}

export async function startChanges(config: Config, log: Logger, registry: Registry, cache: CacheStage, now?: () => number): Promise<RunningChanges> {
  const stream = new ChangeStream(config.changes, new ChangeMetrics(registry), log.child({ component: 'changes' }), now);
  if (config.state.redis) stream.useSink(await FleetRelay.open(config.state.redis, stream, log));
  cache.onRefresh = (fqdn, held, fetched) => {
    const change = refreshChange(fqdn, held, fetched);
    if (change) stream.recordRefresh(change.name, change.old, change.new, change.origin);
  };
  const webhooks = new WebhookDelivery(stream, config.dataDir, log);
  webhooks.start();
  return {
    stream,
    close: async () => {
      cache.onRefresh = undefined;
      webhooks.close();
      await stream.close();
    },
  };
}

/** Records the changes `control` makes (overrides, flushes) on `stream`. */
export function recordControlChanges(control: ControlPlane, stream: ChangeStream): void {
  control.onAudited = (record) => {
    const event = eventOfAudit(record);
    if (event) stream.record(event);
  };
}

/**
 * A cluster's primary holds the control plane but serves no subscriber: with state.redis its
 * changes go to the fleet stream the workers read; without Redis they reach no worker (docs/changes.md).
 */
export async function startPrimaryChanges(config: Config, log: Logger, registry: Registry, control: ControlPlane): Promise<{ close(): Promise<void> } | undefined> {
  if (!config.state.redis) return undefined;
  const stream = new ChangeStream(config.changes, new ChangeMetrics(registry), log.child({ component: 'changes' }));
  stream.useSink(await FleetRelay.open(config.state.redis, stream, log));
  recordControlChanges(control, stream);
  return { close: () => stream.close() };
}
