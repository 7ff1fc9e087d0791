// Records served as our own data (like Unbound's local-data): the demo names shipped in fixtures/
// and any operator-supplied file. A name we hold answers authoritatively: its records for a type
// it has, NODATA for a type it lacks. Anything else goes to `next`.
import { RRType, Rcode } from '../dns/constants.js';
import type { DnsRecord, Question, Resolution } from '../dns/types.js';
import { encodedSectionsOf, makeQuestion, splitTxtStrings } from '../dns/wire.js';
import { emptyResolution, type QueryContext, type Stage } from './stage.js';

export interface LocalRecord {
  name: string;
  type: 'TXT' | 'A' | 'AAAA';
  ttl: number;
  data: string | string[];
}

function toDnsRecord(record: LocalRecord): DnsRecord {
  const name = record.name.replace(/\.$/, '');
  if (record.type === 'TXT') {
    return { name, type: 'TXT', class: 'IN', ttl: record.ttl, data: splitTxtStrings(record.data) };
  }
  const address = Array.isArray(record.data) ? record.data[0] ?? '' : record.data;
  return { name, type: record.type, class: 'IN', ttl: record.ttl, data: address };
}

export class LocalRecordsStage implements Stage {
  readonly name = 'local';
  /** question key -> resolution (pre-encoded); names -> true for NODATA on other types. */
  private readonly answers = new Map<string, Resolution>();
  private readonly names = new Set<string>();

  constructor(
    private readonly next: Stage,
    records: LocalRecord[],
  ) {
    for (const record of records) {
      const rr = toDnsRecord(record);
      const question = makeQuestion(rr.name, RRType[record.type]);
      let res = this.answers.get(question.key);
      if (!res) {
        res = { ...emptyResolution(Rcode.NOERROR, 'local'), authoritative: true };
        this.answers.set(question.key, res);
      }
      res.answers.push(rr);
      this.names.add(rr.name.toLowerCase());
    }
    for (const res of this.answers.values()) encodedSectionsOf(res);
  }

  get size(): number {
    return this.answers.size;
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const hit = this.answers.get(question.key);
    if (hit) return hit;
    if (this.names.size > 0 && this.names.has(question.name.toLowerCase())) {
      return { ...emptyResolution(Rcode.NOERROR, 'local'), authoritative: true };
    }
    return this.next.resolve(question, ctx);
  }
}
