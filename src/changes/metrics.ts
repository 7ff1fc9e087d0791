// Metrics of the change stream: events recorded by kind, SSE subscribers now and those cut off for
// reading too slowly, webhook deliveries by result, and events lost (queue full, retries spent,
// the fleet's stream unreachable).
import { Counter, Gauge, type Registry } from 'prom-client';

export class ChangeMetrics {
  readonly events: Counter<'kind'>;
  readonly subscribers: Gauge;
  readonly slowSubscribers: Counter;
  readonly refusedSubscribers: Counter;
  readonly deliveries: Counter<'result'>;
  readonly drops: Counter<'reason'>;

  constructor(registry: Registry) {
    this.events = new Counter({ name: 'dnslinkd_change_events_total', help: 'Change events recorded by this instance, by kind', labelNames: ['kind'], registers: [registry] });
    this.subscribers = new Gauge({ name: 'dnslinkd_change_subscribers', help: 'SSE subscribers of GET /v1/changes now', registers: [registry] });
    this.slowSubscribers = new Counter({ name: 'dnslinkd_change_subscribers_disconnected_total', help: 'SSE subscribers disconnected for falling changes.historySize events behind', registers: [registry] });
    this.refusedSubscribers = new Counter({ name: 'dnslinkd_change_subscribers_refused_total', help: 'SSE subscribers refused with 503 (changes.maxSubscribers)', registers: [registry] });
    this.deliveries = new Counter({ name: 'dnslinkd_change_webhook_deliveries_total', help: 'Webhook POSTs by result (ok, retry: a failed try to be retried, dropped: retries spent)', labelNames: ['result'], registers: [registry] });
    this.drops = new Counter({ name: 'dnslinkd_change_events_dropped_total', help: 'Change events lost: queue-full (a webhook queue was full), retries-spent (changes.webhookRetryMs), store (the fleet stream could not be written)', labelNames: ['reason'], registers: [registry] });
  }
}
