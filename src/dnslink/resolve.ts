// The dnslink.dev resolution algorithm over an injected TXT lookup: `_dnslink.<domain>` first,
// the bare domain only when that name is NXDOMAIN (logged as FALLBACK), other rcodes as
// `DNS_RCODE_<n>`. Pure: the lookup does all I/O, and its exceptions propagate unchanged.
import { Rcode, rcodeName } from '../dns/constants.js';
import { dnslinkLookupName, normalizeDomain, type InvalidDomainError, type InvalidDomainReason } from './domain.js';
import { collectDnslinkEntries, type DnslinkEntries, type DnslinkLogEntry, type TxtRecord } from './entries.js';

/** rcode: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
export interface TxtLookupResult {
  rcode: number;
  records: TxtRecord[];
}

/** fqdn has no trailing dot, e.g. `_dnslink.example.com`. */
export type TxtLookup = (fqdn: string) => Promise<TxtLookupResult>;

export type DnsRcodeErrorCode = `DNS_RCODE_${number}`;

export interface DnsRcodeError {
  code: DnsRcodeErrorCode;
  rcode: number;
  /** The name whose answer decided the error. */
  domain: string;
}

export type DnslinkResultError = InvalidDomainError | DnsRcodeError;

export type DnslinkSuccess = DnslinkEntries;

export interface DnslinkFailure {
  error: DnslinkResultError;
}

/** The dnslink.dev reference result shape. */
export type DnslinkResult = DnslinkSuccess | DnslinkFailure;

export function isDnslinkFailure(result: DnslinkResult): result is DnslinkFailure {
  return 'error' in result;
}

function dnsRcodeErrorCode(rcode: number): DnsRcodeErrorCode {
  return `DNS_RCODE_${rcode}`;
}

const INVALID_DOMAIN_REASONS: Readonly<Record<InvalidDomainReason, string>> = {
  TOO_LONG: 'name or label too long',
  EMPTY_PART: 'empty label',
  INVALID_CHARACTER: 'invalid character',
  INVALID_IDN: 'invalid internationalized name',
  NOT_A_HOST: 'not a host name',
  INVALID_ENS_NAME: 'not a valid ENS name',
};

/** One sentence for the operator: why the name has no DNSLink result (CLI, API, gateway errors). */
export function describeDnslinkResultError(error: DnslinkResultError): string {
  if (error.code === 'INVALID_DOMAIN') {
    return `invalid domain "${error.domain}": ${INVALID_DOMAIN_REASONS[error.reason]}${error.detail ? `: ${error.detail}` : ''}`;
  }
  return `DNS answered rcode ${error.rcode} (${rcodeName(error.rcode)}) for ${error.domain}`;
}

function rcodeFailure(rcode: number, domain: string): DnslinkFailure {
  return { error: { code: dnsRcodeErrorCode(rcode), rcode, domain } };
}

/** The dnslink.dev algorithm for a name as given: normalized by the reference rules (domain.ts) first. */
export async function resolveDnslink(input: string, lookup: TxtLookup): Promise<DnslinkResult> {
  const normalized = normalizeDomain(input);
  if ('error' in normalized) {
    return { error: normalized.error };
  }
  return resolveDomain(normalized.domain, lookup);
}

/** The dnslink.dev algorithm for a domain already normalized (no trailing dot, no `_dnslink.`). */
export async function resolveDomain(domain: string, lookup: TxtLookup): Promise<DnslinkResult> {
  const prefixedName = dnslinkLookupName(domain);
  const prefixedAnswer = await lookup(prefixedName);
  if (prefixedAnswer.rcode === Rcode.NOERROR) {
    return collectDnslinkEntries(prefixedAnswer.records);
  }
  if (prefixedAnswer.rcode !== Rcode.NXDOMAIN) {
    return rcodeFailure(prefixedAnswer.rcode, prefixedName);
  }

  const bareAnswer = await lookup(domain);
  if (bareAnswer.rcode !== Rcode.NOERROR) {
    return rcodeFailure(bareAnswer.rcode, domain);
  }
  const entries = collectDnslinkEntries(bareAnswer.records);
  const fallback: DnslinkLogEntry = { code: 'FALLBACK' };
  return { ...entries, log: [fallback, ...entries.log] };
}
