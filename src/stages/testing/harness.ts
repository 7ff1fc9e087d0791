// The shared harness for testing one stage alone: a fake clock, a scripted next stage that counts
// what reaches it, and builders for the answers stages pass around. Test support only: excluded
// from the build (tsconfig.build.json).
import { EdeCode, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import type { Resolution } from '../../dns/resolution.js';
import type { DnsRecord, Question } from '../../dns/types.js';
import { linkStages, type Caller, type QueryContext, type Stage } from '../stage.js';

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(private current = 1_000_000) {}
  readonly now = (): number => this.current;
  advance(ms: number): void {
    this.current += ms;
  }
}

export type ScriptedReply = Resolution | ((question: Question, ctx: QueryContext) => Resolution | Promise<Resolution>);

/** A next stage that answers from a script (asynchronously, as an upstream would) and records each question. */
export class ScriptedStage implements Stage {
  readonly name = 'scripted';
  next: Stage = this;
  readonly asked: Array<{ question: Question; ctx: QueryContext }> = [];

  constructor(public reply: ScriptedReply) {}

  get calls(): number {
    return this.asked.length;
  }

  async resolve(question: Question, ctx: QueryContext): Promise<Resolution> {
    this.asked.push({ question, ctx });
    return typeof this.reply === 'function' ? this.reply(question, ctx) : this.reply;
  }
}

/** Links `stage` in front of a scripted next stage; returns both and an `ask` helper. */
export function stageUnderTest<S extends Stage>(stage: S, reply: ScriptedReply) {
  const next = new ScriptedStage(reply);
  linkStages([stage, next]);
  const ask = (name: string, type: number, caller: Caller = 'udp'): Resolution | Promise<Resolution> =>
    stage.resolve(makeQuestion(name, type), { caller });
  return { stage, next, ask };
}

export const txtRecord = (name: string, ttl: number, value = 'dnslink=/ipfs/bafy'): DnsRecord => ({ name, type: 'TXT', class: 'IN', ttl, data: [value] });

export const soaRecord = (ttl: number, minimum: number, name = 'example'): DnsRecord => ({
  name,
  type: 'SOA',
  class: 'IN',
  ttl,
  data: { mname: 'ns.example', rname: 'admin.example', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum },
});

/** A NOERROR answer from an upstream with the given records. */
export function upstreamAnswer(...answers: DnsRecord[]): Resolution {
  return { rcode: Rcode.NOERROR, answers, authorities: [], additionals: [], source: 'upstream', upstream: 'udp://fake' };
}

/** What the upstream stage answers when every upstream failed. */
export function upstreamsFailed(text = 'all upstreams failed'): Resolution {
  return { rcode: Rcode.SERVFAIL, answers: [], authorities: [], additionals: [], source: 'error', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text } };
}
