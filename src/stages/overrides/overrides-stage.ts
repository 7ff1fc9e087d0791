// Second stage: operator overrides. A name with an active override is answered here, TXT at
// `_dnslink.<name>` and `<name>`, before local records and the cache, with its own TTL, `aa` and
// EDE 4 giving the reason; other types and names pass on. The control plane replaces the set.
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { OverridesMetrics } from './metrics.js';
import { expiryOf, overriddenQuestions, overrideAnswer, type Override } from './override.js';

interface ActiveAnswer {
  answer: Resolution;
  /** Epoch ms after which it no longer applies; undefined: until removed. */
  expiresAt?: number;
}

export class OverridesStage implements Stage {
  readonly name = 'overrides';
  next: Stage = UNLINKED;
  /** Question key -> answer; replaced whole, so a query sees one set or the other. */
  private answers = new Map<string, ActiveAnswer>();

  constructor(
    private readonly metrics?: OverridesMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const hit = this.answers.get(question.key);
    if (hit !== undefined && (hit.expiresAt === undefined || this.now() < hit.expiresAt)) {
      this.metrics?.answers.inc();
      return hit.answer;
    }
    return this.next.resolve(question, ctx);
  }

  /** Makes `overrides` the active set (expired ones are kept out). */
  replaceAll(overrides: readonly Override[]): void {
    const answers = new Map<string, ActiveAnswer>();
    for (const override of overrides) {
      const expiresAt = expiryOf(override);
      for (const { owner, key } of overriddenQuestions(override.name)) {
        answers.set(key, { answer: overrideAnswer(override, owner), ...(expiresAt === undefined ? {} : { expiresAt }) });
      }
    }
    this.answers = answers;
  }
}
