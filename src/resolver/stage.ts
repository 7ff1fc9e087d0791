// The one interface every resolver stage implements (query policy, local records, cache, upstream;
// later overrides and ENS). A stage answers a question itself or hands it to `next`. Stages may
// answer synchronously, so a cache hit costs no promise.
import type { Question, Resolution } from '../dns/types.js';

export type Transport = 'udp' | 'tcp' | 'doh' | 'api' | 'cli' | 'internal';

export interface QueryContext {
  transport: Transport;
  /** Epoch ms by which the client needs an answer; stale data is served after it. */
  deadline?: number;
}

export interface Stage {
  readonly name: string;
  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution>;
}

export function emptyResolution(rcode: number, source: Resolution['source']): Resolution {
  return { rcode, answers: [], authorities: [], additionals: [], source };
}
