// Client addresses as numbers, for the per-packet checks (allow-list, rate limit): the text Node
// gives (`rinfo.address`, `socket.remoteAddress`) parsed into a reusable scratch without allocating,
// IPv4-mapped IPv6 read as IPv4; client networks (CIDR) parsed once from the configuration; and
// addresses grouped into networks (/24, /56) for the per-network accounts and caps.

/** One parsed address; reused from packet to packet (`parseAddressInto` overwrites it). */
export class ClientAddress {
  /** 4, 6, or 0 when the text was no address. */
  family: 0 | 4 | 6 = 0;
  /** The IPv4 address as an unsigned 32-bit number (family 4). */
  v4 = 0;
  /** The IPv6 address as eight 16-bit groups (family 6). */
  readonly v6 = new Uint16Array(8);
}

const DOT = 46;
const COLON = 58;

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Dotted-quad text in [start, end) as an unsigned 32-bit number, or -1. */
function parseV4(text: string, start: number, end: number): number {
  let result = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const code = i < end ? text.charCodeAt(i) : DOT;
    if (code === DOT) {
      if (digits === 0 || part > 255 || parts === 4) return -1;
      result = result * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57 && digits < 3 && !(digits === 1 && part === 0)) {
      // No leading zeros (010 reads as octal elsewhere): Node refuses them too.
      part = part * 10 + code - 48;
      digits++;
    } else {
      return -1;
    }
  }
  return parts === 4 ? result : -1;
}

/** IPv6 text in [0, end) into `groups` (RFC 4291 text forms: `::`, a dotted IPv4 tail). */
function parseV6(text: string, end: number, groups: Uint16Array): boolean {
  groups.fill(0);
  let count = 0;
  let gap = -1;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === COLON && text.charCodeAt(1) === COLON) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    let digits = 0;
    for (let digit = hexDigit(text.charCodeAt(i)); i < end && digit >= 0 && digits < 5; digit = hexDigit(text.charCodeAt(i))) {
      value = value * 16 + digit;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === DOT) {
      // An IPv4 tail (::ffff:192.0.2.1) takes the last two groups.
      const v4 = count <= 6 ? parseV4(text, start, end) : -1;
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return count === 8;
  if (count === 8) return false;
  const moved = 8 - count;
  for (let k = count - 1; k >= gap; k--) groups[k + moved] = groups[k]!;
  for (let k = gap; k < gap + moved; k++) groups[k] = 0;
  return true;
}

/**
 * Parses an address's text into `out` (family 0 when it is none). A zone (`fe80::1%eth0`) is
 * ignored; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
 * IPv4 client) is read as the IPv4 address. Allocates nothing.
 */
export function parseAddressInto(text: string, out: ClientAddress): ClientAddress {
  out.family = 0;
  if (text.indexOf(':') < 0) {
    const v4 = parseV4(text, 0, text.length);
    if (v4 >= 0) {
      out.family = 4;
      out.v4 = v4;
    }
    return out;
  }
  const zone = text.indexOf('%');
  const g = out.v6;
  if (!parseV6(text, zone < 0 ? text.length : zone, g)) return out;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    out.family = 4;
    out.v4 = (g[6]! * 0x10000 + g[7]!) >>> 0;
    return out;
  }
  out.family = 6;
  return out;
}

/** A client network: an address with the prefix length that counts. */
export type ClientNetwork = { family: 4; address: number; prefix: number } | { family: 6; groups: Uint16Array; prefix: number };

