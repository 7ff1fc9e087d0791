// First stage: what dnslinkd answers without any lookup. ANY gets the RFC 8482 HINFO answer; zone
// transfers and the other meta-types (RFC 6895) are refused here and never go upstream; with
// `dns.forward` off, only TXT questions (the DNSLink lookups) pass.
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { withOwnerWire } from '../../dns/record-sections.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import type { Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';
import type { QueryPolicyOptions } from './config.js';

/** Pseudo-record types that can never be a question (RFC 6891 OPT, RFC 2930 TKEY, RFC 8945 TSIG). */
const NEVER_ASKED = new Set([41, 249, 250]);
const AXFR = 252;
const IXFR = 251;

function refusal(rcode: number, edeCode: number, text: string): Resolution {
  return { ...emptyResolution(rcode, 'policy'), ede: { code: edeCode, text } };
}

/**
 * Types that are not resolved: pseudo-records, zone transfers (AXFR 252, IXFR 251) and the rest of
 * RFC 6895's Q-type and meta-type range 128-254 (ANY, 255, is answered above), and the reserved 0
 * and 65535.
 */
function isMetaType(type: number): boolean {
  return NEVER_ASKED.has(type) || type === 0 || type === 0xffff || (type >= 128 && type <= 254);
}

function metaTypeRefusal(type: number): Resolution {
  if (NEVER_ASKED.has(type)) return refusal(Rcode.FORMERR, EdeCode.OTHER, `type ${type} is a pseudo-record (OPT, TKEY or TSIG), never a question`);
  if (type === AXFR || type === IXFR) {
    return refusal(Rcode.REFUSED, EdeCode.NOT_SUPPORTED, 'zone transfers (AXFR, IXFR) are not served: dnslinkd is a caching resolver');
  }
  return refusal(Rcode.REFUSED, EdeCode.NOT_SUPPORTED, `type ${type} is reserved or a meta-type (RFC 6895): not resolved`);
}

export class QueryPolicyStage implements Stage {
  readonly name = 'query-policy';
  next: Stage = UNLINKED;
  private readonly forwardOff: Resolution;
  private readonly metaTypeRefusals = new Map<number, Resolution>();

  constructor(private readonly options: QueryPolicyOptions) {
    this.forwardOff = refusal(Rcode.REFUSED, EdeCode.PROHIBITED, 'forwarding is off: only TXT (DNSLink) questions are answered');
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const type = question.type;
    if (type === RRType.TXT) return this.next.resolve(question, ctx);
    if (type === RRType.ANY) {
      const hinfo = { name: question.name, type: 'HINFO', class: 'IN', ttl: 3600, data: { cpu: 'RFC8482', os: '' } } as const;
      return { ...emptyResolution(Rcode.NOERROR, 'policy'), answers: [withOwnerWire(hinfo, question.nameWire)] };
    }
    if (isMetaType(type)) return this.refusalFor(type);
    if (!this.options.forward) return this.forwardOff;
    return this.next.resolve(question, ctx);
  }

  /** The refusal for a meta-type, built once per type. */
  private refusalFor(type: number): Resolution {
    let answer = this.metaTypeRefusals.get(type);
    if (!answer) this.metaTypeRefusals.set(type, (answer = metaTypeRefusal(type)));
    return answer;
  }
}
