// The answer store and its policy: which answers may be kept and for how long (TTLs clamped,
// negative answers by the SOA minimum per RFC 2308), bounded by entry count and bytes (CLOCK, a
// second-chance LRU), kept past expiry for the serve-stale window (RFC 8767), and indexed by name
// so a flush finds a name's entries without a scan. No I/O; the clock is injected.
//
// Memory: an entry is one small object holding its place in a shared slab (its encoded sections)
// and a few numbers; records are decoded only when an API asks. `bytes` counts what an entry
// really costs (measured: see ENTRY_OVERHEAD_BYTES), so `maxBytes` bounds the process's memory.
import { Rcode } from '../../dns/constants.js';
import { decodeSections, encodeSections, ttlOffsetsIn } from '../../dns/record-sections.js';
import { recordTtl, type AnswerSource, type Resolution } from '../../dns/resolution.js';
import type { DnsRecord, EncodedSections, ExtendedError } from '../../dns/types.js';

export interface CachePolicy {
  maxEntries: number;
  maxBytes: number;
  minTtl: number;
  maxTtl: number;
  negativeMinTtl: number;
  negativeMaxTtl: number;
  serveStale: boolean;
  /** Seconds past expiry an entry may still be served stale. */
  staleMaxAge: number;
}

/**
 * What an entry costs beyond its key's characters and its encoded bytes (charged as the slabs
 * they keep): the entry object (and the boxed number of its store time), the key string's header,
 * its slot in the table (a Map) and the garbage collector's headroom over them. Measured, not
 * estimated (bench/memory-case.js, dnslinkd filled from nsd): 1M DNSLink names grew RSS by 401
 * bytes per entry, of which ~140 are encoded bytes and key characters; under eviction (1M names
 * through 100 MB) the cache held 1.17x what it was charged. Lower would let it run further above.
 */
export const ENTRY_OVERHEAD_BYTES = 280;

/** Encoded sections are copied into shared slabs of this size (larger ones get their own buffer). */
const SLAB_BYTES = 32 * 1024;
const OWN_BUFFER_BYTES = 4 * 1024;
/**
 * New slabs are cut from arenas of this size: one allocation large enough that the C allocator maps
 * it on its own, rather than 32 KB chunks between the short-lived buffers of the miss path, whose
 * freed holes the heap could not give back (measured: 57 MB of them at 1M entries).
 */
const ARENA_BYTES = 32 * SLAB_BYTES;
/**
 * An emptied slab is filled again only after this long, so a reader still copying from an entry
 * evicted a moment ago (an answer on its way out) never sees another entry's bytes.
 */
export const SLAB_REUSE_AFTER_MS = 1000;
/**
 * Emptied slabs kept for reuse: at most 128 (4 MB) and 1/32 of maxBytes, not counted in `bytes`;
 * a cache that shrank gives the rest back.
 */
const EMPTIED_KEPT = 128;
const EMPTIED_SHARE = 32;

/** One slab (or an answer's own buffer) and the bytes of live entries in it. */
class Slab {
  /** Bytes handed out (the bump pointer). */
  used = 0;
  /** Bytes of entries still stored in it. */
  live = 0;
  /** When its last entry left (ms). */
  emptiedAt = 0;
  constructor(
    readonly bytes: Buffer,
    /** A shared slab (else one answer's own buffer). */
    readonly shared: boolean,
  ) {}
}

/**
 * Bump allocation of encoded sections in shared slabs (no Buffer per entry), and the slabs'
 * memory: a slab whose entries are all gone is kept and filled again (after SLAB_REUSE_AFTER_MS)
 * instead of left to the garbage collector and the C allocator, which under eviction let dead
 * slabs pile up far past the live ones.
 */
class Slabs {
  private current: Slab | undefined;
  /** Emptied slabs, oldest first. */
  private readonly emptied: Slab[] = [];
  private fullBytes = 0;
  /** Where the next new slab is cut from, and how far it is cut. */
  private arena = Buffer.allocUnsafeSlow(0);
  private arenaUsed = 0;

  /** How many emptied slabs are kept for reuse. */
  private readonly keep: number;

  constructor(
    maxBytes: number,
    private readonly now: () => number,
  ) {
    this.keep = Math.min(EMPTIED_KEPT, Math.floor(maxBytes / EMPTIED_SHARE / SLAB_BYTES));
  }

