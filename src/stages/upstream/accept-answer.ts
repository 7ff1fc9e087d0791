// The one test an upstream's message passes before it is used, whatever the transport: it answers
// our query (ID, question repeated, QR set) and parses strictly. Anything else is spoofed, stray or
// broken, and the exchange keeps waiting.
import type { Question } from '../../dns/types.js';
import { decodeResponse, responseMatches, type DecodedResponse } from '../../dns/upstream-codec.js';

/** The response in `buf` when it answers query `id` for `question`, else undefined (spoofed, stray or broken). */
export function acceptAnswer(buf: Buffer, id: number, question: Question): DecodedResponse | undefined {
  if (!responseMatches(buf, id, question)) return undefined;
  try {
    return decodeResponse(buf);
  } catch {
    return undefined;
  }
}
