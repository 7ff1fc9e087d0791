// Which records of an answer belong to the question asked, the rule every reader of an answer
// shares: the owner chain from the question's name through the answer section's CNAME and DNAME
// records (RFC 1034 4.3.2, RFC 6672), and the authority and additional records inside its zone.
// The upstream stage scrubs each upstream response with it once (as Unbound's scrubber does),
// and the DNSLink readers take TXT records only from the chain's end. No I/O.
import { RRType } from './constants.js';
import { MAX_NAME_WIRE, encodeName, sameWireName } from './names.js';
import { recordWireOf } from './record-sections.js';
import { recordTypeNumber } from './record-types.js';
import type { DnsRecord } from './types.js';

/** The most CNAME/DNAME links followed from the question's name; a longer chain ends with no data. */
export const MAX_CHAIN_LINKS = 16;

const DNAME = 39;
const RRSIG = 46;
const KX = 36;
/** DNSSEC proof records kept in the authority section when they sit at or below a kept SOA or NS owner. */
const ZONE_PROOF_TYPES: ReadonlySet<number> = new Set([43 /* DS */, 47 /* NSEC */, 50 /* NSEC3 */, RRSIG]);
/** Records whose data names a host that additional A/AAAA records may give the address of (as Unbound's has_additional). */
const NAMES_A_HOST: ReadonlyMap<number, number> = new Map([
  [RRType.NS, 0],
  [RRType.MX, 2],
  [KX, 2],
  [RRType.SRV, 6],
]);
const CLASS_NUMBERS: Readonly<Record<string, number>> = { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 };

/**
 * A name compared the DNS way: its uncompressed wire form with ASCII letters lower-cased, as a
 * latin1 string, so equality is name equality and the names above it are its suffixes at label starts.
 */
type NameKey = string;

function keyOfWire(wire: Uint8Array): NameKey {
  const bytes = Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      const lowered = Buffer.from(bytes);
      for (let j = i; j < lowered.length; j++) if (lowered[j]! >= 0x41 && lowered[j]! <= 0x5a) lowered[j] = lowered[j]! + 0x20;
      return lowered.toString('latin1');
    }
  }
  return bytes.toString('latin1');
}

/** The key of a name given as text; undefined for a name no message can carry (it then matches nothing). */
function keyOfName(name: unknown): NameKey | undefined {
  if (typeof name !== 'string') return undefined;
  try {
    return keyOfWire(encodeName(name));
  } catch {
    return undefined;
  }
}

/** The key of the uncompressed name at `start` of `bytes` (ends at its root byte); undefined when it runs past the end. */
function keyOfWireAt(bytes: Uint8Array, start: number): NameKey | undefined {
  let at = start;
  while (at < bytes.length && bytes[at]! !== 0) {
    if ((bytes[at]! & 0xc0) !== 0) return undefined; // our record wires are uncompressed
    at += bytes[at]! + 1;
  }
  return at < bytes.length ? keyOfWire(bytes.subarray(start, at + 1)) : undefined;
}

/** The names at and above `key`, itself first and the root last. */
function selfAndAncestors(key: NameKey): NameKey[] {
  const names: NameKey[] = [];
  let at = 0;
  while (at < key.length) {
    names.push(key.slice(at));
    const len = key.charCodeAt(at);
    if (len === 0) break;
    at += len + 1;
  }
  return names;
}

/** What the scrub reads of a record: owner, type, class and the name its data points to (if any). */
interface RecordView {
  owner: NameKey | undefined;
  type: number;
  klass: number;
  /** CNAME and DNAME: the target; NS, MX, KX, SRV: the host named. */
  target: NameKey | undefined;
}

function targetFieldOf(record: DnsRecord, type: number): unknown {
  const data = (record as { data?: unknown }).data;
  if (type === RRType.CNAME || type === DNAME || type === RRType.NS) return data;
  if (typeof data !== 'object' || data === null) return undefined;
  if (type === RRType.MX || type === KX) return (data as { exchange?: unknown }).exchange;
  if (type === RRType.SRV) return (data as { target?: unknown }).target;
  return undefined;
}

