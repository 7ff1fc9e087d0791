// Second stage: operator overrides. A name with an active override is answered here, TXT at
// `_dnslink.<name>` (the set replaced) and `<name>` (only its dnslink= strings replaced, the rest
// asked of the stages below), with its own TTL capped at its remaining life, `aa` and EDE 4 giving
// the reason; other types and names pass on. The control plane replaces the set (at start) or
// changes it one override at a time (O(1) each, never a rebuild); an answer is built at its first query.
import type { Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { errorMessage } from '../../errors.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import { mergeAtBareName, withTtl } from './bare-name-merge.js';
import type { OverridesMetrics } from './metrics.js';
import { expiryOf, overrideAnswer, overriddenQuestions, overrideWireProblem, type Override } from './override.js';

interface ActiveAnswer {
  override: Override;
  owner: string;
  /** Built at the first query (a start with 100,000 overrides builds none of them up front). */
  answer?: Resolution;
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
  /** Question key -> answer. */
  private answers = new Map<string, ActiveAnswer>();

  constructor(
    private readonly metrics?: OverridesMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const hit = this.answers.get(question.key);
    if (hit === undefined) return this.next.resolve(question, ctx);
    if (hit.expiresAt !== undefined && this.now() >= hit.expiresAt) return this.next.resolve(question, ctx);
    const answer = this.answerOf(hit);
    // One whose answer cannot be built (the control plane leaves such ones out; this never stops the others).
    if (answer === undefined) return this.next.resolve(question, ctx);
    this.metrics?.answers.inc();
    if (!hit.bare) return hit.expiresAt === undefined ? answer : withTtl(answer, this.ttlOf(hit));
    return this.answerAtBareName(hit, answer, question, ctx);
  }

  /** The override's answer at its owner, built once at its first query; undefined when it cannot be. */
  private answerOf(hit: ActiveAnswer): Resolution | undefined {
    if (hit.answer !== undefined) return hit.answer;
    try {
      return (hit.answer = overrideAnswer(hit.override, hit.owner));
    } catch {
      return undefined;
    }
  }

  /** TTL of an answer now: the override's, capped at what is left of its life (whole seconds, rounded down). */
  private ttlOf(hit: ActiveAnswer): number {
    const ttl = hit.override.ttl;
    return hit.expiresAt === undefined ? ttl : Math.max(0, Math.min(ttl, Math.floor((hit.expiresAt - this.now()) / 1000)));
  }

  private async answerAtBareName(hit: ActiveAnswer, answer: Resolution, question: Question, ctx: QueryContext): Promise<Resolution> {
    let below: Resolution | { error: string };
    try {
      below = await this.next.resolve(question, ctx);
    } catch (err) {
      below = { error: errorMessage(err) };
    }
    return mergeAtBareName(answer, this.ttlOf(hit), below, () => this.metrics?.partialAnswers.inc());
  }

  /** How many overrides are held (answered or expired and not yet removed). */
  get size(): number {
    return this.answers.size / 2;
  }

  /**
   * Makes `overrides` the active set. One whose answers cannot be built is left out and returned
   * (found by a cheap check of each, without building them: overrideWireProblem).
   */
  replaceAll(overrides: readonly Override[]): UnbuildableOverride[] {
    this.answers = new Map();
    const unbuildable: UnbuildableOverride[] = [];
    for (const override of overrides) {
      const why = overrideWireProblem(override);
      if (why === undefined) this.set(override);
      else unbuildable.push({ name: override.name, why });
    }
    return unbuildable;
  }

  /** Sets or replaces the override of `override.name`: O(1), the other overrides untouched. */
  set(override: Override): void {
    const expiresAt = expiryOf(override);
    for (const { owner, key } of overriddenQuestions(override.name)) {
      this.answers.set(key, { override, owner, bare: owner === override.name, ...(expiresAt === undefined ? {} : { expiresAt }) });
    }
  }

  /** Removes the override of `name` (if any): O(1). */
  remove(name: string): void {
    for (const { key } of overriddenQuestions(name)) this.answers.delete(key);
  }
}
