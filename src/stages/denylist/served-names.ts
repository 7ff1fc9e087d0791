// The names dnslinkd served lately, as the guard and a list change see them: every TXT answer in
// the cache (its DNSLink name, the /ipfs/ and /ipns/ values it holds, whether it is a block) and
// the names asked recently. The cache is walked in slices that yield, so a walk over a million
// entries never stalls the DNS port.
import { EdeCode } from '../../dns/constants.js';
import { decodeName } from '../../dns/names.js';
import type { AnswerStore, CacheEntry } from '../cache/answer-store.js';
import { nameKeyOfKey } from '../cache/answer-store.js';
import { dnslinkNameOf, parseVerdictText, valuesOf } from './verdict.js';

/** Type TXT, class IN: the last four characters of a cache key. */
const TXT_IN = '\x00\x10\x00\x01';
/** A walk yields after this long of work (checked after every entry: a list's lookups may cost 100s of µs each). */
const SLICE_MS = 10;

export interface ServedName {
  /** The DNSLink name (no `_dnslink.`, lower case). */
  name: string;
  /** The cached /ipfs/ and /ipns/ values of its answer. */
  values: string[];
  /** The cached answer is a denylist block (EDE 15 or 16 from a list). */
  blocked: boolean;
}

export function isBlockEntry(entry: CacheEntry): boolean {
  const ede = entry.origin.ede;
  return ede !== undefined && (ede.code === EdeCode.BLOCKED || ede.code === EdeCode.CENSORED) && parseVerdictText(ede.text) !== undefined;
}

/** Calls `each` on every cached TXT answer stored at or after `since` (ms), yielding between slices. */
export async function forEachCachedName(store: AnswerStore, since: number, each: (served: ServedName) => void): Promise<void> {
  const { entries, current } = store.walk();
  let sliceStart = performance.now();
  for (const entry of entries) {
    if (!current()) return;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
      if (!store.holds(entry)) continue;
    }
    if (!entry.key.endsWith(TXT_IN) || entry.storedAt < since) continue;
    const nameKey = nameKeyOfKey(entry.key);
    const qname = decodeName(Buffer.from(nameKey, 'latin1'), 0, nameKey.length);
    const blocked = isBlockEntry(entry);
    const values = blocked || entry.negative ? [] : valuesOf(qname, entry.resolution.answers);
    each({ name: dnslinkNameOf(qname), values, blocked });
  }
}