function viewOf(record: DnsRecord): RecordView {
  const wire = recordWireOf(record);
  if (wire) {
    const { bytes, ownerLength } = wire;
    const type = bytes.readUInt16BE(ownerLength);
    const rdata = ownerLength + 10;
    const skip = type === RRType.CNAME || type === DNAME ? 0 : NAMES_A_HOST.get(type);
    return {
      owner: keyOfWire(bytes.subarray(0, ownerLength)),
      type,
      klass: bytes.readUInt16BE(ownerLength + 2),
      target: skip === undefined || rdata + skip >= bytes.length ? undefined : keyOfWireAt(bytes, rdata + skip),
    };
  }
  const type = recordTypeNumber(record.type);
  const klassName = (record as { class?: string }).class ?? 'IN';
  return { owner: keyOfName(record.name), type, klass: CLASS_NUMBERS[klassName] ?? 0, target: keyOfName(targetFieldOf(record, type)) };
}

/** The name a DNAME at `owner` pointing to `target` makes of `name` (strictly below `owner`); undefined when too long. */
function synthesized(name: NameKey, owner: NameKey, target: NameKey): NameKey | undefined {
  const alias = name.slice(0, name.length - owner.length) + target;
  return alias.length <= MAX_NAME_WIRE ? alias : undefined;
}

/** How the owner chain walk ended: at a name with no further link (its data is the answer), or not. */
type ChainEnd = 'data' | 'loop' | 'too-long';

interface AnswerChain {
  /** One flag per answer record: on the chain (a link, or the asked type at its end). */
  kept: boolean[];
  /** The names of the chain, the question's name first. */
  names: NameKey[];
  end: ChainEnd;
}

/**
 * The owner chain of the question `qname` (a key) of type `qtype` through the answer section:
 * at each name, a DNAME strictly above it (the closest) or else its CNAME is followed, at most
 * MAX_CHAIN_LINKS links and never back to a name already on the chain. Records of the asked type
 * (every type for ANY) are kept only at the end of a chain that ends there; RRSIGs at chain names too.
 */
function walkAnswerChain(qname: NameKey, qtype: number, qclass: number | undefined, views: RecordView[]): AnswerChain {
  const kept = views.map(() => false);
  const names: NameKey[] = [qname];
  const onChain = new Set<NameKey>(names);
  const inClass = (v: RecordView) => qclass === undefined || v.klass === qclass;
  let name = qname;
  let end: ChainEnd = 'data';
  // A question for the CNAME itself is answered by the CNAME at its name, not by what it points to.
  for (let links = 0; qtype !== RRType.CNAME; links++) {
    let next: NameKey | undefined;
    let dname = -1;
    views.forEach((v, i) => {
      if (v.type !== DNAME || !inClass(v) || v.owner === undefined || v.target === undefined) return;
      if (v.owner.length >= name.length || !name.endsWith(v.owner) || !selfAndAncestors(name).includes(v.owner)) return;
      if (dname < 0 || v.owner.length > views[dname]!.owner!.length) dname = i;
    });
    let cname = -1;
    if (dname >= 0) {
      next = synthesized(name, views[dname]!.owner!, views[dname]!.target!);
      // The CNAME the server synthesized from the DNAME is kept only when it says the same.
      cname = next === undefined ? -1 : views.findIndex((v) => v.type === RRType.CNAME && inClass(v) && v.owner === name && v.target === next);
    } else {
      cname = views.findIndex((v) => v.type === RRType.CNAME && inClass(v) && v.owner === name && v.target !== undefined);
      if (cname >= 0) next = views[cname]!.target;
    }
    if (dname < 0 && cname < 0) break; // no link: the chain ends here, with its data
    if (links >= MAX_CHAIN_LINKS) {
      end = 'too-long';
      break;
    }
    if (dname >= 0) kept[dname] = true;
    if (cname >= 0) kept[cname] = true;
    if (next === undefined) {
      end = 'too-long'; // a DNAME making a name longer than 255 bytes (YXDOMAIN): nothing to follow
      break;
    }
    if (onChain.has(next)) {
      end = 'loop';
      break;
    }
    names.push(next);
    onChain.add(next);
    name = next;
  }
  views.forEach((v, i) => {
    if (kept[i] || v.owner === undefined || !inClass(v)) return;
    if (v.type === RRSIG) kept[i] = onChain.has(v.owner);
    else if (end === 'data' && v.owner === name && (qtype === RRType.ANY || v.type === qtype)) kept[i] = true;
  });
  return { kept, names, end };
}

/**
 * The records of `answers` that answer `name` for `type` (RFC 1034 4.3.2): the CNAME/DNAME links
 * from `name` and the records of that type at the end of the chain, in the order given. What the
 * DNSLink readers take TXT records from, whatever stage answered.
 */