  /** Copies bytes [start, end) of `bytes` into a slab; they end at the slab's `used`. */
  copy(bytes: Buffer, start = 0, end = bytes.length): Slab {
    const length = end - start;
    if (length > OWN_BUFFER_BYTES) {
      const own = new Slab(Buffer.from(bytes.subarray(start, end)), false);
      own.used = length;
      return own;
    }
    if (!this.current || this.current.used + length > SLAB_BYTES) this.startSlab();
    const slab = this.current!;
    bytes.copy(slab.bytes, slab.used, start, end);
    slab.used += length;
    return slab;
  }

  /** The current slab is full: it counts whole from now on; the next is an emptied one old enough, or new. */
  private startSlab(): void {
    const full = this.current;
    if (full) {
      this.fullBytes += SLAB_BYTES;
      if (full.live === 0) this.release(full);
    }
    const oldest = this.emptied[0];
    if (oldest && this.now() - oldest.emptiedAt >= SLAB_REUSE_AFTER_MS) {
      this.emptied.shift();
      oldest.used = 0;
      this.current = oldest;
    } else {
      this.current = new Slab(this.newSlabBytes(), true);
    }
  }

  private newSlabBytes(): Buffer {
    if (this.arenaUsed + SLAB_BYTES > this.arena.length) {
      this.arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
      this.arenaUsed = 0;
    }
    this.arenaUsed += SLAB_BYTES;
    return this.arena.subarray(this.arenaUsed - SLAB_BYTES, this.arenaUsed);
  }

  /** An entry of `length` bytes was put in `slab`. */
  hold(slab: Slab, length: number): void {
    slab.live += length;
    if (!slab.shared) this.fullBytes += length;
  }

  /** An entry of `length` bytes left `slab`. */
  free(slab: Slab, length: number): void {
    slab.live -= length;
    if (slab.live === 0 && slab !== this.current) this.release(slab);
  }

  /** A slab with no entry left: kept for reuse (up to `keep` of them), else left to the garbage collector. */
  private release(slab: Slab): void {
    this.fullBytes -= slab.bytes.length;
    if (!slab.shared || this.emptied.length >= this.keep) return;
    slab.emptiedAt = this.now();
    this.emptied.push(slab);
  }

  /** Bytes the entries' slabs hold: full slabs with an entry left (whole), own buffers, the current slab's live bytes. */
  get heldBytes(): number {
    return this.fullBytes + (this.current?.live ?? 0);
  }
}

/** When an entry's last refresh failed (ms), for the few entries where one did: kept beside them, not in each. */
const refreshFailures = new WeakMap<CacheEntry, number>();

/** Where an answer came from, shared by every entry from the same upstream (interned by the store). */
export interface AnswerOrigin {
  /** `upstream`, `ens`...: as the miss reported it. */
  readonly source: AnswerSource;
  readonly upstream: string | undefined;
  /** The Extended DNS Error the answer came with, served again with it. */
  readonly ede: ExtendedError | undefined;
}

interface SectionCounts {
  answerCount: number;
  authorityCount: number;
  additionalCount: number;
}

/** An entry as saved (a snapshot's), to be put back by `AnswerStore.restore`. */
export interface SavedEntry extends SectionCounts {
  key: string;
  /** The encoded sections, TTLs as stored: `bodyLength` bytes at `bodyStart` of `bytes` (copied into the store's slabs). */
  bytes: Buffer;
  bodyStart: number;
  bodyLength: number;
  rcode: number;
  negative: boolean;
  origin: AnswerOrigin;
  /** When it was stored (ms since the epoch): its expiry is storedAt + ttl seconds. */
  storedAt: number;
  ttl: number;
  hits: number;
}

/** Record counts fit in 13 bits (a message holds at most 65535 bytes, a record at least 11). */
const COUNT_BITS = 13;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** The most records an entry's section may hold. */
export const MAX_SECTION_RECORDS = COUNT_MASK;
/** The largest rcode an entry holds (12 bits: extended rcodes included). */
export const MAX_RCODE = 0xfff;
const NEGATIVE_BIT = 1 << 25;
/** Hits saturate here (kept in a small integer with the CLOCK bit). */
const MAX_USES = 2 ** 30 - 2;

/**
 * One cached answer: its encoded sections (TTLs already clamped) in a shared slab and the numbers
 * a hit needs, packed; it is the EncodedSections a response copies. Its records are decoded only
 * when asked (`resolution`, a view's `answers`).
 */
