// fast-check arbitraries for DNS messages built byte by byte (so every label byte, count and
// pointer can be what a hostile client or upstream sends): names, valid queries, hostile queries,
// and upstream responses for a question, plus the small wire helpers the targets share.
import * as fc from 'fast-check';

export const HEADER = 12;
const QR = 0x8000;

/** A label: letters and digits mostly (with upper case, for the case rules), sometimes any byte. */
const label: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/).map((s) => Buffer.from(s, 'latin1')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 63 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constantFrom('ünïcödé', '*', 'a.b', '_dnslink', 'x'.repeat(63)).map((s) => Buffer.from(s, 'utf8')) },
);

/** Labels in wire form, the root byte last; at most 255 bytes (labels past that are left out). */
export const nameWire: fc.Arbitrary<Buffer> = fc.array(label, { maxLength: 8 }).map((labels) => {
  const parts: Buffer[] = [];
  let size = 1;
  for (const l of labels) {
    const bytes = l.subarray(0, 63);
    if (size + bytes.length + 1 > 255) break;
    parts.push(Buffer.from([bytes.length]), bytes);
    size += bytes.length + 1;
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
});

const rrType = fc.oneof(fc.constantFrom(1, 2, 5, 6, 15, 16, 28, 33, 255, 0, 65535, 41), fc.integer({ min: 0, max: 0xffff }));
const rrClass = fc.oneof(fc.constantFrom(1, 1, 1, 3, 4, 254, 255), fc.integer({ min: 0, max: 0xffff }));

export interface QuestionSpec {
  name: Buffer;
  type: number;
  klass: number;
}

export const question: fc.Arbitrary<QuestionSpec> = fc.record({ name: nameWire, type: rrType, klass: rrClass });

export interface EdnsSpec {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  options: Buffer;
}

const edns: fc.Arbitrary<EdnsSpec> = fc.record({
  udpSize: fc.oneof(fc.constantFrom(0, 512, 1232, 4096, 65535), fc.integer({ min: 0, max: 0xffff })),
  version: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  dnssecOk: fc.boolean(),
  options: fc.oneof(
    fc.constant(Buffer.alloc(0)),
    // Local-use option codes: dns-packet decodes the known ones (e.g. 11, keepalive) by their own layout.
    fc.array(fc.tuple(fc.integer({ min: 65001, max: 65534 }), fc.uint8Array({ maxLength: 20 })), { maxLength: 3 }).map((options) =>
      Buffer.concat(options.map(([code, data]) => Buffer.concat([Buffer.from([code >> 8, code & 0xff, 0, data.length]), Buffer.from(data)]))),
    ),
  ),
});

export interface QuerySpec {
  id: number;
  /** Flags word, QR clear. */
  flags: number;
  question: QuestionSpec;
  edns: EdnsSpec | null;
}

export const querySpec: fc.Arbitrary<QuerySpec> = fc.record({
  id: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.oneof(fc.constant(0x0100), fc.integer({ min: 0, max: 0xffff }).map((f) => f & ~QR)),
  question,
  edns: fc.option(edns, { nil: null }),
});

function header(id: number, flags: number, counts: [number, number, number, number]): Buffer {
  const out = Buffer.alloc(HEADER);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(flags, 2);
  counts.forEach((count, i) => out.writeUInt16BE(count, 4 + 2 * i));
  return out;
}

function questionBytes(q: QuestionSpec): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(q.type, 0);
  tail.writeUInt16BE(q.klass, 2);
  return Buffer.concat([q.name, tail]);
}

