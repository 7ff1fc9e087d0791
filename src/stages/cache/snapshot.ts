// The cache kept across restarts (cache.persist): the answer store written to the data dir at
// shutdown and every cache.persistIntervalMs, atomically and in slices that yield to the event loop,
// and read back at start before the listeners answer. A snapshot that cannot be used is logged and
// ignored: the cache never stops a start. The file format is snapshot-format.ts.
import { constants as fsConstants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { prepareDataDir } from '../../runtime/data-dir.js';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errorMessage } from '../../errors.js';
import type { AnswerStore } from './answer-store.js';
import type { CacheConfig } from './config.js';
import { CacheSnapshotMetrics } from './metrics.js';
import { decodeRecords, readHeader, SNAPSHOT_HEADER_BYTES, SnapshotEncoder, SnapshotRejected } from './snapshot-format.js';

/** A write hands the file this much at a time (asynchronously), and yields to the event loop after SLICE_MS of work. */
const CHUNK_BYTES = 1024 * 1024;
const SLICE_MS = 1;
const SLICE_CHECK_EVERY = 32;
/** A load yields to the event loop after this long. */
const LOAD_SLICE_MS = 20;
/**
 * Entries a write visits, at most, per entry the store held when it began: the store's live
 * iterator comes again to entries given a second chance (or stored) meanwhile.
 */
const VISITS_PER_ENTRY = 2;

/** The snapshot file of the cache of worker `index` (0 for a single process) in `dataDir`. */
export function cacheSnapshotFile(dataDir: string, index = 0): string {
  return join(dataDir, `cache-${index}.snapshot`);
}

export interface SnapshotWritten {
  entries: number;
  bytes: number;
  durationMs: number;
  /** CPU time the process spent meanwhile (every thread): steadier than `durationMs` on a busy host. */
  cpuMs: number;
}

export type SnapshotLoaded =
  | { result: 'missing' }
  | { result: 'ignored'; why: string }
  | { result: 'loaded'; entries: number; kept: number; writtenAt: number; durationMs: number; cpuMs: number };

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/**
 * Writes every entry of `store` (stale ones included) to `file`: a temporary file in the same
 * directory (mode 0600), fsynced, renamed over `file`, and the directory fsynced. Encodes and
 * checksums for about SLICE_MS at a time, then yields; each CHUNK_BYTES goes to the file
 * asynchronously: the listeners answer throughout. While `paced()` (a write while serving): after each
 * slice it waits as long as the slice took, so the write takes at most half the event loop and
 * the process sleeps between slices (the scheduler wakes a sleeper for its next query at once; a
 * process busy all along waits its turn on a loaded host). Throws on an I/O error (the temporary
 * file is removed).
 */
export async function writeSnapshot(store: AnswerStore, file: string, now: () => number = Date.now, paced: () => boolean = () => false): Promise<SnapshotWritten> {
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const dir = dirname(file);
  const temporary = `${file}.tmp`;
  prepareDataDir(dir);
  await rm(temporary, { force: true });
  const handle = await open(temporary, 'wx', 0o600);
  const encoder = new SnapshotEncoder(CHUNK_BYTES);
  let position = SNAPSHOT_HEADER_BYTES;
  const writeAt = async (bytes: Buffer, at: number) => {
    // A short write (a disk nearly full) is continued until all is written or the write fails.
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at + done);
      if (bytesWritten === 0) throw new Error(`no byte written at offset ${at + done}`);
      done += bytesWritten;
    }
  };
  const flush = async () => {
    const bytes = encoder.take();
    await writeAt(bytes, position);
    position += bytes.length;
    encoder.reset();
  };
  try {
    const maxVisits = store.size * VISITS_PER_ENTRY + 1024;
    let visits = 0;
    let sliceStart = performance.now();
    const walk = store.walk();
    for (const entry of walk.entries) {
      if (++visits > maxVisits || !walk.current()) break;
      // Encoded before the next await: an entry evicted later may see its slab hold others' bytes.
      if (!encoder.fits(encoder.sizeOf(entry))) {
        await flush();
        sliceStart = performance.now();
      }
      encoder.add(entry);
      if (visits % SLICE_CHECK_EVERY !== 0) continue;
      const worked = performance.now() - sliceStart;
      if (worked < SLICE_MS) continue;
      encoder.hashEncoded();
      if (paced()) await new Promise<void>((resolve) => setTimeout(resolve, worked));
      else await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    await flush();
    await writeAt(encoder.header(now()), 0);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, file);
  await syncDirectory(dir);
  return { entries: encoder.entries, bytes: position, durationMs: performance.now() - started, cpuMs: cpuMsSince(cpuStart) };
}

/** So the rename itself survives a crash. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Reads `file` into `store` (meant empty: a start's): fresh entries stay fresh (their store time is
 * kept), expired ones within the stale window serve stale, older ones are dropped. A file larger
 * than `maxFileBytes`, or one that fails any check, is ignored whole and the store left empty.
 * Never throws: the result says what happened.
 */
