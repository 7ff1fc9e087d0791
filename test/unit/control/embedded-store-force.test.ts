// The embedded store keeps an audit record's `force` mark (a change with a wide reach accepted on
// purpose), also in a file made before the mark existed: the column is added in place and the
// records already there read back unforced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../../src/control/embedded-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-es-force-'));
  dirs.push(dir);
  return dir;
};
const record = (name: string, force?: boolean) => ({ token: 't', action: 'cache.flush' as const, name, dryRun: false, ...(force === undefined ? {} : { force }) });

describe('EmbeddedStore audit force', () => {
  it('records force: true, and nothing for a change that was not forced', async () => {
    const store = EmbeddedStore.open(tempDir());
    await store.appendAudit([record('com', true), record('a.example', false), record('b.example')]);
    const byName = Object.fromEntries((await store.audit({ limit: 10 })).map((r) => [r.name, r]));
    expect(byName.com).toMatchObject({ force: true });
    expect(byName['a.example']).not.toHaveProperty('force');
    expect(byName['b.example']).not.toHaveProperty('force');
    await store.close();
  });

  it('adds the column to a file made before it, keeping its records', async () => {
    const dir = tempDir();
    const old = new DatabaseSync(join(dir, 'control.db'));
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, token TEXT NOT NULL, action TEXT NOT NULL,
        name TEXT, reason TEXT, before TEXT, after TEXT, dry_run INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('schema', 1), ('version', 0), ('generation', 0);
      INSERT INTO audit (time, token, action, name, dry_run) VALUES ('2026-12-01T00:00:00.000Z', 'old', 'cache.flush', 'old.example', 0);`);
    old.close();
    const store = EmbeddedStore.open(dir);
    await store.appendAudit([record('com', true)]);
    const records = await store.audit({ limit: 10 });
    expect(records.map((r) => [r.name, r.force ?? false])).toEqual([
      ['com', true],
      ['old.example', false],
    ]);
    await store.close();
  });
});
