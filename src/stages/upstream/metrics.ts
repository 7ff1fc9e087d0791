// Metrics of the upstream stage: how long each upstream takes to answer, the attempts that
// failed by upstream and error code, and the records scrubbed from answers by section.
import { Counter, Histogram, type Registry } from 'prom-client';

export class UpstreamMetrics {
  readonly latency: Histogram<'upstream'>;
  readonly errors: Counter<'upstream' | 'code'>;
  readonly scrubbed: Counter<'section'>;

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
  }
}
