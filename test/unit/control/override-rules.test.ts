// The checks a record read back from a shared store goes through (the admin API's rules), and the
// bookkeeping of the records skipped: counted by key, logged once each, forgotten when fixed.
import { describe, expect, it } from 'vitest';
import { InvalidRecords, type InvalidRecord } from '../../../src/control/invalid-records.js';
import { parseStoredOverride } from '../../../src/control/override-rules.js';

const CID = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const good = { name: 'a.example', value: CID, ttl: 60, reason: 'r', by: 'ops', createdAt: '2026-11-25T11:00:00.000Z', updatedAt: '2026-11-25T11:00:00.000Z' };
const why = (field: string, raw: string) => {
  const r = parseStoredOverride(field, raw);
  return 'error' in r ? r.error : 'accepted';
};

describe('parseStoredOverride', () => {
  it('accepts a record as the admin API writes it (a past expiry included), dropping unknown fields', () => {
    expect(parseStoredOverride('a.example', JSON.stringify({ ...good, expiresAt: '2020-01-01T00:00:00Z', extra: 1 }))).toEqual({ override: { ...good, expiresAt: '2020-01-01T00:00:00Z' } });
  });

  it('refuses what the admin API would refuse, saying why', () => {
    expect(why('a.example', '{"name": "a.example", value')).toMatch(/^not JSON/);
    expect(why('a.example', '[1]')).toBe('not a JSON object (an array)');
    expect(why('a.example', 'null')).toBe('not a JSON object (null)');
    const { value: _, ...noValue } = good;
    expect(why('a.example', JSON.stringify(noValue))).toBe('value is missing, not a string');
    expect(why('a.example', JSON.stringify({ ...good, value: `${CID}/${'a'.repeat(70_000)}` }))).toMatch(/at most 63000 \(VALUE_TOO_LONG/);
    expect(why('a.example', JSON.stringify({ ...good, value: '/ipfs/not-a-cid' }))).toMatch(/^value: /);
    expect(why('a.example', JSON.stringify({ ...good, ttl: 1e9 }))).toMatch(/ttl must be a whole number/);
    expect(why('a.example', JSON.stringify({ ...good, reason: ' ' }))).toMatch(/a reason is required/);
    expect(why('b.example', JSON.stringify(good))).toMatch(/does not match the field "b.example"/);
    expect(why('A.example', JSON.stringify({ ...good, name: 'A.example' }))).toMatch(/not lower-case/);
    expect(why('a.example', JSON.stringify({ ...good, expiresAt: 'soon' }))).toMatch(/not an ISO time/);
    expect(why('a.example', JSON.stringify({ ...good, updatedAt: undefined }))).toMatch(/updatedAt/);
  });
});

describe('InvalidRecords', () => {
  it('counts by key, logs each record once, forgets the ones a later read no longer finds, and the logs\' on a reset', () => {
    const found: InvalidRecord[] = [];
    const counts = new Map<string, number>();
    const invalid = new InvalidRecords((r) => found.push(r), (key, n) => counts.set(key, n));
    invalid.replace('k', [{ id: 'a', why: 'x' }, { id: 'b', why: 'y' }]);
    invalid.replace('k', [{ id: 'a', why: 'x' }]);
    invalid.add('log', { id: '1-0', why: 'z' });
    invalid.add('log', { id: '1-0', why: 'z' });
    expect(found.map((r) => r.id)).toEqual(['a', 'b', '1-0']);
    expect(Object.fromEntries(counts)).toEqual({ k: 1, log: 1 });
    expect(invalid.count).toBe(2);
    invalid.clear();
    expect(invalid.count).toBe(1);
    expect(Object.fromEntries(counts)).toEqual({ k: 1, log: 0 });
  });
});
