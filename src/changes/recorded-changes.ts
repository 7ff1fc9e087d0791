// What becomes a change event, from where it happens: an admin change the control plane made (its
// audit record: overrides set, changed, removed, expired, imported; flushes), and a cache refresh
// that fetched other DNSLink values than the entry it replaces held (compared only then, never on
// a hit).
import { txtRecordsOf } from '../core/dnslink-service.js';
import type { Resolution } from '../dns/resolution.js';
import type { NewAuditRecord } from '../control/store.js';
import type { NewChangeEvent } from './change-event.js';
import type { ChangeKind } from './config.js';

const OVERRIDE_ACTIONS: Readonly<Record<string, true>> = { 'override.set': true, 'override.pin': true, 'override.remove': true, 'override.expire': true, 'override.import': true };

const valueOf = (o: unknown): string | null => (o && typeof o === 'object' && typeof (o as { value?: unknown }).value === 'string' ? (o as { value: string }).value : null);

/** The change event an audit record stands for; undefined for a dry run or an action that changes no answer. */
export function eventOfAudit(record: NewAuditRecord): NewChangeEvent | undefined {
  if (record.dryRun || record.name === undefined && record.action !== 'cache.flush') return undefined;
  const origin = record.token === 'system' ? 'expiry' : `admin:${record.token}`;
  if (record.action === 'cache.flush') {
    const target = (record.after as { target?: { name?: string; suffix?: string; all?: true } } | undefined)?.target ?? { all: true as const };
    if (target.name !== undefined) return { name: target.name, kind: 'flush', scope: 'name', origin };
    if (target.suffix !== undefined) return { name: target.suffix, kind: 'flush', scope: 'suffix', origin };
    return { name: '.', kind: 'flush', scope: 'all', origin };
  }
  if (!OVERRIDE_ACTIONS[record.action] || record.name === undefined) return undefined;
  const before = valueOf(record.before);
  const after = valueOf(record.after);
  let kind: ChangeKind;
  if (record.action === 'override.expire') kind = 'override.expire';
  else if (after === null) kind = 'override.remove';
  else kind = record.before ? 'override.change' : 'override.set';
  if (kind === 'override.change' && before === after) return undefined;
  return { name: record.name, kind, old: before, new: after, origin };
}

/** The DNSLink values of a TXT answer for `fqdn` (`dnslink=` taken off), sorted, space separated; null when none. */
export function dnslinkValues(res: Resolution, fqdn: string): string | null {
  const values = txtRecordsOf(res, fqdn)
    .map((r) => r.value)
    .filter((v) => v.startsWith('dnslink='))
    .map((v) => v.slice('dnslink='.length))
    .sort();
  return values.length > 0 ? values.join(' ') : null;
}

/** Where a refreshed answer came from, as an event's origin. */
export const refreshOrigin = (res: Resolution): string => (res.source === 'ens' || res.source === 'ens-fallback' ? res.source : 'dns');

/**
 * The refresh change when a fetched TXT answer replaces a cached one with other DNSLink values;
 * undefined otherwise (no entry held, the same values, or a name that is not a DNSLink name).
 */
export function refreshChange(fqdn: string, held: Resolution, fetched: Resolution): { name: string; old: string | null; new: string | null; origin: string } | undefined {
  const before = dnslinkValues(held, fqdn);
  const after = dnslinkValues(fetched, fqdn);
  if (before === after) return undefined;
  return { name: fqdn.toLowerCase().replace(/\.$/, '').replace(/^_dnslink\./, ''), old: before, new: after, origin: refreshOrigin(fetched) };
}
