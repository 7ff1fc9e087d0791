// The names the gateway paths take (`dnslinkd resolve`, /v1/dnslink/{name}, /ipns/ hops): host
// names, not arbitrary bytes. An http(s) or ipns URL is reduced to its host, Unicode is converted to
// punycode (IDNA, node:url domainToASCII), and anything else is INVALID_DOMAIN with the reason.
// The dnslink.dev reference rules (domain.ts, raw bytes kept) stay for `resolve --json`. No I/O.
import { domainToASCII } from 'node:url';
import { DNSLINK_PREFIX, findDomainProblem, type InvalidDomainError, type InvalidDomainReason } from './domain.js';

export type HostnameResult = { domain: string; notes: string[] } | { error: InvalidDomainError };

/** URL schemes whose host is the name to resolve. */
const HOST_SCHEMES = new Set(['http:', 'https:', 'ipns:']);
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** What a label of a host name may hold: letters, digits, hyphen, and underscore (service labels). */
const HOST_CHARACTER = /^[A-Za-z0-9_-]$/;

function invalid(domain: string, reason: InvalidDomainReason, detail?: string): HostnameResult {
  return { error: { code: 'INVALID_DOMAIN', reason, domain, ...(detail ? { detail } : {}) } };
}

function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0)!;
  const printable = code > 0x20 && code !== 0x7f;
  return `${printable ? `"${ch}" ` : ''}(U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

/** The first character no host name holds (dots separate labels; non-ASCII is left to IDNA). */
function badAsciiCharacter(name: string): string | undefined {
  for (const ch of name) {
    if (ch !== '.' && ch.charCodeAt(0) < 0x80 && !HOST_CHARACTER.test(ch)) return ch;
  }
  return undefined;
}

/**
 * A name with non-ASCII characters in punycode (IDNA, node:url domainToASCII, as browsers convert
 * host names), or undefined when IDNA cannot convert it. All-ASCII names are returned as they are.
 * Shared by every place that takes a typed name: the gateway paths here, the DNS JSON API.
 */
export function idnaToAscii(name: string): string | undefined {
  if (!/[^\x00-\x7f]/.test(name)) return name;
  const ascii = domainToASCII(name);
  return ascii === '' ? undefined : ascii;
}

/** Parses what a user or gateway gave as a DNSLink name into the ASCII host name to look up. */
export function parseDnslinkHostname(input: string): HostnameResult {
  const notes: string[] = [];
  let name = input;
  if (URL_LIKE.test(name)) {
    let url: URL;
    try {
      url = new URL(name);
    } catch {
      return invalid(input, 'NOT_A_HOST', 'not a valid URL');
    }
    if (!HOST_SCHEMES.has(url.protocol) || url.hostname === '') {
      return invalid(input, 'NOT_A_HOST', `a ${url.protocol.slice(0, -1)} URL names no host to resolve: give a domain name`);
    }
    name = url.hostname;
    notes.push(`"${input}" is a URL: resolving its host ${name}`);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.startsWith(DNSLINK_PREFIX)) name = name.slice(DNSLINK_PREFIX.length);

  const bad = badAsciiCharacter(name);
  if (bad !== undefined) return invalid(name, 'INVALID_CHARACTER', `${describeCharacter(bad)} is not allowed in a host name`);
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = idnaToAscii(name);
    if (ascii === undefined) return invalid(name, 'INVALID_IDN', 'IDNA cannot convert this name to punycode');
    const after = badAsciiCharacter(ascii);
    if (after !== undefined) return invalid(name, 'INVALID_CHARACTER', `${describeCharacter(after)} is not allowed in a host name (after IDNA: ${ascii})`);
    notes.push(`"${name}" is an internationalized name: looked up as ${ascii}`);
    name = ascii;
  }
  const problem = findDomainProblem(name);
  if (problem !== undefined) return invalid(name, problem);
  return { domain: name, notes };
}
