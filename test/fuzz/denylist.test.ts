// Fuzz target 4, the IPIP-383 compact denylist parser (src/stages/denylist/format/): lists built
// of valid rules of every kind, comments, blank lines, CRLF, hints and bad lines, then mutated
// (bytes flipped, inserted, cut). Parsing never throws (but for a header that is not valid, which
// the spec says must abort the list), bad lines are reported once each with their line number, and
// matching never throws; lists built from a model (names, CIDs, double hashes, allow rules) decide
// every name as the model says (the last rule on it wins), however the text is cut into pieces.
import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import { base58btc } from 'multiformats/bases/base58';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../src/errors.js';
import { parseDenylist, parseDenylistAsync } from '../../src/stages/denylist/format/index.js';
import { fuzz, fuzzAsync, mutated, replayCorpus } from './support/fuzz-run.js';

const PARSER = 'denylist-parser';
const MODEL = 'denylist-model';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const NAMES = Array.from({ length: 6 }, (_, i) => `n${i}.example`);
const CIDS = ['QmecDgNqCRirkc3Cjz9eoRBNwXGckJ9WvTdmY16HP88768', 'bafybeihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq', 'bafkreihvvulpp4evxj7x7armbqcyg6uezzuig6jp3lktpbovlqfkuqeuoq'];
/** The forms a model line can take for name i (deny or allow): the rule and what it stands for. */
const nameForms = (name: string): string[] => [
  `/ipns/${name}`,
  `//${sha256(`${name}/`).toString('hex')}`,
  `//${base58btc.baseEncode(Buffer.concat([Buffer.from([0x12, 0x20]), sha256(`/ipns/${name}`)]))}`,
  `/ipns/${name.toUpperCase()}.`,
];
const cidForms = (cid: string): string[] => [`/ipfs/${cid}`, `/ipfs/${CID.parse(cid).toV1().toString(base58btc)}`, `/ipfs/${cid}/*`];

