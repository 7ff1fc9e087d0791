// Log lines for events that can come once per query (an upstream timing out, a socket refused with
// EMFILE): at most one line per kind per interval, carrying how many happened since the last line,
// so a flood of failures costs a few lines a second and never hides its count.
import type { Logger } from 'pino';

type Level = 'warn' | 'error' | 'info';

interface KindState {
  /** When this kind's last line was written (ms). */
  loggedAt: number;
  /** Events since that line, not yet written. */
  held: number;
  /** The fields and message of the latest held event (the next line shows it). */
  fields: Record<string, unknown>;
  message: string;
  level: Level;
  timer?: NodeJS.Timeout;
}

export interface RateLimitedLogOptions {
  /** One line per kind per this many ms (default 1000). */
  intervalMs?: number;
  /** Kinds tracked at once; past it, new kinds share the kind `other` (default 256). */
  maxKinds?: number;
  now?: () => number;
}

/**
 * Writes the first event of a kind at once (`count: 1`); later ones within the interval are held
 * and written as one line when it ends, with `count` the number of events that line stands for.
 */
export class RateLimitedLog {
  private readonly kinds = new Map<string, KindState>();
  private readonly intervalMs: number;
  private readonly maxKinds: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    options: RateLimitedLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.maxKinds = options.maxKinds ?? 256;
    this.now = options.now ?? Date.now;
  }

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.event('warn', kind, fields, message);
  }

  info(kind: string, fields: Record<string, unknown>, message: string): void {
    this.event('info', kind, fields, message);
  }

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.event('error', kind, fields, message);
  }

  /** Writes what is held now (at shutdown) and stops the timers. */
  flush(): void {
    for (const state of this.kinds.values()) {
      clearTimeout(state.timer);
      state.timer = undefined;
      this.writeHeld(state);
    }
  }

  private event(level: Level, kind: string, fields: Record<string, unknown>, message: string): void {
    const key = this.kinds.has(kind) || this.kinds.size < this.maxKinds ? kind : 'other';
    const now = this.now();
    let state = this.kinds.get(key);
    if (!state) {
      state = { loggedAt: -Infinity, held: 0, fields, message, level };
      this.kinds.set(key, state);
    }
    state.held++;
    state.fields = fields;
    state.message = message;
    state.level = level;
    if (now - state.loggedAt >= this.intervalMs && state.timer === undefined) {
      this.writeHeld(state);
      return;
    }
    if (state.timer === undefined) {
      const target = state;
      target.timer = setTimeout(() => {
        target.timer = undefined;
        this.writeHeld(target);
      }, Math.max(0, target.loggedAt + this.intervalMs - now));
      target.timer.unref();
    }
  }

  private writeHeld(state: KindState): void {
    if (state.held === 0) return;
    this.log[state.level]({ ...state.fields, count: state.held }, state.message);
    state.held = 0;
    state.loggedAt = this.now();
  }
}
