// Record types between names and numbers, the one rule for every reader: dns-packet's names
// (`TXT`, `UNKNOWN_65`), RFC 3597 mnemonics (`TYPE65`) and plain numbers from query strings.
import { RRType } from './constants.js';
import { packetTypes } from './dns-packet-internals.js';

const GENERIC = /^(?:TYPE|UNKNOWN_)(\d{1,5})$/i;
const MNEMONIC = /^[A-Za-z][A-Za-z0-9-]*$/;

/** A type's number from a number, a mnemonic (`TXT`, `aaaa`), dns-packet's `UNKNOWN_65` or `TYPE65`; 0 when unknown. */
export function recordTypeNumber(type: string | number): number {
  if (typeof type === 'number') return type;
  const generic = GENERIC.exec(type);
  if (generic) {
    const n = Number(generic[1]);
    return n <= 0xffff ? n : 0;
  }
  if (!MNEMONIC.test(type)) return 0;
  const n = packetTypes.toType(type.toUpperCase());
  return Number.isInteger(n) && n > 0 && n <= 0xffff ? n : 0;
}

/**
 * A record type from a query parameter: a number 1-65535, a mnemonic or `TYPE<n>`. An absent
 * type means A, as with Google and Cloudflare. Undefined when unknown.
 */
export function parseRecordType(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return RRType.A;
  if (/^UNKNOWN_/i.test(raw)) return undefined; // dns-packet's name for a type, not a query form
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : recordTypeNumber(raw);
  return n >= 1 && n <= 0xffff ? n : undefined;
}
