// What an override's answer needs from the wire: the longest value whose TXT answer fits one DNS
// message (derived below, byte by byte), the bound on its EDE text, and the check that an override's
// answers can be built at all (defence in depth for records that never met the admin API). No I/O.
import { HEADER_SIZE } from '../../dns/constants.js';
import type { ExtendedError } from '../../dns/types.js';

/** The largest DNS message: over TCP its length is a 16-bit prefix (RFC 1035 4.2.2). */
export const MAX_DNS_MESSAGE = 65_535;
/** A name on the wire (RFC 1035 3.1): 253 characters written out, 255 bytes with lengths and root. */
const MAX_WIRE_NAME = 255;
/** A character-string holds at most 255 bytes after its length byte (RFC 1035 3.3). */
const MAX_CHARACTER_STRING = 255;
const DNSLINK_PREFIX_BYTES = 'dnslink='.length;
/** The longest reason (src/control/override-rules.ts MAX_REASON), 500 UTF-16 units: at most 3 UTF-8 bytes each. */
const MAX_REASON_BYTES = 500 * 3;
/** An override's EDE text, `override: <reason>`, cut to this many UTF-8 bytes. */
export const MAX_OVERRIDE_EDE_TEXT = 'override: '.length + MAX_REASON_BYTES;

/** Bytes of a response around the override's TXT RDATA, each at its largest. */
const FRAME = {
  header: HEADER_SIZE,
  // The client's question, echoed: the longest name, type and class.
  question: MAX_WIRE_NAME + 4,
  // The answer record's owner (written out, not compressed), type, class, TTL, RDLENGTH.
  answerRecord: MAX_WIRE_NAME + 2 + 2 + 4 + 2,
  // The OPT record (root owner, type, payload, extended rcode and flags, RDLENGTH) and its one
  // EDE option (code, length, info code, the text at its bound).
  opt: 1 + 2 + 2 + 4 + 2 + (2 + 2 + 2 + MAX_OVERRIDE_EDE_TEXT),
} as const;
const FRAME_BYTES = FRAME.header + FRAME.question + FRAME.answerRecord + FRAME.opt;

/** TXT RDATA bytes for `textBytes` bytes of text: split into 255-byte character-strings, one length byte each. */
export function txtRdataBytes(textBytes: number): number {
  return textBytes + Math.max(1, Math.ceil(textBytes / MAX_CHARACTER_STRING));
}

/**
 * The longest value the wire allows (63,216 characters): the RDATA left once the frame is counted
 * (65,535 - 2,063 = 63,472 bytes) holds 63,224 bytes of text in 248 strings, `dnslink=` included.
 */
export const WIRE_MAX_OVERRIDE_VALUE = (() => {
  const rdata = MAX_DNS_MESSAGE - FRAME_BYTES;
  let text = Math.floor((rdata * MAX_CHARACTER_STRING) / (MAX_CHARACTER_STRING + 1));
  while (txtRdataBytes(text + 1) <= rdata) text++;
  while (txtRdataBytes(text) > rdata) text--;
  return text - DNSLINK_PREFIX_BYTES;
})();

/**
 * The longest override value, in characters (printable ASCII: bytes): the wire's 63,216 rounded
 * down, the 216 bytes left over kept for EDNS options dnslinkd may add (a cookie is 44 bytes).
 */
export const MAX_OVERRIDE_VALUE = 63_000;

/** Why a value is too long for its answer, naming the limit; undefined when it fits. */
export function valueTooLong(value: string): string | undefined {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= MAX_OVERRIDE_VALUE) return undefined;
  return `value is ${bytes} bytes; at most ${MAX_OVERRIDE_VALUE} (VALUE_TOO_LONG: its TXT answer, with the longest name and reason, must fit a 65,535-byte DNS message)`;
}

/** `ede` with its text cut to `maxBytes` UTF-8 bytes on a character boundary (`...` marks the cut). */
export function edeWithin(ede: ExtendedError, maxBytes = MAX_OVERRIDE_EDE_TEXT): ExtendedError {
  const bytes = Buffer.from(ede.text, 'utf8');
  if (bytes.length <= maxBytes) return ede;
  let end = Math.max(0, maxBytes - 3);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { code: ede.code, text: `${bytes.toString('utf8', 0, end)}...` };
}

/** The largest response an answer whose sections take `bodyBytes` can make (longest question, EDE at its bound). */
export function largestResponse(bodyBytes: number): number {
  return FRAME.header + FRAME.question + bodyBytes + FRAME.opt;
}
