// Records served as our own data (like Unbound's local-data): the demo names shipped in fixtures/
// and any operator-supplied file. A name we hold answers authoritatively: its records for a type
// it has, NODATA for a type it lacks. Anything else goes to `next`.
import { RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion, withoutTrailingDot } from '../../dns/names.js';
import { encodedSectionsOf } from '../../dns/record-sections.js';
import { emptyResolution, type Resolution } from '../../dns/resolution.js';
import { splitTxtStrings } from '../../dns/txt-strings.js';
import type { DnsRecord, Question } from '../../dns/types.js';
import { UNLINKED, type QueryContext, type Stage } from '../stage.js';

export interface LocalRecord {
  name: string;
  type: 'TXT' | 'A' | 'AAAA';
  ttl: number;
  data: string | string[];
}

function toDnsRecord(record: LocalRecord): DnsRecord {
  const name = withoutTrailingDot(record.name);
  if (record.type === 'TXT') {
    return { name, type: 'TXT', class: 'IN', ttl: record.ttl, data: splitTxtStrings(record.data) };
  }
  const address = Array.isArray(record.data) ? record.data[0] ?? '' : record.data;
  return { name, type: record.type, class: 'IN', ttl: record.ttl, data: address };
}

export class LocalRecordsStage implements Stage {
  readonly name = 'local-records';
  next: Stage = UNLINKED;
  /** question key -> resolution (pre-encoded). */
  private answers = new Map<string, Resolution>();
  /**
   * Names we hold, as the name part of a question key, grouped by length: a question whose name
   * length matches none is passed on without building a string (the cache-hit path).
   */
  private namesByLength = new Map<number, Set<string>>();

  constructor(records: LocalRecord[]) {
    this.replaceRecords(records);
  }

  /** Serves these records from now on, instead of those held (a configuration reload reads the file again). */
  replaceRecords(records: LocalRecord[]): void {
    const answers = new Map<string, Resolution>();
    const namesByLength = new Map<number, Set<string>>();
    for (const record of records) {
      const rr = toDnsRecord(record);
      const question = makeQuestion(rr.name, RRType[record.type]);
      let res = answers.get(question.key);
      if (!res) {
        res = { ...emptyResolution(Rcode.NOERROR, 'local'), authoritative: true };
        answers.set(question.key, res);
      }
      res.answers.push(rr);
      const namePart = question.key.slice(0, -4);
      let sameLength = namesByLength.get(namePart.length);
      if (!sameLength) namesByLength.set(namePart.length, (sameLength = new Set()));
      sameLength.add(namePart);
    }
    for (const res of answers.values()) encodedSectionsOf(res);
    this.answers = answers;
    this.namesByLength = namesByLength;
  }

  get size(): number {
    return this.answers.size;
  }

  resolve(question: Question, ctx: QueryContext): Resolution | Promise<Resolution> {
    const hit = this.answers.get(question.key);
    if (hit) return hit;
    const sameLength = this.namesByLength.get(question.key.length - 4);
    if (sameLength && sameLength.has(question.key.slice(0, -4))) {
      return { ...emptyResolution(Rcode.NOERROR, 'local'), authoritative: true };
    }
    return this.next.resolve(question, ctx);
  }
}
