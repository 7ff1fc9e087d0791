// The embedded control store: one SQLite file in the data directory (node:sqlite), WAL with
// synchronous=FULL so an acknowledged change survives kill -9 and power loss, each change one
// transaction with its audit record. A file that cannot be opened or is corrupt stops the start.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CodedError, errorMessage } from '../errors.js';
import type { Override } from '../stages/overrides/override.js';
import type { AuditQuery, AuditRecord, ControlSnapshot, ControlStore, FlushRecord, NewAuditRecord, OverrideChange } from './store.js';

const SCHEMA_VERSION = 1;
const FILE_NAME = 'control.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS overrides (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, token TEXT NOT NULL, action TEXT NOT NULL,
  name TEXT, reason TEXT, before TEXT, after TEXT, dry_run INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_name ON audit (name, id);
CREATE TABLE IF NOT EXISTS flushes (generation INTEGER PRIMARY KEY, target TEXT NOT NULL, negative_only INTEGER NOT NULL, time TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ${SCHEMA_VERSION}), ('version', 0), ('generation', 0);
`;

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
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class EmbeddedStore implements ControlStore {
  readonly kind = 'embedded';
  readonly location: string;
  private readonly db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.location = path;
    this.db = db;
  }

  /** Opens (or creates) the store in `dataDir`; throws STORE_UNAVAILABLE or STORE_CORRUPT saying why. */
  static open(dataDir: string): EmbeddedStore {
    const path = join(dataDir, FILE_NAME);
    let db: DatabaseSync;
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      db = new DatabaseSync(path);
    } catch (err) {
      throw new CodedError('STORE_UNAVAILABLE', `cannot open the control store ${path}: ${errorMessage(err)} (set dataDir or --data-dir to a writable directory)`);
    }
    try {
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
      const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
      if (check?.quick_check !== 'ok') throw new Error(`integrity check: ${check?.quick_check ?? 'no answer'}`);
      db.exec(SCHEMA);
      const schema = (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: number }).value;
      if (schema > SCHEMA_VERSION) throw new Error(`written by a newer dnslinkd (schema ${schema}, this one knows ${SCHEMA_VERSION})`);
    } catch (err) {
      db.close();
      throw new CodedError('STORE_CORRUPT', `the control store ${path} is unusable: ${errorMessage(err)}; it was left as it is (move it aside to start empty, or restore a copy)`);
    }
    try {
      chmodSync(path, 0o600);
    } catch {
      // not ours to change (a read-only mount): the data is still usable
    }
    return new EmbeddedStore(path, db);
  }

  private meta(key: 'version' | 'generation'): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
  }

  /** Runs `work` in one immediate transaction: all of it is durable when this returns, or none. */
  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private insertAudit(records: NewAuditRecord[], time: string): void {
    const insert = this.db.prepare('INSERT INTO audit (time, token, action, name, reason, before, after, dry_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const r of records) insert.run(time, r.token, r.action, r.name ?? null, r.reason ?? null, json(r.before), json(r.after), r.dryRun ? 1 : 0);
  }

  async snapshot(): Promise<ControlSnapshot> {
    const rows = this.db.prepare('SELECT record FROM overrides ORDER BY name').all() as Array<{ record: string }>;
    return { version: this.meta('version'), generation: this.meta('generation'), overrides: rows.map((r) => JSON.parse(r.record) as Override) };
  }

  async flushesAfter(generation: number): Promise<FlushRecord[]> {
    const rows = this.db.prepare('SELECT generation, target, negative_only, time FROM flushes WHERE generation > ? ORDER BY generation').all(generation) as Array<{
      generation: number;
      target: string;
      negative_only: number;
      time: string;
    }>;
    return rows.map((r) => ({ generation: r.generation, target: JSON.parse(r.target) as FlushRecord['target'], negativeOnly: r.negative_only === 1, time: r.time }));
  }

  async changeOverrides(changes: OverrideChange[], audit: NewAuditRecord[]): Promise<number | undefined> {
    const time = new Date().toISOString();
    return this.transaction(() => {
      const current = this.db.prepare('SELECT record FROM overrides WHERE name = ?');
      let applied = 0;
      for (const change of changes) {
        if (change.ifAbsent && current.get(change.name)) continue;
        if (change.ifUpdatedAt !== undefined) {
          const row = current.get(change.name) as { record: string } | undefined;
          if (!row || (JSON.parse(row.record) as Override).updatedAt !== change.ifUpdatedAt) continue;
        }
        if (change.after) this.db.prepare('INSERT INTO overrides (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record').run(change.name, JSON.stringify(change.after));
        else this.db.prepare('DELETE FROM overrides WHERE name = ?').run(change.name);
        applied++;
      }
      if (applied === 0) return undefined;
      this.insertAudit(audit, time);
      this.db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'version'").run();
      return this.meta('version');
    });
  }

  async recordFlush(flush: Omit<FlushRecord, 'generation' | 'time'>, audit: NewAuditRecord): Promise<FlushRecord> {
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

  async appendAudit(records: NewAuditRecord[]): Promise<void> {
    const time = new Date().toISOString();
    this.transaction(() => this.insertAudit(records, time));
  }

  async audit(query: AuditQuery): Promise<AuditRecord[]> {
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
    }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
