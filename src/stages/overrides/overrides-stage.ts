// Second stage: operator overrides. A name with an active override is answered here, TXT at
// `_dnslink.<name>` (the set replaced) and `<name>` (only its dnslink= strings replaced, the rest
// asked of the stages below), with its own TTL capped at its remaining life, `aa` and EDE 4 giving
// the reason; other types and names pass on. The control plane replaces the set.
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { errorMessage } from '../../errors.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import { mergeAtBareName, withTtl } from './bare-name-merge.js';
import type { OverridesMetrics } from './metrics.js';
import { buildOverrideAnswers, expiryOf, type Override } from './override.js';

interface ActiveAnswer {
  answer: Resolution;
  /** The override's TTL, seconds. */
  ttl: number;
  /** Epoch ms after which it no longer applies; undefined: until removed. */
  expiresAt?: number;
  /** At the bare name: merged with the name's other TXT records from below. */
  bare: boolean;
}

/** An override left out of the set because its answers cannot be built, and why. */
export interface UnbuildableOverride {
  name: string;
  why: string;
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
    if (hit === undefined) return this.next.resolve(question, ctx);
    if (hit.expiresAt !== undefined && this.now() >= hit.expiresAt) return this.next.resolve(question, ctx);
    this.metrics?.answers.inc();
    if (!hit.bare) return hit.expiresAt === undefined ? hit.answer : withTtl(hit.answer, this.ttlOf(hit));
    return this.answerAtBareName(hit, question, ctx);
  }

  /** TTL of an answer now: the override's, capped at what is left of its life (whole seconds, rounded down). */
  private ttlOf(hit: ActiveAnswer): number {
    return hit.expiresAt === undefined ? hit.ttl : Math.max(0, Math.min(hit.ttl, Math.floor((hit.expiresAt - this.now()) / 1000)));
  }

  private async answerAtBareName(hit: ActiveAnswer, question: Question, ctx: QueryContext): Promise<Resolution> {
    let below: Resolution | { error: string };
    try {
      below = await this.next.resolve(question, ctx);
    } catch (err) {
      below = { error: errorMessage(err) };
    }
    return mergeAtBareName(hit.answer, this.ttlOf(hit), below, () => this.metrics?.partialAnswers.inc());
  }

  /**
   * Makes `overrides` the active set (expired ones are kept out). One whose answers cannot be built
   * is left out and returned; it never stops the others.
   */
  replaceAll(overrides: readonly Override[]): UnbuildableOverride[] {
    const answers = new Map<string, ActiveAnswer>();
    const unbuildable: UnbuildableOverride[] = [];
    for (const override of overrides) {
      const built = buildOverrideAnswers(override);
      if ('error' in built) {
        unbuildable.push({ name: override.name, why: built.error });
        continue;
      }
      const expiresAt = expiryOf(override);
      for (const { owner, key, answer } of built.answers) {
        answers.set(key, { answer, ttl: override.ttl, bare: owner === override.name, ...(expiresAt === undefined ? {} : { expiresAt }) });
      }
    }
    this.answers = answers;
    return unbuildable;
  }
}
