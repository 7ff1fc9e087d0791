// The local-records file reader: a valid file gives its records; an unreadable file or a bad
// record stops the start with a coded error naming the record's index and field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CodedError } from '../../errors.js';
import { DEFAULT_LOCAL_RECORDS } from './config.js';
import { readLocalRecords } from './records-file.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-records-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof CodedError ? `${err.code}: ${err.message}` : `not coded: ${String(err)}`;
  }
  return undefined;
};

describe('local records file', () => {
  it('reads the shipped demo file', () => {
    const records = readLocalRecords(DEFAULT_LOCAL_RECORDS);
    expect(records.length).toBeGreaterThan(0);
    expect(records.some((r) => r.name.startsWith('_dnslink.demo.') && r.type === 'TXT')).toBe(true);
  });

  it('keeps name, type, ttl and data and drops comments', () => {
    const path = file('ok.json', [{ name: 'a.example', type: 'AAAA', ttl: 5, data: '2001:db8::1', comment: 'docs' }]);
    expect(readLocalRecords(path)).toEqual([{ name: 'a.example', type: 'AAAA', ttl: 5, data: '2001:db8::1' }]);
  });

  it('refuses a missing or non-JSON file as LOCAL_RECORDS_UNREADABLE', () => {
    expect(codeOf(() => readLocalRecords(join(dir, 'missing.json')))).toMatch(/^LOCAL_RECORDS_UNREADABLE: cannot read local records/);
    expect(codeOf(() => readLocalRecords(file('bad.json', '[{')))).toMatch(/^LOCAL_RECORDS_UNREADABLE/);
  });

  it('names the index and field of each bad record', () => {
    const path = file('invalid.json', [
      { name: 'ok.example', type: 'TXT', ttl: 1, data: 'x' },
      { name: 'a.example', type: 'A', ttl: 1, data: 'not-an-ip' },
      { name: `${'l'.repeat(64)}.example`, type: 'TXT', ttl: 1, data: 'x' },
      { name: 'b.example', type: 'MX', ttl: -1, data: 'x', extra: true },
    ]);
    const message = codeOf(() => readLocalRecords(path)) ?? '';
    expect(message).toMatch(/^LOCAL_RECORDS_INVALID: invalid local records in /);
    expect(message).toMatch(/\[1\.data\]: A data must be an IPv4 address/);
    expect(message).toMatch(/\[2\.name\]: not a valid DNS name/);
    expect(message).toMatch(/\[3\.type\]/);
    expect(message).toMatch(/\[3\.ttl\]/);
    expect(message).toMatch(/\[3\]: .*extra/);
  });
});
