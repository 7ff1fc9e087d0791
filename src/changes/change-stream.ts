// The change stream of one instance: record() takes an event (never throws, never waits), gives it
// an id and keeps the last changes.historySize in a ring for Last-Event-ID resumes, and hands each
// to the subscribers (SSE streams, webhooks). With state.redis the event goes through the fleet's
// Redis stream instead (fleet-relay.ts), so every instance hands each change on once.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ChangesConfig } from './config.js';
import { compareIds, LocalIds, matches, type ChangeEvent, type ChangeFilter, type NewChangeEvent } from './change-event.js';
import type { ChangeMetrics } from './metrics.js';

export type ChangeListener = (event: ChangeEvent) => void;

/** Where recorded events go before subscribers see them: the local ring, or the fleet's stream. */
export interface ChangeSink {
  /** Takes an event; resolves once it is on its way. A refresh change may be skipped (another instance recorded it). */
  write(event: Omit<ChangeEvent, 'id'>, dedupeKey?: string): Promise<void>;
  close(): Promise<void>;
}

export class ChangeStream {
  /** Ids ordered, oldest first; trimmed to historySize. */
  private readonly ring: ChangeEvent[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private readonly ids = new LocalIds();
  private sink: ChangeSink | undefined;
  /** The id of the newest event trimmed from the ring: a reader behind it has lost events. */
  trimmedThrough: string | undefined;
  readonly instance: string;

  constructor(
    readonly config: ChangesConfig,
    readonly metrics: ChangeMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    instance?: string,
  ) {
    this.instance = instance ?? `${hostname()}/${process.pid}`;
  }

  /** Sends events through `sink` (the fleet's stream) from now on; it calls deliver() with each, ids given. */
  useSink(sink: ChangeSink): void {
    this.sink = sink;
  }

  /**
   * Records a change (what a denylist calls on a block or unblock: kind `block`/`unblock`, name,
   * old/new, origin). Never throws and never waits; with Redis the write happens in the background.
   */
  record(input: NewChangeEvent, dedupeKey?: string): void {
    const time = input.time ?? new Date(this.now()).toISOString();
    const event = { ...input, time, instance: this.instance };
    this.metrics.events.inc({ kind: input.kind });
    if (!this.sink) {
      this.deliver({ id: this.ids.next(this.now()), ...event });
      return;
    }
    this.sink.write(event, dedupeKey).catch((err: unknown) => {
      this.metrics.drops.inc({ reason: 'store' });
      this.log.warn({ err, change: event }, 'a change event could not be written to the fleet stream (state.redis): subscribers do not see it');
    });
  }

  /** A refresh fetched other DNSLink values than the cache held. */
  recordRefresh(name: string, before: string | null, after: string | null, origin: string): void {
    this.record({ name, kind: 'refresh', old: before, new: after, origin }, `${name}\u0000${before ?? ''}\u0000${after ?? ''}`);
  }

  /** An event with its id (made here, or the fleet stream's): into the ring and to every listener. */
  deliver(event: ChangeEvent): void {
    const last = this.ring.at(-1);
    if (last && compareIds(event.id, last.id) <= 0) return; // seen already (a reconnect reading again)
    this.ids.after(event.id);
    this.ring.push(event);
    if (this.ring.length > this.config.historySize * 1.25) this.trimmedThrough = this.ring.splice(0, this.ring.length - this.config.historySize).at(-1)!.id;
    for (const listener of this.listeners) listener(event);
  }

  /** Events kept, oldest first (at most historySize, a little more between trims). */
  get history(): readonly ChangeEvent[] {
    return this.ring;
  }

  /** The events after `afterId` that pass `filter`, and whether history older than it was lost. */
  since(afterId: string | undefined, filter: ChangeFilter): { events: ChangeEvent[]; gapBefore?: string } {
    if (afterId === undefined) return { events: [] };
    const events = this.ring.slice(this.firstAfter(afterId)).filter((e) => matches(e, filter));
    return this.lapped(afterId) && this.ring[0] ? { events, gapBefore: this.ring[0].id } : { events };
  }

  /** Index in `history` of the first event with an id after `id` (binary search: ids only grow). */
  firstAfter(id: string): number {
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.ring[mid]!.id, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Listens to every event from now on (webhooks filter their own). */
  listen(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether a reader that has seen every event up to `id` has lost some to the ring's trimming. */
  lapped(id: string): boolean {
    return this.trimmedThrough !== undefined && compareIds(id, this.trimmedThrough) < 0;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.sink?.close();
  }
}
