// Fuzz target 3, the DNSLink TXT parser: TXT records (several character-strings, split anywhere,
// UTF-8 broken or not) holding dnslink= values with whitespace, Unicode, very long values, valid
// and invalid CIDs and /ipns/ names. Joining strings, collecting entries (src/dnslink/entries.ts)
// and picking the gateway value (src/dnslink/gateway.ts) never throw; the entries are what
// @dnslink/js (the dnslink.dev reference) returns, and formatting an entry parses back to it.
import * as fc from 'fast-check';
import dnslink from '@dnslink/js';
import { describe, expect, it } from 'vitest';
import { joinTxtStrings, splitTxtStrings } from '../../src/dns/txt-strings.js';
import { tryParseCid } from '../../src/dnslink/cid.js';
import { collectDnslinkEntries, parseDnslinkEntry, type DnslinkEntries, type TxtRecord } from '../../src/dnslink/entries.js';
import { isGatewayFailure, resolveGatewayValue } from '../../src/dnslink/gateway.js';
import type { TxtLookup } from '../../src/dnslink/resolve.js';
import { frame, unframe } from './support/dns-arbitraries.js';
import { fuzzAsync, replayCorpus } from './support/fuzz-run.js';

const TARGET = 'dnslink-txt';
const DOMAIN = 'example.com';

/** A corpus input: records framed one by one, each a 4-byte TTL then its rdata (character-strings). */
function decodeRecords(input: Buffer): Array<{ ttl: number; strings: Buffer[] }> {
  return unframe(input).map((part) => {
    const padded = part.length >= 4 ? part : Buffer.concat([part, Buffer.alloc(4 - part.length)]);
    const strings: Buffer[] = [];
    for (let at = 4; at < padded.length; at += 1 + padded[at]!) strings.push(padded.subarray(at + 1, at + 1 + padded[at]!));
    return { ttl: padded.readUInt32BE(0), strings };
  });
}

function encodeRecord(ttl: number, strings: Buffer[]): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(ttl);
  return Buffer.concat([head, ...strings.flatMap((s) => [Buffer.from([s.length]), s])]);
}

/**
 * How @dnslink/js joins a record's strings (combineTXT): one streaming UTF-8 decoder over them,
 * except that its decoder also drops a leading byte order mark, which turns `<BOM>dnslink=/ipfs/...`
 * into an entry. We keep the BOM (no trimming, as the spec says and as boxo reads it), so the
 * value is ignored: the corpus case seed-bom-before-dnslink.hex holds that decision.
 */
function referenceJoin(strings: Buffer[]): string {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let text = '';
  for (const s of strings) text += decoder.decode(s, { stream: true });
  return text + decoder.decode();
}

/** Namespaces that are names of Object.prototype: the reference stores links in a plain object and breaks on them. */
function inheritedNamespaces(entries: DnslinkEntries): string[] {
  return Object.keys(entries.links).filter((ns) => ns in Object.prototype);
}

async function referenceEntries(records: TxtRecord[]): Promise<unknown> {
  const lookupTXT = async (name: string): Promise<Array<{ data: string; ttl: number }>> => {
    if (name !== `_dnslink.${DOMAIN}`) throw Object.assign(new Error('NXDOMAIN'), { rcode: 3 });
    return records.map(({ value, ttl }) => ({ data: value, ttl }));
  };
  return dnslink.resolve(DOMAIN, { lookupTXT });
}

/** The boxo rule, said once more: exactly one /ipfs/ value with a CID or /ipns/ value is the answer. */
function usableGatewayValues(entries: DnslinkEntries): string[] {
  const ipfs = (entries.links.ipfs ?? []).filter(({ identifier }) => tryParseCid(identifier.split('/')[0]!) !== undefined);
  return [...ipfs.map(({ identifier }) => `/ipfs/${identifier}`), ...(entries.links.ipns ?? []).map(({ identifier }) => `/ipns/${identifier}`)];
}

/** How far the inputs got (printed: a run where no value is valid or picked tests little). */
const reached = { withLinks: 0, withInvalid: 0, picked: 0, referenceCompared: 0 };

