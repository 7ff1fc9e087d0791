// First stage: what dnslinkd refuses to resolve. ANY gets the RFC 8482 HINFO answer; with
// `forward` off, only TXT questions (the DNSLink lookups `_dnslink.<name>` and `<name>`) pass.
import { EdeCode, RRType, Rcode } from '../dns/constants.js';
import type { Question, Resolution } from '../dns/types.js';
import { emptyResolution, type QueryContext, type Stage } from './stage.js';

export interface QueryPolicyOptions {
  forward: boolean;
}

export class QueryPolicyStage implements Stage {
  readonly name = 'policy';
  private readonly refused: Resolution;

  constructor(
    private readonly next: Stage,
    private readonly options: QueryPolicyOptions,
  ) {
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