/** One resource record: owner (wire, maybe a pointer), type, class, TTL, rdata. */
export function record(owner: Buffer, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

function optRecord(e: EdnsSpec, extendedRcode = 0): Buffer {
  return record(Buffer.from([0]), 41, e.udpSize, ((extendedRcode << 24) | (e.version << 16) | (e.dnssecOk ? 0x8000 : 0)) >>> 0, e.options);
}

export function encodeQuerySpec(q: QuerySpec): Buffer {
  const additionals = q.edns ? [optRecord(q.edns)] : [];
  return Buffer.concat([header(q.id, q.flags, [1, 0, 0, additionals.length]), questionBytes(q.question), ...additionals]);
}

/** A query broken on purpose in one of the ways hostile clients send. */
export const hostileQuery: fc.Arbitrary<Buffer> = fc
  .tuple(
    querySpec,
    fc.constantFrom('pointer', 'longLabel', 'longName', 'dupOpt', 'optOwner', 'countsLie', 'qr', 'optPastEnd', 'pointerInRecord'),
    fc.integer({ min: 0, max: 0xffff }),
  )
  .map(([q, how, n]) => {
    const valid = encodeQuerySpec(q);
    const opt = optRecord(q.edns ?? { udpSize: 1232, version: 0, dnssecOk: false, options: Buffer.alloc(0) });
    const tail = questionBytes({ ...q.question, name: Buffer.alloc(0) });
    switch (how) {
      case 'pointer': // self, forward, backward or looping pointers where the question name is
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 0]), Buffer.from([0xc0 | ((n >> 8) & 0x3f), n & 0xff]), tail]);
      case 'longLabel':
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 0]), Buffer.from([64 + (n % 192)]), Buffer.alloc(64 + (n % 192), 0x61), Buffer.from([0]), tail]);
      case 'longName': {
        const labels = Array.from({ length: 4 + (n % 4) }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x62)]));
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 0]), ...labels, Buffer.from([0]), tail]);
      }
      case 'dupOpt':
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 2]), questionBytes(q.question), opt, opt]);
      case 'optOwner':
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 1]), questionBytes(q.question), Buffer.from([1, 0x61]), opt]);
      case 'countsLie': {
        const lying = Buffer.from(valid);
        lying.writeUInt16BE(n, 4 + 2 * (n % 4));
        return lying;
      }
      case 'qr': {
        const response = Buffer.from(valid);
        response.writeUInt16BE(q.flags | QR, 2);
        return response;
      }
      case 'optPastEnd': {
        const cut = Buffer.concat([header(q.id, q.flags, [1, 0, 0, 1]), questionBytes(q.question), opt]);
        cut.writeUInt16BE(opt.length + (n % 100) + 1, cut.length - 2);
        return cut;
      }
      case 'pointerInRecord': // an additional record whose owner points at itself or forward
        return Buffer.concat([header(q.id, q.flags, [1, 0, 0, 1]), questionBytes(q.question), Buffer.from([0xc0 | ((n >> 8) & 0x3f), n & 0xff]), opt.subarray(1)]);
    }
    return valid;
  });

/** Character-strings: the rdata of a TXT record. */
export const txtRdata: fc.Arbitrary<Buffer> = fc
  .array(fc.oneof(fc.string({ maxLength: 80 }).map((s) => Buffer.from(s, 'utf8').subarray(0, 255)), fc.uint8Array({ maxLength: 255 }).map((b) => Buffer.from(b))), { minLength: 1, maxLength: 4 })
  .map((strings) => Buffer.concat(strings.flatMap((s) => [Buffer.from([s.length]), s])));

const ttl = fc.oneof(fc.constantFrom(0, 1, 60, 3600, 0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

/** A record of an upstream answer, its names in rdata sometimes a pointer to the question's name. */
function answerRecord(ownerChoices: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const pointerToQuestion = Buffer.from([0xc0, HEADER]);
  const targetName = fc.oneof(nameWire, fc.constant(pointerToQuestion));
  const rdata: fc.Arbitrary<[number, Buffer]> = fc.oneof(
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b): [number, Buffer] => [1, Buffer.from(b)]),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b): [number, Buffer] => [28, Buffer.from(b)]),
    txtRdata.map((b): [number, Buffer] => [16, b]),
    targetName.map((n): [number, Buffer] => [5, n]),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), targetName).map(([pref, n]): [number, Buffer] => [15, Buffer.concat([Buffer.from([pref >> 8, pref & 0xff]), n])]),
    fc.tuple(targetName, targetName, fc.uint8Array({ minLength: 20, maxLength: 20 })).map(([m, r, nums]): [number, Buffer] => [6, Buffer.concat([m, r, Buffer.from(nums)])]),
    fc.tuple(fc.uint8Array({ minLength: 6, maxLength: 6 }), targetName).map(([nums, n]): [number, Buffer] => [33, Buffer.concat([Buffer.from(nums), n])]),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 30 })).map(([t, b]): [number, Buffer] => [t === 41 ? 99 : t, Buffer.from(b)]),
  );
  return fc.tuple(ownerChoices, rdata, rrClass, ttl).map(([owner, [type, data], klass, t]) => record(owner, type, klass, t, data));
}