export class CacheEntry implements EncodedSections {
  /** Hits (bits 1 and up, saturating) and the CLOCK bit (bit 0: hit since eviction last passed it). */
  private uses = 0;
  /** bodyStart * 65536 + bodyLength (a slab is 32 KB; an answer on its own buffer starts at 0). */
  private readonly place: number;
  /** answerCount, authorityCount (13 bits each). */
  private readonly counts: number;
  /** additionalCount (13 bits), rcode (12 bits), negative (bit 25). */
  private readonly flags: number;

  constructor(
    readonly key: string,
    /** The slab its sections sit in. */
    readonly home: Slab,
    bodyStart: number,
    bodyLength: number,
    sections: SectionCounts,
    rcode: number,
    negative: boolean,
    readonly origin: AnswerOrigin,
    readonly storedAt: number,
    /** Seconds it stays fresh (the smallest TTL stored). */
    readonly ttl: number,
  ) {
    this.place = bodyStart * 0x10000 + bodyLength;
    this.counts = sections.answerCount | (sections.authorityCount << COUNT_BITS);
    this.flags = sections.additionalCount | ((rcode & 0xfff) << COUNT_BITS) | (negative ? NEGATIVE_BIT : 0);
  }

  /** A hit: counted, and marked used for eviction. */
  recordHit(): void {
    this.uses = Math.min(this.uses + 2, MAX_USES) | 1;
  }

  get hits(): number {
    return this.uses >>> 1;
  }
  /** Hits carried over (a snapshot's); the CLOCK bit starts clear. */
  set hits(count: number) {
    this.uses = Math.min(count * 2, MAX_USES);
  }

  /** Hit since eviction last passed it (CLOCK's bit). */
  get recentlyUsed(): boolean {
    return (this.uses & 1) !== 0;
  }
  set recentlyUsed(used: boolean) {
    this.uses = used ? this.uses | 1 : this.uses & ~1;
  }

  /** Last time a refresh of this entry failed (ms), for RFC 8767 stale-refresh. */
  get refreshFailedAt(): number | undefined {
    return refreshFailures.get(this);
  }
  set refreshFailedAt(at: number | undefined) {
    if (at === undefined) refreshFailures.delete(this);
    else refreshFailures.set(this, at);
  }

  /** The slab's bytes (responses copy the sections from there). */
  get slab(): Buffer {
    return this.home.bytes;
  }

  get bodyStart(): number {
    return this.place >>> 16;
  }
  get bodyLength(): number {
    return this.place & 0xffff;
  }

  get answerCount(): number {
    return this.counts & COUNT_MASK;
  }
  get authorityCount(): number {
    return this.counts >>> COUNT_BITS;
  }
  get additionalCount(): number {
    return this.flags & COUNT_MASK;
  }
  get rcode(): number {
    return (this.flags >>> COUNT_BITS) & 0xfff;
  }
  get negative(): boolean {
    return (this.flags & NEGATIVE_BIT) !== 0;
  }

  get expiresAt(): number {
    return this.storedAt + this.ttl * 1000;
  }

  /** The sections' bytes as a view of the slab (made per call: responses copy from the slab). */
  get body(): Buffer {
    return this.slab.subarray(this.bodyStart, this.bodyStart + this.bodyLength);
  }

  get ttlOffsets(): Uint32Array {
    return ttlOffsetsIn(this.body, this.answerCount + this.authorityCount + this.additionalCount);
  }

  /** The answer as a resolution, served with `source` and its TTLs aged or overridden. */
  view(source: AnswerSource, ttlAge: number, stale?: { ttl: number; ede: ExtendedError }): Resolution {
    return new CachedResolution(this, source, ttlAge, stale);
  }

  /** The answer as stored, records decoded (for the admin API). */
  get resolution(): Resolution {
    const { answers, authorities, additionals } = decodeSections(this);
    const { source, upstream, ede } = this.origin;
    return { rcode: this.rcode, source, answers, authorities, additionals, ...(upstream ? { upstream } : {}), ...(ede ? { ede } : {}), encoded: this };
  }
}

/** A cached answer as served: the entry's sections, aged; records decoded only if someone reads them. */
class CachedResolution implements Resolution {
  readonly rcode: number;
  readonly origin: AnswerSource;
  readonly upstream: string | undefined;
  readonly ede: ExtendedError | undefined;
  readonly ttlOverride: number | undefined;
  readonly encoded: EncodedSections;
  private decoded: ReturnType<typeof decodeSections> | undefined = undefined;

