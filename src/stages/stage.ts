// The contract every resolver stage keeps: a stage answers a question itself or hands it to
// `next`, which the chain (chain.ts) sets once when it links the stages in their declared order.
// Stages may answer synchronously, so a cache hit costs no promise.
import { EdeCode, Rcode } from '../dns/constants.js';
import { emptyResolution, type Resolution } from '../dns/resolution.js';
import type { Question } from '../dns/types.js';

/**
 * How a query arrives (also the `transport` label of dnslinkd_queries_total): wire queries over
 * UDP, TCP and DoH, the DNS JSON API (`/resolve`, `/dns-query` with accept: application/dns-json)
 * and the resolution API (`/v1/dnslink`).
 */
export type Transport = 'udp' | 'tcp' | 'doh' | 'json' | 'api';

/** Who asks a stage: a listener, the resolution API, the CLI, or the cache (a miss or a refresh it passes on). */
export type Caller = Transport | 'api' | 'cli' | 'cache';

export interface QueryContext {
  caller: Caller;
  /**
   * Set by the cache when it holds an expired answer it can serve stale: a stage below that would
   * replace a failure with an answer of its own (the ENS fallback) lets the failure through instead,
   * so the name's own last known answer comes first.
   */
  staleHeld?: boolean;
}

export interface Stage {
  /** The stage's name in the chain declaration (chain.ts), e.g. `cache`. */
  readonly name: string;
  /** The stage after this one; set by linkStages. A stage that cannot answer asks it. */
  next: Stage;
  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution>;
}

/** Where a stage points before it is linked: asking it is a wiring bug, said loudly. */
export const UNLINKED: Stage = {
  name: 'unlinked',
  get next(): Stage {
    return UNLINKED;
  },
  resolve(question) {
    throw new Error(`a stage was asked to pass "${question.name}" on before the chain was linked`);
  },
};

/** Past the last stage: nothing answered (the last stage normally always answers). */
export const END_OF_CHAIN: Stage = {
  name: 'end',
  next: UNLINKED,
  resolve() {
    return { ...emptyResolution(Rcode.SERVFAIL, 'error'), ede: { code: EdeCode.OTHER, text: 'no stage of the resolver chain answered' } };
  },
};

/** Links `stages` in order (each one's `next` is the one after it) and returns the head. */
export function linkStages(stages: readonly Stage[]): Stage {
  stages.forEach((stage, i) => {
    stage.next = stages[i + 1] ?? END_OF_CHAIN;
  });
  return stages[0] ?? END_OF_CHAIN;
}
