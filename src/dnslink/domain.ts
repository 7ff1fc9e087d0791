// DNSLink input-name normalization as the dnslink.dev reference does it: strip one trailing `.`
// and one leading `_dnslink.`, then reject names that are too long or have an empty label.
// Everything else (raw UTF-8, `*`, `!`, `?`, `/`) is kept byte for byte for the wire; a name whose
// UTF-8 form cannot be sent at all (label over 63 bytes, name over 255) is TOO_LONG as well.

export const DNSLINK_PREFIX = '_dnslink.';

/** Longest accepted name: 253 (DNS text form) minus the 9 characters of `_dnslink.`. */
export const MAX_DOMAIN_LENGTH = 253 - DNSLINK_PREFIX.length;
const MAX_LABEL_LENGTH = 63;
/** Largest name on the wire (RFC 1035 2.3.4), length bytes and root included. */
const MAX_WIRE_NAME_BYTES = 255;
const utf8 = new TextEncoder();

/**
 * TOO_LONG and EMPTY_PART are the dnslink.dev reference's; the hostname rules (hostname.ts) add
 * INVALID_CHARACTER (a character no host name holds), INVALID_IDN (a Unicode name IDNA cannot
 * convert) and NOT_A_HOST (a URL that names no host); INVALID_ENS_NAME is a name the ENS stage would
 * answer that ENSIP-15 refuses.
 */
export type InvalidDomainReason = 'TOO_LONG' | 'EMPTY_PART' | 'INVALID_CHARACTER' | 'INVALID_IDN' | 'NOT_A_HOST' | 'INVALID_ENS_NAME';

export interface InvalidDomainError {
  code: 'INVALID_DOMAIN';
  reason: InvalidDomainReason;
  domain: string;
  /** What exactly is wrong, when the reason alone does not say (hostname rules only). */
  detail?: string;
}

export type NormalizedDomain = { domain: string } | { error: InvalidDomainError };

/**
 * Lengths are first checked as JavaScript string lengths (UTF-16 code units), exactly as
 * @dnslink/js measures them; then as UTF-8 bytes, which only rejects names no DNS message can
 * carry (e.g. a label of 40 `é` is 40 characters but 80 bytes).
 */
export function normalizeDomain(input: string): NormalizedDomain {
  let domain = input;
  if (domain.endsWith('.')) {
    domain = domain.slice(0, -1);
  }
  if (domain.startsWith(DNSLINK_PREFIX)) {
    domain = domain.slice(DNSLINK_PREFIX.length);
  }
  const reason = findDomainProblem(domain);
  if (reason !== undefined) {
    return { error: { code: 'INVALID_DOMAIN', reason, domain } };
  }
  return { domain };
}

export function findDomainProblem(domain: string): InvalidDomainReason | undefined {
  if (domain.length > MAX_DOMAIN_LENGTH) {
    return 'TOO_LONG';
  }
  // `_dnslink.<domain>` on the wire: the _dnslink label (1 + 8 bytes) and the root byte.
  let wireBytes = 1 + DNSLINK_PREFIX.length;
  for (const label of domain.split('.')) {
    if (label.length === 0) {
      return 'EMPTY_PART';
    }
    const bytes = utf8.encode(label).length;
    if (label.length > MAX_LABEL_LENGTH || bytes > MAX_LABEL_LENGTH) {
      return 'TOO_LONG';
    }
    wireBytes += 1 + bytes;
  }
  return wireBytes > MAX_WIRE_NAME_BYTES ? 'TOO_LONG' : undefined;
}

/** The name queried first for a normalized domain. */
export function dnslinkLookupName(domain: string): string {
  return `${DNSLINK_PREFIX}${domain}`;
}
