// What an override's text may say beyond its syntax: an `/ipns/` value names a key (a libp2p-key
// CID or a peer ID, what IPNS accepts) or another DNS name, never the override's own name (a loop),
// and a reason is printable text (it goes into answers' Extended DNS Error and the audit log). No I/O.
import { parseIpnsKey } from '../dnslink/cid.js';
import { parseDnslinkHostname } from '../dnslink/hostname.js';

/** Multicodec of an IPNS key CID: libp2p-key. */
const LIBP2P_KEY = 0x72;

/** Characters a reason may not hold: controls, format characters (bidi marks and overrides, zero-width), surrogates, private use, line and paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why a reason is not printable text, or undefined. */
export function reasonTextProblem(reason: string): string | undefined {
  const bad = UNPRINTABLE.exec(reason);
  if (!bad) return undefined;
  const at = [...reason.slice(0, bad.index)].length;
  return `the reason holds ${codePoint(bad[0])} at character ${at + 1}, a control or formatting character (such as a newline or a bidi mark): give printable text only`;
}

/**
 * Why an override of `name` (lower-case, without `_dnslink.`) with `value` (already a valid DNSLink
 * value) cannot be served, or undefined. Only `/ipns/` values are checked here.
 */
export function ipnsTargetProblem(name: string, value: string): string | undefined {
  if (!value.startsWith('/ipns/')) return undefined;
  const rest = value.slice('/ipns/'.length);
  const head = rest.split('/', 1)[0]!;
  const key = parseIpnsKey(head);
  if (key) {
    // CIDv0 text (Qm...) is a bare sha2-256 multihash: the peer ID of an RSA key, which IPNS takes.
    if (key.cid.version === 0 || key.cid.code === LIBP2P_KEY) return undefined;
    return `/ipns/${head.slice(0, 64)} is a CID of multicodec 0x${key.cid.code.toString(16)}, not an IPNS key (libp2p-key, 0x72: k51..., 12D3KooW...): content goes under /ipfs/`;
  }
  const host = parseDnslinkHostname(head);
  if ('error' in host) return undefined; // the value's own check names it
  const target = host.domain.toLowerCase();
  if (target === name) return `/ipns/${head} points at ${name} itself: the override would resolve to itself (a loop); give a key or another name`;
  if (!target.includes('.')) return `/ipns/${head} is a name of one label: a DNSLink name is a domain name such as example.org`;
  return undefined;
}
