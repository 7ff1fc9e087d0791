// The answer an override gives at the bare name: the name's own TXT strings as the stages below
// hold them, minus their `dnslink=` strings, plus the override's one; one TTL for the set (the
// override's, capped at its remaining life and at theirs). Built per question, never cached.
import { Rcode, RRType, rcodeName } from '../../dns/constants.js';
import { answersOwnedBy } from '../../dns/answer-scrub.js';
import { encodedSectionsOf } from '../../dns/record-sections.js';
import { recordTtl, remainingTtl, type Resolution } from '../../dns/resolution.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import type { DnsRecord } from '../../dns/types.js';
import { edeWithin, largestResponse, MAX_DNS_MESSAGE, MAX_OVERRIDE_EDE_TEXT } from './override-wire.js';

/** True for a TXT record that is a DNSLink record (its strings joined start with `dnslink=`). */
function isDnslinkRecord(record: DnsRecord): boolean {
  return joinTxtStrings((record as { data?: unknown }).data).startsWith('dnslink=');
}

/** `answer` (the override's own) with every TTL set to `ttl`, sharing its encoded sections. */
export function withTtl(answer: Resolution, ttl: number): Resolution {
  const own = answer.answers[0];
  return own === undefined || ttl === recordTtl(own) ? answer : { ...answer, ttlOverride: ttl };
}

/** The override's answer alone, its EDE text saying why the name's other TXT records are not in it. */
function aloneBecause(answer: Resolution, ttl: number, why: string): Resolution {
  const note = ` (other TXT records of the name left out: ${why})`;
  const text = edeWithin({ code: 0, text: answer.ede?.text ?? 'override' }, MAX_OVERRIDE_EDE_TEXT - Buffer.byteLength(note)).text;
  return { ...withTtl(answer, ttl), ede: { code: answer.ede!.code, text: `${text}${note}` } };
}

/**
 * Merges the override's answer at the bare name (`answer`, TTL `ttl` already capped) with what the
 * stages below answered (`below`, or the error they threw): their TXT strings at the name (or at the
 * end of its CNAME chain, answered at the name) are kept, their `dnslink=` strings dropped. When
 * they failed, or the merge would not fit a DNS message, the override's record is answered alone
 * and the EDE text says so. `partial()` is called then (a metric).
 */
export function mergeAtBareName(answer: Resolution, ttl: number, below: Resolution | { error: string }, partial: () => void): Resolution {
  if ('error' in below) {
    partial();
    return aloneBecause(answer, ttl, `the resolvers below failed: ${below.error.slice(0, 200)}`);
  }
  if (below.rcode === Rcode.NXDOMAIN) return withTtl(answer, ttl);
  if (below.rcode !== Rcode.NOERROR) {
    partial();
    return aloneBecause(answer, ttl, `the resolvers below answered ${rcodeName(below.rcode)}`);
  }
  const own = answer.answers[0] as DnsRecord & { data: string };
  const kept = answersOwnedBy(own.name, RRType.TXT, below.answers).filter((rr) => rr.type === 'TXT' && !isDnslinkRecord(rr));
  if (kept.length === 0) return withTtl(answer, ttl);
  // One RRset, one TTL: the override's (capped) within what is left of theirs.
  let setTtl = ttl;
  for (const rr of kept) setTtl = Math.min(setTtl, remainingTtl(recordTtl(rr), below));
  const merged: Resolution = {
    ...answer,
    answers: [own, ...kept].map((rr): DnsRecord => ({ name: own.name, type: 'TXT', class: 'IN', ttl: setTtl, data: (rr as { data: string }).data })),
    encoded: undefined,
    ttlOverride: undefined,
  };
  try {
    if (largestResponse(encodedSectionsOf(merged).body.length) <= MAX_DNS_MESSAGE) return merged;
  } catch {
    // a record below that cannot be encoded again: answered alone, as for a merge too large
  }
  partial();
  return aloneBecause(answer, ttl, 'with them the answer would not fit a DNS message');
}
