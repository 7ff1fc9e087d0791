// The OPT pseudo-record we write (RFC 6891): our payload size, the extended rcode bits and, when
// there is one, an Extended DNS Error option (RFC 8914). Used in responses and upstream queries.
import { EDNS_OPTION_EDE, RRType } from './constants.js';
import type { ExtendedError } from './types.js';

/** Bytes of an OPT record carrying `ede` (or nothing). */
export function optSize(ede: ExtendedError | undefined): number {
  return 11 + (ede ? 6 + Buffer.byteLength(ede.text, 'utf8') : 0);
}

/** Writes an OPT record at `offset`; returns the offset past it. */
export function writeOpt(out: Buffer, offset: number, payload: number, rcode: number, ede: ExtendedError | undefined): number {
  out[offset] = 0;
  out.writeUInt16BE(RRType.OPT, offset + 1);
  out.writeUInt16BE(payload, offset + 3);
  out[offset + 5] = (rcode >> 4) & 0xff; // extended rcode, upper 8 bits
  out[offset + 6] = 0; // version
  out.writeUInt16BE(0, offset + 7); // DO=0: we do not return DNSSEC records
  if (!ede) {
    out.writeUInt16BE(0, offset + 9);
    return offset + 11;
  }
  const textLen = out.write(ede.text, offset + 17, 'utf8');
  out.writeUInt16BE(6 + textLen, offset + 9);
  out.writeUInt16BE(EDNS_OPTION_EDE, offset + 11);
  out.writeUInt16BE(2 + textLen, offset + 13);
  out.writeUInt16BE(ede.code, offset + 15);
  return offset + 17 + textLen;
}
