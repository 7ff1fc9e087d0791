// The embedded control store: one SQLite file in the data directory (node:sqlite), WAL with
// synchronous=FULL so an acknowledged change survives kill -9 and power loss, each change one
// transaction with its audit record. It tells the truth about its file: one it cannot use stops
// the start (saying why and what to fix), a full disk is SQLITE_FULL, a file deleted or replaced
// under it refuses changes (STORE_REPLACED) and is restored or kept aside so nothing is lost.
import { chmodSync, linkSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';
import { CodedError, errorMessage } from '../errors.js';
import type { Override } from '../stages/overrides/override.js';
import { checkWritableFile, prepareDataDir, unusablePathError } from '../runtime/data-dir.js';
import { onExitAtOnce } from '../runtime/exit-hooks.js';
import { InvalidRecords } from './invalid-records.js';
import { parseStoredRule } from './denylist-rule-records.js';
import type { OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import { parseStoredOverride } from './override-rules.js';
import type { WriterAuditRow, WriterChangeRow } from './embedded-store-writer.js';
import { StoreWriterThread } from './store-writer-thread.js';
import { WORK_CHUNK as WRITE_CHUNK, yieldToEventLoop } from '../runtime/event-loop-yield.js';
import type { AuditQuery, AuditRecord, ControlSnapshot, ControlStore, DenylistRuleChange, FlushRecord, NewAuditRecord, OverrideChange } from './store.js';

const SCHEMA_VERSION = 1;
const FILE_NAME = 'control.db';
/** SQLite's default: a commit that leaves the WAL past this many pages checkpoints it. */
const WAL_AUTOCHECKPOINT_PAGES = 1000;
/** With the writer thread: this many commits on the main connection, then a checkpoint there. */
const CHECKPOINT_EVERY_COMMITS = 100;
/** Rows per message to the writer thread. */
const THREAD_PIECE = 1000;
/** How often the file is compared with the open one when nothing is written (healthz and writes also compare). */
const FILE_CHECK_MS = 5_000;

/** SQLite's primary result codes that reach an operator (node:sqlite gives the number as errcode). */
const SQLITE_CODES: Readonly<Record<number, string>> = {
  3: 'SQLITE_PERM',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  23: 'SQLITE_AUTH',
  26: 'SQLITE_NOTADB',
};

/** `SQLITE_FULL` and SQLite's words for an error from node:sqlite; undefined for any other error. */
function sqliteError(err: unknown): { code: string; text: string } | undefined {
  const e = err as { code?: unknown; errcode?: unknown; errstr?: unknown; message?: unknown } | null;
  if (e?.code !== 'ERR_SQLITE_ERROR' || typeof e.errcode !== 'number') return undefined;
  const primary = e.errcode & 0xff;
  return { code: SQLITE_CODES[primary] ?? `SQLITE_ERROR_${primary}`, text: typeof e.errstr === 'string' ? e.errstr : String(e.message) };
}

/** The device and inode of `path`, or undefined when there is no file. */
function fileIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export interface EmbeddedStoreOptions {
  log?: Logger;
  /** Called once per store fault, by reason (`STORE_REPLACED`, `SQLITE_FULL`, ...): counted by a metric. */
  onFault?: (reason: string) => void;
  /** Where records that cannot be served are reported. */
  invalid?: InvalidRecords;
}


const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS overrides (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, token TEXT NOT NULL, action TEXT NOT NULL,
  name TEXT, reason TEXT, before TEXT, after TEXT, dry_run INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_name ON audit (name, id);
CREATE TABLE IF NOT EXISTS flushes (generation INTEGER PRIMARY KEY, target TEXT NOT NULL, negative_only INTEGER NOT NULL, time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS denylist_rules (id TEXT PRIMARY KEY, record TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ${SCHEMA_VERSION}), ('version', 0), ('generation', 0);
`;

/**
 * The audit log's `force` column (a change with a wide reach accepted on purpose), added to a file
 * made before it; older versions ignore it, so the schema number stays.
 */
function addForceColumn(db: DatabaseSync): void {
  const columns = db.prepare('PRAGMA table_info(audit)').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'force')) db.exec('ALTER TABLE audit ADD COLUMN force INTEGER NOT NULL DEFAULT 0');
}

interface AuditRow {
  id: number;
  time: string;
  token: string;
  action: string;
  name: string | null;
  reason: string | null;
  before: string | null;
  after: string | null;
  dry_run: number;
  force: number;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class EmbeddedStore implements ControlStore {
  readonly kind = 'embedded';
  readonly location: string;
  private readonly db: DatabaseSync;
  private readonly log: Logger | undefined;
  private readonly onFault: (reason: string) => void;
  readonly invalid: InvalidRecords;
  /** The files opened, as device:inode: the path naming other files means they were deleted or replaced. */
  private readonly identity: { db: string | undefined; wal: string | undefined };
  /** Set once the files were deleted or replaced under this instance: changes are refused until a restart. */
  private replaced: string | undefined;
  /** This instance's data was written back (to the path, or beside it) after a replacement. */
  private rescued = false;
  /** Why the last write failed (SQLITE_FULL, ...), until a write succeeds. */
  private writeFault: string | undefined;
  /** A large change in progress (its transaction spans event-loop turns): every other call waits for it. */
  private longChange: Promise<unknown> | undefined;
  private readonly fileCheck: NodeJS.Timeout;
  private closed = false;
  /** Removes this store's closer from those an exit at once runs. */
  private readonly forgetExitHook: (() => void) | undefined;
  /** The thread that writes, commits and checkpoints large changes off the event loop (store-writer-thread.ts); undefined: this connection does. */
  private readonly writer: StoreWriterThread | undefined;
  /** Commits since the writer thread last checkpointed. */
  private commitsSinceCheckpoint = 0;
  /** Changes queued for the writer thread, one after the other, and how many are not done. */
  private threadQueue: Promise<void> = Promise.resolve();
  private threadChanges = 0;

  private constructor(path: string, db: DatabaseSync, options: EmbeddedStoreOptions) {
    this.location = path;
    this.db = db;
    this.log = options.log;
    this.onFault = options.onFault ?? (() => {});
    this.invalid = options.invalid ?? new InvalidRecords();
    this.identity = { db: fileIdentity(path), wal: fileIdentity(`${path}-wal`) };
    this.fileCheck = setInterval(() => this.checkFiles(), FILE_CHECK_MS);
    this.fileCheck.unref();
    this.forgetExitHook = onExitAtOnce(() => this.closeNow());
    // With the writer thread, checkpoints run there (they copy pages and fsync): none on this thread.
    this.writer = StoreWriterThread.start(path, this.log);
    if (this.writer) db.exec('PRAGMA wal_autocheckpoint = 0');
  }

  /**
   * Opens (or creates) the store in `dataDir`. Throws DATA_DIR_UNUSABLE for a directory or file this
   * user cannot use (naming the path, the user and the fix), STORE_CORRUPT only for a database that
   * fails its integrity check, STORE_NEWER_SCHEMA for one written by a newer dnslinkd.
   */
  static open(dataDir: string, options: EmbeddedStoreOptions = {}): EmbeddedStore {
    const path = join(dataDir, FILE_NAME);
    prepareDataDir(dataDir);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) checkWritableFile(file, 'the control store', dataDir);
    // The database, its WAL and its shared-memory file are created 0600 (SQLite gives the last two the database's mode).
    const umask = process.umask(0o077);
    let db: DatabaseSync;
    try {
      try {
        db = new DatabaseSync(path);
      } catch (err) {
        throw unusableStore(path, err, dataDir);
      }
      try {
        chmodSync(path, 0o600);
      } catch {
        // not ours to change: the access check above said it is usable
      }
      try {
        db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
        const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
        if (check?.quick_check !== 'ok') throw new CodedError('STORE_CORRUPT', corruptMessage(path, `integrity check: ${check?.quick_check ?? 'no answer'}`));
        db.exec(SCHEMA);
        addForceColumn(db);
        const schema = (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: number }).value;
        if (schema > SCHEMA_VERSION) {
          throw new CodedError('STORE_NEWER_SCHEMA', `the control store ${path} was written by a newer dnslinkd (schema ${schema}, this one knows ${SCHEMA_VERSION}): run that version, or restore a copy made for this one`);
        }
      } catch (err) {
        db.close();
        if (err instanceof CodedError) throw err;
        const sqlite = sqliteError(err);
        if (sqlite?.code === 'SQLITE_CORRUPT' || sqlite?.code === 'SQLITE_NOTADB') throw new CodedError('STORE_CORRUPT', corruptMessage(path, `${sqlite.code}: ${sqlite.text}`));
        throw unusableStore(path, err, dataDir);
      }
    } finally {
      process.umask(umask);
    }
    for (const file of [`${path}-wal`, `${path}-shm`]) {
      try {
        chmodSync(file, 0o600); // made by an earlier version with the default mode
      } catch {
        // absent, or not ours to change
      }
    }
    return new EmbeddedStore(path, db, options);
  }

  /** Why the store cannot take changes now (files replaced, last write failed), or undefined. */
  get problem(): string | undefined {
    this.checkFiles();
    return this.replaced ?? this.writeFault;
  }

  /** Notices files deleted or replaced under this instance (once): changes are refused from then on, and the data saved. */
  private checkFiles(): void {
    if (this.replaced !== undefined || this.closed) return;
    const db = fileIdentity(this.location);
    const wal = this.identity.wal === undefined ? this.identity.wal : fileIdentity(`${this.location}-wal`);
    if (db === this.identity.db && wal === this.identity.wal) return;
    const what = db === undefined ? 'deleted' : db !== this.identity.db ? 'replaced by another file' : 'left without its WAL file (deleted or replaced)';
    this.replaced = `the control store ${this.location} was ${what} under this running dnslinkd (STORE_REPLACED): changes are refused until a restart`;
    this.onFault('STORE_REPLACED');
    this.log?.error({ store: this.location }, this.replaced);
    this.rescue();
  }

  /**
   * Keeps what this instance holds (every acknowledged change) where a restart finds it: the WAL
   * checkpointed into the database when only the WAL went, the database written back when it was
   * deleted, or written beside it when another file took its place (the operator's file wins).
   */
  private rescue(): void {
    const db = fileIdentity(this.location);
    try {
      if (db !== undefined && db === this.identity.db) {
        this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        this.log?.warn({ store: this.location }, `checkpointed this instance's changes into ${this.location}: restart dnslinkd to take changes again`);
      } else {
        prepareDataDir(dirname(this.location));
        const copy = `${this.location}.${db === undefined ? 'restoring' : 'replaced'}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const umask = process.umask(0o077);
        try {
          this.db.prepare('VACUUM INTO ?').run(copy);
        } finally {
          process.umask(umask);
        }
        if (db === undefined && linkedBack(copy, this.location)) {
          unlinkSync(copy);
          this.log?.warn({ store: this.location }, `wrote this instance's overrides, flushes and audit log back to ${this.location}: restart dnslinkd to take changes again`);
        } else {
          this.log?.warn(
            { store: this.location, copy },
            `kept this instance's overrides, flushes and audit log in ${copy}; a restart uses the file now at ${this.location} (to keep this instance's instead: stop dnslinkd, then mv ${copy} ${this.location})`,
          );
        }
      }
      this.rescued = true;
    } catch (err) {
      this.log?.error({ err, store: this.location }, 'could not save this instance\'s copy of the control store: keep dnslinkd running and export the overrides (dnslinkd override export) before a restart');
    }
  }

  private meta(key: 'version' | 'generation'): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
  }

  /**
   * Runs `work` in one immediate transaction: all of it is durable when this resolves, or none. A
   * large change's `work` runs in steps that yield to the event loop (the DNS port keeps answering);
   * every other call of this store waits until the transaction ends.
   */
  private async transaction<T>(work: () => T | Promise<T>): Promise<T> {
    const run = (async () => {
      let result: T;
      try {
        this.begin();
        try {
          result = await work();
          this.commit();
        } catch (err) {
          this.rollback();
          throw err;
        }
      } catch (err) {
        throw this.writeFailed(err);
      }
      this.writeSucceeded();
      return result;
    })();
    this.longChange = run;
    try {
      return await run;
    } finally {
      if (this.longChange === run) this.longChange = undefined;
    }
  }

  /** Waits while a transaction holds the connection. */
  private async idle(): Promise<void> {
    while (this.longChange) await this.longChange.catch(() => {});
  }

  private begin(): void {
    this.checkFiles();
    if (this.replaced !== undefined) throw new CodedError('STORE_REPLACED', `${this.replaced}; nothing was changed. Restart dnslinkd (the log says where this instance's data was saved)`);
    this.db.exec('BEGIN IMMEDIATE');
  }

  private commit(): void {
    // Last look before the commit: a file deleted meanwhile would take this change with it.
    this.checkFiles();
    if (this.replaced !== undefined) throw new CodedError('STORE_REPLACED', `${this.replaced}; nothing was changed`);
    this.db.exec('COMMIT');
    if (this.writer?.usable && ++this.commitsSinceCheckpoint >= CHECKPOINT_EVERY_COMMITS) this.checkpointInThread();
  }

  /** Asks the writer thread to checkpoint the WAL (a failure is SQLite's to retry at the next). */
  private checkpointInThread(): void {
    this.commitsSinceCheckpoint = 0;
    this.writer?.request({ op: 'checkpoint' }).catch((err: unknown) => this.log?.warn({ err, store: this.location }, 'could not checkpoint the control store: retried later'));
  }

  private rollback(): void {
    // SQLite may have rolled back already (SQLITE_FULL, SQLITE_IOERR): a second ROLLBACK would hide why.
    if (!this.db.isTransaction) return;
    try {
      this.db.exec('ROLLBACK');
    } catch (rollbackErr) {
      this.log?.warn({ err: rollbackErr, store: this.location }, 'rollback after a failed change failed too');
    }
  }

  private writeSucceeded(): void {
    if (this.writeFault !== undefined) {
      this.log?.info({ store: this.location, was: this.writeFault }, 'the control store takes changes again');
      this.writeFault = undefined;
    }
  }

  /** The error a failed write reports: SQLite's code and the path (SQLITE_FULL: the disk), remembered until a write succeeds. */
  private writeFailed(err: unknown): unknown {
    const sqlite = sqliteError(err);
    if (!sqlite) return err;
    const full = sqlite.code === 'SQLITE_FULL';
    const message =
      `the control store ${this.location} could not record the change: ${sqlite.code} (${sqlite.text}); nothing was changed` +
      (full ? `. The disk is full: free space on the file system of ${dirname(this.location)}, then retry` : '');
    this.writeFault = message;
    this.onFault(sqlite.code);
    this.log?.error({ store: this.location, code: sqlite.code }, message);
    return new CodedError(full ? 'STORE_FULL' : 'STORE_UNAVAILABLE', message, { cause: err });
  }

  private insertAudit(records: NewAuditRecord[], time: string): void {
    const insert = this.db.prepare('INSERT INTO audit (time, token, action, name, reason, before, after, dry_run, force) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of records) insert.run(time, r.token, r.action, r.name ?? null, r.reason ?? null, json(r.before), json(r.after), r.dryRun ? 1 : 0, r.force ? 1 : 0);
  }

  /** The records as read, each checked with the admin API's rules: an invalid one is skipped and reported (invalid-records.ts), never served. */
  private readOverrides(rows: Array<{ name: string; record: string }>): Override[] {
    const overrides: Override[] = [];
    const bad: Array<{ id: string; why: string }> = [];
    for (const row of rows) {
      const parsed = parseStoredOverride(row.name, row.record);
      if ('override' in parsed) overrides.push(parsed.override);
      else bad.push({ id: row.name, why: parsed.error });
    }
    this.invalid.replace('overrides', bad);
    return overrides;
  }

  async snapshot(): Promise<ControlSnapshot> {
    await this.idle();
    const rows = this.db.prepare('SELECT name, record FROM overrides ORDER BY name').all() as Array<{ name: string; record: string }>;
    return { version: this.meta('version'), generation: this.meta('generation'), overrides: this.readOverrides(rows) };
  }

  async flushesAfter(generation: number): Promise<FlushRecord[]> {
    await this.idle();
    const rows = this.db.prepare('SELECT generation, target, negative_only, time FROM flushes WHERE generation > ? ORDER BY generation').all(generation) as Array<{
      generation: number;
      target: string;
      negative_only: number;
      time: string;
    }>;
    return rows.map((r) => ({ generation: r.generation, target: JSON.parse(r.target) as FlushRecord['target'], negativeOnly: r.negative_only === 1, time: r.time }));
  }

  async changeOverrides(changes: OverrideChange[], audit: NewAuditRecord[]): Promise<number | undefined> {
    // The writer thread's queue keeps changes in order; this connection's callers wait for it (idle).
    if (this.writer?.usable) return this.changeInThread(this.writer, changes, audit, new Date().toISOString());
    await this.idle();
    const time = new Date().toISOString();
    const finish = (applied: number): number | undefined => {
      if (applied === 0) return undefined;
      this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'version'").run();
      return this.meta('version');
    };
    if (changes.length + audit.length <= WRITE_CHUNK) {
      return this.transaction(() => {
        const applied = this.writeChanges(changes);
        if (applied > 0) this.insertAudit(audit, time);
        return finish(applied);
      });
    }
    // A large change (an import): one transaction, written in chunks that yield between them. Its
    // commit skips the WAL checkpoint (which would copy every page at once), run after a yield.
    const version = await this.transaction(async () => {
      let applied = 0;
      for (let i = 0; i < changes.length; i += WRITE_CHUNK) {
        applied += this.writeChanges(changes.slice(i, i + WRITE_CHUNK));
        await yieldToEventLoop();
      }
      if (applied > 0) {
        for (let i = 0; i < audit.length; i += WRITE_CHUNK) {
          this.insertAudit(audit.slice(i, i + WRITE_CHUNK), time);
          await yieldToEventLoop();
        }
      }
      this.db.exec('PRAGMA wal_autocheckpoint = 0');
      return finish(applied);
    }).finally(() => this.db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`));
    await yieldToEventLoop();
    try {
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch (err) {
      this.log?.warn({ err, store: this.location }, 'could not checkpoint the control store after a large change: SQLite does it at a later commit');
    }
    return version;
  }

  /**
   * A change written by the writer thread in one transaction, one change after the other: this
   * thread only serialises the rows, a piece at a time, while that one inserts them, commits (the
   * fsync: durable when this resolves) and checkpoints now and then. All of it or none; the calls
   * that use this thread's connection wait until the changes queued are done.
   */
  private changeInThread(writer: StoreWriterThread, changes: OverrideChange[], audit: NewAuditRecord[], time: string): Promise<number | undefined> {
    this.threadChanges++;
    const run = this.threadQueue.then(() => this.threadTransaction(writer, changes, audit, time));
    const settled: Promise<void> = run.then(
      () => {},
      () => {},
    );
    this.threadQueue = settled;
    this.longChange = settled;
    void settled.then(() => {
      if (--this.threadChanges === 0 && this.longChange === settled) this.longChange = undefined;
    });
    return run;
  }

  private async threadTransaction(writer: StoreWriterThread, changes: OverrideChange[], audit: NewAuditRecord[], time: string): Promise<number | undefined> {
    let version: number | undefined;
    try {
      this.checkFiles();
      if (this.replaced !== undefined) throw new CodedError('STORE_REPLACED', `${this.replaced}; nothing was changed. Restart dnslinkd (the log says where this instance's data was saved)`);
      const changeRow = (c: OverrideChange): WriterChangeRow => [c.name, c.after ? JSON.stringify(c.after) : null, c.ifAbsent ? 'n:' : c.ifUpdatedAt !== undefined ? `u:${c.ifUpdatedAt}` : ''];
      const auditRow = (r: NewAuditRecord): WriterAuditRow => [r.token, r.action, r.name ?? null, r.reason ?? null, json(r.before), json(r.after), r.dryRun ? 1 : 0, r.force ? 1 : 0];
      if (changes.length + audit.length <= WRITE_CHUNK) {
        // A small change: one message, one answer (rolled back there on an error).
        version = (await writer.request({ op: 'change', rows: changes.map(changeRow), time, audit: audit.map(auditRow) })) ?? undefined;
        this.writeSucceeded();
        if (++this.commitsSinceCheckpoint >= CHECKPOINT_EVERY_COMMITS) this.checkpointInThread();
        return version;
      }
      await writer.request({ op: 'begin' });
      try {
        for (let i = 0; i < changes.length; i += THREAD_PIECE) {
          await writer.request({ op: 'changes', rows: changes.slice(i, i + THREAD_PIECE).map(changeRow) });
        }
        for (let i = 0; i < audit.length; i += THREAD_PIECE) {
          await writer.request({ op: 'audit', time, rows: audit.slice(i, i + THREAD_PIECE).map(auditRow) });
        }
        // Last look before the commit: a file deleted meanwhile would take this change with it.
        this.checkFiles();
        if (this.replaced !== undefined) throw new CodedError('STORE_REPLACED', `${this.replaced}; nothing was changed`);
        version = (await writer.request({ op: 'commit' })) ?? undefined;
      } catch (err) {
        await writer.request({ op: 'rollback' }).catch(() => {});
        throw err;
      }
    } catch (err) {
      throw this.writeFailed(err);
    }
    this.writeSucceeded();
    // A large change filled the WAL: checkpointed now (there, not here); small ones now and then.
    if (changes.length > WRITE_CHUNK || ++this.commitsSinceCheckpoint >= CHECKPOINT_EVERY_COMMITS) this.checkpointInThread();
    return version;
  }

  /** Writes the changes that still hold (inside a transaction); how many did. */
  private writeChanges(changes: OverrideChange[]): number {
    const current = this.db.prepare('SELECT record FROM overrides WHERE name = ?');
    const upsert = this.db.prepare('INSERT INTO overrides (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record');
    const remove = this.db.prepare('DELETE FROM overrides WHERE name = ?');
    let applied = 0;
    for (const change of changes) {
      if (change.ifAbsent && current.get(change.name)) continue;
      if (change.ifUpdatedAt !== undefined) {
        const row = current.get(change.name) as { record: string } | undefined;
        if (!row || (JSON.parse(row.record) as Override).updatedAt !== change.ifUpdatedAt) continue;
      }
      if (change.after) upsert.run(change.name, JSON.stringify(change.after));
      else remove.run(change.name);
      applied++;
    }
    return applied;
  }

  async recordFlush(flush: Omit<FlushRecord, 'generation' | 'time'>, audit: NewAuditRecord): Promise<FlushRecord> {
    await this.idle();
    const time = new Date().toISOString();
    return this.transaction(() => {
      this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'generation'").run();
      const generation = this.meta('generation');
      this.db.prepare('INSERT INTO flushes (generation, target, negative_only, time) VALUES (?, ?, ?, ?)').run(generation, JSON.stringify(flush.target), flush.negativeOnly ? 1 : 0, time);
      // Replicas need only the flushes they have not applied; a day of them is plenty.
      this.db.prepare('DELETE FROM flushes WHERE generation <= ? AND time < ?').run(generation - 1000, new Date(Date.now() - 86_400_000).toISOString());
      this.insertAudit([audit], time);
      return { ...flush, generation, time };
    });
  }

  async denylistRules(): Promise<OperatorRuleRecord[]> {
    await this.idle();
    const rows = this.db.prepare('SELECT id, record FROM denylist_rules ORDER BY id').all() as Array<{ id: string; record: string }>;
    const records: OperatorRuleRecord[] = [];
    const bad: Array<{ id: string; why: string }> = [];
    for (const row of rows) {
      const parsed = parseStoredRule(row.id, row.record);
      if ('record' in parsed) records.push(parsed.record);
      else bad.push({ id: row.id, why: parsed.error });
    }
    this.invalid.replace('denylist_rules', bad);
    return records;
  }

  async changeDenylistRule(change: DenylistRuleChange, audit: NewAuditRecord): Promise<boolean> {
    await this.idle();
    const time = new Date().toISOString();
    return this.transaction(() => {
      if ('remove' in change) {
        if (this.db.prepare('DELETE FROM denylist_rules WHERE id = ?').run(change.remove).changes === 0) return false;
      } else {
        this.db.prepare('INSERT INTO denylist_rules (id, record) VALUES (?, ?)').run(change.add.id, JSON.stringify(change.add));
      }
      this.insertAudit([audit], time);
      return true;
    });
  }

  async appendAudit(records: NewAuditRecord[]): Promise<void> {
    await this.idle();
    const time = new Date().toISOString();
    await this.transaction(() => this.insertAudit(records, time));
  }

  async audit(query: AuditQuery): Promise<AuditRecord[]> {
    await this.idle();
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (query.name !== undefined) {
      where.push('name = ?');
      args.push(query.name);
    }
    if (query.since !== undefined) {
      where.push('time >= ?');
      args.push(query.since);
    }
    if (query.until !== undefined) {
      where.push('time <= ?');
      args.push(query.until);
    }
    if (query.before !== undefined) {
      where.push('id < ?');
      args.push(Number(query.before));
    }
    if (query.token !== undefined) {
      where.push('token = ?');
      args.push(query.token);
    }
    if (query.action !== undefined) {
      where.push('action = ?');
      args.push(query.action);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit) as unknown as AuditRow[];
    return rows.map((r) => ({
      id: String(r.id),
      time: r.time,
      token: r.token,
      action: r.action as AuditRecord['action'],
      ...(r.name !== null ? { name: r.name } : {}),
      ...(r.reason !== null ? { reason: r.reason } : {}),
      ...(r.before !== null ? { before: JSON.parse(r.before) as unknown } : {}),
      ...(r.after !== null ? { after: JSON.parse(r.after) as unknown } : {}),
      dryRun: r.dry_run === 1,
      ...(r.force === 1 ? { force: true } : {}),
    }));
  }

  /** Checkpoints the WAL (no -wal or -shm file is left) and closes. */
  async close(): Promise<void> {
    // A large change under way finishes first (its transaction spans event-loop turns).
    await this.idle();
    await this.writer?.close();
    this.closeNow();
  }

  /** `close`, synchronously: also what an exit at once runs (src/runtime/exit-hooks.ts). */
  closeNow(): void {
    if (this.closed) return;
    this.forgetExitHook?.();
    clearInterval(this.fileCheck);
    this.writer?.terminate();
    this.checkFiles();
    this.closed = true;
    if (this.replaced !== undefined) {
      if (!this.rescued) this.rescue();
    } else {
      try {
        this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      } catch (err) {
        this.log?.warn({ store: this.location, error: errorMessage(err) }, `could not checkpoint the control store at close (${errorMessage(err)}): SQLite finishes it at the next start`);
      }
    }
    this.db.close();
  }
}

function corruptMessage(path: string, why: string): string {
  return `the control store ${path} is corrupt: ${why}; it was left as it is (move it aside to start empty, or restore a copy)`;
}

/** The start error for a store file that cannot be opened or written, by SQLite's code. */
function unusableStore(path: string, err: unknown, dataDir: string): CodedError {
  const sqlite = sqliteError(err);
  return unusablePathError(path, 'the control store', sqlite ? Object.assign(new Error(`${sqlite.code}: ${sqlite.text}`), { code: sqlite.code }) : err, dataDir);
}

/** Links `copy` at `path` unless a file appeared there meanwhile (then that file stays, and the copy beside it). */
function linkedBack(copy: string, path: string): boolean {
  try {
    linkSync(copy, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}
