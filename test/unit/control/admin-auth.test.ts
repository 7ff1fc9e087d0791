// Admin tokens: configured secrets and files, DNSLINKD_ADMIN_TOKEN, the generated token file
// (mode 0600, reused), and the outcomes of checking a header (401, 403, the token's label).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminAuth, defaultClientToken } from '../../../src/control/admin-auth.js';

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'dnslinkd-auth-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('AdminAuth', () => {
  it('checks configured tokens by scope: 401 without or wrong, 403 for read writing', () => {
    const data = dir();
    const file = join(data, 'ro');
    writeFileSync(file, 'read-only-secret-123456\n');
    const auth = AdminAuth.load([{ label: 'ops', scope: 'write', secret: 'write-secret-123456789' }, { label: 'viewer', scope: 'read', file }], data, {});
    expect(auth.check('Bearer write-secret-123456789', 'write')).toEqual({ ok: true, label: 'ops', scope: 'write' });
    expect(auth.check('bearer read-only-secret-123456', 'read')).toEqual({ ok: true, label: 'viewer', scope: 'read' });
    expect(auth.check('Bearer read-only-secret-123456', 'write')).toMatchObject({ ok: false, status: 403, code: 'FORBIDDEN' });
    expect(auth.check(undefined, 'read')).toMatchObject({ ok: false, status: 401 });
    expect(auth.check('Basic abc', 'read')).toMatchObject({ ok: false, status: 401 });
    expect(auth.check('Bearer write-secret-12345678', 'read')).toMatchObject({ ok: false, status: 401 });
    expect(auth.generatedFile).toBeUndefined();
  });

  it('adds DNSLINKD_ADMIN_TOKEN as a write token labelled env', () => {
    const auth = AdminAuth.load(undefined, dir(), { DNSLINKD_ADMIN_TOKEN: 'from-the-environment-1' });
    expect(auth.labels).toEqual([{ label: 'env', scope: 'write' }]);
    expect(() => AdminAuth.load(undefined, dir(), { DNSLINKD_ADMIN_TOKEN: 'short' })).toThrow(/DNSLINKD_ADMIN_TOKEN: 5 characters/);
  });

  it('with none configured, generates a write token in the data dir (0600), reuses it, and the CLI finds it', () => {
    const data = dir();
    const auth = AdminAuth.load(undefined, data, {});
    expect(auth.generatedFile).toBe(join(data, 'admin-token'));
    expect(statSync(auth.generatedFile!).mode & 0o777).toBe(0o600);
    const token = defaultClientToken(data, {})!;
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(auth.check(`Bearer ${token}`, 'write')).toMatchObject({ ok: true, label: 'local' });
    expect(AdminAuth.load(undefined, data, {}).check(`Bearer ${token}`, 'write')).toMatchObject({ ok: true });
    expect(defaultClientToken(data, { DNSLINKD_ADMIN_TOKEN: 'x' })).toBe('x');
  });

  it('names a token file it cannot read', () => {
    expect(() => AdminAuth.load([{ label: 'ops', scope: 'write', file: '/nonexistent/token' }], dir(), {})).toThrow(/admin.tokens "ops": cannot read \/nonexistent\/token/);
  });
});
