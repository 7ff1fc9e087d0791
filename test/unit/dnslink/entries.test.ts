import { describe, expect, it } from 'vitest';
import { collectDnslinkEntries, compareCodeUnits, parseDnslinkEntry } from '../../../src/dnslink/entries.js';
import type { TxtRecord } from '../../../src/dnslink/entries.js';

const records = (values: string[], ttl = 100): TxtRecord[] => values.map((value) => ({ value, ttl }));

describe('parseDnslinkEntry', () => {
  it.each([
    ['dnslink=', 'WRONG_START'],
    ['dnslink= /ns/id', 'WRONG_START'],
    ['dnslink=ns/id', 'WRONG_START'],
    ['dnslink=/\x19', 'INVALID_CHARACTER'],
    ['dnslink=/\x7f', 'INVALID_CHARACTER'],
    ['dnslink=/フゲ/UVWX', 'INVALID_CHARACTER'],
    ['dnslink=/YZ12/ホガ', 'INVALID_CHARACTER'],
    ['dnslink=/', 'NAMESPACE_MISSING'],
    ['dnslink=//mnop', 'NAMESPACE_MISSING'],
    ['dnslink=/ns', 'NO_IDENTIFIER'],
    ['dnslink=/ns/', 'NO_IDENTIFIER'],
    ['dnslink=/ns%', 'NO_IDENTIFIER'],
  ])('%j is invalid: %s', (value, reason) => {
    expect(parseDnslinkEntry(value)).toEqual({ reason });
  });

  it.each([
    ['dnslink= //\x19', 'WRONG_START'],
    ['dnslink=//\x19', 'INVALID_CHARACTER'],
    ['dnslink=/\x19/', 'INVALID_CHARACTER'],
    ['dnslink=//', 'NAMESPACE_MISSING'],
    ['dnslink=/testnamespace/', 'NO_IDENTIFIER'],
  ])('precedence WRONG_START > INVALID_CHARACTER > NAMESPACE_MISSING > NO_IDENTIFIER: %j -> %s', (value, reason) => {
    expect(parseDnslinkEntry(value)).toEqual({ reason });
  });

  it('accepts every character 0x20-0x7E except / in a namespace', () => {
    let chars = '';
    for (let code = 0x20; code <= 0x7e; code += 1) {
      if (code !== 0x2f) chars += String.fromCharCode(code);
    }
    expect(parseDnslinkEntry(`dnslink=/${chars}/QRST`)).toEqual({ namespace: chars, identifier: 'QRST' });
  });

  it('does not trim or URL-decode, and keeps slashes and queries in the identifier', () => {
    expect(parseDnslinkEntry('dnslink=/ns / AAHI ')).toEqual({ namespace: 'ns ', identifier: ' AAHI ' });
    expect(parseDnslinkEntry('dnslink=/ns/ ')).toEqual({ namespace: 'ns', identifier: ' ' });
    expect(parseDnslinkEntry('dnslink=/%E3%81%B5/%41')).toEqual({ namespace: '%E3%81%B5', identifier: '%41' });
    expect(parseDnslinkEntry('dnslink=/ns/a/ b/?c=d ')).toEqual({ namespace: 'ns', identifier: 'a/ b/?c=d ' });
    expect(parseDnslinkEntry('dnslink=/ns//x')).toEqual({ namespace: 'ns', identifier: '/x' });
  });
});