  constructor(
    entry: CacheEntry,
    readonly source: AnswerSource,
    readonly ttlAge: number,
    stale: { ttl: number; ede: ExtendedError } | undefined,
  ) {
    this.rcode = entry.rcode;
    this.origin = entry.origin.source;
    this.upstream = entry.origin.upstream;
    this.ede = stale ? stale.ede : entry.origin.ede;
    this.ttlOverride = stale?.ttl;
    this.encoded = entry;
  }

  private get records(): ReturnType<typeof decodeSections> {
    return (this.decoded ??= decodeSections(this.encoded));
  }
  get answers(): DnsRecord[] {
    return this.records.answers;
  }
  get authorities(): DnsRecord[] {
    return this.records.authorities;
  }
  get additionals(): DnsRecord[] {
    return this.records.additionals;
  }
}

const clamp = (value: number, min: number, max: number): number => Math.min(Math.max(value, min), max);

function withTtl(record: DnsRecord, ttl: number): DnsRecord {
  return { ...record, ttl } as DnsRecord;
}

function soaOf(res: Resolution): DnsRecord | undefined {
  return res.authorities.find((rr) => rr.type === 'SOA');
}

/** NXDOMAIN, or NOERROR with no answer (NODATA): what RFC 2308 caches as a negative answer. */
export function isNegativeAnswer(res: Pick<Resolution, 'rcode' | 'answers'>): boolean {
  return res.rcode === Rcode.NXDOMAIN || (res.rcode === Rcode.NOERROR && res.answers.length === 0);
}

interface CacheableForm {
  ttl: number;
  negative: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** How long an answer may be cached and the records as stored; undefined when not cacheable. */
function cacheableForm(res: Resolution, policy: CachePolicy): CacheableForm | undefined {
  if (res.rcode === Rcode.NOERROR && res.answers.length > 0) {
    const fix = (rr: DnsRecord) => withTtl(rr, clamp(recordTtl(rr), policy.minTtl, policy.maxTtl));
    const answers = res.answers.map(fix);
    const ttl = Math.min(...answers.map(recordTtl));
    return { ttl, negative: false, answers, authorities: res.authorities.map(fix), additionals: res.additionals.map(fix) };
  }
  if (isNegativeAnswer(res)) {
    const soa = soaOf(res);
    if (!soa || soa.type !== 'SOA') {
      // RFC 2308 5: no SOA, no negative caching; unless a stage of ours said how long (a denylist block).
      if (res.negativeTtl === undefined) return undefined;
      return { ttl: clamp(res.negativeTtl, policy.negativeMinTtl, policy.negativeMaxTtl), negative: true, answers: [], authorities: [], additionals: [] };
    }
    const ttl = clamp(Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0), policy.negativeMinTtl, policy.negativeMaxTtl);
    return { ttl, negative: true, answers: [], authorities: [withTtl(soa, ttl)], additionals: [] };
  }
  return undefined;
}

/** The name part of a cache key (the key without its type and class). */
export const nameKeyOfKey = (key: string): string => key.slice(0, -4);

/** Type TXT, class IN as the last four characters of a cache key: the keys the name index leaves out. */
const TXT_IN = '\x00\x10\x00\x01';

/** A flush scanning the table yields to the event loop after this long (checked every FLUSH_CHECK keys). */
const FLUSH_SLICE_MS = 2;
const FLUSH_CHECK = 256;

/** What an entry costs besides its sections (those are charged as the slab bytes they keep). */
const bytesOf = (entry: CacheEntry): number => entry.key.length + ENTRY_OVERHEAD_BYTES;

export class AnswerStore {
  /** key -> entry, in CLOCK order: eviction looks at the oldest first and gives used ones a second pass. */
  private table = new Map<string, CacheEntry>();
  /** Where eviction looks next (a live Map iterator: it follows inserts and deletes). */
  private hand: Iterator<[string, CacheEntry]> | undefined;
  /**
   * The name index, compact: name part of a key -> its keys of any type but TXT IN. A name's TXT IN
   * key is its name part plus TXT_IN, found without an index: a DNSLink cache indexes nothing.
   */
  private otherTypes = new Map<string, string[]>();
  private slabs: Slabs;
  private readonly origins = new Map<string, AnswerOrigin>();
  /** Keys and ENTRY_OVERHEAD_BYTES of the entries stored (their slabs: `slabs.heldBytes`). */
  private entryBytes = 0;

