// An operator's override of what a name resolves to: the record as stored and shared (name,
// DNSLink value, TTL, reason, expiry, who and when), the rules a value must follow, and the
// answer it gives. No I/O.
import { EdeCode, RRType, Rcode } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { encodedSectionsOf } from '../../dns/record-sections.js';
import type { Resolution } from '../../dns/resolution.js';
import { parseIpfsPath, parseIpnsKey } from '../../dnslink/cid.js';
import { DNSLINK_PREFIX } from '../../dnslink/domain.js';
import { parseDnslinkHostname } from '../../dnslink/hostname.js';
import { describeDnslinkResultError } from '../../dnslink/resolve.js';

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

/**
 * Longest override value, in characters (printable ASCII, so bytes). The answer is one TXT record
 * `dnslink=<value>` in 255-byte strings, at `_dnslink.<name>` (up to 255 bytes) with the reason in an
 * Extended DNS Error: 4096 keeps it far inside the 65535 bytes a DNS message may hold (a longer one
 * cannot be encoded at all) and is longer than any CID with a path in use.
 */
export const MAX_OVERRIDE_VALUE = 4096;

/** When an override stops applying (epoch ms), or undefined: until removed. */
export function expiryOf(override: Pick<Override, 'expiresAt'>): number | undefined {
  return override.expiresAt === undefined ? undefined : Date.parse(override.expiresAt);
}

/** True while the override applies: set, and its expiry (if any) not reached. */
export function inForce(override: Pick<Override, 'expiresAt'>, now: number): boolean {
  const expiresAt = expiryOf(override);
  return expiresAt === undefined || now < expiresAt;
}

/** Checks an override value (namespace, CID or IPNS name, path); the value, or why it is refused. */
export function checkOverrideValue(value: string): { value: string } | { error: string } {
  if (value.length > MAX_OVERRIDE_VALUE) return { error: `value is ${value.length} characters; at most ${MAX_OVERRIDE_VALUE} (its TXT answer must fit in a DNS message)` };
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

/** The override's answer: TXT `dnslink=<value>`, authoritative, EDE 4 (Forged Answer) giving the reason. */
export function overrideAnswer(override: Pick<Override, 'name' | 'value' | 'ttl' | 'reason'>, owner: string): Resolution {
  const res: Resolution = {
    rcode: Rcode.NOERROR,
    answers: [{ name: owner, type: 'TXT', class: 'IN', ttl: override.ttl, data: `dnslink=${override.value}` }],
    authorities: [],
    additionals: [],
    source: 'override',
    authoritative: true,
    ede: { code: EdeCode.FORGED_ANSWER, text: `override: ${override.reason}` },
  };
  encodedSectionsOf(res);
  return res;
}

/** The cache keys an override answers: TXT (class IN) at `_dnslink.<name>` and at `<name>`. */
export function overriddenQuestions(name: string): Array<{ owner: string; key: string }> {
  return [`${DNSLINK_PREFIX}${name}`, name].map((owner) => ({ owner, key: makeQuestion(owner, RRType.TXT).key }));
}
