// UDP answers are never larger than the client's advertised size (512 without EDNS), whatever the
// records, the name's length and the Extended DNS Error text: TC=1 whenever something was cut.
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EdeCode, Flag, Rcode } from '../../../src/dns/constants.js';
import { parseQuery, type WireQuery } from '../../../src/dns/query-parser.js';
import type { Resolution } from '../../../src/dns/resolution.js';
import { buildResponse, udpSizeLimit } from '../../../src/dns/response-builder.js';
import { decodeResponse } from '../../../src/dns/upstream-codec.js';

const OUR_PAYLOAD = 1232;

function wireQuery(name: string, edns: number | undefined): WireQuery {
  const packet = dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: 'TXT' }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: 0 } as dnsPacket.Answer] : [],
  });
  const parsed = parseQuery(packet);
  if (!parsed.ok) throw new Error('test query did not parse');
  return parsed.query;
}

describe('UDP response size', () => {
  it('fits the advertised size for any answer, name and EDE text; TC=1 exactly when records were cut', () => {
    const label = fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 63 })).map(([letter, length]) => letter.repeat(length));
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom(undefined, 512, 1000, 1232, 4096),
        fc.constantFrom(Rcode.NOERROR, Rcode.SERVFAIL),
        (labels, records, edeLength, advertised, rcode) => {
          const name = labels.join('.');
          const res: Resolution = {
            rcode,
            answers: Array.from({ length: records }, (_, i) => ({ name, type: 'TXT', class: 'IN', ttl: 60, data: [`dnslink=/ipfs/${'x'.repeat(40)}/${i}`] })),
            authorities: [],
            additionals: [],
            source: 'upstream',
            ...(edeLength ? { ede: { code: EdeCode.NETWORK_ERROR, text: 'u'.repeat(edeLength) } } : {}),
          };
          const query = wireQuery(name, advertised);
          const limit = udpSizeLimit(query, OUR_PAYLOAD);
          expect(limit).toBe(advertised === undefined ? 512 : Math.max(512, Math.min(advertised, OUR_PAYLOAD)));
          const full = buildResponse(query, res, { advertisedPayload: OUR_PAYLOAD });
          const out = buildResponse(query, res, { sizeLimit: limit, advertisedPayload: OUR_PAYLOAD });
          expect(out.length).toBeLessThanOrEqual(limit);
          const cut = full.length > limit;
          expect((out.readUInt16BE(2) & Flag.TC) !== 0).toBe(cut);
          const decoded = decodeResponse(out);
          expect(decoded.rcode).toBe(rcode);
          expect(decoded.answers).toHaveLength(cut ? 0 : records);
          if (res.ede && advertised !== undefined) expect(decoded.ede?.code).toBe(res.ede.code);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
