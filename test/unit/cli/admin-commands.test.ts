// The admin commands' pure parts: aligned tables, times given as ISO or durations, the exit code of
// each HTTP status, and where the client finds the admin API and its token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminTarget, exitForStatus, UsageError } from '../../../src/cli/admin-client.js';
import { parseTime, table } from '../../../src/cli/admin-commands.js';

describe('table', () => {
  it('aligns columns two spaces apart, upper-cases headers, shows empty cells as "-" and escapes control characters', () => {
    expect(table(['name', 'ttl', 'reason'], [['a.example', 60, 'x'], ['bb.example', undefined, 'two\nlines']])).toBe(
      ['NAME        TTL  REASON', 'a.example   60   x', 'bb.example  -    two\\nlines'].join('\n'),
    );
  });
});

describe('parseTime', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');
  it('takes ISO times and durations from now (future) or ago (past)', () => {
    expect(parseTime('2026-12-01T12:00:00Z', '--expires', 'future', now)).toBe('2026-12-01T12:00:00.000Z');
    expect(parseTime('2h', '--expires', 'future', now)).toBe('2026-11-25T12:00:00.000Z');
    expect(parseTime('1d', '--since', 'past', now)).toBe('2026-11-24T10:00:00.000Z');
    expect(parseTime('90s', '--since', 'past', now)).toBe('2026-11-25T09:58:30.000Z');
  });
  it('refuses anything else with an example', () => {
    expect(() => parseTime('tomorrow', '--expires', 'future', now)).toThrow(UsageError);
    expect(() => parseTime('tomorrow', '--expires', 'future', now)).toThrow(/--expires takes an ISO time such as .* or a duration such as 2h/);
  });
});

describe('exitForStatus', () => {
  it('maps the admin API statuses to the documented exit codes', () => {
    expect([400, 401, 403, 404, 405, 409, 500, 503].map(exitForStatus)).toEqual([2, 4, 4, 3, 2, 5, 1, 1]);
  });
});

describe('adminTarget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-admin-target-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to http://<admin.listen> and the token in <dataDir>/admin-token', () => {
    writeFileSync(join(dir, 'admin-token'), 'secret-from-the-data-dir\n');
    expect(adminTarget({ dataDir: dir }, {})).toEqual({ url: 'http://127.0.0.1:8054', token: 'secret-from-the-data-dir', tokenSource: join(dir, 'admin-token') });
  });

  it('reads admin.listen and dataDir from --config; DNSLINKD_ADMIN_TOKEN wins over the file, --token-file over both', () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ admin: { listen: '127.0.0.1:9999' }, dataDir: dir }));
    expect(adminTarget({ config }, {})).toMatchObject({ url: 'http://127.0.0.1:9999', token: 'secret-from-the-data-dir' });
    expect(adminTarget({ config }, { DNSLINKD_ADMIN_TOKEN: 'secret-from-the-environment' })).toMatchObject({ token: 'secret-from-the-environment', tokenSource: 'DNSLINKD_ADMIN_TOKEN' });
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'secret-from-a-file\n');
    expect(adminTarget({ config, tokenFile, admin: 'http://[::1]:8054/' }, { DNSLINKD_ADMIN_TOKEN: 'x'.repeat(20) })).toEqual({ url: 'http://[::1]:8054', token: 'secret-from-a-file', tokenSource: `--token-file ${tokenFile}` });
  });

  it('refuses an --admin that is not a URL', () => {
    expect(() => adminTarget({ admin: '127.0.0.1:8054', dataDir: dir }, {})).toThrow(/--admin takes a URL such as http:\/\/127\.0\.0\.1:8054/);
  });
});