describe('collectDnslinkEntries', () => {
  it('ignores values that do not start with dnslink=', () => {
    expect(collectDnslinkEntries(records(['txtentry=now', ' dnslink=/a/b', 'DNSLINK=/a/b', 'v=spf1']))).toEqual({
      links: {},
      log: [],
      txtEntries: [],
    });
  });

  it('logs each invalid entry with its reason and keeps the valid ones', () => {
    const result = collectDnslinkEntries(records(['dnslink= //\x19', 'dnslink=//\x19', 'dnslink=//', 'dnslink=/ns/', 'dnslink=/ns/ok']));
    expect(result.log).toEqual([
      { code: 'INVALID_ENTRY', entry: 'dnslink= //\x19', reason: 'WRONG_START' },
      { code: 'INVALID_ENTRY', entry: 'dnslink=//\x19', reason: 'INVALID_CHARACTER' },
      { code: 'INVALID_ENTRY', entry: 'dnslink=//', reason: 'NAMESPACE_MISSING' },
      { code: 'INVALID_ENTRY', entry: 'dnslink=/ns/', reason: 'NO_IDENTIFIER' },
    ]);
    expect(result.links).toEqual({ ns: [{ identifier: 'ok', ttl: 100 }] });
  });

  it('sorts identifiers in code-unit order (space < digits < upper < lower)', () => {
    const result = collectDnslinkEntries(
      records(['dnslink=/ns/Z123 ', 'dnslink=/ns/QRST', 'dnslink=/ns/ UVWX', 'dnslink=/ns/lowercase']),
    );
    expect(result.links.ns?.map((link) => link.identifier)).toEqual([' UVWX', 'QRST', 'Z123 ', 'lowercase']);
  });

  it('sorts by UTF-16 code units, not by code point or locale (non-ASCII included)', () => {
    // Entries with non-ASCII are INVALID_CHARACTER, so non-ASCII order is checked on the comparator.
    // U+1F600 is the surrogate pair 0xD83D 0xDE00, below U+FF21 in code units, above it in code points.
    const values = ['\uFF21', '\u{1F600}', 'é', 'z', 'B', 'a'];
    expect([...values].sort(compareCodeUnits)).toEqual(['B', 'a', 'z', 'é', '\u{1F600}', '\uFF21']);
    expect(compareCodeUnits('a', 'a')).toBe(0);
    const result = collectDnslinkEntries(records(['dnslink=/ns/z', 'dnslink=/ns/a', 'dnslink=/ns/B', 'dnslink=/ns/~']));
    expect(result.links.ns?.map((link) => link.identifier)).toEqual(['B', 'a', 'z', '~']);
  });

  it('keeps per-link TTLs and duplicates', () => {
    const result = collectDnslinkEntries([
      { value: 'dnslink=/ns/b', ttl: 30 },
      { value: 'dnslink=/ns/a', ttl: 600 },
      { value: 'dnslink=/ns/a', ttl: 5 },
    ]);
    expect(result.links).toEqual({
      ns: [
        { identifier: 'a', ttl: 600 },
        { identifier: 'a', ttl: 5 },
        { identifier: 'b', ttl: 30 },
      ],
    });
  });

  it('returns every namespace, and txtEntries sorted by namespace then identifier', () => {
    const result = collectDnslinkEntries([
      { value: 'dnslink=/ns_1/890A', ttl: 10 },
      { value: 'dnslink=/ns_3/AABC', ttl: 20 },
      { value: 'dnslink=/ns_1/4567', ttl: 30 },
      { value: 'dnslink=/ns_2/AADE', ttl: 40 },
      { value: 'dnslink=/NS/x', ttl: 50 },
    ]);
    expect(result.links).toEqual({
      NS: [{ identifier: 'x', ttl: 50 }],
      ns_1: [
        { identifier: '4567', ttl: 30 },
        { identifier: '890A', ttl: 10 },
      ],
      ns_2: [{ identifier: 'AADE', ttl: 40 }],
      ns_3: [{ identifier: 'AABC', ttl: 20 }],
    });
    expect(result.txtEntries).toEqual([
      { value: '/NS/x', ttl: 50 },
      { value: '/ns_1/4567', ttl: 30 },
      { value: '/ns_1/890A', ttl: 10 },
      { value: '/ns_2/AADE', ttl: 40 },
      { value: '/ns_3/AABC', ttl: 20 },
    ]);
  });

  it('stores a __proto__ namespace as data', () => {
    const result = collectDnslinkEntries(records(['dnslink=/__proto__/x']));
    expect(Object.keys(result.links)).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(result)).txtEntries).toEqual([{ value: '/__proto__/x', ttl: 100 }]);
  });
});