const validLine = fc.oneof(
  fc.constantFrom(...NAMES.flatMap(nameForms), ...CIDS.flatMap(cidForms)),
  fc.tuple(fc.constantFrom(...CIDS), fc.stringMatching(/^[a-z0-9/._%-]{0,20}\*?$/)).map(([cid, path]) => `/ipfs/${cid}/${path}`),
  fc.tuple(fc.constantFrom(...NAMES), fc.stringMatching(/^[a-z0-9/._-]{0,20}\*?$/)).map(([name, path]) => `/ipns/${name}/${path}`),
);
const anyLine = fc.oneof(
  { arbitrary: validLine, weight: 5 },
  { arbitrary: validLine.map((l) => `!${l}`), weight: 2 },
  { arbitrary: validLine.map((l) => `${l} hint:v other=w`), weight: 1 },
  { arbitrary: fc.constantFrom('', '# comment', '   ', '\t# indented comment'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 40 }).map((s) => `~${s.replace(/[\r\n]/g, '')}`), weight: 1 },
  { arbitrary: fc.constantFrom('/ipfs/', '/ipfs/notacid', '//', '//xyz', 'example.com', '/ipns/', '/ipfs/Qm/x'), weight: 1 },
);
const header = fc.constantFrom('', 'version: 1\nname: fuzz\nhints:\n  a: b\n---\n', 'name: "quoted"\n---\n', '---\n');
const lists = fc
  .tuple(header, fc.array(anyLine, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'))
  .map(([head, lines, eol]) => Buffer.from(head + lines.map((l) => l + eol).join(''), 'utf8'));

const QUERIES = [...NAMES.map((n) => ['name', n] as const), ...CIDS.flatMap((c) => [['path', `/ipfs/${c}`], ['path', `/ipfs/${c}/a/b`]] as const), ['path', '/ipns/n0.example/x'] as const];

/** Parsing mutated lists: never throws (but a bad header), bad lines reported once each, in order, within the text. */
function checkParser(input: Buffer): void {
  const text = input.toString('utf8');
  const reported: number[] = [];
  let list;
  try {
    list = parseDenylist(text, { name: 'fuzz', onBadLine: (line, message) => {
      expect(message.length).toBeGreaterThan(0);
      reported.push(line);
    } });
  } catch (err) {
    expect(err).toBeInstanceOf(CodedError);
    expect(['DENYLIST_INVALID_HEADER', 'DENYLIST_UNSUPPORTED_VERSION']).toContain((err as CodedError).code);
    return;
  }
  const lineCount = text.split('\n').length;
  expect(reported).toEqual([...new Set(reported)].sort((a, b) => a - b));
  for (const line of reported) {
    expect(line).toBeGreaterThanOrEqual(1);
    expect(line).toBeLessThanOrEqual(lineCount);
    // a reported line is never blank or a comment
    const content = text.split('\n')[line - 1]!.trim();
    expect(content === '' || content.startsWith('#')).toBe(false);
  }
  expect(list.badLines).toBe(reported.length);
  for (const [kind, q] of QUERIES) {
    const ref = kind === 'name' ? list.matchName(q) : list.matchPath(q);
    if (ref) expect(text.split('\n')[ref.line - 1]!.replace(/\r$/, '').trim().split(/\s/)[0]).toBe(ref.rule);
  }
  for (const q of [text.slice(0, 60), `/ipfs/${text.slice(0, 50)}`, `/ipns/${text.slice(0, 50)}`]) {
    list.matchPath(q);
    list.matchName(q);
  }
}

/** The model: which rule line decides `name` (the last line on it), from the generated forms alone. */
function modelDecision(lines: string[], name: string): { line: number; allow: boolean } | undefined {
  const forms = new Set(nameForms(name));
  let decision: { line: number; allow: boolean } | undefined;
  lines.forEach((raw, i) => {
    const rule = raw.replace(/\r$/, '').trim().split(/\s/)[0]!;
    const allow = rule.startsWith('!');
    const body = allow ? rule.slice(1) : rule;
    // a rule on the name, or on a path under it that is empty once its slashes are trimmed (`/`,
    // `//`), or a prefix that is (`/*`, `//*`)
    const under = body.startsWith(`/ipns/${name}/`) ? body.slice(`/ipns/${name}/`.length).replace(/\*$/, '') : undefined;
    if (forms.has(body) || (under !== undefined && /^\/*$/.test(under))) decision = { line: i + 1, allow };
  });
  return decision;
}

async function checkModel(input: Buffer): Promise<void> {
  const text = input.toString('utf8');
  let sync;
  try {
    sync = parseDenylist(text, { name: 'model' });
  } catch (err) {
    expect(err).toBeInstanceOf(CodedError);
    return;
  }
  const lines = text.split('\n');
  for (const name of NAMES) {
    const expected = modelDecision(lines, name);
    const got = sync.matchName(name);
    expect(got === undefined ? undefined : { line: got.line, allow: got.allow }, `${name} in\n${text}`).toEqual(expected);
  }
  // the same list fed in pieces of 5 characters
  async function* pieces(): AsyncGenerator<string> {
    for (let at = 0; at < text.length; at += 5) yield text.slice(at, at + 5);
  }
  const sliced = await parseDenylistAsync(pieces(), { name: 'model' });
  expect(sliced.version).toBe(sync.version);
  expect(sliced.entries).toBe(sync.entries);
  for (const [kind, q] of QUERIES) expect(kind === 'name' ? sliced.matchName(q) : sliced.matchPath(q)).toEqual(kind === 'name' ? sync.matchName(q) : sync.matchPath(q));
}

describe('fuzz: compact denylist parser', { timeout: 90_000 }, () => {
  it('replays the saved corpus', async () => {
    expect(await replayCorpus(PARSER, checkParser)).toBeGreaterThan(0);
    expect(await replayCorpus(MODEL, checkModel)).toBeGreaterThan(0);
  });

  it('mutated lists: never throws but for a bad header, bad lines reported once each with their numbers, matching never throws', () => {
    const runs = fuzz(PARSER, fc.oneof(lists, mutated(lists), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), checkParser, 1500);
    expect(runs).toBeGreaterThan(0);
  });

  it('model lists: each name decided by its last rule (allow or deny, plain or double-hashed), the same when fed in pieces', async () => {
    const runs = await fuzzAsync(MODEL, lists, checkModel, 400);
    expect(runs).toBeGreaterThan(0);
  });
});
