// One denylist source: a list fetched from a URL (conditional requests, bounded body, timeout) or
// read from a file (watched, and re-read on refresh), each new version compiled in slices and
// handed to the listeners; the last two versions kept in <dataDir>/denylists/ so a restart without
// network still blocks. What to do with a new version (apply it or hold it) is the stage's guard.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { CodedError, errorMessage } from '../../../errors.js';
import { VERSION } from '../../../version.js';
import { parseDenylistAsync } from '../format/index.js';
import type { CompiledDenylist } from '../format/types.js';
import { KeptLists } from './kept-lists.js';
import type { DenylistFetchStatus, DenylistSourceConfig, DenylistSourceStatus } from './types.js';

/**
 * Largest list read from a URL or a file: 256 MiB. Bad Bits is about 50 MB (under a million
 * 67-byte lines); this leaves it room to grow five-fold and stays well under V8's longest string.
 */
export const MAX_LIST_BYTES = 256 * 1024 * 1024;
/** A fetch (headers and body) that takes longer is abandoned: 120 s. */
export const FETCH_TIMEOUT_MS = 120_000;
export const DEFAULT_REFRESH_INTERVAL_MS = 300_000;
export const MIN_REFRESH_INTERVAL_MS = 1000;
/** A file changed on disk is read again this long after the last change event (editors write in steps). */
const WATCH_SETTLE_MS = 200;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export interface DenylistSourceDeps {
  /** The daemon's data dir: lists are kept in <dataDir>/denylists/. */
  dataDir: string;
  /**
   * Data dirs whose kept copies are read at start when dataDir holds none from this source: a
   * cluster worker reads those a single process kept, and the reverse, so a restart that changes
   * dns.workers without network still blocks.
   */
  fallbackDataDirs?: readonly string[];
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

type Candidate = { list: CompiledDenylist; from: 'network' | 'file' | 'data-dir' };

export class DenylistSource {
  readonly config: DenylistSourceConfig;
  private readonly deps: DenylistSourceDeps;
  private readonly kept: KeptLists;
  private readonly source: string;
  private readonly intervalMs: number;
  private readonly listeners: Array<(list: CompiledDenylist) => void> = [];
  private current: Candidate | undefined;
  private lastFetch: DenylistFetchStatus | undefined;
  /** The file's size and mtime when last read (a file unchanged is not parsed again). */
  private fileStamp: string | undefined;
  /** The next read of the file ignores fileStamp (a reload asked for it: SIGHUP re-reads files). */
  private rereadFile = false;
  private timer: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private settle: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(config: DenylistSourceConfig, deps: DenylistSourceDeps) {
    if (!NAME.test(config.name)) {
      throw new CodedError('DENYLIST_SOURCE_INVALID', `denylist.sources: name ${JSON.stringify(config.name)} must be letters, digits, '.', '_' or '-' (64 at most), starting with a letter or digit`);
    }
    if ((config.url === undefined) === (config.file === undefined)) {
      throw new CodedError('DENYLIST_SOURCE_INVALID', `denylist.sources "${config.name}": give exactly one of url and file`);
    }
    if (config.url !== undefined && !/^https?:\/\//i.test(config.url)) {
      throw new CodedError('DENYLIST_SOURCE_INVALID', `denylist.sources "${config.name}": url must be http:// or https://, got ${JSON.stringify(config.url)}`);
    }
    this.config = config;
    this.deps = deps;
    this.kept = new KeptLists(deps.dataDir, config.name);
    this.source = config.url ?? resolve(config.file!);
    this.intervalMs = Math.max(MIN_REFRESH_INTERVAL_MS, config.refreshIntervalMs || DEFAULT_REFRESH_INTERVAL_MS);
  }

  /**
   * Loads the list: the version kept in the data dir first (when it came from this source), then
   * the URL or file. Resolves even when no version can be read at all (status().unavailable says
   * so); then refreshes every refreshIntervalMs, and a file also when it changes on disk.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.loadFromDataDir();
    await this.refresh();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
    if (this.config.file !== undefined) this.watchFile();
  }

  /** Stops the timer and the file watcher; waits for a read under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.settle);
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
  }

  /**
   * Fetches the URL (conditionally) or re-reads the file now; called on SIGHUP too. A read under
   * way is followed by one more, so a change made before the call is seen. Never rejects.
   */
  refresh(options: { reread?: boolean } = {}): Promise<void> {
    if (options.reread) this.rereadFile = true;
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          if (this.stopped) break;
          await (this.config.url !== undefined ? this.fetchUrl(this.config.url) : this.readFileSource(this.source));
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * `listener` gets every new version read (one whose content differs from the last handed out);
   * registered after one was, it gets that one at once.
   */
  onCandidate(listener: (list: CompiledDenylist) => void): void {
    this.listeners.push(listener);
    if (this.current !== undefined) listener(this.current.list);
  }

  /**
   * A version kept in the data dir (the newest two are), compiled again: e.g. the version the
   * stage had applied when the newest one is held by its guard. Undefined when it is not kept.
   */
  /** Keeps the version the stage applied in the data dir, whatever comes after it (kept-lists.ts). */
  async pinApplied(version: string): Promise<void> {
    await this.kept.pinApplied(version).catch((err: unknown) => this.deps.log.warn({ list: this.config.name, dir: this.kept.dir, error: errorMessage(err) }, 'the applied denylist version could not be kept in the data dir'));
  }

  async loadKept(version: string): Promise<CompiledDenylist | undefined> {
    if (this.current?.list.version === version) return this.current.list;
    const content = await this.kept.read(version);
    if (content === undefined) return undefined;
    const list = await this.compile([content]).catch(() => undefined);
    return list?.version === version ? list : undefined;
  }

  status(): DenylistSourceStatus {
    const list = this.current?.list;
    return {
      name: this.config.name,
      kind: this.config.kind,
      source: this.source,
      ...(list ? { version: list.version, entries: list.entries, badLines: list.badLines, loadedFrom: this.current!.from } : {}),
      ...(this.lastFetch ? { lastFetch: { ...this.lastFetch } } : {}),
      unavailable: list === undefined,
    };
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private record(result: DenylistFetchStatus['result'], error?: string): void {
    this.lastFetch = { at: new Date(this.now()).toISOString(), result, ...(error !== undefined ? { error } : {}) };
    if (error !== undefined) {
      this.deps.log.warn(
        { list: this.config.name, source: this.source, error, keeping: this.current?.list.version ?? null },
        this.current ? 'denylist read failed: the last good version stays in force' : 'denylist read failed: no version of the list is available',
      );
    }
  }

  /** Compiles the list's bytes, decoded as UTF-8 a slice at a time. */
  private compile(content: readonly Uint8Array[]): Promise<CompiledDenylist> {
    let reported = 0;
    return parseDenylistAsync(decodeSlices(content), {
      name: this.config.name,
      onBadLine: (line, message) => {
        // Every bad line counts (badLines); the first 20 of a version are logged.
        if (++reported <= 20) this.deps.log.warn({ list: this.config.name, line, problem: message }, 'denylist line skipped');
      },
    });
  }

  private offer(list: CompiledDenylist, from: Candidate['from']): void {
    if (this.current?.list.version === list.version) return;
    this.current = { list, from };
    this.deps.log.info({ list: this.config.name, version: list.version, entries: list.entries, badLines: list.badLines, from }, 'denylist version read');
    for (const listener of this.listeners) {
      try {
        listener(list);
      } catch (err) {
        this.deps.log.error({ list: this.config.name, error: errorMessage(err) }, 'denylist candidate listener failed');
      }
    }
  }

  private async loadFromDataDir(): Promise<void> {
    for (const kept of [this.kept, ...(this.deps.fallbackDataDirs ?? []).map((dir) => new KeptLists(dir, this.config.name))]) {
      const meta = await kept.readMeta();
      if (meta === undefined || meta.source !== this.source) continue;
      const content = await kept.read(meta.version);
      const list = content && (await this.compile([content]).catch(() => undefined));
      if (list === undefined || list.version !== meta.version) {
        this.deps.log.warn({ list: this.config.name, dir: kept.dir }, 'denylist kept in the data dir is missing or damaged: ignored');
        continue;
      }
      this.offer(list, 'data-dir');
      return;
    }
  }

  private async fetchUrl(url: string): Promise<void> {
    const meta = this.current !== undefined ? await this.kept.readMeta() : undefined;
    const conditional = meta !== undefined && meta.source === this.source && meta.version === this.current?.list.version;
    const headers: Record<string, string> = { 'user-agent': `dnslinkd/${VERSION}`, accept: 'text/plain, */*' };
    if (conditional && meta.etag) headers['if-none-match'] = meta.etag;
    if (conditional && meta.lastModified) headers['if-modified-since'] = meta.lastModified;
    const abort = AbortSignal.timeout(FETCH_TIMEOUT_MS);
    let content: Uint8Array[];
    let validators: { etag?: string; lastModified?: string };
    try {
      const response = await (this.deps.fetch ?? fetch)(url, { headers, signal: abort, redirect: 'follow' });
      validators = {
        ...(response.headers.get('etag') ? { etag: response.headers.get('etag')! } : {}),
        ...(response.headers.get('last-modified') ? { lastModified: response.headers.get('last-modified')! } : {}),
      };
      if (response.status === 304 && this.current !== undefined) {
        await response.body?.cancel();
        this.record('not-modified');
        if (validators.etag || validators.lastModified) await this.kept.touch({ ...pickValidators(meta), ...validators }).catch(() => undefined);
        return;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new CodedError('DENYLIST_FETCH_FAILED', `HTTP ${response.status} from ${url}`);
      }
      content = await readBody(response, url);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const message = abort.aborted
        ? `no complete answer from ${url} within ${FETCH_TIMEOUT_MS / 1000} s`
        : `${errorMessage(err)}${cause instanceof Error ? ` (${cause.message})` : ''}`;
      this.record('error', message);
      return;
    }
    await this.accept(content, 'network', validators);
  }

  private async readFileSource(file: string): Promise<void> {
    let content: Buffer;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new CodedError('DENYLIST_FILE_UNREADABLE', `${file} is not a file`);
      if (info.size > MAX_LIST_BYTES) throw new CodedError('DENYLIST_TOO_LARGE', `${file} is ${info.size} bytes, more than ${MAX_LIST_BYTES} (the largest list read)`);
      const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
      const reread = this.rereadFile;
      this.rereadFile = false;
      if (!reread && stamp === this.fileStamp && this.current?.from === 'file') {
        this.record('not-modified');
        return;
      }
      content = await readFile(file);
      this.fileStamp = stamp;
    } catch (err) {
      const message = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${file} does not exist` : errorMessage(err);
      this.record('error', message);
      return;
    }
    await this.accept([content], 'file', {});
  }

  /** Compiles a text just read; a new version is kept in the data dir and handed to the listeners. */
  private async accept(content: Uint8Array[], from: 'network' | 'file', validators: { etag?: string; lastModified?: string }): Promise<void> {
    let list: CompiledDenylist;
    try {
      list = await this.compile(content);
    } catch (err) {
      this.fileStamp = undefined;
      this.record('error', errorMessage(err));
      return;
    }
    try {
      await this.kept.save(content, { source: this.source, version: list.version, ...validators });
    } catch (err) {
      this.deps.log.warn({ list: this.config.name, dir: this.kept.dir, error: errorMessage(err) }, 'denylist could not be kept in the data dir (a restart without the source will not have it)');
    }
    this.record(this.current?.list.version === list.version ? 'not-modified' : 'ok');
    if (this.current?.list.version === list.version) this.current = { list: this.current.list, from };
    this.offer(list, from);
  }

  private watchFile(): void {
    const file = this.source;
    try {
      // The directory is watched: editors and `mv` replace the file, which ends a watch on the file itself.
      this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed !== null && changed !== basename(file)) return;
        clearTimeout(this.settle);
        this.settle = setTimeout(() => void this.refresh(), WATCH_SETTLE_MS);
        this.settle.unref();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined; // the refresh interval still reads it
      });
    } catch {
      this.watcher = undefined;
    }
  }
}

function pickValidators(meta: { etag?: string; lastModified?: string } | undefined): { etag?: string; lastModified?: string } {
  return { ...(meta?.etag ? { etag: meta.etag } : {}), ...(meta?.lastModified ? { lastModified: meta.lastModified } : {}) };
}

/** Slices of at most 1 MiB of `content` decoded as UTF-8 (a character split between slices kept whole). */
async function* decodeSlices(content: readonly Uint8Array[]): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  const SLICE = 1 << 20;
  for (const chunk of content) {
    for (let at = 0; at < chunk.length; at += SLICE) yield decoder.decode(chunk.subarray(at, at + SLICE), { stream: true });
  }
  yield decoder.decode();
}

/** The body's bytes, refused past MAX_LIST_BYTES (announced or read). */
async function readBody(response: Response, url: string): Promise<Uint8Array[]> {
  const announced = Number(response.headers.get('content-length') ?? NaN);
  if (announced > MAX_LIST_BYTES) throw new CodedError('DENYLIST_TOO_LARGE', `${url} announces ${announced} bytes, more than ${MAX_LIST_BYTES} (the largest list read)`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body === null) return [];
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > MAX_LIST_BYTES) {
      throw new CodedError('DENYLIST_TOO_LARGE', `${url} sent more than ${MAX_LIST_BYTES} bytes (the largest list read)`);
    }
    chunks.push(chunk);
  }
  return chunks;
}
