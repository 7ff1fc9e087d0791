// Second stage: operator overrides. A name with an active override is answered here, TXT at
// `_dnslink.<name>` and `<name>`, before local records and the cache, with its own TTL, `aa` and
// EDE 4 giving the reason; other types and names pass on. The control plane replaces the set (at
// start) or changes it one override at a time (O(1) each, never a rebuild).
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { OverridesMetrics } from './metrics.js';
import { expiryOf, overriddenQuestions, overrideAnswer, type Override } from './override.js';

interface ActiveAnswer {
  override: Override;
  owner: string;
  /** Built at the first query (a start with 100,000 overrides builds none of them up front). */
  answer?: Resolution;
  /** Epoch ms after which it no longer applies; undefined: until removed. */
  expiresAt?: number;
}

export class OverridesStage implements Stage {
  readonly name = 'overrides';
  next: Stage = UNLINKED;
  /** Question key -> answer. */
  private answers = new Map<string, ActiveAnswer>();

  constructor(
    private readonly metrics?: OverridesMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const hit = this.answers.get(question.key);
    if (hit !== undefined && (hit.expiresAt === undefined || this.now() < hit.expiresAt)) {
      this.metrics?.answers.inc();
      return (hit.answer ??= overrideAnswer(hit.override, hit.owner));
    }
    return this.next.resolve(question, ctx);
  }

  /** How many overrides are held (answered or expired and not yet removed). */
  get size(): number {
    return this.answers.size / 2;
  }

  /** Makes `overrides` the active set. */
  replaceAll(overrides: readonly Override[]): void {
    this.answers = new Map();
    for (const override of overrides) this.set(override);
  }

  /** Sets or replaces the override of `override.name`: O(1), the other overrides untouched. */
  set(override: Override): void {
    const expiresAt = expiryOf(override);
    for (const { owner, key } of overriddenQuestions(override.name)) {
      this.answers.set(key, { override, owner, ...(expiresAt === undefined ? {} : { expiresAt }) });
    }
  }

  /** Removes the override of `name` (if any): O(1). */
  remove(name: string): void {
    for (const { key } of overriddenQuestions(name)) this.answers.delete(key);
  }
}
