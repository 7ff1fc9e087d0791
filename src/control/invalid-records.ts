// Records of a shared store that could not be read (not JSON, a wrong shape, a value that cannot
// be served): skipped, never served, and reported: one log line naming the key and why when one is
// first seen, a gauge by key, and the list for /admin/v1/status and /healthz.

/** One record skipped: the store key, the record within it (hash field, stream id...), why. */
export interface InvalidRecord {
  key: string;
  id: string;
  why: string;
  /** ISO time it was first seen. */
  since: string;
}

/** Records listed per key (the count goes on beyond). */
const LISTED_PER_KEY = 100;
/** A record's id (a hash field may be any length) is shown up to this. */
const MAX_ID = 200;

export class InvalidRecords {
  private readonly byKey = new Map<string, { count: number; records: Map<string, InvalidRecord> }>();
  /** Keys read piece by piece (add): what clear() forgets. */
  private readonly logKeys = new Set<string>();

  constructor(
    private readonly onFound: (record: InvalidRecord) => void = () => {},
    private readonly onCount: (key: string, count: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The invalid records of a whole key as just read: the ones an earlier read found and this one did not are no longer counted. */
  replace(key: string, found: ReadonlyArray<{ id: string; why: string }>): void {
    const before = this.byKey.get(key);
    const records = new Map<string, InvalidRecord>();
    for (const f of found.slice(0, LISTED_PER_KEY)) records.set(f.id, this.record(key, f, before?.records.get(f.id)));
    this.set(key, found.length, records);
  }

  /** One invalid record met reading part of a key (a log read piece by piece): counted until clear(). */
  add(key: string, found: { id: string; why: string }): void {
    const entry = this.byKey.get(key) ?? { count: 0, records: new Map<string, InvalidRecord>() };
    this.logKeys.add(key);
    if (entry.records.has(found.id)) return;
    const records = new Map(entry.records);
    if (records.size < LISTED_PER_KEY) records.set(found.id, this.record(key, found, undefined));
    this.set(key, entry.count + 1, records);
  }

  /** Forgets the records of the keys read piece by piece (the store was emptied or replaced); whole keys are counted again at each read. */
  clear(): void {
    for (const key of this.logKeys) this.set(key, 0, new Map());
  }

  get count(): number {
    let n = 0;
    for (const e of this.byKey.values()) n += e.count;
    return n;
  }

  list(): InvalidRecord[] {
    return [...this.byKey.values()].flatMap((e) => [...e.records.values()]);
  }

  private record(key: string, found: { id: string; why: string }, earlier: InvalidRecord | undefined): InvalidRecord {
    if (earlier && earlier.why === found.why) return earlier;
    const id = found.id.length > MAX_ID ? `${found.id.slice(0, MAX_ID)}...` : found.id;
    const record = { key, id, why: found.why, since: new Date(this.now()).toISOString() };
    this.onFound(record);
    return record;
  }

  private set(key: string, count: number, records: Map<string, InvalidRecord>): void {
    if (count === 0) this.byKey.delete(key);
    else this.byKey.set(key, { count, records });
    this.onCount(key, count);
  }
}
