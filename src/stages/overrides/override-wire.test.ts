// The wire's limit on an override value: a value at MAX_OVERRIDE_VALUE, with the longest name and
// reason, makes a response within 65,535 bytes at both names; one byte more is refused with
// VALUE_TOO_LONG naming the limit; the limit derived from the wire is what the module says.
import { describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { buildResponse } from '../../dns/response-builder.js';
import { parseQuery, type WireQuery } from '../../dns/query-parser.js';
import { checkOverrideValue, overrideAnswer, overriddenQuestions, overrideWireProblem } from './override.js';
import { MAX_DNS_MESSAGE, MAX_OVERRIDE_VALUE, WIRE_MAX_OVERRIDE_VALUE } from './override-wire.js';

const CID = 'bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const valueOf = (length: number) => `/ipfs/${CID}/${'p'.repeat(length - CID.length - 7)}`;
// 253 characters written out; `_dnslink.` + it must fit 255 wire bytes too, so the bare name is 244.
const longestName = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(52)}`;

describe('override value limit', () => {
  it('is derived from the wire: 63,216 at most, the documented 63,000 within it', () => {
    expect(WIRE_MAX_OVERRIDE_VALUE).toBe(63_216);
    expect(MAX_OVERRIDE_VALUE).toBeLessThanOrEqual(WIRE_MAX_OVERRIDE_VALUE);
  });

  it('a value at the limit encodes at both names with the longest name and reason, within a TCP message', () => {
    const value = valueOf(MAX_OVERRIDE_VALUE);
    expect(checkOverrideValue(value)).toEqual({ value });
    const override = { name: longestName, value, ttl: 60, reason: '\u20ac'.repeat(500) };
    expect(overrideWireProblem(override)).toBeUndefined();
    for (const { owner } of overriddenQuestions(longestName)) {
      const parsed = parseQuery(queryPacket(owner));
      const query = (parsed as { query: WireQuery }).query;
      expect(query).toBeDefined();
      const wire = buildResponse(query, overrideAnswer(override, owner));
      expect(wire.length).toBeLessThanOrEqual(MAX_DNS_MESSAGE);
    }
  });

  it('one byte past it is refused with VALUE_TOO_LONG naming the limit', () => {
    const result = checkOverrideValue(valueOf(MAX_OVERRIDE_VALUE + 1));
    expect(result).toEqual({ code: 'VALUE_TOO_LONG', error: expect.stringContaining('at most 63000') });
    expect(overrideWireProblem({ name: 'x.example', value: valueOf(70_000), ttl: 60, reason: 'r' })).toMatch(/past the 65535 of a DNS message/);
  });
});

/** A TXT query for `name` with an OPT record (EDNS), as a client sends it. */
function queryPacket(name: string): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
  const tail = Buffer.from([0, 0, 0, 1]);
  tail.writeUInt16BE(RRType.TXT, 0);
  const opt = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, labels, tail, opt]);
}
