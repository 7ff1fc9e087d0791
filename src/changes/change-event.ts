// What one change event is (docs/changes.md): its fields, its id (a Redis stream id `ms-seq`, made
// the same way by the local stream, so ids compare the same with and without Redis), and which
// events a filter (names, suffixes, kinds) takes.
import type { ChangeKind } from './config.js';

export interface ChangeEvent {
  /** `<ms>-<seq>`: monotonic per stream (the Redis stream's id with state.redis). */
  id: string;
  /** ISO time the change was recorded. */
  time: string;
  /** The DNSLink name (no `_dnslink.`, no trailing dot); for a flush of a suffix, the suffix; `.` for a flush of everything. */
  name: string;
  kind: ChangeKind;
  /** The DNSLink value(s) before (`/ipfs/…`; several sorted, space separated); null when there was none. Absent for a flush. */
  old?: string | null;
  new?: string | null;
  /** What made the change: `dns`, `ens` (a refresh), `admin:<token label>`, `expiry`, or what the caller of record() says. */
  origin: string;
  /** The instance that recorded it (host name and pid, or changes' caller's). */
  instance: string;
  /** For a flush: what was flushed. */
  scope?: 'name' | 'suffix' | 'all';
}

/** An event before the stream gives it an id, time and instance. */
export type NewChangeEvent = Omit<ChangeEvent, 'id' | 'time' | 'instance'> & { time?: string };

const ID = /^(\d{1,16})-(\d{1,16})$/;

export function isEventId(id: string): boolean {
  return ID.test(id);
}

/** Negative when a < b (both valid ids). */
export function compareIds(a: string, b: string): number {
  const [, am, as] = ID.exec(a) ?? [, '0', '0'];
  const [, bm, bs] = ID.exec(b) ?? [, '0', '0'];
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}

/** Makes ids `ms-seq` that only grow, even if the clock steps back. */
export class LocalIds {
  private lastMs = 0;
  private seq = 0;
  next(now: number): string {
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else this.seq++;
    return `${this.lastMs}-${this.seq}`;
  }
  /** Ids made from now on come after `id` (history loaded at start). */
  after(id: string): void {
    const m = ID.exec(id);
    if (m && Number(m[1]) >= this.lastMs) {
      this.lastMs = Number(m[1]);
      this.seq = Number(m[2]);
    }
  }
}

export interface ChangeFilter {
  names?: readonly string[];
  suffixes?: readonly string[];
  kinds?: readonly string[];
}

/** Lower case, no trailing dot, no `_dnslink.`: how names are compared. */
export function filterName(raw: string): string {
  return raw.trim().toLowerCase().replace(/\.$/, '').replace(/^_dnslink\./, '');
}

const under = (name: string, suffix: string): boolean => name === suffix || name.endsWith(`.${suffix}`);

/** Whether `event` passes `filter`: a flush reaches every name it covers (all of them, or a suffix's). */
export function matches(event: ChangeEvent, filter: ChangeFilter): boolean {
  if (filter.kinds && filter.kinds.length > 0 && !filter.kinds.includes(event.kind)) return false;
  const names = filter.names ?? [];
  const suffixes = filter.suffixes ?? [];
  if (names.length === 0 && suffixes.length === 0) return true;
  if (event.scope === 'all') return true;
  if (event.scope === 'suffix') return names.some((n) => under(n, event.name)) || suffixes.some((s) => under(s, event.name) || under(event.name, s));
  return names.includes(event.name) || suffixes.some((s) => under(event.name, s));
}
