// Which instances share a fleet store: each writes its own line (host, pid, admin address, version,
// overrides version, last seen) into one Redis hash every state.syncIntervalMs, and `dnslinkd
// status` reads them back: an instance is "seen" when its line is younger than three intervals.
// Lines older than a day are removed by whoever reads them.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { VERSION } from '../version.js';
import type { RedisStore } from './redis-store.js';

const PRESENCE_KEY = 'dnslinkd:instances';
const FORGET_AFTER_MS = 86_400_000;

export interface FleetInstanceView {
  id: string;
  host: string;
  pid: number;
  admin: string;
  version: string;
  /** The store version of the overrides it serves. */
  overridesVersion: number;
  lastSeen: string;
  /** Seen within three sync intervals. */
  live: boolean;
  /** This instance. */
  self: boolean;
}

export class FleetPresence {
  readonly id: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: RedisStore,
    private readonly admin: string,
    private readonly intervalMs: number,
    private readonly overridesVersion: () => number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.id = `${hostname()}:${process.pid}:${admin}`;
  }

  /** Writes this instance's line now and every interval. */
  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    if (!this.store.connected) return;
    const line = { host: hostname(), pid: process.pid, admin: this.admin, version: VERSION, overridesVersion: this.overridesVersion(), lastSeen: new Date(this.now()).toISOString() };
    try {
      await this.store.client.hset(PRESENCE_KEY, this.id, JSON.stringify(line));
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'fleet presence not written');
    }
  }

  /** Every instance with a line, the live ones first; lines older than a day are removed. */
  async instances(): Promise<FleetInstanceView[]> {
    const all = await this.store.client.hgetall(PRESENCE_KEY);
    const now = this.now();
    const seen: FleetInstanceView[] = [];
    const forget: string[] = [];
    for (const [id, raw] of Object.entries(all)) {
      let line: Omit<FleetInstanceView, 'id' | 'live' | 'self'>;
      try {
        line = JSON.parse(raw) as typeof line;
      } catch {
        forget.push(id);
        continue;
      }
      const age = now - Date.parse(line.lastSeen);
      if (!(age < FORGET_AFTER_MS)) {
        forget.push(id);
        continue;
      }
      seen.push({ id, ...line, live: age < 3 * this.intervalMs, self: id === this.id });
    }
    if (forget.length > 0) await this.store.client.hdel(PRESENCE_KEY, ...forget).catch(() => 0);
    return seen.sort((a, b) => Number(b.live) - Number(a.live) || (a.id < b.id ? -1 : 1));
  }

  /** Removes this instance's line (a clean stop) and stops writing it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.store.connected) await this.store.client.hdel(PRESENCE_KEY, this.id).catch(() => 0);
  }
}
