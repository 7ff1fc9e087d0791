// The embedded store keeps the ControlStore contract: overrides and their version, flushes and
// their generation, audit records newest first with name/since/limit, conditional changes, and
// every change with its audit record in one transaction.
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../../src/control/embedded-store.js';
import type { Override } from '../../../src/stages/overrides/override.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function open(dir = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'))) {
  dirs.push(dir);
  return { dir, store: EmbeddedStore.open(dir) };
}
const override = (name: string, updatedAt = '2026-11-25T00:00:00.000Z'): Override => ({ name, value: '/ipns/example.org', ttl: 60, reason: 'r', by: 't', createdAt: updatedAt, updatedAt });
const audit = (name: string) => ({ token: 't', action: 'override.set' as const, name, reason: 'r', dryRun: false });

describe('EmbeddedStore', () => {
  it('changes asked at once are written one after the other, in order (versions 1..n), with a flush between them', async () => {
    const { store } = open();
    const names = Array.from({ length: 40 }, (_, i) => `c${i}.example`);
    const asked = names.map((name) => store.changeOverrides([{ name, after: override(name) }], [audit(name)]));
    const flush = store.recordFlush({ target: { all: true }, negativeOnly: false }, { token: 't', action: 'cache.flush', dryRun: false });
    asked.push(store.changeOverrides([{ name: 'c0.example', after: null }], [{ ...audit('c0.example'), action: 'override.remove' }]));
    expect(await Promise.all(asked)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect((await flush).generation).toBe(1);
    expect((await store.snapshot()).overrides.map((o) => o.name)).toEqual(names.slice(1).sort());
    expect((await store.audit({ name: 'c0.example', limit: 5 })).map((r) => r.action)).toEqual(['override.remove', 'override.set']);
    await store.close();
  });

  it('a large change (its writer thread): all or nothing, and what it acknowledged is in the file when opened again', async () => {
    const { dir, store } = open();
    const names = Array.from({ length: 1200 }, (_, i) => `bulk${i}.example`);
    const changes = names.map((name) => ({ name, after: override(name) }));
    const bad = names.map((name, i) => (i === 1100 ? { ...audit(name), token: null as unknown as string } : audit(name)));
    await expect(store.changeOverrides(changes, bad)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/constraint failed.*nothing was changed/) });
    expect(await store.snapshot()).toEqual({ version: 0, generation: 0, overrides: [] });
    expect(await store.audit({ limit: 10 })).toEqual([]);
    expect(await store.changeOverrides(changes, names.map(audit))).toBe(1);
    // The main connection reads what the thread committed, and takes small changes after it.
    expect((await store.snapshot()).overrides).toHaveLength(1200);
    expect(await store.changeOverrides([{ name: 'one.example', after: override('one.example') }], [audit('one.example')])).toBe(2);
    await store.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('-wal'))).toEqual([]);
    const again = EmbeddedStore.open(dir);
    expect(await again.snapshot()).toMatchObject({ version: 2 });
    expect((await again.snapshot()).overrides).toHaveLength(1201);
    expect(await again.audit({ limit: 2000 })).toHaveLength(1201);
    await again.close();
  });

  it('starts empty, bumps the version per change and keeps overrides across reopening', async () => {
    const { dir, store } = open();
    expect(await store.snapshot()).toEqual({ version: 0, generation: 0, overrides: [] });
    expect(await store.changeOverrides([{ name: 'a.example', after: override('a.example') }], [audit('a.example')])).toBe(1);
    expect(await store.changeOverrides([{ name: 'b.example', after: override('b.example') }], [audit('b.example')])).toBe(2);
    expect(await store.changeOverrides([{ name: 'a.example', after: null }], [{ ...audit('a.example'), action: 'override.remove' }])).toBe(3);
    await store.close();
    const again = EmbeddedStore.open(dir);
    expect(await again.snapshot()).toMatchObject({ version: 3, overrides: [{ name: 'b.example' }] });
    await again.close();
  });

  it('applies a conditional change only while the stored override is the one it names', async () => {
    const { store } = open();
    const [T0, T1] = ['2026-11-25T00:00:00.000Z', '2026-11-25T01:00:00.000Z'];
    await store.changeOverrides([{ name: 'a.example', after: override('a.example', T1) }], [audit('a.example')]);
    expect(await store.changeOverrides([{ name: 'a.example', after: null, ifUpdatedAt: T0 }], [audit('a.example')])).toBeUndefined();
    expect((await store.snapshot()).overrides).toHaveLength(1);
    expect(await store.changeOverrides([{ name: 'a.example', after: null, ifUpdatedAt: T1 }], [audit('a.example')])).toBe(2);
    expect((await store.audit({ limit: 10 })).length).toBe(2); // the refused change left no audit record
    await store.close();
  });

  it('numbers flushes by generation and lists those after a generation, oldest first', async () => {
    const { store } = open();
    const flushAudit = { token: 't', action: 'cache.flush' as const, dryRun: false };
    const one = await store.recordFlush({ target: { name: 'a.example' }, negativeOnly: false }, flushAudit);
    const two = await store.recordFlush({ target: { all: true }, negativeOnly: true }, flushAudit);
    expect([one.generation, two.generation]).toEqual([1, 2]);
    expect((await store.flushesAfter(1)).map((f) => [f.generation, f.target, f.negativeOnly])).toEqual([[2, { all: true }, true]]);
    expect((await store.snapshot()).generation).toBe(2);
    await store.close();
  });

  it('queries the audit log newest first by name, time and limit, dry runs included', async () => {
    const { store } = open();
    await store.appendAudit([{ ...audit('a.example'), dryRun: true }]);
    await store.changeOverrides([{ name: 'a.example', after: override('a.example') }], [{ ...audit('a.example'), before: null, after: { v: 1 } }]);
    await store.changeOverrides([{ name: 'b.example', after: override('b.example') }], [audit('b.example')]);
    const all = await store.audit({ limit: 10 });
    expect(all.map((r) => [r.name, r.dryRun])).toEqual([['b.example', false], ['a.example', false], ['a.example', true]]);
    expect(all[1]).toMatchObject({ before: null, after: { v: 1 }, token: 't', action: 'override.set' });
    expect((await store.audit({ name: 'a.example', limit: 1 })).map((r) => r.dryRun)).toEqual([false]);
    expect(await store.audit({ since: '2999-01-01T00:00:00.000Z', limit: 10 })).toEqual([]);
    await store.close();
  });

  it('refuses a data directory it cannot create with DATA_DIR_UNUSABLE, naming the path, the user and the setting', () => {
    const parent = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'));
    dirs.push(parent);
    const file = join(parent, 'a-file');
    writeFileSync(file, 'not a directory');
    expect(() => EmbeddedStore.open(join(file, 'data'))).toThrow(expect.objectContaining({ code: 'DATA_DIR_UNUSABLE' }));
    expect(() => EmbeddedStore.open(join(file, 'data'))).toThrow(/cannot use .*a-file\/data \(the data directory\) as \S+.*ENOTDIR.*set dataDir \(or --data-dir\)/);
  });

  it('calls a file that is no database STORE_CORRUPT, and leaves it as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'));
    dirs.push(dir);
    const garbage = 'this is not a SQLite database, but somebody may want it back. '.repeat(100);
    writeFileSync(join(dir, 'control.db'), garbage);
    expect(() => EmbeddedStore.open(dir)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    expect(readFileSync(join(dir, 'control.db'), 'utf8')).toBe(garbage);
  });

  it('makes the WAL and shared-memory files 0600 and leaves neither after close', async () => {
    const { dir, store } = open();
    await store.changeOverrides([{ name: 'a.example', after: override('a.example') }], [audit('a.example')]);
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    await store.close();
    expect(readdirSync(dir).sort()).toEqual(['control.db']);
  });

  it('refuses changes with STORE_REPLACED once its file is deleted, writes what it holds back, and reports the fault once', async () => {
    const faults: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'));
    dirs.push(dir);
    const store = EmbeddedStore.open(dir, { onFault: (reason) => faults.push(reason) });
    await store.changeOverrides([{ name: 'a.example', after: override('a.example') }], [audit('a.example')]);
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) rmSync(join(dir, f));
    expect(store.problem).toMatch(/control\.db was deleted .*STORE_REPLACED/);
    await expect(store.changeOverrides([{ name: 'b.example', after: override('b.example') }], [audit('b.example')])).rejects.toMatchObject({ code: 'STORE_REPLACED' });
    await expect(store.appendAudit([audit('b.example')])).rejects.toMatchObject({ code: 'STORE_REPLACED' });
    expect(faults).toEqual(['STORE_REPLACED']);
    await store.close();
    const again = EmbeddedStore.open(dir);
    expect((await again.snapshot()).overrides.map((o) => o.name)).toEqual(['a.example']);
    expect(again.problem).toBeUndefined();
    await again.close();
  });

  it('keeps its own copy beside a file that replaced it, and the new file wins', async () => {
    const { dir, store } = open();
    await store.changeOverrides([{ name: 'mine.example', after: override('mine.example') }], [audit('mine.example')]);
    const other = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'));
    dirs.push(other);
    const replacement = EmbeddedStore.open(other);
    await replacement.close();
    for (const f of ['control.db', 'control.db-wal', 'control.db-shm']) rmSync(join(dir, f), { force: true });
    renameSync(join(other, 'control.db'), join(dir, 'control.db'));
    await expect(store.changeOverrides([{ name: 'b.example', after: override('b.example') }], [audit('b.example')])).rejects.toMatchObject({ code: 'STORE_REPLACED' });
    await store.close();
    const kept = readdirSync(dir).filter((f) => f.startsWith('control.db.replaced-'));
    expect(kept).toHaveLength(1);
    const copy = mkdtempSync(join(tmpdir(), 'dnslinkd-es-'));
    dirs.push(copy);
    renameSync(join(dir, kept[0]!), join(copy, 'control.db'));
    const fromCopy = EmbeddedStore.open(copy);
    expect((await fromCopy.snapshot()).overrides.map((o) => o.name)).toEqual(['mine.example']);
    await fromCopy.close();
    const now = EmbeddedStore.open(dir);
    expect((await now.snapshot()).overrides).toEqual([]);
    await now.close();
  });
});
