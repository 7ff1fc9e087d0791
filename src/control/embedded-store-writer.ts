// The embedded store's writer thread: a large change (an import) is written, committed (its fsync)
// and checkpointed into the database on a connection of its own to the same SQLite file, so none of
// that blocks the event loop answering DNS. One change at a time, as EmbeddedStore asks (the
// messages below); the rules (conditions, the version) are the same SQL as the store's own.
// Written in erasable TypeScript only (no imports from the project): tests run it from source.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/** [name, record JSON or null (a removal), condition: '' | 'n:' (only where absent) | 'u:<updatedAt>'] */
export type WriterChangeRow = [string, string | null, string];
/** [token, action, name, reason, before JSON, after JSON, dry run 0/1, force 0/1] */
export type WriterAuditRow = [string, string, string | null, string | null, string | null, string | null, number, number];

export type WriterRequest =
  | { op: 'begin' }
  | { op: 'changes'; rows: WriterChangeRow[] }
  | { op: 'audit'; time: string; rows: WriterAuditRow[] }
  /** Bumps the version if any change applied, commits; answers the version (or null: nothing applied). */
  | { op: 'commit' }
  /** A small change whole: begin, its rows, its audit rows, commit (rolled back on an error); answers as commit. */
  | { op: 'change'; rows: WriterChangeRow[]; time: string; audit: WriterAuditRow[] }
  | { op: 'rollback' }
  | { op: 'checkpoint' }
  | { op: 'close' };

/** What the thread answers each request: a value, or the error as SQLite gave it. */
export type WriterReply = { ok: true; value: number | null } | { ok: false; error: { message: string; code?: string; errcode?: number; errstr?: string } };

function serve(path: string, post: (reply: WriterReply) => void): (req: WriterRequest) => void {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0;');
  const current = db.prepare('SELECT record FROM overrides WHERE name = ?');
  const upsert = db.prepare('INSERT INTO overrides (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record');
  const remove = db.prepare('DELETE FROM overrides WHERE name = ?');
  const audit = db.prepare('INSERT INTO audit (time, token, action, name, reason, before, after, dry_run, force) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let applied = 0;
  const handle = (req: WriterRequest): number | null => {
    switch (req.op) {
      case 'begin':
        applied = 0;
        db.exec('BEGIN IMMEDIATE');
        return null;
      case 'changes':
        for (const [name, record, cond] of req.rows) {
          if (cond === 'n:' && current.get(name)) continue;
          if (cond.startsWith('u:')) {
            const row = current.get(name) as { record: string } | undefined;
            if (!row || (JSON.parse(row.record) as { updatedAt?: string }).updatedAt !== cond.slice(2)) continue;
          }
          if (record !== null) upsert.run(name, record);
          else remove.run(name);
          applied++;
        }
        return null;
      case 'audit':
        if (applied > 0) for (const r of req.rows) audit.run(req.time, ...r);
        return null;
      case 'commit': {
        let version: number | null = null;
        if (applied > 0) {
          db.prepare("UPDATE meta SET value = value + 1 WHERE key = 'version'").run();
          version = (db.prepare("SELECT value FROM meta WHERE key = 'version'").get() as { value: number }).value;
        }
        db.exec('COMMIT');
        return version;
      }
      case 'change':
        handle({ op: 'begin' });
        try {
          handle({ op: 'changes', rows: req.rows });
          handle({ op: 'audit', time: req.time, rows: req.audit });
          return handle({ op: 'commit' });
        } catch (err) {
          if (db.isTransaction) db.exec('ROLLBACK');
          throw err;
        }
      case 'rollback':
        if (db.isTransaction) db.exec('ROLLBACK');
        return null;
      case 'checkpoint':
        db.exec('PRAGMA wal_checkpoint(PASSIVE)');
        return null;
      case 'close':
        if (db.isTransaction) db.exec('ROLLBACK');
        db.close();
        return null;
    }
  };
  return (req) => {
    try {
      post({ ok: true, value: handle(req) });
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown; errcode?: unknown; errstr?: unknown };
      post({
        ok: false,
        error: {
          message: String(e.message),
          ...(typeof e.code === 'string' ? { code: e.code } : {}),
          ...(typeof e.errcode === 'number' ? { errcode: e.errcode } : {}),
          ...(typeof e.errstr === 'string' ? { errstr: e.errstr } : {}),
        },
      });
    }
  };
}

if (parentPort && typeof (workerData as { path?: unknown } | undefined)?.path === 'string') {
  const port = parentPort;
  const onRequest = serve((workerData as { path: string }).path, (reply) => port.postMessage(reply));
  port.on('message', (req: WriterRequest) => onRequest(req));
}
