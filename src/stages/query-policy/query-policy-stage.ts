// First stage: what dnslinkd refuses to resolve, before any lookup. ANY gets the RFC 8482 HINFO
// answer; with `dns.forward` off, only TXT questions (the DNSLink lookups) pass.
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { QueryPolicyOptions } from './config.js';

export class QueryPolicyStage implements Stage {
  readonly name = 'query-policy';
  next: Stage = UNLINKED;
  private readonly refused: Resolution;

  constructor(private readonly options: QueryPolicyOptions) {
    this.refused = {
      ...emptyResolution(Rcode.REFUSED, 'policy'),
      ede: { code: EdeCode.PROHIBITED, text: 'forwarding is off: only TXT (DNSLink) questions are answered' },
    };
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    if (question.type === RRType.ANY) {
      return {
        ...emptyResolution(Rcode.NOERROR, 'policy'),
        answers: [{ name: question.name, type: 'HINFO', class: 'IN', ttl: 3600, data: { cpu: 'RFC8482', os: '' } }],
      };
    }
    if (!this.options.forward && question.type !== RRType.TXT) return this.refused;
    return this.next.resolve(question, ctx);
  }
}
