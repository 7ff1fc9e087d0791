// Metrics of the upstream stage: how long each upstream takes to answer, the attempts that failed
// by upstream and error code, the questions waiting for upstreams and those answered at once past
// upstream.maxOutstanding, the UDP sockets open, and the records scrubbed from answers by section.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../../observability/metrics.js';

export class UpstreamMetrics {
  readonly latency: Histogram<'upstream'>;
  readonly errors: Counter<'upstream' | 'code'>;
  readonly scrubbed: Counter<'section'>;
  /** Questions answered at once because upstream.maxOutstanding were already waiting. */
  readonly saturated = new FastCounter();
  /** Read at scrape time: questions waiting for upstreams, UDP sockets open (set by the stage). */
  stats: () => { outstanding: number; udpSockets: number } = () => ({ outstanding: 0, udpSockets: 0 });

  constructor(registry: Registry) {
    this.latency = new Histogram({
      name: 'dnslinkd_upstream_latency_seconds',
      help: 'Time for an upstream to answer',
      labelNames: ['upstream'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'dnslinkd_upstream_errors_total',
      help: 'Upstream attempts that failed, by upstream and error code',
      labelNames: ['upstream', 'code'] as const,
      registers: [registry],
    });
    this.scrubbed = new Counter({
      name: 'dnslinkd_upstream_scrubbed_records_total',
      help: 'Records dropped from upstream answers as not about the question (dns/answer-scrub.ts), by section',
      labelNames: ['section'] as const,
      registers: [registry],
    });
    for (const section of ['answer', 'authority', 'additional']) this.scrubbed.inc({ section }, 0);
    scrapedCounter(registry, 'dnslinkd_upstream_saturated_total', 'Questions answered at once (stale if held, else SERVFAIL) because upstream.maxOutstanding were already waiting for upstreams', this.saturated);
    const stats = () => this.stats();
    new Gauge({
      name: 'dnslinkd_upstream_outstanding',
      help: 'Questions waiting for upstreams now (bounded by upstream.maxOutstanding)',
      registers: [registry],
      collect() {
        this.set(stats().outstanding);
      },
    });
    new Gauge({
      name: 'dnslinkd_upstream_udp_sockets',
      help: 'UDP sockets open to upstreams now (the shared pool, retired sockets still waiting for answers included)',
      registers: [registry],
      collect() {
        this.set(stats().udpSockets);
      },
    });
  }
}
