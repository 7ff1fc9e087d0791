// The denylist stage: TXT questions for a DNSLink name (at `_dnslink.NAME` or `NAME`, ENS and
// mirror names too) are checked against the lists in force, the name before anything is asked
// below, then every /ipfs/ and /ipns/ value of the answer; a block answers NOERROR with no records
// (or denylist.answer) and EDE 15 Blocked or 16 Censored naming the list and the rule. Below the
// cache, so a block is cached like any answer and a hit costs nothing more.
import { EdeCode, Rcode, RRType } from '../../dns/constants.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { DenylistAnswer } from './config.js';
import type { DenylistMetrics } from './metrics.js';
import { RecentNames } from './recent-names.js';
import { dnslinkNameOf, ListsInForce, namesOf, valuesOf, verdictText, type Verdict } from './verdict.js';

/** How long a block may be cached (within cache.negativeMinTtl..negativeMaxTtl): a list change evicts it sooner. */
export const BLOCK_TTL = 300;

const ANSWER_RCODE: Readonly<Record<DenylistAnswer, number>> = { nodata: Rcode.NOERROR, nxdomain: Rcode.NXDOMAIN, refused: Rcode.REFUSED };

export interface DenylistStageOptions {
  answer: DenylistAnswer;
  /** ENS mirror suffixes (ens.mirrors): `site.eth.limo` is also checked as `site.eth`. */
  mirrors: readonly string[];
}

/** The resolution of a block: no records, the configured rcode, the EDE naming the list and the rule. */
export function blockedResolution(verdict: Verdict, answer: DenylistAnswer): Resolution {
  return {
    ...emptyResolution(ANSWER_RCODE[answer], 'denylist'),
    ede: { code: verdict.kind === 'censored' ? EdeCode.CENSORED : EdeCode.BLOCKED, text: verdictText(verdict) },
    negativeTtl: BLOCK_TTL,
  };
}

export class DenylistStage implements Stage {
  readonly name = 'denylist';
  next: Stage = UNLINKED;
  readonly lists = new ListsInForce();
  readonly recent: RecentNames;

  constructor(
    private readonly options: DenylistStageOptions,
    readonly metrics?: DenylistMetrics,
    now: () => number = Date.now,
  ) {
    this.recent = new RecentNames(now);
  }

  /** The names a question stands for (itself, its ENS form under a mirror suffix). */
  namesOf(dnslinkName: string): string[] {
    return namesOf(dnslinkName, this.options.mirrors);
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    if (question.type !== RRType.TXT) return this.next.resolve(question, ctx);
    const name = dnslinkNameOf(question.name);
    this.recent.add(name);
    if (this.lists.all.length === 0) return this.next.resolve(question, ctx);
    const byName = this.lists.check(this.namesOf(name));
    if (byName) return this.block(byName);
    const res = this.next.resolve(question, ctx);
    return res instanceof Promise ? res.then((late) => this.checkValues(question, late)) : this.checkValues(question, res);
  }

  /** The answer's /ipfs/ and /ipns/ values checked, with the lists in force when it arrived. */
  private checkValues(question: Question, res: Resolution): Resolution {
    if (res.answers.length === 0 || this.lists.all.length === 0) return res;
    const verdict = this.lists.check(valuesOf(question.name, res.answers));
    return verdict ? this.block(verdict) : res;
  }

  private block(verdict: Verdict): Resolution {
    this.metrics?.blocked(verdict.list, verdict.kind);
    return blockedResolution(verdict, this.options.answer);
  }
}