export interface ResponseSpec {
  id: number;
  flags: number;
  question: QuestionSpec;
  answers: Buffer[];
  authorities: Buffer[];
  additionals: Buffer[];
  ede: { code: number; text: Buffer } | null;
  extendedRcode: number;
}

/** An upstream response to `q` (same id and question, with the case of letters changed), or to another question. */
export function upstreamResponse(q: QuerySpec): fc.Arbitrary<Buffer> {
  const owner = fc.oneof(fc.constant(Buffer.from([0xc0, HEADER])), nameWire);
  const caseFlipped = fc.integer({ min: 0, max: 0x7fffffff }).map((mask) => {
    const flip = (i: number): boolean => ((mask >> (i % 31)) & 1) === 1;
    const name = Buffer.from(q.question.name);
    for (let i = 0; i < name.length; i++) {
      const c = name[i]!;
      if (((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) && flip(i)) name[i] = c ^ 0x20;
    }
    return { ...q.question, name };
  });
  const spec: fc.Arbitrary<ResponseSpec> = fc.record({
    id: fc.oneof({ weight: 6, arbitrary: fc.constant(q.id) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    flags: fc.oneof(fc.constantFrom(0x8180, 0x8183, 0x8182, 0x8380, 0x8585), fc.integer({ min: 0, max: 0xffff })),
    question: fc.oneof({ weight: 6, arbitrary: caseFlipped }, { weight: 1, arbitrary: question }),
    answers: fc.array(answerRecord(owner), { maxLength: 6 }),
    authorities: fc.array(answerRecord(owner), { maxLength: 2 }),
    additionals: fc.array(answerRecord(owner), { maxLength: 2 }),
    ede: fc.option(
      fc.record({
        code: fc.integer({ min: 0, max: 30 }),
        text: fc.oneof(fc.string({ maxLength: 40 }).map((s) => Buffer.from(s, 'utf8')), fc.integer({ min: 200, max: 1500 }).map((n) => Buffer.alloc(n, 0x65))),
      }),
      { nil: null },
    ),
    extendedRcode: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  });
  return spec.map(encodeResponseSpec);
}

export function encodeResponseSpec(r: ResponseSpec): Buffer {
  const options = r.ede ? Buffer.concat([Buffer.from([0, 15, (r.ede.text.length + 2) >> 8, (r.ede.text.length + 2) & 0xff, r.ede.code >> 8, r.ede.code & 0xff]), r.ede.text]) : Buffer.alloc(0);
  const opt = optRecord({ udpSize: 1232, version: 0, dnssecOk: false, options }, r.extendedRcode);
  const additionals = [...r.additionals, opt];
  return Buffer.concat([
    header(r.id, r.flags | QR, [1, r.answers.length, r.authorities.length, additionals.length]),
    questionBytes(r.question),
    ...r.answers,
    ...r.authorities,
    ...additionals,
  ]);
}

/** ASCII letters lower-cased (the DNS case rule), every other byte as it is. */
export function lowerAscii(bytes: Buffer): Buffer {
  return Buffer.from(bytes.map((c) => (c >= 0x41 && c <= 0x5a ? c + 0x20 : c)));
}

/** Splits length-prefixed blocks ([u16 length][bytes]...): how multi-part corpus inputs are framed. */
export function unframe(input: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 2 <= input.length) {
    const length = input.readUInt16BE(at);
    parts.push(input.subarray(at + 2, Math.min(input.length, at + 2 + length)));
    at += 2 + length;
  }
  return parts;
}

export function frame(parts: Buffer[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(part.length);
      return [length, part];
    }),
  );
}
