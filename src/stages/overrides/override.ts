// An operator's override of what a name resolves to: the record as stored and shared (name,
// DNSLink value, TTL, reason, expiry, who and when), the rules a value must follow, and the
// answer it gives. No I/O.
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { encodeName, makeQuestion } from '../../dns/names.js';
import { encodedSectionsOf } from '../../dns/record-sections.js';
import type { Resolution } from '../../dns/resolution.js';
import { parseIpfsPath, parseIpnsKey } from '../../dnslink/cid.js';
import { DNSLINK_PREFIX } from '../../dnslink/domain.js';
import { parseDnslinkHostname } from '../../dnslink/hostname.js';
import { describeDnslinkResultError } from '../../dnslink/resolve.js';
import { edeWithin, largestResponse, MAX_DNS_MESSAGE, MAX_OVERRIDE_VALUE, txtRdataBytes, valueTooLong } from './override-wire.js';

export interface Override {
  /** Host name, lower-case ASCII (punycode), without `_dnslink.` or a trailing dot. */
  name: string;
  /** `/ipfs/<cid>[/path]` or `/ipns/<name or key>[/path]`. */
  value: string;
  /** TTL of the answers, seconds. */
  ttl: number;
  /** Why: required, shown in the answers' Extended DNS Error and the audit log. */
  reason: string;
  /** ISO time after which the override no longer applies. */
  expiresAt?: string;
  /** True when made by pinning what the name resolved to (not a value given by hand). */
  pinned?: boolean;
  /** Label of the token that set it. */
  by: string;
  createdAt: string;
  updatedAt: string;
}

export const DEFAULT_OVERRIDE_TTL = 60;

export { MAX_OVERRIDE_VALUE } from './override-wire.js';

/** When an override stops applying (epoch ms), or undefined: until removed. */
export function expiryOf(override: Pick<Override, 'expiresAt'>): number | undefined {
  return override.expiresAt === undefined ? undefined : Date.parse(override.expiresAt);
}

/** True while the override applies: set, and its expiry (if any) not reached. */
export function inForce(override: Pick<Override, 'expiresAt'>, now: number): boolean {
  const expiresAt = expiryOf(override);
  return expiresAt === undefined || now < expiresAt;
}

/**
 * Checks an override value (its length on the wire, namespace, CID or IPNS name, path); the value,
 * or why it is refused (`code` VALUE_TOO_LONG for one past the wire's limit, see override-wire.ts).
 */
export function checkOverrideValue(value: string): { value: string } | { error: string; code?: 'VALUE_TOO_LONG' } {
  const tooLong = valueTooLong(value);
  if (tooLong !== undefined) return { error: tooLong, code: 'VALUE_TOO_LONG' };
  const namespace = /^\/(ipfs|ipns)\//.exec(value)?.[1];
  if (!namespace) return { error: `value must start with /ipfs/ or /ipns/ (got "${value.slice(0, 64)}")` };
  const bad = /[^\x21-\x7e]/.exec(value);
  if (bad) return { error: `value holds ${JSON.stringify(bad[0])} (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}): only printable ASCII without spaces is allowed` };
  const rest = value.slice(namespace.length + 2);
  const slash = rest.indexOf('/');
  const head = slash === -1 ? rest : rest.slice(0, slash);
  if (head === '') return { error: `value has no ${namespace === 'ipfs' ? 'CID' : 'IPNS name'} after /${namespace}/` };
  if (namespace === 'ipfs') {
    try {
      parseIpfsPath(value);
    } catch (err) {
      return { error: `value: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { value };
  }
  if (parseIpnsKey(head)) return { value };
  const host = parseDnslinkHostname(head);
  if ('error' in host) return { error: `value: /ipns/ names neither a key nor a valid domain: ${describeDnslinkResultError(host.error)}` };
  return { value };
}

/** The override's answer: TXT `dnslink=<value>`, authoritative, EDE 4 (Forged Answer) giving the reason (cut to its bound). Throws when it cannot be encoded. */
export function overrideAnswer(override: Pick<Override, 'name' | 'value' | 'ttl' | 'reason'>, owner: string): Resolution {
  const res: Resolution = {
    rcode: Rcode.NOERROR,
    answers: [{ name: owner, type: 'TXT', class: 'IN', ttl: override.ttl, data: `dnslink=${override.value}` }],
    authorities: [],
    additionals: [],
    source: 'override',
    authoritative: true,
    ede: edeWithin({ code: EdeCode.FORGED_ANSWER, text: `override: ${override.reason}` }),
  };
  const size = largestResponse(encodedSectionsOf(res).body.length);
  if (size > MAX_DNS_MESSAGE) throw new Error(`its answer at ${owner} would take ${size} bytes, past the ${MAX_DNS_MESSAGE} of a DNS message`);
  return res;
}

/** The override's answers at both names, or why one cannot be built (an encoder threw, or it is too large). */
export function buildOverrideAnswers(override: Pick<Override, 'name' | 'value' | 'ttl' | 'reason'>): { answers: Array<{ owner: string; key: string; answer: Resolution }> } | { error: string } {
  try {
    return { answers: overriddenQuestions(override.name).map(({ owner, key }) => ({ owner, key, answer: overrideAnswer(override, owner) })) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Why the override's answers could not be built, found without building them (cheap enough for a
 * start with 100,000): what the encoders refuse (a name or label too long, a TTL outside 32 bits,
 * fields that are not strings) and a response past 65,535 bytes; undefined when they can be.
 */
export function overrideWireProblem(override: Pick<Override, 'name' | 'value' | 'ttl' | 'reason'>): string | undefined {
  if (typeof override.name !== 'string' || typeof override.value !== 'string' || typeof override.reason !== 'string') return 'name, value or reason is not a string';
  if (!Number.isInteger(override.ttl) || override.ttl < 0 || override.ttl > 0xffff_ffff) return `ttl ${String(override.ttl)} is not a whole number of seconds within 32 bits`;
  const rdata = txtRdataBytes(Buffer.byteLength(`dnslink=${override.value}`, 'utf8'));
  for (const { owner } of overriddenQuestions(override.name)) {
    let ownerBytes: number;
    try {
      ownerBytes = encodeName(owner).length;
    } catch (err) {
      return `${owner} cannot be a DNS name: ${err instanceof Error ? err.message : String(err)}`;
    }
    const size = largestResponse(ownerBytes + 10 + rdata);
    if (rdata > 0xffff || size > MAX_DNS_MESSAGE) return `its answer at ${owner} would take ${size} bytes, past the ${MAX_DNS_MESSAGE} of a DNS message (value ${override.value.length} characters; at most ${MAX_OVERRIDE_VALUE})`;
  }
  return undefined;
}

/** The cache keys an override answers: TXT (class IN) at `_dnslink.<name>` and at `<name>`. */
export function overriddenQuestions(name: string): Array<{ owner: string; key: string }> {
  return [`${DNSLINK_PREFIX}${name}`, name].map((owner) => ({ owner, key: makeQuestion(owner, RRType.TXT).key }));
}