/** The IPv4 netmask of a prefix length, as an unsigned 32-bit number. */
function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses `192.0.2.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128 network); host bits
 * past the prefix are ignored. Returns why it is not a network, as a string, when it is not.
 */
export function parseNetwork(text: string): ClientNetwork | string {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddressInto(addressText, new ClientAddress());
  if (address.family === 0) return `"${text}" is not an IPv4 or IPv6 address or network (CIDR)`;
  // An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) counts as the IPv4 network it maps.
  const mapped = address.family === 4 && addressText.includes(':');
  const maxPrefix = address.family === 4 && !mapped ? 32 : 128;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (prefix < 0 || prefix > maxPrefix) return `"${text}": the prefix length must be 0-${maxPrefix}`;
  }
  if (mapped) {
    if (prefix < 96) return `"${text}": an IPv4-mapped network needs a prefix length of 96 or more`;
    prefix -= 96;
  }
  if (address.family === 4) return { family: 4, address: (address.v4 & v4Mask(prefix)) >>> 0, prefix };
  const groups = Uint16Array.from(address.v6);
  for (let k = 0; k < 8; k++) {
    const bits = prefix - k * 16;
    groups[k] = bits >= 16 ? groups[k]! : bits <= 0 ? 0 : groups[k]! & (0xffff << (16 - bits));
  }
  return { family: 6, groups, prefix };
}

/** A set of client networks compiled for the per-packet test: typed arrays, a linear scan, no allocation. */
export class NetworkSet {
  private readonly v4Addresses: Uint32Array;
  private readonly v4Masks: Uint32Array;
  /** Eight groups per network. */
  private readonly v6Groups: Uint16Array;
  private readonly v6Prefixes: Uint8Array;
  /** A /0 network is in the set: it holds every address of that family. */
  readonly coversAllV4: boolean;
  readonly coversAllV6: boolean;

  constructor(networks: readonly ClientNetwork[]) {
    const v4 = networks.filter((n) => n.family === 4);
    const v6 = networks.filter((n) => n.family === 6);
    this.v4Addresses = Uint32Array.from(v4, (n) => n.address);
    this.v4Masks = Uint32Array.from(v4, (n) => v4Mask(n.prefix));
    this.v6Groups = new Uint16Array(v6.length * 8);
    v6.forEach((n, i) => this.v6Groups.set(n.groups, i * 8));
    this.v6Prefixes = Uint8Array.from(v6, (n) => n.prefix);
    this.coversAllV4 = v4.some((n) => n.prefix === 0);
    this.coversAllV6 = v6.some((n) => n.prefix === 0);
  }

  has(address: ClientAddress): boolean {
    if (address.family === 4) {
      const value = address.v4;
      for (let i = 0; i < this.v4Addresses.length; i++) {
        if (((value & this.v4Masks[i]!) >>> 0) === this.v4Addresses[i]) return true;
      }
      return false;
    }
    if (address.family === 6) {
      for (let i = 0; i < this.v6Prefixes.length; i++) if (this.v6Holds(i, address.v6)) return true;
    }
    return false;
  }

  private v6Holds(index: number, groups: Uint16Array): boolean {
    const base = index * 8;
    let bits = this.v6Prefixes[index]!;
    for (let k = 0; k < 8 && bits > 0; k++, bits -= 16) {
      const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
      if (((groups[k]! ^ this.v6Groups[base + k]!) & mask) !== 0) return false;
    }
    return true;
  }
}

/** The key of a text that is no address (a socket reset before Node read its peer): one network of its own. */
const NO_ADDRESS_KEY = 2 ** 40;

/**
 * Client addresses grouped into networks (an IPv4 /24, an IPv6 /56 by default), each network a
 * number: the per-network accounts of the rate limit and the connection caps. IPv4 networks are
 * their prefix bits (under 2^32, a small integer V8 keeps unboxed); IPv6 networks a negative 52-bit
 * hash of the masked groups (a collision of two networks is a 2^-52 chance).
 */
export class NetworkGrouping {
  /** Bits of an IPv4 address past the network prefix. */
  private readonly v4HostBits: number;
  private readonly scratch = new ClientAddress();

  constructor(
    readonly ipv4PrefixLength: number,
    readonly ipv6PrefixLength: number,
  ) {
    this.v4HostBits = 32 - ipv4PrefixLength;
  }

  /** The network of a parsed address. */
  keyOf(client: ClientAddress): number {
    if (client.family === 4) return this.v4HostBits === 32 ? 0 : client.v4 >>> this.v4HostBits;
    if (client.family === 0) return NO_ADDRESS_KEY;
    let high = 0x811c9dc5;
    let low = 0x01000193;
    let bits = this.ipv6PrefixLength;
    for (let k = 0; k < 8 && bits > 0; k++, bits -= 16) {
      const group = bits >= 16 ? client.v6[k]! : client.v6[k]! & (0xffff << (16 - bits));
      high = Math.imul(high ^ group, 0x01000193);
      low = Math.imul(low ^ group ^ (high >>> 15), 0x5bd1e995);
    }
    return -((high >>> 12) * 0x100000000 + (low >>> 0)) - 1;
  }

  /** The network of an address as Node gives it (`socket.remoteAddress`). */
  keyOfText(address: string): number {
    return this.keyOf(parseAddressInto(address, this.scratch));
  }

  /** How it groups, for logs and docs: `/24 (IPv4), /56 (IPv6)`. */
  get description(): string {
    return `/${this.ipv4PrefixLength} (IPv4), /${this.ipv6PrefixLength} (IPv6)`;
  }
}