  constructor(
    readonly policy: CachePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.slabs = new Slabs(policy.maxBytes, now);
  }

  /** The entry for `key`, fresh or within the stale window; older entries are dropped. */
  get(key: string, now: number = this.now()): CacheEntry | undefined {
    const entry = this.table.get(key);
    if (!entry) return undefined;
    if (this.pastStaleWindow(entry.storedAt, entry.ttl, now)) {
      this.delete(key, entry);
      return undefined;
    }
    return entry;
  }

  /** Expired longer ago than an entry may be served stale (any expired entry, without serve-stale). */
  private pastStaleWindow(storedAt: number, ttl: number, now: number): boolean {
    const staleWindow = this.policy.serveStale ? this.policy.staleMaxAge * 1000 : 0;
    return now > storedAt + ttl * 1000 + staleWindow;
  }

  /**
   * Whether `entry` is still stored: only then may its sections be read after the moment it was
   * handed out (an evicted entry's slab is filled again SLAB_REUSE_AFTER_MS after it empties).
   */
  holds(entry: CacheEntry): boolean {
    return this.table.get(entry.key) === entry;
  }

  /** Stores an answer if the policy allows; returns the entry (not kept when it alone exceeds maxBytes). */
  put(key: string, res: Resolution): CacheEntry | undefined {
    const form = cacheableForm(res, this.policy);
    if (!form) return undefined;
    const sections = encodeSections(form.answers, form.authorities, form.additionals);
    const origin = res.ede ? { source: res.source, upstream: res.upstream, ede: res.ede } : this.origin(res.source, res.upstream);
    return this.insert(key, sections.body, 0, sections.body.length, sections, res.rcode, form.negative, origin, this.now(), form.ttl);
  }

  /**
   * Puts back an entry saved earlier (a snapshot's: sections as stored, TTLs already clamped, its
   * store time and hits); dropped (false) when it is past the stale window by now.
   */
  restore(saved: SavedEntry, now: number = this.now()): boolean {
    // A clock set back since the save: the entry is not younger than now (its TTLs never grow).
    const storedAt = Math.min(saved.storedAt, now);
    if (this.pastStaleWindow(storedAt, saved.ttl, now)) return false;
    const entry = this.insert(saved.key, saved.bytes, saved.bodyStart, saved.bodyLength, saved, saved.rcode, saved.negative, saved.origin, storedAt, saved.ttl);
    entry.hits = saved.hits;
    return true;
  }

  /** Stores the sections at [bodyStart, bodyStart + bodyLength) of `bytes` (copied) under `key`. */
  private insert(key: string, bytes: Buffer, bodyStart: number, bodyLength: number, counts: SectionCounts, rcode: number, negative: boolean, origin: AnswerOrigin, storedAt: number, ttl: number): CacheEntry {
    const slab = this.slabs.copy(bytes, bodyStart, bodyStart + bodyLength);
    const start = slab.used - bodyLength;
    const entry = new CacheEntry(key, slab, start, bodyLength, counts, rcode, negative, origin, storedAt, ttl);
    const old = this.table.get(key);
    if (old) this.delete(key, old);
    if (bytesOf(entry) + entry.bodyLength > this.policy.maxBytes) return entry;
    this.table.set(key, entry);
    this.entryBytes += bytesOf(entry);
    this.slabs.hold(slab, entry.bodyLength);
    if (!key.endsWith(TXT_IN)) {
      const nameKey = nameKeyOfKey(key);
      const keys = this.otherTypes.get(nameKey);
      if (keys) keys.push(key);
      else this.otherTypes.set(nameKey, [key]);
    }
    this.evictOverLimits(entry);
    return entry;
  }

  /** The one shared origin of answers from `source` and `upstream` without an EDE of their own. */
  origin(source: AnswerSource, upstream: string | undefined): AnswerOrigin {
    const id = `${source} ${upstream ?? ''}`;
    let origin = this.origins.get(id);
    if (!origin) this.origins.set(id, (origin = { source, upstream, ede: undefined }));
    return origin;
  }

  private evictOverLimits(justStored: CacheEntry): void {
    while (this.table.size > this.policy.maxEntries || this.bytes > this.policy.maxBytes) {
      let next = this.hand?.next();
      if (!next || next.done) {
        this.hand = this.table.entries();
        next = this.hand.next();
        if (next.done) return;
      }
      const [key, entry] = next.value;
      if (entry.recentlyUsed || (entry === justStored && this.table.size > 1)) {
        // Second chance: moved behind everything else, looked at again after a full turn.
        entry.recentlyUsed = false;
        this.table.delete(key);
        this.table.set(key, entry);
        continue;
      }
      this.delete(key, entry);
    }
  }

