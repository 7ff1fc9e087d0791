// Metrics of the TCP listener: connections closed by its defences against hostile clients (refused
// over the per-network cap or with a full table of busy connections, the idlest one closed to admit
// a new one, a query not complete in time) and the connections open, as plain numbers copied into
// prom-client at scrape time.
import { Counter, Gauge, type Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../observability/metrics.js';

export class TcpListenerMetrics {
  /** Refused: its client network already had dns.tcpMaxConnectionsPerClient open. */
  readonly overClientCap = new FastCounter();
  /** Refused: dns.tcpMaxConnections open and every one of them waiting for an answer (none idle to close). */
  readonly tableFull = new FastCounter();
  /** Closed to admit a new connection at dns.tcpMaxConnections: the one idle longest (RFC 7766 6.2.3). */
  readonly idleClosed = new FastCounter();
  readonly queryTimeouts = new FastCounter();
  /** Read at scrape time: connections open now. */
  open: () => number = () => 0;

  constructor(registry: Registry) {
    const refused: Array<[string, FastCounter]> = [
      ['client_cap', this.overClientCap],
      ['table_full', this.tableFull],
    ];
    const reported = new Map<string, number>();
    new Counter({
      name: 'dnslinkd_tcp_connections_refused_total',
      help: 'TCP connections closed at once, by reason: client_cap (their client network already had dns.tcpMaxConnectionsPerClient open), table_full (dns.tcpMaxConnections open, none idle)',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect() {
        for (const [reason, counter] of refused) {
          const delta = counter.value - (reported.get(reason) ?? 0);
          this.inc({ reason }, delta > 0 ? delta : 0);
          reported.set(reason, counter.value);
        }
      },
    });
    scrapedCounter(registry, 'dnslinkd_tcp_idle_closed_total', 'TCP connections closed because dns.tcpMaxConnections were open: the one idle longest, to admit a new one (RFC 7766 6.2.3)', this.idleClosed);
    scrapedCounter(registry, 'dnslinkd_tcp_query_timeouts_total', 'TCP connections closed because a message was not complete within dns.tcpQueryTimeoutMs', this.queryTimeouts);
    const open = () => this.open();
    new Gauge({
      name: 'dnslinkd_tcp_connections',
      help: 'TCP connections open now (at most dns.tcpMaxConnections)',
      registers: [registry],
      collect() {
        this.set(open());
      },
    });
  }
}
