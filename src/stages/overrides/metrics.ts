// Metrics of the overrides stage: answers it gave, and bare-name answers given without the name's
// other TXT records (bumped per query as plain numbers).
import type { Registry } from 'prom-client';
import { FastCounter, scrapedCounter } from '../../observability/metrics.js';

export class OverridesMetrics {
  readonly answers = new FastCounter();
  readonly partialAnswers = new FastCounter();

  constructor(registry: Registry) {
    scrapedCounter(registry, 'dnslinkd_override_answers_total', 'Questions answered by an operator override', this.answers);
    scrapedCounter(
      registry,
      'dnslinkd_override_partial_answers_total',
      "Bare-name answers of an override given without the name's other TXT records (the resolvers below failed, or the merge would not fit a DNS message)",
      this.partialAnswers,
    );
  }
}