async function checkRecords(input: Buffer): Promise<void> {
  const wire = decodeRecords(input);
  const records: TxtRecord[] = wire.map(({ ttl, strings }) => ({ value: joinTxtStrings(strings), ttl }));
  wire.forEach(({ strings }, i) => {
    expect(records[i]!.value).toBe(referenceJoin(strings));
    expect(joinTxtStrings(splitTxtStrings(records[i]!.value))).toBe(records[i]!.value); // TXT strings round-trip
  });

  const entries = collectDnslinkEntries(records);
  const inherited = inheritedNamespaces(entries);
  if (Object.keys(entries.links).length > 0) reached.withLinks++;
  if (entries.log.length > 0) reached.withInvalid++;
  if (inherited.length === 0) {
    reached.referenceCompared++;
    expect(entries).toEqual(await referenceEntries(records));
  } else {
    for (const ns of inherited) expect(Object.hasOwn(entries.links, ns)).toBe(true);
  }

  // Stable: every entry formatted as a TXT value parses back to itself, and collecting the formatted
  // entries again gives the same links and no log.
  for (const [namespace, links] of Object.entries(entries.links)) {
    for (const { identifier } of links) expect(parseDnslinkEntry(`dnslink=/${namespace}/${identifier}`)).toEqual({ namespace, identifier });
  }
  const again = collectDnslinkEntries(entries.txtEntries.map(({ value, ttl }) => ({ value: `dnslink=${value}`, ttl })));
  expect(again).toEqual({ ...entries, log: [] });

  // The gateway pick over the same records: never rejects, and follows the boxo rule.
  const lookup: TxtLookup = async (name) => ({ rcode: name === `_dnslink.${DOMAIN}` ? 0 : 3, records });
  const usable = usableGatewayValues(entries);
  const picked = await resolveGatewayValue(DOMAIN, lookup, { recursive: false });
  if (usable.length === 1) {
    reached.picked++;
    expect(isGatewayFailure(picked) ? picked.error : picked.value).toBe(usable[0]);
  } else {
    expect(isGatewayFailure(picked) && picked.error.code).toBe(
      usable.length > 1 ? 'MULTIPLE_DNSLINK' : (entries.links.ipfs ?? []).length > 0 ? 'INVALID_CID' : 'NO_DNSLINK',
    );
  }
  const followed = await resolveGatewayValue(DOMAIN, async () => ({ rcode: 0, records }), { maxHops: 4 });
  expect(isGatewayFailure(followed) ? followed.hops.length : followed.hops.length).toBeLessThanOrEqual(4);
}

const CIDS = [
  'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn',
  'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
  'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8',
  '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EcYZ2CQDr4X5oh',
];

const piece: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('dnslink=', 'dnslink=/ipfs/', 'dnslink=/ipns/', '/', 'ipfs', 'ipns', '/ipfs/', '/ipns/', '/path/to', 'DNSLINK=', '=') },
  { weight: 3, arbitrary: fc.constantFrom(...CIDS) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...CIDS), fc.nat(), fc.constantFrom('0', 'l', 'I', 'O', 'Z', '!', 'é')).map(([cid, at, c]) => cid.slice(0, at % cid.length) + c + cid.slice((at % cid.length) + 1)) },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u200b', '\ufeff') },
  { weight: 2, arbitrary: fc.constantFrom('example.com', 'ünïcödé.example', '_dnslink.example.com', 'a..b', 'xn--bcher-kva.example', '__proto__', 'constructor', 'toString') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('z', 'Q', '1', 'k', 'b', '9'), fc.integer({ min: 256, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
);

/** What a well-kept zone holds after `dnslink=/ipfs/` or `/ipns/`: a CID or a domain, maybe a path. */
const cleanIdentifier: fc.Arbitrary<string[]> = fc.tuple(
  fc.constantFrom(...CIDS, 'example.net', 'docs.ipfs.tech', 'example.com', 'foo'),
  fc.option(fc.stringMatching(/^(\/[a-zA-Z0-9._~-]{1,12}){1,3}\/?$/), { nil: '' }),
).map(([head, path]) => [head, path]);

/** A record: a value from pieces, its UTF-8 maybe broken by a stray byte, split into strings anywhere. */
const txtRecord: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.constantFrom('dnslink=/ipfs/', 'dnslink=/ipns/', 'dnslink=/'), fc.oneof({ weight: 3, arbitrary: cleanIdentifier }, { weight: 2, arbitrary: fc.array(piece, { minLength: 1, maxLength: 4 }) }))
          .map(([start, rest]) => [start, ...rest]),
      },
      { weight: 2, arbitrary: fc.array(piece, { minLength: 1, maxLength: 8 }) },
    ),
    fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0xe2, 0x80)) }),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 }),
    fc.oneof(fc.constantFrom(0, 60, 3600, 0xffffffff), fc.nat()),
  )
  .map(([pieces, stray, sizes, ttl]) => {
    let bytes = Buffer.from(pieces.join(''), 'utf8').subarray(0, 60_000);
    if (stray) bytes = Buffer.concat([bytes.subarray(0, stray[0] % (bytes.length + 1)), Buffer.from([stray[1]]), bytes.subarray(stray[0] % (bytes.length + 1))]);
    const strings: Buffer[] = [];
    let at = 0;
    for (const size of sizes) {
      if (at >= bytes.length) break;
      strings.push(bytes.subarray(at, at + size));
      at += size;
    }
    for (; at < bytes.length; at += 255) strings.push(bytes.subarray(at, at + 255));
    return encodeRecord(ttl, strings.length > 0 ? strings : [Buffer.alloc(0)]);
  });

const recordSets = fc.array(txtRecord, { minLength: 1, maxLength: 4 }).map(frame);

describe(`fuzz: ${TARGET}`, () => {
  it('replays the saved corpus', async () => {
    expect(await replayCorpus(TARGET, checkRecords)).toBeGreaterThan(0);
  });

  it('TXT records with dnslink= values: never throws, agrees with @dnslink/js and boxo rules, formats back to itself', async () => {
    const runs = await fuzzAsync(TARGET, recordSets, checkRecords, 1500);
    console.log(
      `${TARGET}: ${runs} record sets, ${reached.referenceCompared} compared with @dnslink/js, ${reached.withLinks} with links, ` +
        `${reached.withInvalid} with invalid entries, ${reached.picked} with one gateway value`,
    );
    expect(reached.picked).toBeGreaterThan(runs / 20);
  });
});