export function answersOwnedBy(name: string | Buffer, type: number, answers: readonly DnsRecord[]): DnsRecord[] {
  const qname = typeof name === 'string' ? keyOfName(name) : keyOfWire(name);
  if (qname === undefined) return [];
  const { kept } = walkAnswerChain(qname, type, undefined, answers.map(viewOf));
  return answers.filter((_, i) => kept[i]);
}

/**
 * True for the common answer that needs no scrub: records of the asked type and class owned by
 * the question's name (wire bytes compared, ASCII case aside), nothing in the other sections.
 */
function onlyAnswersAtQuestion(question: ScrubQuestion, sections: { answers: DnsRecord[]; authorities: DnsRecord[]; additionals: DnsRecord[] }): boolean {
  if (sections.authorities.length > 0 || sections.additionals.length > 0 || question.type === RRType.ANY) return false;
  const qname = question.nameWire;
  for (const record of sections.answers) {
    const wire = recordWireOf(record);
    if (!wire || wire.ownerLength !== qname.length) return false;
    const { bytes } = wire;
    if (bytes.readUInt16BE(qname.length) !== question.type || bytes.readUInt16BE(qname.length + 2) !== question.class) return false;
    if (!sameWireName(bytes.subarray(0, qname.length), qname)) return false;
  }
  return true;
}

export interface ScrubbedSections {
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** Records dropped, by section. */
  dropped: { answer: number; authority: number; additional: number };
}

export interface ScrubQuestion {
  /** The question's name in wire form (as asked; case does not matter). */
  nameWire: Buffer;
  type: number;
  class: number;
}

/**
 * A response's sections as dnslinkd keeps them (the Unbound-style scrub, docs/security.md):
 * - answer: the owner chain from the question's name (answersOwnedBy), records of another class dropped;
 * - authority: SOA and NS records owned by a name at or above a name of the chain (the zone of
 *   the answer and its parents); DS, NSEC, NSEC3 and RRSIG records at or below one of those kept
 *   owners; everything else dropped;
 * - additional: A and AAAA records (and their RRSIGs) owned by a host that a kept NS, MX, KX or
 *   SRV record names; everything else dropped.
 */
export function scrubSections(
  question: ScrubQuestion,
  sections: { answers: DnsRecord[]; authorities: DnsRecord[]; additionals: DnsRecord[] },
): ScrubbedSections {
  if (onlyAnswersAtQuestion(question, sections)) return { ...sections, dropped: { answer: 0, authority: 0, additional: 0 } };
  const answerViews = sections.answers.map(viewOf);
  const chain = walkAnswerChain(keyOfWire(question.nameWire), question.type, question.class, answerViews);
  const answers = sections.answers.filter((_, i) => chain.kept[i]);

  const zoneOfAnswer = new Set<NameKey>(chain.names.flatMap(selfAndAncestors));
  const authorityViews = sections.authorities.map(viewOf);
  const zoneCut = (v: RecordView) => (v.type === RRType.SOA || v.type === RRType.NS) && v.owner !== undefined && zoneOfAnswer.has(v.owner);
  const zones = new Set<NameKey>(authorityViews.filter(zoneCut).map((v) => v.owner!));
  const authorityKept = authorityViews.map(
    (v) => zoneCut(v) || (ZONE_PROOF_TYPES.has(v.type) && v.owner !== undefined && selfAndAncestors(v.owner).some((n) => zones.has(n))),
  );
  const authorities = sections.authorities.filter((_, i) => authorityKept[i]);

  const hosts = new Set<NameKey>();
  const nameHosts = (v: RecordView) => {
    if (NAMES_A_HOST.has(v.type) && v.target !== undefined) hosts.add(v.target);
  };
  answerViews.forEach((v, i) => chain.kept[i] && nameHosts(v));
  authorityViews.forEach((v, i) => authorityKept[i] && nameHosts(v));
  const additionalKept = sections.additionals.map(viewOf).map((v) => (v.type === RRType.A || v.type === RRType.AAAA || v.type === RRSIG) && v.owner !== undefined && hosts.has(v.owner));
  const additionals = sections.additionals.filter((_, i) => additionalKept[i]);

  return {
    answers,
    authorities,
    additionals,
    dropped: {
      answer: sections.answers.length - answers.length,
      authority: sections.authorities.length - authorities.length,
      additional: sections.additionals.length - additionals.length,
    },
  };
}
