// The cache snapshot on its own: a round trip keeps every entry as it was (sections, store time,
// TTL, negative flag, origin, hits) and drops what is past the stale window; a truncated, corrupt,
// other-version, wrong-magic, oversized or hostile file is refused with its reason and leaves the
// cache empty; a write while the cache changes (or is flushed) writes only entries still stored.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdeCode, Rcode, RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import type { Resolution } from '../../dns/resolution.js';
import { soaRecord, txtRecord, upstreamAnswer } from '../testing/harness.js';
import { AnswerStore, type CacheEntry, type CachePolicy } from './answer-store.js';
import { CacheSnapshots, cacheSnapshotFile, loadSnapshot, writeSnapshot } from './snapshot.js';
import { SNAPSHOT_HEADER_BYTES } from './snapshot-format.js';

const POLICY: CachePolicy = { maxEntries: 1000, maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400, negativeMinTtl: 0, negativeMaxTtl: 3_600, serveStale: true, staleMaxAge: 3_600 };
const keyOf = (name: string, type: number = RRType.TXT) => makeQuestion(name, type).key;
const T0 = Date.UTC(2026, 0, 1);

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dnslinkd-snapshot-'));
  file = cacheSnapshotFile(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What a loaded entry must still say: everything a hit or the APIs read. */
function described(entry: CacheEntry) {
  const res = entry.resolution;
  return {
    key: entry.key,
    storedAt: entry.storedAt,
    ttl: entry.ttl,
    expiresAt: entry.expiresAt,
    rcode: entry.rcode,
    negative: entry.negative,
    hits: entry.hits,
    body: entry.body.toString('hex'),
    origin: { source: entry.origin.source, upstream: entry.origin.upstream, ede: entry.origin.ede },
    answers: res.answers,
    authorities: res.authorities,
  };
}

/** A store holding a positive TXT, an A, a negative answer, one with its own EDE, one stale and one past the stale window. */
function filledStore(clock: { now: number }): AnswerStore {
  const store = new AnswerStore(POLICY, () => clock.now);
  const nxdomain: Resolution = { rcode: Rcode.NXDOMAIN, source: 'upstream', upstream: 'udp://192.0.2.53:53', answers: [], authorities: [soaRecord(300, 120)], additionals: [] };
  const withEde: Resolution = { ...upstreamAnswer(txtRecord('_dnslink.ede.example', 600)), ede: { code: EdeCode.STALE_ANSWER, text: 'an upstream said so' } };
  clock.now = T0 - 7_200_000; // two hours ago: past the one-hour stale window by now
  store.put(keyOf('_dnslink.gone.example'), upstreamAnswer(txtRecord('_dnslink.gone.example', 60)));
  clock.now = T0 - 1_800_000; // half an hour ago, TTL 60: stale now, within the window
  store.put(keyOf('_dnslink.stale.example'), upstreamAnswer(txtRecord('_dnslink.stale.example', 60, 'dnslink=/ipfs/stale')));
  clock.now = T0 - 10_000;
  store.put(keyOf('_dnslink.fresh.example'), upstreamAnswer(txtRecord('_dnslink.fresh.example', 3_600, 'dnslink=/ipfs/fresh')));
  store.put(keyOf('www.example', RRType.A), upstreamAnswer({ name: 'www.example', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.1' }));
  store.put(keyOf('missing.example'), nxdomain);
  store.put(keyOf('_dnslink.ede.example'), withEde);
  for (let i = 0; i < 3; i++) store.get(keyOf('_dnslink.fresh.example'))!.recordHit();
  clock.now = T0;
  return store;
}

describe('cache snapshot', () => {
  it('round trip: every entry comes back as it was stored, stale ones included, and one past the stale window is dropped', async () => {
    const clock = { now: 0 };
    const store = filledStore(clock);
    const written = await writeSnapshot(store, file, () => clock.now);
    expect(written.entries).toBe(6);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}.tmp`)).toBe(false);

    clock.now = T0 + 60_000; // restarted a minute later
    const loaded = new AnswerStore(POLICY, () => clock.now);
    const result = await loadSnapshot(loaded, file, 1 << 20, () => clock.now);
    expect(result).toMatchObject({ result: 'loaded', entries: 6, kept: 5, writtenAt: T0 });
    const keys = ['_dnslink.stale.example', '_dnslink.fresh.example', 'missing.example', '_dnslink.ede.example'].map((n) => keyOf(n)).concat(keyOf('www.example', RRType.A));
    for (const key of keys) expect(described(loaded.get(key)!)).toEqual(described(store.get(key, T0)!));
    expect(loaded.get(keyOf('_dnslink.gone.example'))).toBeUndefined();
    expect(loaded.get(keyOf('_dnslink.fresh.example'))!.hits).toBe(3);
    expect(loaded.get(keyOf('missing.example'))!.negative).toBe(true);
    // The answers without an EDE of their own share one origin again.
    expect(loaded.get(keyOf('_dnslink.fresh.example'))!.origin).toBe(loaded.get(keyOf('www.example', RRType.A))!.origin);
  });

  it('a clock set back since the write does not make an entry younger than now', async () => {
    const clock = { now: T0 };
    const store = new AnswerStore(POLICY, () => clock.now);
    store.put(keyOf('_dnslink.a.example'), upstreamAnswer(txtRecord('_dnslink.a.example', 60)));
    await writeSnapshot(store, file, () => clock.now);
    clock.now = T0 - 3_600_000;
    const loaded = new AnswerStore(POLICY, () => clock.now);
    await loadSnapshot(loaded, file, 1 << 20, () => clock.now);
    expect(loaded.get(keyOf('_dnslink.a.example'))!.storedAt).toBe(clock.now);
  });

  it('a missing snapshot is reported as such', async () => {
    const store = new AnswerStore(POLICY);
    expect(await loadSnapshot(store, file, 1 << 20)).toEqual({ result: 'missing' });
  });

  describe('refuses a file it cannot trust, whole, saying why, and leaves the cache empty', () => {
    const refused = async (bytes: Buffer, maxFileBytes = 1 << 20) => {
      writeFileSync(file, bytes);
      const store = new AnswerStore(POLICY, () => T0);
      const result = await loadSnapshot(store, file, maxFileBytes, () => T0);
      expect(store.size).toBe(0);
      expect(result.result).toBe('ignored');
      return result.result === 'ignored' ? result.why : '';
    };
    const goodFile = async () => {
      await writeSnapshot(filledStore({ now: 0 }), file, () => T0);
      return readFileSync(file);
    };
    /** The checksum made right again after a change: what a hostile file would carry. */
    const rehashed = (bytes: Buffer) => {
      bytes.writeUInt32BE(crc32(bytes.subarray(0, 40), crc32(bytes.subarray(SNAPSHOT_HEADER_BYTES))), 40);
      return bytes;
    };
    /** The offset of the first entry record's key length (after the origin record that precedes it). */
    const firstEntryAt = (bytes: Buffer) => {
      let at = SNAPSHOT_HEADER_BYTES;
      while (bytes[at] !== 2) {
        at += 2;
        at += 2 + bytes.readUInt16BE(at) + 3;
        at += 2 + bytes.readUInt16BE(at);
      }
      return at;
    };

    it('truncated', async () => {
      const bytes = await goodFile();
      expect(await refused(bytes.subarray(0, bytes.length - 10))).toMatch(/^truncated: \d+ of \d+ body bytes/);
      expect(await refused(bytes.subarray(0, 20))).toMatch(/^truncated: 20 bytes, shorter than the 64-byte header/);
      expect(await refused(Buffer.alloc(0))).toMatch(/^truncated/);
    });

    it('a corrupt byte', async () => {
      const bytes = await goodFile();
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0x40, bytes.length - 5);
      expect(await refused(bytes)).toBe('corrupt: checksum mismatch');
    });

    it('another format version, or no snapshot at all', async () => {
      const bytes = await goodFile();
      bytes.writeUInt32BE(0, 8);
      expect(await refused(Buffer.from(bytes))).toBe('format version 0, this dnslinkd reads version 1');
      bytes.write('SQLite f', 0, 'latin1');
      expect(await refused(bytes)).toBe('not a dnslinkd cache snapshot (wrong magic bytes)');
    });

    it('a FIFO or a directory at the path: refused at once, never waited on', async () => {
      execFileSync('mkfifo', [file]);
      const store = new AnswerStore(POLICY, () => T0);
      const result = await Promise.race([loadSnapshot(store, file, 1 << 20, () => T0), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3_000))]);
      expect(result).toEqual({ result: 'ignored', why: 'not a regular file' });
      rmSync(file);
      mkdirSync(file);
      expect(await loadSnapshot(store, file, 1 << 20, () => T0)).toMatchObject({ result: 'ignored' });
      rmSync(file, { recursive: true });
    });

    it('larger than the cache could have written (not read at all)', async () => {
      const bytes = await goodFile();
      expect(await refused(bytes, bytes.length - 1)).toMatch(/more than a cache of cache.maxBytes can have written/);
    });

    it('hostile sizes with a valid checksum: a key, sections or counts that do not hold together', async () => {
      const good = await goodFile();
      const entryAt = firstEntryAt(good);
      const hugeKey = Buffer.from(good);
      hugeKey.writeUInt16BE(60_000, entryAt + 30);
      expect(await refused(rehashed(hugeKey))).toMatch(/has a key of 60000 bytes/);
      const keyLength = good.readUInt16BE(entryAt + 30);
      const longBody = Buffer.from(good);
      longBody.writeUInt16BE(0xffff, entryAt + 32 + keyLength);
      expect(await refused(rehashed(longBody))).toMatch(/runs past the end|do not parse/);
      const moreRecords = Buffer.from(good);
      moreRecords.writeUInt16BE(2, entryAt + 24);
      expect(await refused(rehashed(moreRecords))).toMatch(/sections that do not parse/);
      const countLies = Buffer.from(good);
      countLies.writeUInt32BE(0xffffffff, 16);
      expect(await refused(rehashed(countLies))).toMatch(/6 entries .* the header says 4294967295/);
      const badOrigin = Buffer.from(good);
      badOrigin.writeUInt32BE(1_000_000, entryAt + 1);
      expect(await refused(rehashed(badOrigin))).toMatch(/undefined origin/);
    });
  });

  it('a write while the cache changes writes only entries still stored, each intact', async () => {
    const clock = { now: T0 };
    const store = new AnswerStore({ ...POLICY, maxEntries: 100_000, maxBytes: 64 << 20 }, () => clock.now);
    const put = (i: number) => store.put(keyOf(`_dnslink.n${i}.example`), upstreamAnswer(txtRecord(`_dnslink.n${i}.example`, 3_600, `dnslink=/ipfs/n${i}`)));
    for (let i = 0; i < 20_000; i++) put(i);
    let churn = 20_000;
    const churning = setInterval(() => {
      for (let i = 0; i < 200; i++) put(churn++);
      void store.removeWhere((nameKey) => nameKey.includes('n1'), false);
    }, 0);
    try {
      await writeSnapshot(store, file, () => clock.now);
    } finally {
      clearInterval(churning);
    }
    const loaded = new AnswerStore({ ...POLICY, maxEntries: 100_000, maxBytes: 64 << 20 }, () => clock.now);
    const result = await loadSnapshot(loaded, file, 64 << 20, () => clock.now);
    expect(result.result).toBe('loaded');
    expect(loaded.size).toBeGreaterThan(0);
    for (const entry of loaded.entries()) {
      const answer = entry.resolution.answers[0]!;
      const name = answer.name;
      expect(answer.type === 'TXT' ? Buffer.concat(answer.data as Buffer[]).toString() : answer.type).toBe(`dnslink=/ipfs/${name.split('.')[1]}`);
      expect(entry.key).toBe(keyOf(name));
    }
  });

  it('a flush of everything during a write ends it with what was written before: no entry of the flushed table is read after', async () => {
    const clock = { now: T0 };
    const policy = { ...POLICY, maxEntries: 100_000, maxBytes: 64 << 20 };
    const store = new AnswerStore(policy, () => clock.now);
    for (let i = 0; i < 50_000; i++) store.put(keyOf(`_dnslink.n${i}.example`), upstreamAnswer(txtRecord(`_dnslink.n${i}.example`, 3_600)));
    // Everything flushed once the write has taken 10,000 entries (as an admin flush would, between two of them).
    const walk = store.walk.bind(store);
    store.walk = () => {
      const { entries, current } = walk();
      let taken = 0;
      const flushing: IterableIterator<CacheEntry> = {
        next: () => {
          if (++taken === 10_001) void store.removeWhere(() => true, false, true);
          return entries.next();
        },
        [Symbol.iterator]: () => flushing,
      };
      return { entries: flushing, current };
    };
    const written = await writeSnapshot(store, file, () => clock.now);
    expect(written.entries).toBe(10_000);
    const loaded = new AnswerStore(policy, () => clock.now);
    expect(await loadSnapshot(loaded, file, 64 << 20, () => clock.now)).toMatchObject({ result: 'loaded', kept: written.entries });
  });

  it('CacheSnapshots: an unusable snapshot is one warn line naming the file and why; a missing one starts empty; counted', async () => {
    const lines: Array<{ level: number; msg: string; file?: string }> = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]), done()) }));
    const registry = new Registry();
    const store = new AnswerStore(POLICY, () => T0);
    const snapshots = new CacheSnapshots(store, file, 0, registry, log, () => T0);
    await snapshots.load();
    writeFileSync(file, 'not a snapshot at all, but long enough to fill a whole header, so the magic bytes are what is wrong');
    await new CacheSnapshots(store, file, 0, new Registry(), log, () => T0).load();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, 'no cache snapshot yet: starting with an empty cache'],
      [40, `cache snapshot ${file} ignored: not a dnslinkd cache snapshot (wrong magic bytes); starting with an empty cache`],
    ]);
    expect(store.size).toBe(0);
    expect(await registry.getSingleMetricAsString('dnslinkd_cache_snapshot_loads_total')).toMatch(/result="missing"} 1/);
  });

  it('CacheSnapshots: a write that fails is logged and counted, not thrown', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]), done()) }));
    const registry = new Registry();
    writeFileSync(join(dir, 'not-a-dir'), '');
    const snapshots = new CacheSnapshots(new AnswerStore(POLICY), join(dir, 'not-a-dir', 'cache-0.snapshot'), 0, registry, log);
    await snapshots.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.level)).toEqual([40]);
    expect(lines[0]!.msg).toMatch(/not-a-dir\/cache-0.snapshot not written: .*(EEXIST|ENOTDIR|DATA_DIR_UNUSABLE|not a directory)/);
    expect(await registry.getSingleMetricAsString('dnslinkd_cache_snapshot_writes_total')).toMatch(/result="failed"} 1/);
  });
});
