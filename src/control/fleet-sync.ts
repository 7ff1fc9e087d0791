// Keeps an instance of a fleet in step with the shared store: every change notice on the channel
// triggers a reconcile (ControlPlane.sync, by override version and flush generation), and since
// pub/sub loses messages (a notice sent while this instance was disconnected is gone), it also
// reconciles at start, on every reconnect and every state.syncIntervalMs. The notice of a change
// this instance made itself (and applied) is skipped. Reconciles never overlap;
// requests made during one run it once more. While Redis is unreachable the instance is degraded:
// it keeps serving the last state it had, refuses changes, says so once in the log, in /healthz and
// in dnslinkd_control_degraded, and says once when it is back.
import type { Logger } from 'pino';
import { CodedError, errorMessage } from '../errors.js';
import type { ControlPlane } from './control-plane.js';
import type { RedisStore } from './redis-store.js';

export class FleetSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private degradedSince: number | undefined;

  constructor(
    private readonly store: RedisStore,
    private readonly control: ControlPlane,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Subscribes, watches the connections and starts the periodic reconcile (the first one included). */
  async start(): Promise<void> {
    this.store.client.on('close', () => this.down('connection lost'));
    // Every (re)connection may have missed notices: reconcile (a success ends the degraded state).
    this.store.client.on('ready', () => this.request());
    this.store.subscriber.on('ready', () => this.request());
    // The notice of a change this instance made and applied needs no reconcile (which reads the whole set).
    await this.store.subscribe((notice) => {
      if (notice?.kind !== 'overrides' || notice.version === undefined) return void this.request();
      void this.control.ownChange(notice.version).then((own) => (own ? undefined : this.request()));
    });
    this.timer = setInterval(() => this.request(), this.intervalMs);
    this.timer.unref();
    await this.request();
  }

  /** Reconciles now, or once more after the one running; resolves when done. */
  request(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.control.sync();
        if (this.store.connected) this.up();
      } catch (err) {
        if (this.closed) return;
        if (!this.store.connected || (err instanceof CodedError && err.code === 'STORE_DEGRADED')) this.down(errorMessage(err));
        else this.log.warn({ err, store: this.store.location }, 'fleet sync failed; retried at the next notice or interval');
      }
    } while (this.again && !this.closed);
  }

  private down(reason: string): void {
    if (this.closed || this.degradedSince !== undefined) return;
    this.degradedSince = Date.now();
    this.control.setDegraded(reason);
    this.log.warn(
      { store: this.store.location, reason },
      'fleet store unreachable: DEGRADED, serving the last state this instance had (overrides, flushes); admin changes are refused with 503 until it is back',
    );
  }

  private up(): void {
    if (this.degradedSince === undefined) return;
    const seconds = (Date.now() - this.degradedSince) / 1000;
    this.degradedSince = undefined;
    this.control.setDegraded(undefined);
    this.log.info({ store: this.store.location, degradedSeconds: seconds }, 'fleet store reachable again: reconciled, no longer degraded');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running?.catch(() => {});
  }
}
