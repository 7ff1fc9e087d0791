// Pre-encoding of a resolution's record sections: encoded once (when cached or first served),
// with the offset of every TTL recorded so a response can patch TTLs in place instead of encoding.
import { packetCodecs } from './dns-packet-internals.js';
import { encodeName } from './names.js';
import { recordTtl, type Resolution } from './resolution.js';
import { splitTxtStrings } from './txt-strings.js';
import type { DnsRecord, EncodedSections } from './types.js';

function normalizeRecord(record: DnsRecord): DnsRecord {
  if (record.type === 'TXT') {
    return { ...record, data: splitTxtStrings(record.data as string | Buffer | Array<string | Buffer>) };
  }
  return record;
}

/** Encodes answer, authority and additional records once, recording each TTL's offset. */
export function encodeSections(answers: DnsRecord[], authorities: DnsRecord[], additionals: DnsRecord[]): EncodedSections {
  const all = [...answers, ...authorities, ...additionals].map(normalizeRecord);
  let size = 0;
  for (const record of all) size += packetCodecs.answer.encodingLength(record);
  const body = Buffer.alloc(size);
  const ttlOffsets = new Uint32Array(all.length);
  const ttls = new Uint32Array(all.length);
  let offset = 0;
  all.forEach((record, i) => {
    encodeName(record.name); // validates labels: dns-packet would silently corrupt a long one
    packetCodecs.answer.encode(record, body, offset);
    ttlOffsets[i] = offset + packetCodecs.name.encodingLength(record.name) + 4;
    ttls[i] = recordTtl(record);
    offset += packetCodecs.answer.encode.bytes;
  });
  return {
    body,
    answerCount: answers.length,
    authorityCount: authorities.length,
    additionalCount: additionals.length,
    ttlOffsets,
    ttls,
  };
}

/** The encoded sections of `res`, encoding them on first use. */
export function encodedSectionsOf(res: Resolution): EncodedSections {
  if (!res.encoded) res.encoded = encodeSections(res.answers, res.authorities, res.additionals);
  return res.encoded;
}
