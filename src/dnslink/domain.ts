// DNSLink input-name normalization as the dnslink.dev reference does it: strip one trailing `.`
// and one leading `_dnslink.`, then reject names that are too long or have an empty label.
// Everything else (raw UTF-8, `*`, `!`, `?`, `/`) is kept byte for byte for the wire.

export const DNSLINK_PREFIX = '_dnslink.';

/** Longest accepted name: 253 (DNS text form) minus the 9 characters of `_dnslink.`. */
export const MAX_DOMAIN_LENGTH = 253 - DNSLINK_PREFIX.length;
export const MAX_LABEL_LENGTH = 63;

export type InvalidDomainReason = 'TOO_LONG' | 'EMPTY_PART';

export interface InvalidDomainError {
  code: 'INVALID_DOMAIN';
  reason: InvalidDomainReason;
  domain: string;
}

export type NormalizedDomain = { domain: string } | { error: InvalidDomainError };

/**
 * Lengths are JavaScript string lengths (UTF-16 code units), exactly as @dnslink/js measures them,
 * not wire bytes.
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

function findDomainProblem(domain: string): InvalidDomainReason | undefined {
  if (domain.length > MAX_DOMAIN_LENGTH) {
    return 'TOO_LONG';
  }
  for (const label of domain.split('.')) {
    if (label.length === 0) {
      return 'EMPTY_PART';
    }
    if (label.length > MAX_LABEL_LENGTH) {
      return 'TOO_LONG';
    }
  }
  return undefined;
}

/** The name queried first for a normalized domain. */
export function dnslinkLookupName(domain: string): string {
  return `${DNSLINK_PREFIX}${domain}`;
}
