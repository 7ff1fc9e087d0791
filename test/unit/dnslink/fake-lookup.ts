// In-memory TxtLookup for the DNSLink unit tests: a Map from queried name to answer. Unknown
// names answer NXDOMAIN; every queried name is recorded in `asked` to check what reached the wire.
import type { TxtRecord } from '../../../src/dnslink/entries.js';
import type { TxtLookup, TxtLookupResult } from '../../../src/dnslink/resolve.js';

export interface FakeLookup {
  lookup: TxtLookup;
  asked: string[];
}

export function fakeLookup(answers: Map<string, TxtLookupResult>): FakeLookup {
  const asked: string[] = [];
  const lookup: TxtLookup = async (fqdn) => {
    asked.push(fqdn);
    return answers.get(fqdn) ?? { rcode: 3, records: [] };
  };
  return { lookup, asked };
}

/** NOERROR answer holding the given TXT values, all with the same TTL. */
export function txt(values: string[], ttl = 100): TxtLookupResult {
  return { rcode: 0, records: values.map((value): TxtRecord => ({ value, ttl })) };
}

export function rcode(code: number): TxtLookupResult {
  return { rcode: code, records: [] };
}
