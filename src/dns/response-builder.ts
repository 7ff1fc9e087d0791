// The hot path out: assembles a response from a query and a resolution without encoding records
// (the client's ID and question bytes, pre-encoded sections, TTLs patched to what is left, an OPT
// when the client sent one, TC past the UDP size, an EDE text cut to fit it), and the bare error
// responses.
import { DEFAULT_UDP_PAYLOAD, Flag, HEADER_SIZE, MIN_UDP_PAYLOAD } from './constants.js';
import { optSize, writeOpt } from './edns.js';
import type { WireQuery } from './query-parser.js';
import { encodedSectionsOf, recordEndAfterTtl, ttlOffsetOf } from './record-sections.js';
import { remainingTtl, type Resolution } from './resolution.js';
import type { ExtendedError } from './types.js';

export interface ResponseOptions {
  /** Largest message the client accepts (UDP), or undefined for stream transports. */
  sizeLimit?: number;
  /** Payload size we advertise in our OPT. */
  advertisedPayload?: number;
  /** Send TC=1 and no records whatever the size (a rate-limit slip: the client retries over TCP). */
  truncate?: boolean;
}

/** The response's flags word: QR and RA set, opcode, RD and CD echoed from the query, the rcode's low bits. */
function responseFlags(queryFlags: number, rcode: number): number {
  return Flag.QR | (queryFlags & (0x7800 | Flag.RD | Flag.CD)) | Flag.RA | (rcode & 0xf);
}

/** The UDP size limit for a query: 512 without EDNS, else the client's size within our own. */
export function udpSizeLimit(query: WireQuery, ourPayload: number): number {
  if (!query.edns) return MIN_UDP_PAYLOAD;
  return Math.max(MIN_UDP_PAYLOAD, Math.min(query.edns.udpSize, ourPayload));
}

/** `ede` with its text cut to at most `maxBytes` UTF-8 bytes, on a character boundary. */
function withTextWithin(ede: ExtendedError, maxBytes: number): ExtendedError {
  const bytes = Buffer.from(ede.text, 'utf8');
  let end = Math.max(0, maxBytes);
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return { code: ede.code, text: bytes.toString('utf8', 0, end) };
}

/**
 * Builds the response to `query` from a resolution: header patched from the query, the client's
 * own question bytes, the pre-encoded sections with TTLs aged, and an OPT when the client sent one.
 */
export function buildResponse(query: WireQuery, res: Resolution, options: ResponseOptions = {}): Buffer {
  const sections = encodedSectionsOf(res);
  const questionLen = query.questionEnd - HEADER_SIZE;
  const rcode = res.rcode;
  let ede = query.edns ? res.ede : undefined;
  let opt = query.edns ? optSize(ede) : 0;
  // Cached sections sit in a shared slab: copied from there, no view made per answer.
  const bytes = sections.slab ?? sections.body;
  const bodyStart = sections.bodyStart ?? 0;
  const bodyLength = sections.bodyLength ?? bytes.length;
  let total = HEADER_SIZE + questionLen + bodyLength + opt;
  const truncated = options.truncate === true || (options.sizeLimit !== undefined && total > options.sizeLimit);
  if (truncated) {
    total = HEADER_SIZE + questionLen + opt;
    if (ede && options.sizeLimit !== undefined && total > options.sizeLimit) {
      // An EDE text (an upstream's, up to 64 KB) may not fit even with no records: cut the text
      // (the code stays; the TCP retry gets the whole text).
      ede = withTextWithin(ede, Buffer.byteLength(ede.text, 'utf8') - (total - options.sizeLimit));
      opt = optSize(ede);
      total = HEADER_SIZE + questionLen + opt;
    }
  }

  const out = Buffer.allocUnsafe(total);
  out.writeUInt16BE(query.id, 0);
  let flags = responseFlags(query.flags, rcode);
  if (res.authoritative) flags |= Flag.AA;
  if (truncated) flags |= Flag.TC;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  query.packet.copy(out, HEADER_SIZE, HEADER_SIZE, query.questionEnd);
  let offset = query.questionEnd;
  if (truncated) {
    out.writeUInt32BE(0, 6);
    out.writeUInt16BE(opt ? 1 : 0, 10);
  } else {
    out.writeUInt16BE(sections.answerCount, 6);
    out.writeUInt16BE(sections.authorityCount, 8);
    out.writeUInt16BE(sections.additionalCount + (opt ? 1 : 0), 10);
    bytes.copy(out, offset, bodyStart, bodyStart + bodyLength);
    if ((res.ttlAge ?? 0) !== 0 || res.ttlOverride !== undefined) {
      // The TTLs are found by walking the copied records (no offset table kept per answer).
      const count = sections.answerCount + sections.authorityCount + sections.additionalCount;
      for (let i = 0, at = offset; i < count; i++) {
        const ttlAt = ttlOffsetOf(out, at);
        out.writeUInt32BE(remainingTtl(out.readUInt32BE(ttlAt), res), ttlAt);
        at = recordEndAfterTtl(out, ttlAt);
      }
    }
    offset += bodyLength;
  }
  if (opt) writeOpt(out, offset, options.advertisedPayload ?? DEFAULT_UDP_PAYLOAD, rcode, ede);
  return out;
}

/** A bare error response (FORMERR, NOTIMP, BADVERS...) echoing the question when it is readable. */
export function buildErrorResponse(
  id: number,
  queryFlags: number,
  rcode: number,
  question?: { packet: Buffer; end: number },
  edns?: { payload: number; ede?: ExtendedError },
): Buffer {
  const questionLen = question ? question.end - HEADER_SIZE : 0;
  const opt = edns ? optSize(edns.ede) : 0;
  const out = Buffer.alloc(HEADER_SIZE + questionLen + opt);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(responseFlags(queryFlags, rcode), 2);
  out.writeUInt16BE(question ? 1 : 0, 4);
  out.writeUInt16BE(edns ? 1 : 0, 10);
  if (question) question.packet.copy(out, HEADER_SIZE, HEADER_SIZE, question.end);
  if (edns) writeOpt(out, HEADER_SIZE + questionLen, edns.payload, rcode, edns.ede);
  return out;
}
