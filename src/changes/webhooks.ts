// Webhook delivery of change events (changes.webhooks): each webhook has its own bounded queue
// (the oldest event dropped and counted when full) and one POST in flight, signed HMAC-SHA256 over
// `<timestamp>.<body>` (X-Dnslinkd-Signature: sha256=<hex>, X-Dnslinkd-Timestamp: <unix seconds>),
// retried with exponential backoff for changes.webhookRetryMs, then dropped, counted and logged.
// Resolution never waits for it. The id of the last event each webhook got is kept in the data
// dir (changes-webhooks.json): at start, the events after it in the history (the fleet's stream)
// are delivered again (at least once; receivers drop repeats by id).
import { createHash, createHmac } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { compareIds, matches, type ChangeEvent, type ChangeFilter } from './change-event.js';
import type { ChangeStream } from './change-stream.js';
import type { WebhookConfig } from './config.js';

export const SIGNATURE_HEADER = 'x-dnslinkd-signature';
export const TIMESTAMP_HEADER = 'x-dnslinkd-timestamp';
const STATE_FILE = 'changes-webhooks.json';
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

/** The signature a receiver checks: hex HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** How a webhook is named in the state file and logs without its secret: a hash of its URL. */
const webhookKey = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

class Webhook {
  readonly queue: ChangeEvent[] = [];
  private running = false;
  private closed = false;
  private readonly filter: ChangeFilter;
  readonly key: string;
  private wake: (() => void) | undefined;

  constructor(
    readonly config: WebhookConfig,
    private readonly owner: WebhookDelivery,
  ) {
    this.key = webhookKey(config.url);
    this.filter = { ...(config.suffixes ? { suffixes: config.suffixes } : {}), ...(config.kinds ? { kinds: config.kinds } : {}) };
  }

  offer(event: ChangeEvent): void {
    if (this.closed || !matches(event, this.filter)) return;
    this.queue.push(event);
    if (this.queue.length > this.owner.queueSize) {
      const dropped = this.queue.shift()!;
      this.owner.dropped(this, dropped, 'queue-full');
    }
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    while (!this.closed && this.queue.length > 0) {
      const event = this.queue[0]!;
      const delivered = await this.deliver(event);
      if (this.queue[0] === event) this.queue.shift();
      if (delivered) this.owner.delivered(this, event);
      else if (!this.closed) this.owner.dropped(this, event, 'retries-spent');
    }
    this.running = false;
  }

  /** POSTs one event until it is taken (2xx) or changes.webhookRetryMs ran out. */
  private async deliver(event: ChangeEvent): Promise<boolean> {
    const body = JSON.stringify(event);
    const started = Date.now();
    let backoff = FIRST_BACKOFF_MS;
    for (;;) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(this.config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `sha256=${signBody(this.config.secret, timestamp, body)}`, [TIMESTAMP_HEADER]: timestamp, 'x-dnslinkd-event-id': event.id },
          body,
          signal: AbortSignal.timeout(this.owner.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return true;
        this.owner.retrying(this, `HTTP ${res.status}`);
      } catch (err) {
        this.owner.retrying(this, err instanceof Error ? err.message : String(err));
      }
      if (this.closed || Date.now() - started + backoff > this.owner.retryMs) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }
}

export class WebhookDelivery {
  private readonly hooks: Webhook[];
  private lastIds: Record<string, string> = {};
  private saveTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  readonly queueSize: number;
  readonly retryMs: number;
  readonly timeoutMs: number;

  constructor(
    private readonly stream: ChangeStream,
    private readonly dataDir: string | undefined,
    private readonly log: Logger,
  ) {
    const c = stream.config;
    this.queueSize = c.webhookQueueSize;
    this.retryMs = c.webhookRetryMs;
    this.timeoutMs = c.webhookTimeoutMs;
    this.hooks = c.webhooks.map((w) => new Webhook(w, this));
  }

  /** Starts delivering: first what each webhook missed since its last delivered id (in the history held), then every new event. */
  start(): void {
    if (this.hooks.length === 0) return;
    this.lastIds = this.readState();
    for (const hook of this.hooks) {
      const last = this.lastIds[hook.key];
      if (last === undefined) {
        // A new webhook starts from now: what it misses while this instance is down comes later.
        const newest = this.stream.history.at(-1);
        if (newest) this.advance(hook, newest.id);
        continue;
      }
      const { events, gapBefore } = this.stream.since(last, {});
      if (gapBefore) this.log.warn({ webhook: hook.config.url, lastDelivered: last, historyFrom: gapBefore }, 'webhook: events after its last delivered one were trimmed from the history (changes.historySize) and are not delivered');
      if (events.length > 0) this.log.info({ webhook: hook.config.url, events: events.length, after: last }, 'webhook: delivering the events it missed while this instance was down');
      for (const e of events) hook.offer(e);
    }
    this.stopListening = this.stream.listen((e) => {
      for (const hook of this.hooks) hook.offer(e);
    });
  }

  delivered(hook: Webhook, event: ChangeEvent): void {
    this.stream.metrics.deliveries.inc({ result: 'ok' });
    this.advance(hook, event.id);
  }

  retrying(hook: Webhook, why: string): void {
    this.stream.metrics.deliveries.inc({ result: 'retry' });
    this.log.debug({ webhook: hook.config.url, why }, 'webhook POST failed; retried with backoff');
  }

  dropped(hook: Webhook, event: ChangeEvent, reason: 'queue-full' | 'retries-spent'): void {
    this.stream.metrics.drops.inc({ reason });
    if (reason === 'retries-spent') this.stream.metrics.deliveries.inc({ result: 'dropped' });
    this.log.warn({ webhook: hook.config.url, event: event.id, name: event.name, kind: event.kind, reason }, reason === 'queue-full' ? 'webhook queue full (changes.webhookQueueSize): oldest event dropped' : 'webhook did not take the event within changes.webhookRetryMs: dropped');
    this.advance(hook, event.id);
  }

  private advance(hook: Webhook, id: string): void {
    const last = this.lastIds[hook.key];
    if (last !== undefined && compareIds(id, last) <= 0) return;
    this.lastIds[hook.key] = id;
    this.saveTimer ??= setTimeout(() => this.save(), 200);
  }

  private readState(): Record<string, string> {
    if (!this.dataDir) return {};
    try {
      const parsed = JSON.parse(readFileSync(join(this.dataDir, STATE_FILE), 'utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object') return {};
      return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string' && /^\d+-\d+$/.test(v))) as Record<string, string>;
    } catch {
      return {};
    }
  }

  private save(): void {
    this.saveTimer = undefined;
    if (!this.dataDir) return;
    const file = join(this.dataDir, STATE_FILE);
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(this.lastIds)}\n`);
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.log.warn({ err, file }, 'could not keep the webhooks\' last delivered ids; after a restart some events may be delivered again');
    }
  }

  close(): void {
    this.stopListening?.();
    for (const hook of this.hooks) hook.close();
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.save();
    }
  }
}
