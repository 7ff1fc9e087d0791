// Which rule of which list blocks a DNSLink question: the lists in force in their order (operator
// rules first, then the sources as configured), the subjects a question and its answer offer (the
// name asked, its ENS form, every /ipfs/ and /ipns/ value of its TXT answer), and the Extended DNS
// Error text that carries the list and the rule to the API (written and read back here only).
import { answersOwnedBy } from '../../dns/answer-scrub.js';
import { RRType } from '../../dns/constants.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import type { DnsRecord } from '../../dns/types.js';
import type { CompiledDenylist, DenylistRuleRef, ListKind } from './list-types.js';

export interface ListInForce {
  list: CompiledDenylist;
  kind: ListKind;
}

/** A block: the deciding rule, the list it is in and what it matched. */
export interface Verdict {
  list: string;
  kind: ListKind;
  /** The rule as written (a double-hash rule as its hash: never the plain name it stands for). */
  rule: string;
  line: number;
  /** What it matched: a name or an /ipfs/ or /ipns/ path. */
  subject: string;
}

/** Every list's deciding rule for one subject, in list order, and which one decides (the first list with a match). */
export interface SubjectExplanation {
  subject: string;
  matches: Array<DenylistRuleRef & { kind: ListKind }>;
  /** The first list with a match decides: its rule blocks, or (a `!` rule) allows the subject past every later list. */
  decided?: DenylistRuleRef & { kind: ListKind };
}

const DNSLINK_PREFIX = '_dnslink.';

/** The DNSLink name a TXT question is about: lower case, no trailing dot, `_dnslink.` taken off. */
export function dnslinkNameOf(qname: string): string {
  let name = qname.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name.startsWith(DNSLINK_PREFIX) ? name.slice(DNSLINK_PREFIX.length) : name;
}

/** The names a DNSLink name stands for: itself and, under a mirror suffix (`site.eth.limo`), its ENS name (`site.eth`). */
export function namesOf(name: string, mirrors: readonly string[]): string[] {
  const names = [name];
  for (const mirror of mirrors) {
    if (name.length > mirror.length + 1 && name.endsWith(`.${mirror}`)) names.push(`${name.slice(0, -mirror.length - 1)}.eth`);
  }
  return names;
}

/** The /ipfs/ and /ipns/ values of the `dnslink=` TXT entries of an answer about `qname`. */
export function valuesOf(qname: string, answers: readonly DnsRecord[]): string[] {
  const values: string[] = [];
  for (const rr of answersOwnedBy(qname, RRType.TXT, answers)) {
    if (rr.type !== 'TXT') continue;
    const text = joinTxtStrings(rr.data);
    if (!text.startsWith('dnslink=')) continue;
    const value = text.slice('dnslink='.length).trim();
    if (value.startsWith('/ipfs/') || value.startsWith('/ipns/')) values.push(value);
  }
  return values;
}

/** A subject is a path (/ipfs/..., /ipns/...) or a name. */
const isPath = (subject: string): boolean => subject.startsWith('/');

/** The lists in force, in order; replaced whole when one changes (the generation counts the changes). */
export class ListsInForce {
  private lists: readonly ListInForce[] = [];
  /** Bumped by every change of the lists in force. */
  generation = 0;

  get all(): readonly ListInForce[] {
    return this.lists;
  }

  replace(lists: readonly ListInForce[]): void {
    this.lists = lists;
    this.generation++;
  }

  /** The first subject the lists block, or undefined. */
  check(subjects: readonly string[]): Verdict | undefined {
    return checkWith(this.lists, subjects);
  }
}

/** What `lists` decide for one subject: the first list with a matching rule decides. */
function decide(lists: readonly ListInForce[], subject: string): (DenylistRuleRef & { kind: ListKind }) | undefined {
  const path = isPath(subject);
  for (const { list, kind } of lists) {
    const ref = path ? list.matchPath(subject) : list.matchName(subject);
    if (ref) return { ...ref, kind };
  }
  return undefined;
}

/** The first of `subjects` that `lists` block, or undefined. */
export function checkWith(lists: readonly ListInForce[], subjects: readonly string[]): Verdict | undefined {
  if (lists.length === 0) return undefined;
  for (const subject of subjects) {
    const ref = decide(lists, subject);
    if (ref && !ref.allow) return { list: ref.list, kind: ref.kind, rule: ref.rule, line: ref.line, subject };
  }
  return undefined;
}

/** Every list's rule for a subject (for `dnslinkd deny check`): which match, and which decides. */
export function explain(lists: readonly ListInForce[], subject: string): SubjectExplanation {
  const path = isPath(subject);
  const matches: SubjectExplanation['matches'] = [];
  for (const { list, kind } of lists) {
    const ref = path ? list.matchPath(subject) : list.matchName(subject);
    if (ref) matches.push({ ...ref, kind });
  }
  return { subject, matches, ...(matches[0] ? { decided: matches[0] } : {}) };
}

/** The Extended DNS Error text of a block: names the list and the rule, never the plain name of a hashed rule. */
export function verdictText(verdict: Pick<Verdict, 'kind' | 'list' | 'rule'>): string {
  return `${verdict.kind} by denylist ${verdict.list} rule ${verdict.rule}`;
}

const VERDICT_TEXT = /^(blocked|censored) by denylist (\S+) rule (.+)$/;

/** The list and rule of a block's EDE text (as verdictText wrote it), or undefined for any other text. */
export function parseVerdictText(text: string): { kind: ListKind; list: string; rule: string } | undefined {
  const m = VERDICT_TEXT.exec(text);
  return m ? { kind: m[1] as ListKind, list: m[2]!, rule: m[3]! } : undefined;
}
