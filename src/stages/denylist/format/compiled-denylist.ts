// Compiles the rules of a compact denylist (IPIP-383) into lookup tables and answers which rule of
// the list decides a name or a content path: one exact-key table (CIDs and IPNS keys by multihash,
// DNSLink names, exact paths, double hashes), path prefixes per root, and the rules' text and line
// numbers kept in flat buffers. Fed line by line in slices (the caller yields between them).
import { createHash, type Hash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { base58btc } from 'multiformats/bases/base58';
import { cidBytes, cidV1Base32, ipnsKeyBytes, LIBP2P_KEY_CODEC, type CidBytes } from './cid-bytes.js';
import { multihashOf, parseDoubleHash, SHA2_256 } from './double-hash.js';
import { MAX_HEADER_BYTES, parseHeader } from './header.js';
import { buildKeyTable, ByteLog, GrowableUint32, KeyTableBuilder, type KeyTable } from './key-table.js';
import type { CompiledDenylist, DenylistHeader, DenylistRuleRef, ParseDenylistOptions } from './types.js';

/** The spec's line limit (2 MiB with the newline): a longer line is a bad line. */
export const MAX_LINE_LENGTH = 2 * 1024 * 1024 - 1;

const TAG_IPFS = 1;
const TAG_IPNS_KEY = 2;
const TAG_IPNS_NAME = 3;
const TAG_DOUBLE_HASH = 4;
/**
 * A rule's line number and flags share one 32-bit word: the line in the low 29 bits (a list of at
 * most 256 MiB has fewer lines), the flags above. TEXT_* say how the rule's text is stored: a
 * double hash as its multihash bytes (rendered back as written: base58btc, or lower-case hex of
 * the sha256 digest) rather than as 50 to 66 characters.
 */
const LINE_MASK = 0x1fffffff;
const ALLOW = 1 << 29;
const TEXT_BASE58 = 1 << 30;
const TEXT_HEX = 2 ** 31;

/**
 * CIDs of empty blocks and directories (nopfs's list): everything links to them, so a rule on one
 * of them is skipped rather than blocking half the web. Compared by codec and multihash.
 */
const SAFE_CIDS = new Set(
  [
    'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn',
    'bafyaabakaieac',
    'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    'bafkqaaa',
    'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH',
    'bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua',
    'baguqeeraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa',
  ].map((text) => safeCidKey(cidBytes(text)!)),
);

function safeCidKey(cid: CidBytes): string {
  return `${cid.codec}:${Buffer.from(cid.multihash).toString('base64')}`;
}

/**
 * The prefix rules of one root: a short array scanned as is, or, past PREFIX_SCAN_LIMIT rules, a
 * map from prefix to rule (the later rule for one prefix) and the distinct prefix lengths, so a
 * query looks up one slice of its path per length rather than scanning thousands of rules.
 */
type PrefixIndex = PrefixRule[] | { byPrefix: Map<string, number>; lengths: number[] };
const PREFIX_SCAN_LIMIT = 8;

interface PrefixRule {
  /** The decoded path prefix, without leading `/` ('' matches every path, the root included). */
  prefix: string;
  rule: number;
}

/** A rule's path part: `''` for none; `prefix` when it ends with `*`. Undefined when its %-encoding is broken. */
function rulePath(raw: string): { path: string; prefix: boolean } | undefined {
  let path = raw;
  let prefix = false;
  if (path.endsWith('*')) {
    prefix = true;
    path = path.slice(0, -1);
  }
  const decoded = decodePath(path);
  if (decoded === undefined) return undefined;
  return { path: trimSlashes(decoded), prefix };
}

function trimSlashes(path: string): string {
  let from = 0;
  let to = path.length;
  while (from < to && path.charCodeAt(from) === 0x2f) from++;
  while (to > from && path.charCodeAt(to - 1) === 0x2f) to--;
  return path.slice(from, to);
}

function decodePath(path: string): string | undefined {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/**
 * A DNSLink name as rules and queries compare it: lower case, no trailing dot, and an
 * internationalized name in its punycode form (the form DNS clients ask, and the API looks up), so
 * `/ipns/bücher.example` blocks `xn--bcher-kva.example` and the reverse. ASCII names pay one test.
 */
function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  const bare = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (!NON_ASCII.test(bare)) return bare;
  return domainToASCII(bare) || bare;
}
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A subdomain-gateway label (`en-wikipedia--on--ipfs-org`) back to its DNS name
 * (`en.wikipedia-on-ipfs.org`): `--` is a `-`, a single `-` a dot. Names with a dot are left as they are.
 */
export function inlinedLabelToName(label: string): string {
  if (label.includes('.')) return label;
  let out = '';
  for (let i = 0; i < label.length; i++) {
    if (label[i] === '-' && label[i + 1] === '-') {
      out += '-';
      i++;
    } else out += label[i] === '-' ? '.' : label[i];
  }
  return out;
}

function keyBytes(tag: number, root: Uint8Array, path?: string): Buffer {
  const head = Buffer.allocUnsafe(1 + root.length);
  head[0] = tag;
  head.set(root, 1);
  return path === undefined ? head : Buffer.concat([head, Buffer.from(`/${path}`, 'utf8')]);
}

function prefixKey(tag: number, root: Uint8Array): string {
  return keyBytes(tag, root).toString('latin1');
}

/** The root of an `/ipns/` rule or query: a key (by multihash) or a DNSLink name. */
function ipnsRoot(text: string): { tag: number; bytes: Uint8Array; multihash?: Uint8Array; name?: string } {
  const key = ipnsKeyBytes(text);
  if (key !== undefined) return { tag: TAG_IPNS_KEY, bytes: key.multihash, multihash: key.multihash };
  const name = normalizeName(text);
  return { tag: TAG_IPNS_NAME, bytes: Buffer.from(name, 'utf8'), name };
}

/** Collects the rules of one list; `finish` builds the CompiledDenylist. */
export class DenylistCompiler {
  private readonly table = new KeyTableBuilder();
  /** Line number and flags of each rule (LINE_MASK, ALLOW, TEXT_*). */
  private readonly ruleLines = new GrowableUint32(1 << 14);
  private readonly ruleText = new ByteLog(1 << 20);
  private readonly ruleTextStarts = new GrowableUint32(1 << 14);
  private readonly prefixes = new Map<string, PrefixRule[]>();
  private readonly doubleHashCodes = new Set<number>();
  private readonly digest: Hash = createHash('sha256');
  private header: DenylistHeader = { hints: {} };
  private badLines = 0;
  private lineNumber = 0;
  /** Text after the last newline fed, waiting for the rest of its line. */
  private partial = '';
  private partialTooLong = false;
  /** Lines read while looking for the header's `---` (undefined once decided). */
  private headerLines: string[] | undefined = [];
  private headerBytes = 0;
  /**
   * Lines waiting to be read as rules, in order (a header that was not one, and the lines after it
   * until they are read; undefined: a line over the length limit). Numbered from replayFirstLine.
   */
  private replay: Array<string | undefined> = [];
  private replayFirstLine = 0;

  constructor(private readonly options: ParseDenylistOptions) {
    this.ruleTextStarts.push(0);
  }

  /**
   * Reads `text` (any piece of the list: whole lines or not). A generator: it yields every few
   * dozen lines so that the caller can give the event loop its turn; run it to the end.
   */
  *feed(text: string): Generator<void> {
    let from = 0;
    let hashedTo = 0;
    let sinceYield = 0;
    while (from < text.length) {
      const newline = text.indexOf('\n', from);
      const end = newline === -1 ? text.length : newline;
      if (this.partial.length + (end - from) > MAX_LINE_LENGTH) {
        this.partialTooLong = true;
        this.partial = '';
      } else if (!this.partialTooLong) {
        this.partial = this.partial === '' ? text.slice(from, end) : this.partial + text.slice(from, end);
      }
      if (newline === -1) break;
      from = newline + 1;
      this.endLine();
      if (++sinceYield >= 64) {
        sinceYield = 0;
        this.digest.update(text.slice(hashedTo, from));
        hashedTo = from;
        yield;
        yield* this.drainReplay();
      }
    }
    this.digest.update(text.slice(hashedTo));
  }

  /** Ends the list: the last line, the header if it was never closed, then the tables (yielding between slices). */
  *finish(): Generator<void, CompiledDenylist> {
    if (this.partial !== '' || this.partialTooLong) this.endLine();
    if (this.headerLines !== undefined) this.giveUpHeader();
    yield* this.drainReplay();
    // V8 keeps the subject of the last regular expression run (RegExp.input): a line of the list,
    // a slice that would keep the list's whole text alive. Run one on a string of our own.
    /x/.test('x');
    const table = yield* buildKeyTable(this.table);
    return new Denylist({
      name: this.options.name,
      version: this.digest.digest('hex'),
      header: this.header,
      badLines: this.badLines,
      table,
      ruleLines: this.ruleLines.trimmed(),
      ruleText: this.ruleText.trimmed(),
      ruleTextStarts: this.ruleTextStarts.trimmed(),
      prefixes: indexPrefixes(this.prefixes),
      doubleHashCodes: [...this.doubleHashCodes],
    });
  }

  private *drainReplay(): Generator<void> {
    while (this.replay.length > 0) {
      const batch = this.replay.splice(0, 64);
      for (const line of batch) this.readLine(line, this.replayFirstLine++);
      yield;
    }
  }

  private endLine(): void {
    const line = this.partial.endsWith('\r') ? this.partial.slice(0, -1) : this.partial;
    const tooLong = this.partialTooLong;
    this.partial = '';
    this.partialTooLong = false;
    const number = ++this.lineNumber;
    if (this.headerLines !== undefined) {
      this.headerBytes += line.length + 1;
      if (line === '---' && !tooLong) {
        this.header = parseHeader(this.headerLines, 1);
        this.headerLines = undefined;
        return;
      }
      if (this.headerBytes > MAX_HEADER_BYTES || tooLong) {
        this.giveUpHeader();
      } else {
        this.headerLines.push(line);
        return;
      }
    }
    if (this.replay.length > 0) this.replay.push(tooLong ? undefined : line);
    else this.readLine(tooLong ? undefined : line, number);
  }

  private readLine(line: string | undefined, number: number): void {
    if (line === undefined) this.bad(number, `line longer than ${MAX_LINE_LENGTH + 1} bytes (the format's limit)`);
    else this.readRule(line, number);
  }

  /** No `---` within the first MiB: the lines read so far are rules. */
  private giveUpHeader(): void {
    this.replay = this.headerLines ?? [];
    this.replayFirstLine = 1;
    this.headerLines = undefined;
  }

  private bad(line: number, message: string): void {
    this.badLines++;
    this.options.onBadLine?.(line, message);
  }

  private readRule(line: string, number: number): void {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const space = trimmed.search(/\s/);
    const written = space === -1 ? trimmed : trimmed.slice(0, space);
    const allow = written.startsWith('!');
    const rule = allow ? written.slice(1) : written;
    const keys: Array<{ tag: number; root: Uint8Array; path?: string }> = [];
    let prefix: { key: string; path: string } | undefined;
    let text: { flag: number; bytes: Uint8Array } | undefined;
    if (rule.startsWith('//')) {
      const hash = rule.slice(2);
      const parsed = parseDoubleHash(hash);
      if (typeof parsed === 'string') return this.bad(number, parsed);
      for (const { code, multihash, reading } of parsed.keys) {
        this.doubleHashCodes.add(code);
        keys.push({ tag: TAG_DOUBLE_HASH, root: multihash });
        if (text === undefined && reading === 'modern') text = { flag: TEXT_BASE58, bytes: multihash };
        else if (text === undefined && hash === hash.toLowerCase()) text = { flag: TEXT_HEX, bytes: multihash.subarray(2) };
      }
    } else if (rule.startsWith('/ipfs/') || rule.startsWith('/ipns/')) {
      const rest = rule.slice(6);
      const slash = rest.indexOf('/');
      const rootText = slash === -1 ? rest : rest.slice(0, slash);
      const path = rulePath(slash === -1 ? '' : rest.slice(slash));
      if (rootText === '') return this.bad(number, `"${rule.slice(0, 80)}": no CID or name after ${rule.slice(0, 6)}`);
      if (path === undefined) return this.bad(number, `"${rule.slice(0, 80)}": broken %-encoding in the path`);
      let tag: number;
      let root: Uint8Array;
      if (rule.startsWith('/ipfs/')) {
        const cid = cidBytes(rootText);
        if (cid === undefined) return this.bad(number, `"${rootText.slice(0, 80)}" is not a CID`);
        if (SAFE_CIDS.has(safeCidKey(cid))) return; // an empty block or directory: never blocked
        tag = TAG_IPFS;
        root = cid.multihash;
      } else {
        // `/ipns/*` would read as a rule that blocks every name, and block none.
        if (rootText.includes('*')) return this.bad(number, `"${rootText.slice(0, 80)}" is not a name: the format has no wildcard for names (a prefix is /ipns/NAME/PATH*)`);
        ({ tag, bytes: root } = ipnsRoot(rootText));
      }
      // The prefix is copied out of the line: a slice would keep the whole text of the list alive.
      if (path.prefix) prefix = { key: prefixKey(tag, root), path: Buffer.from(path.path, 'utf8').toString('utf8') };
      else keys.push({ tag, root, path: path.path });
    } else {
      return this.bad(number, `"${written.slice(0, 80)}" is not a rule of the format (expected /ipfs/CID, /ipns/NAME or //HASH, optionally after !)`);
    }
    const index = this.ruleLines.length;
    this.ruleLines.push(((number & LINE_MASK) | (allow ? ALLOW : 0) | (text?.flag ?? 0)) >>> 0);
    if (text !== undefined) this.ruleText.appendBytes(text.bytes);
    else this.ruleText.appendText(written);
    this.ruleTextStarts.push(this.ruleText.length);
    for (const key of keys) {
      this.table.keys.appendByte(key.tag);
      this.table.keys.appendBytes(key.root);
      if (key.path !== undefined) {
        this.table.keys.appendByte(0x2f);
        this.table.keys.appendText(key.path);
      }
      this.table.end(index);
    }
    if (prefix !== undefined) {
      const list = this.prefixes.get(prefix.key);
      if (list === undefined) this.prefixes.set(prefix.key, [{ prefix: prefix.path, rule: index }]);
      else list.push({ prefix: prefix.path, rule: index });
    }
  }
}

function indexPrefixes(prefixes: Map<string, PrefixRule[]>): Map<string, PrefixIndex> {
  const indexed = new Map<string, PrefixIndex>();
  for (const [root, rules] of prefixes) {
    if (rules.length <= PREFIX_SCAN_LIMIT) {
      indexed.set(root, rules);
      continue;
    }
    const byPrefix = new Map<string, number>();
    for (const r of rules) byPrefix.set(r.prefix, r.rule); // in line order: the later rule stays
    indexed.set(root, { byPrefix, lengths: [...new Set(rules.map((r) => r.prefix.length))].sort((a, b) => a - b) });
  }
  return indexed;
}

interface DenylistTables {
  name: string;
  version: string;
  header: DenylistHeader;
  badLines: number;
  table: KeyTable;
  ruleLines: Uint32Array;
  ruleText: Buffer;
  ruleTextStarts: Uint32Array;
  prefixes: Map<string, PrefixIndex>;
  doubleHashCodes: number[];
}

/** The compiled list: read-only lookups. */
class Denylist implements CompiledDenylist {
  readonly name: string;
  readonly version: string;
  readonly header: DenylistHeader;
  readonly badLines: number;
  private readonly t: DenylistTables;

  constructor(tables: DenylistTables) {
    this.t = tables;
    this.name = tables.name;
    this.version = tables.version;
    this.header = tables.header;
    this.badLines = tables.badLines;
  }

  get entries(): number {
    return this.t.ruleLines.length;
  }

  matchName(name: string): DenylistRuleRef | undefined {
    if (name === '' || name.includes('/')) return undefined;
    return this.ref(this.matchIpns(name, ''));
  }

  matchPath(path: string): DenylistRuleRef | undefined {
    const ipfs = path.startsWith('/ipfs/');
    if (!ipfs && !path.startsWith('/ipns/')) return undefined;
    const rest = path.slice(6);
    const slash = rest.indexOf('/');
    const root = slash === -1 ? rest : rest.slice(0, slash);
    const rawPath = slash === -1 ? '' : trimSlashes(rest.slice(slash));
    if (root === '') return undefined;
    return this.ref(ipfs ? this.matchIpfs(root, rawPath) : this.matchIpns(root, rawPath));
  }

  private matchIpfs(rootText: string, rawPath: string): number {
    const cid = cidBytes(rootText);
    if (cid === undefined) return -1;
    const multihash = cid.multihash;
    let best = this.matchKeyed(TAG_IPFS, multihash, rawPath);
    if (this.t.doubleHashCodes.length > 0) {
      const b58 = base58btc.baseEncode(multihash);
      const v1 = cidV1Base32(cid.codec, multihash);
      best = this.later(best, this.matchDoubleHashes(b58, rawPath === '' ? undefined : `${b58}/${rawPath}`, `${v1}/`, `${v1}/${rawPath}`));
    }
    return best;
  }

  private matchIpns(rootText: string, rawPath: string): number {
    const root = ipnsRoot(rootText.includes('.') ? rootText : inlinedLabelToName(rootText));
    let best = this.matchKeyed(root.tag, root.bytes, rawPath);
    if (this.t.doubleHashCodes.length > 0) {
      if (root.multihash !== undefined) {
        const b58 = base58btc.baseEncode(root.multihash);
        const legacy = cidV1Base32(LIBP2P_KEY_CODEC, root.multihash);
        best = this.later(best, this.matchDoubleHashes(b58, rawPath === '' ? undefined : `${b58}/${rawPath}`, `${legacy}/`, `${legacy}/${rawPath}`));
      } else {
        const modern = `/ipns/${root.name!}`;
        best = this.later(best, this.matchDoubleHashes(modern, rawPath === '' ? undefined : `${modern}/${rawPath}`, `${root.name!}/`, `${root.name!}/${rawPath}`));
      }
    }
    return best;
  }

  /** Exact rules on the root and on the path, and prefix rules of the root. */
  private matchKeyed(tag: number, root: Uint8Array, rawPath: string): number {
    let best = this.t.table.get(keyBytes(tag, root, ''));
    const path = rawPath === '' ? '' : trimSlashes(decodePath(rawPath) ?? rawPath);
    if (path !== '') best = this.later(best, this.t.table.get(keyBytes(tag, root, path)));
    const prefixes = this.t.prefixes.get(prefixKey(tag, root));
    if (Array.isArray(prefixes)) {
      for (const p of prefixes) if (path.startsWith(p.prefix)) best = this.later(best, p.rule);
    } else if (prefixes !== undefined) {
      for (const length of prefixes.lengths) {
        if (length > path.length) break;
        const rule = prefixes.byPrefix.get(path.slice(0, length));
        if (rule !== undefined) best = this.later(best, rule);
      }
    }
    return best;
  }

  /** Double-hash rules: modern anchors hashed with every function the list uses, legacy ones with sha256. */
  private matchDoubleHashes(modernRoot: string, modernPath: string | undefined, legacyRoot: string, legacyPath: string): number {
    let best = -1;
    for (const code of this.t.doubleHashCodes) {
      best = this.later(best, this.t.table.get(keyBytes(TAG_DOUBLE_HASH, multihashOf(code, modernRoot))));
      if (modernPath !== undefined) best = this.later(best, this.t.table.get(keyBytes(TAG_DOUBLE_HASH, multihashOf(code, modernPath))));
    }
    if (this.t.doubleHashCodes.includes(SHA2_256)) {
      best = this.later(best, this.t.table.get(keyBytes(TAG_DOUBLE_HASH, multihashOf(SHA2_256, legacyRoot))));
      if (legacyPath !== legacyRoot) best = this.later(best, this.t.table.get(keyBytes(TAG_DOUBLE_HASH, multihashOf(SHA2_256, legacyPath))));
    }
    return best;
  }

  /** Of two rule numbers (-1: none), the one written later in the list. */
  private later(a: number, b: number): number {
    if (a === -1) return b;
    if (b === -1) return a;
    return (this.t.ruleLines[b]! & LINE_MASK) > (this.t.ruleLines[a]! & LINE_MASK) ? b : a;
  }

  private ref(rule: number): DenylistRuleRef | undefined {
    if (rule === -1) return undefined;
    const word = this.t.ruleLines[rule]!;
    const allow = (word & ALLOW) !== 0;
    const stored = this.t.ruleText.subarray(this.t.ruleTextStarts[rule], this.t.ruleTextStarts[rule + 1]);
    let text: string;
    if ((word & TEXT_BASE58) !== 0) text = `${allow ? '!' : ''}//${base58btc.baseEncode(stored)}`;
    else if ((word & TEXT_HEX) !== 0) text = `${allow ? '!' : ''}//${stored.toString('hex')}`;
    else text = stored.toString('utf8');
    return { list: this.name, rule: text, line: word & LINE_MASK, allow };
  }
}
