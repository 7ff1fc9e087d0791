// The messages dnslinkd exchanges with upstream resolvers: encoding an outgoing query (EDNS0, no
// DO) and decoding an answer with dns-packet, the OPT pulled out into rcode bits and the EDE.
import * as dnsPacket from 'dns-packet';
import { DEFAULT_UDP_PAYLOAD, EDNS_OPTION_EDE, Flag } from './constants.js';
import { writeOpt } from './edns.js';
import { encodeName } from './names.js';
import { HEADER_SIZE } from './query-parser.js';
import { recordTypeNumber } from './record-types.js';
import type { DnsRecord, ExtendedError, Question } from './types.js';

export interface DecodedResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  question?: { name: string; type: number; class: number };
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  ede?: ExtendedError;
}

/** Encodes an outgoing query with EDNS0 (our payload size, no DO). */
export function encodeQuery(id: number, question: Question, payload = DEFAULT_UDP_PAYLOAD): Buffer {
  const name = encodeName(question.name);
  const out = Buffer.alloc(HEADER_SIZE + name.length + 4 + 11);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(Flag.RD, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  name.copy(out, HEADER_SIZE);
  let offset = HEADER_SIZE + name.length;
  out.writeUInt16BE(question.type, offset);
  out.writeUInt16BE(question.class, offset + 2);
  offset += 4;
  writeOpt(out, offset, payload, 0, undefined);
  return out;
}

/** Decodes an upstream response with dns-packet; OPT is pulled out of the additional section. */
export function decodeResponse(buf: Buffer): DecodedResponse {
  const packet = dnsPacket.decode(buf);
  const q = packet.questions?.[0];
  const additionals: DnsRecord[] = [];
  let ede: ExtendedError | undefined;
  let extendedRcode = 0;
  for (const rr of packet.additionals ?? []) {
    if (rr.type === 'OPT') {
      extendedRcode = (rr as { extendedRcode?: number }).extendedRcode ?? 0;
      for (const option of (rr as { options?: Array<{ code: number; data?: Buffer }> }).options ?? []) {
        if (option.code === EDNS_OPTION_EDE && option.data && option.data.length >= 2) {
          ede = { code: option.data.readUInt16BE(0), text: option.data.toString('utf8', 2) };
        }
      }
    } else {
      additionals.push(rr);
    }
  }
  const flags = packet.flags ?? 0;
  return {
    id: packet.id ?? 0,
    rcode: ((extendedRcode << 4) | (flags & 0xf)) >>> 0,
    truncated: (flags & Flag.TC) !== 0,
    question: q ? { name: q.name, type: recordTypeNumber(q.type), class: q.class === 'IN' || q.class === undefined ? 1 : 255 } : undefined,
    answers: packet.answers ?? [],
    authorities: packet.authorities ?? [],
    additionals,
    ede,
  };
}
