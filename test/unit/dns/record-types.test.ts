// Record types between names and numbers: the one rule for records decoded by dns-packet, the
// DNS JSON output and the `type` query parameter.
import { describe, expect, it } from 'vitest';
import { parseRecordType, recordTypeNumber } from '../../../src/dns/record-types.js';

describe('recordTypeNumber', () => {
  it('reads numbers, mnemonics in any case, dns-packet UNKNOWN_n and RFC 3597 TYPEn', () => {
    expect(recordTypeNumber(16)).toBe(16);
    expect(recordTypeNumber('TXT')).toBe(16);
    expect(recordTypeNumber('aaaa')).toBe(28);
    expect(recordTypeNumber('UNKNOWN_65280')).toBe(65280);
    expect(recordTypeNumber('TYPE65')).toBe(65);
    expect(recordTypeNumber('type65')).toBe(65);
  });
  it('answers 0 for what is no type', () => {
    for (const bad of ['NOPE', 'TYPE70000', 'T X T', '', '-1']) expect(recordTypeNumber(bad)).toBe(0);
  });
});

describe('parseRecordType', () => {
  it('defaults to A and accepts 1-65535 in every form', () => {
    expect(parseRecordType(undefined)).toBe(1);
    expect(parseRecordType('')).toBe(1);
    expect(parseRecordType('65535')).toBe(65535);
    expect(parseRecordType('TYPE65535')).toBe(65535);
    expect(parseRecordType('mx')).toBe(15);
  });
  it('refuses 0, out of range and unknown names', () => {
    for (const bad of ['0', 'TYPE0', '65536', 'NOPE', '1.5', 'unknown_65', 'A_B']) expect(parseRecordType(bad)).toBeUndefined();
  });
});