  private delete(key: string, entry: CacheEntry): void {
    if (this.table.get(key) !== entry) return;
    this.table.delete(key);
    this.entryBytes -= bytesOf(entry);
    this.slabs.free(entry.home, entry.bodyLength);
    if (key.endsWith(TXT_IN)) return;
    const nameKey = nameKeyOfKey(key);
    const keys = this.otherTypes.get(nameKey);
    if (!keys) return;
    const at = keys.indexOf(key);
    if (at >= 0) keys.splice(at, 1);
    if (keys.length === 0) this.otherTypes.delete(nameKey);
  }

  private keysOfName(nameKey: string): string[] {
    return [nameKey + TXT_IN, ...(this.otherTypes.get(nameKey) ?? [])];
  }

  /**
   * Every entry stored, stale ones included, in CLOCK order (oldest first), and whether they are
   * still the store's. Live: `entries` follows inserts and deletes made while it is paused (an entry
   * given a second chance meanwhile comes again); after a flush of everything it goes on over the
   * old table, which `current()` then denies. An entry taken while `current()` is stored at that
   * moment: read its sections before the next await. (A plain Map iterator: a walk of a million
   * entries allocates nothing per entry, where a generator would.)
   */
  walk(): { entries: IterableIterator<CacheEntry>; current: () => boolean } {
    const table = this.table;
    return { entries: table.values(), current: () => this.table === table };
  }

  /** Every entry stored now (a copy: for tests and small stores). */
  entries(): CacheEntry[] {
    return [...this.table.values()];
  }

  /** Every entry cached for a name (each type and class), stale ones included. */
  entriesOfName(nameKey: string): CacheEntry[] {
    const entries: CacheEntry[] = [];
    for (const key of this.keysOfName(nameKey)) {
      const entry = this.table.get(key);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /** Removes the entries of these names (negative ones only, if asked); the count removed (or, for a dry run, that would be). */
  removeNames(nameKeys: readonly string[], negativeOnly: boolean, dryRun = false): number {
    let removed = 0;
    for (const nameKey of nameKeys) {
      for (const key of this.keysOfName(nameKey)) removed += this.removeKey(key, negativeOnly, dryRun);
    }
    return removed;
  }

  private removeKey(key: string, negativeOnly: boolean, dryRun: boolean): number {
    const entry = this.table.get(key);
    if (!entry || (negativeOnly && !entry.negative)) return 0;
    if (!dryRun) this.delete(key, entry);
    return 1;
  }

  /**
   * Removes the entries of every name `matches` accepts (negative ones only, if asked); resolves to
   * the count removed. Scans the table in slices of about 2 ms, yielding between them, so a flush
   * over a large cache never stalls the listeners. Everything, with negatives too, is dropped at once.
   */
  async removeWhere(matches: (nameKey: string) => boolean, negativeOnly: boolean, everything = false, dryRun = false): Promise<number> {
    if (everything && !negativeOnly) {
      const removed = this.table.size;
      if (dryRun) return removed;
      this.table = new Map();
      this.hand = undefined;
      this.otherTypes = new Map();
      this.slabs = new Slabs(this.policy.maxBytes, this.now);
      this.entryBytes = 0;
      return removed;
    }
    let removed = 0;
    let visited = 0;
    let sliceStart = performance.now();
    // A Map iterator follows deletes and inserts made while it is paused.
    for (const key of this.table.keys()) {
      if (matches(nameKeyOfKey(key))) removed += this.removeKey(key, negativeOnly, dryRun);
      if (++visited % FLUSH_CHECK === 0 && performance.now() - sliceStart >= FLUSH_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return removed;
  }

  /** Distinct names cached (a scan: for tests). */
  get names(): number {
    const names = new Set<string>();
    for (const key of this.table.keys()) names.add(nameKeyOfKey(key));
    return names.size;
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * What the entries cost in memory: the slab bytes they keep (a slab counts whole while one of its
   * entries lives), plus key characters and ENTRY_OVERHEAD_BYTES each.
   */
  get bytes(): number {
    return this.entryBytes + this.slabs.heldBytes;
  }
}