export async function loadSnapshot(store: AnswerStore, file: string, maxFileBytes: number, now: () => number = Date.now): Promise<SnapshotLoaded> {
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let bytes: Buffer;
  try {
    const read = await readBounded(file, maxFileBytes);
    if (read === undefined) return { result: 'missing' };
    bytes = read;
  } catch (err) {
    return { result: 'ignored', why: err instanceof SnapshotRejected ? err.message : `cannot read it: ${errorMessage(err)}` };
  }
  try {
    const header = readHeader(bytes);
    const at = now();
    let sliceStart = performance.now();
    const shouldYield = () => {
      if (performance.now() - sliceStart < LOAD_SLICE_MS) return false;
      sliceStart = performance.now();
      return true;
    };
    await decodeRecords(bytes, header, (saved) => void store.restore(saved, at), shouldYield);
    return { result: 'loaded', entries: header.entries, kept: store.size, writtenAt: header.writtenAt, durationMs: performance.now() - started, cpuMs: cpuMsSince(cpuStart) };
  } catch (err) {
    await store.removeWhere(() => true, false, true);
    return { result: 'ignored', why: err instanceof SnapshotRejected ? err.message : `cannot decode it: ${errorMessage(err)}` };
  }
}

/** The whole file, or undefined when there is none; SnapshotRejected when it is larger than `maxBytes`. */
async function readBounded(file: string, maxBytes: number): Promise<Buffer | undefined> {
  let handle;
  try {
    // Non-blocking: a FIFO (or a device) at the path must not hold the start (an open for reading
    // waits for a writer, in a thread that even process.exit waits for).
    handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new SnapshotRejected('not a regular file');
    const size = stat.size;
    if (size > maxBytes) throw new SnapshotRejected(`${size} bytes, more than a cache of cache.maxBytes can have written (${maxBytes})`);
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * One instance's cache snapshots: loaded once at start, written every `persistIntervalMs` and
 * at shutdown, one write at a time. Failures are logged and counted, never thrown.
 */
export class CacheSnapshots {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  /** Set by `close`: the listeners are closed, writes need not leave them room. */
  private closing = false;
  private readonly metrics: CacheSnapshotMetrics;

  constructor(
    private readonly store: AnswerStore,
    readonly file: string,
    private readonly intervalMs: number,
    registry: Registry,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.metrics = new CacheSnapshotMetrics(registry);
  }

  /** Reads the snapshot into the (empty) cache; an unusable one is logged in one line and ignored. */
  async load(): Promise<void> {
    // What a cache bounded by maxBytes can have written: its entries cost more in memory than on disk.
    const maxFileBytes = SNAPSHOT_HEADER_BYTES + this.store.policy.maxBytes;
    const loaded = await loadSnapshot(this.store, this.file, maxFileBytes, this.now);
    this.metrics.loads.inc({ result: loaded.result });
    if (loaded.result === 'missing') {
      this.log.info({ file: this.file }, 'no cache snapshot yet: starting with an empty cache');
    } else if (loaded.result === 'ignored') {
      this.log.warn({ file: this.file, why: loaded.why }, `cache snapshot ${this.file} ignored: ${loaded.why}; starting with an empty cache`);
    } else {
      this.metrics.loadSeconds.set(loaded.durationMs / 1000);
      this.metrics.entries.set({ op: 'loaded' }, loaded.kept);
      const ageSeconds = Math.round((this.now() - loaded.writtenAt) / 1000);
      this.log.info({ file: this.file, entries: loaded.entries, kept: loaded.kept, ageSeconds, durationMs: Math.round(loaded.durationMs), cpuMs: Math.round(loaded.cpuMs) }, 'cache snapshot loaded');
    }
  }

  /** Writes a snapshot every `intervalMs` (none when 0) until `close`. */
  startPeriodic(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.persist(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes a snapshot now, or joins the one being written (paced until `close`: see writeSnapshot). */
  persist(): Promise<void> {
    this.writing ??= this.write().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  /** Stops the periodic writes and writes the last snapshot, unpaced (after the one under way, if any). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.persist();
  }

  private async write(): Promise<void> {
    try {
      const written = await writeSnapshot(this.store, this.file, this.now, () => !this.closing);
      this.metrics.writes.inc({ result: 'ok' });
      this.metrics.writeSeconds.set(written.durationMs / 1000);
      this.metrics.entries.set({ op: 'written' }, written.entries);
      this.metrics.lastWrite.set(this.now() / 1000);
      this.log.info({ file: this.file, entries: written.entries, bytes: written.bytes, durationMs: Math.round(written.durationMs), cpuMs: Math.round(written.cpuMs) }, 'cache snapshot written');
    } catch (err) {
      this.metrics.writes.inc({ result: 'failed' });
      this.log.warn({ file: this.file, why: errorMessage(err) }, `cache snapshot ${this.file} not written: ${errorMessage(err)} (check that the data dir is writable and has room, or set cache.persist to false)`);
    }
  }
}

/** The snapshots of a cache configured with `cache.persist` (else undefined), in `dataDir`, for worker `index`. */
export function cacheSnapshots(cache: Pick<CacheConfig, 'persist' | 'persistIntervalMs'>, store: AnswerStore, dataDir: string, index: number, registry: Registry, log: Logger, now?: () => number): CacheSnapshots | undefined {
  if (!cache.persist) return undefined;
  return new CacheSnapshots(store, cacheSnapshotFile(dataDir, index), cache.persistIntervalMs, registry, log, now);
}
