// Metrics of the TCP listener: connections closed by its defences against hostile clients (over the
// per-client cap, a query not complete in time), as plain numbers copied into prom-client at scrape time.
import type { Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../observability/metrics.js';

export class TcpListenerMetrics {
  readonly overClientCap = new FastCounter();
  readonly queryTimeouts = new FastCounter();

  constructor(registry: Registry) {
    scrapedCounter(registry, 'dnslinkd_tcp_connections_refused_total', 'TCP connections closed at once: their client address already had dns.tcpMaxConnectionsPerClient open', this.overClientCap);
    scrapedCounter(registry, 'dnslinkd_tcp_query_timeouts_total', 'TCP connections closed because a message was not complete within dns.tcpQueryTimeoutMs', this.queryTimeouts);
  }
}
