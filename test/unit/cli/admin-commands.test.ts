// The admin commands' pure parts: aligned tables, times given as ISO or durations, the exit code of
// each HTTP status, and where the client finds the admin API and its token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adminTarget, exitForStatus, UsageError } from '../../../src/cli/admin-client.js';
import { parseTime, table } from '../../../src/cli/admin-commands.js';
import { didYouMean, editDistance, parseAdminAddress, wholeNumber } from '../../../src/cli/command-line.js';

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

  it('takes --admin as HOST:PORT, [IPv6]:PORT or a URL; HOST:PORT speaks https when admin.tls is set', () => {
    expect(adminTarget({ admin: '127.0.0.1:9054', dataDir: dir }, {}).url).toBe('http://127.0.0.1:9054');
    expect(adminTarget({ admin: '[::1]:9054', dataDir: dir }, {}).url).toBe('http://[::1]:9054');
    expect(adminTarget({ admin: 'https://admin.example:9054/', dataDir: dir }, {}).url).toBe('https://admin.example:9054');
    const tls = join(dir, 'tls.json');
    writeFileSync(tls, JSON.stringify({ admin: { listen: '127.0.0.1:8054', tls: { cert: '/c.pem', key: '/k.pem' } }, dataDir: dir }));
    expect(adminTarget({ admin: '127.0.0.1:9054', config: tls }, {}).url).toBe('https://127.0.0.1:9054');
  });

  it('refuses an --admin that is neither, showing both forms', () => {
    for (const bad of ['8054', 'http://127.0.0.1', '127.0.0.1:99999', 'ftp://127.0.0.1:8054', '::1:8054']) {
      expect(() => adminTarget({ admin: bad, dataDir: dir }, {}), bad).toThrow(/--admin takes HOST:PORT or a URL, such as 127\.0\.0\.1:8054, \[::1\]:8054 or http:\/\/127\.0\.0\.1:8054/);
    }
  });

  it('reads the token of admin.tokens in --config (a write token first; its secret or its file) when no --token-file or DNSLINKD_ADMIN_TOKEN is given', () => {
    const readFile = join(dir, 'read-token');
    const writeFile = join(dir, 'write-token');
    writeFileSync(readFile, 'the-read-token-secret\n');
    writeFileSync(writeFile, 'the-write-token-secret\n');
    const config = join(dir, 'tokens.json');
    const tokens = [
      { label: 'reader', scope: 'read', file: readFile },
      { label: 'ops', scope: 'write', file: writeFile },
    ];
    writeFileSync(config, JSON.stringify({ admin: { tokens }, dataDir: dir }));
    expect(adminTarget({ config }, {})).toMatchObject({ token: 'the-write-token-secret', tokenSource: `admin.tokens "ops" (file ${writeFile}) of --config` });
    expect(adminTarget({ config }, { DNSLINKD_ADMIN_TOKEN: 'from-the-environment-x' })).toMatchObject({ token: 'from-the-environment-x' });
    // The write token's file unreadable: the read token is used (a change then gets 403, naming it).
    writeFileSync(config, JSON.stringify({ admin: { tokens: [{ ...tokens[1], file: join(dir, 'missing') }, tokens[0]] }, dataDir: dir }));
    expect(adminTarget({ config }, {})).toMatchObject({ token: 'the-read-token-secret' });
    writeFileSync(config, JSON.stringify({ admin: { tokens: [{ label: 'inline', scope: 'write', secret: 'an-inline-secret-here' }] }, dataDir: dir }));
    expect(adminTarget({ config }, {})).toMatchObject({ token: 'an-inline-secret-here', tokenSource: 'admin.tokens "inline" of --config' });
    writeFileSync(config, JSON.stringify({ admin: { tokens: [{ label: 'gone', scope: 'write', file: join(dir, 'missing') }] }, dataDir: dir }));
    expect(() => adminTarget({ config }, {})).toThrow(/cannot read the token file of any of admin\.tokens in --config: .*missing \(ENOENT\)/);
  });
});

describe('the command line', () => {
  it('suggests the closest flag or command for a slip, nothing for something unrelated', () => {
    expect(didYouMean('upstrem', ['upstream', 'ens-rpc', 'config'])).toBe('; did you mean upstream?');
    expect(didYouMean('prot', ['port', 'json'])).toBe('; did you mean port?');
    expect(didYouMean('reson', ['json', 'admin'])).toBe('');
    expect(editDistance('overide', 'override')).toBe(1);
  });

  it('checks numbers against their range, naming the flag, negative ones included', () => {
    expect(wholeNumber('60', '--ttl', 0, 86400, 'seconds')).toBe(60);
    for (const bad of ['-5', 'abc', '1.5', '86401', '']) expect(() => wholeNumber(bad, '--ttl', 0, 86400, 'seconds')).toThrow(`--ttl takes a whole number of seconds from 0 to 86400 (got "${bad}")`);
  });

  it('parses --admin as HOST:PORT or URL', () => {
    expect(parseAdminAddress('127.0.0.1:8054')).toEqual({ listen: '127.0.0.1:8054' });
    expect(parseAdminAddress('http://[::1]:8054/')).toEqual({ listen: '[::1]:8054', scheme: 'http' });
    expect(parseAdminAddress('https://localhost:8443')).toEqual({ listen: 'localhost:8443', scheme: 'https' });
  });
});
