// Metrics of the overrides stage: answers it gave (bumped per query as a plain number).
import type { Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../../observability/metrics.js';

export class OverridesMetrics {
  readonly answers = new FastCounter();

  constructor(registry: Registry) {
    scrapedCounter(registry, 'dnslinkd_override_answers_total', 'Questions answered by an operator override', this.answers);
  }
}
