// DNS numbers used across the code base: record types, classes, rcodes, header flag bits and
// Extended DNS Error codes (RFC 8914). Plain constants so hot paths compare integers, not strings.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  11: 'DSOTYPENI',
  16: 'BADVERS',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Header flag bits (second 16-bit word of the header). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Extended DNS Error info codes (RFC 8914 section 4). */
export const EdeCode = {
  OTHER: 0,
  STALE_ANSWER: 3,
  FORGED_ANSWER: 4,
  BLOCKED: 15,
  CENSORED: 16,
  PROHIBITED: 18,
  NOT_SUPPORTED: 21,
  NO_REACHABLE_AUTHORITY: 22,
  NETWORK_ERROR: 23,
} as const;

/** Bytes of a DNS message header (RFC 1035 4.1.1). */
export const HEADER_SIZE = 12;

export const EDNS_OPTION_EDE = 15;
/** Payload size we advertise and honour by default (DNS Flag Day 2020). */
export const DEFAULT_UDP_PAYLOAD = 1232;
export const MIN_UDP_PAYLOAD = 512;
