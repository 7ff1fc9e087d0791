// What a cache flush removes: one name (in its bare and `_dnslink.` forms, every type), a zone and
// everything under it, or everything; optionally negative answers only. Names are compared as
// cache keys do, in lower-cased wire form, label by label. No I/O.
import { encodeName } from '../../dns/names.js';
import { DNSLINK_PREFIX } from '../../dnslink/domain.js';

export type FlushTarget = { name: string } | { suffix: string } | { all: true };

/** Decides, for the name part of a cache key (lower-cased wire name, latin1), whether a flush takes it. */
export type NameMatcher = (nameKey: string) => boolean;

/** The name part of a cache key for a name given as text. */
export function nameKeyOf(name: string): string {
  const wire = encodeName(name);
  for (let i = 0; i < wire.length; i++) if (wire[i]! >= 0x41 && wire[i]! <= 0x5a) wire[i] = wire[i]! + 0x20;
  return wire.toString('latin1');
}

/** True when `nameKey` is `suffixKey` or a name under it (label-aligned, so `xexample.org` is not under `example.org`). */
export function isAtOrUnder(nameKey: string, suffixKey: string): boolean {
  let at = 0;
  while (nameKey.length - at > suffixKey.length) {
    const len = nameKey.charCodeAt(at);
    if (len === 0) return false;
    at += len + 1;
  }
  return nameKey.length - at === suffixKey.length && nameKey.endsWith(suffixKey);
}

/** The cache-key names a `{name}` flush takes: the name and its `_dnslink.` form. */
export function flushedNameKeys(name: string): string[] {
  const bare = name.startsWith(DNSLINK_PREFIX) ? name.slice(DNSLINK_PREFIX.length) : name;
  return [nameKeyOf(bare), nameKeyOf(`${DNSLINK_PREFIX}${bare}`)];
}

export function flushMatcher(target: FlushTarget): NameMatcher {
  if ('all' in target) return () => true;
  if ('name' in target) {
    const [bare, prefixed] = flushedNameKeys(target.name);
    return (nameKey) => nameKey === bare || nameKey === prefixed;
  }
  const suffixKey = nameKeyOf(target.suffix);
  return (nameKey) => isAtOrUnder(nameKey, suffixKey);
}
