// The fleet's change stream in Redis (state.redis): every instance XADDs the changes it makes to
// `dnslinkd:change-stream` (MAXLEN ~ changes.historySize) and reads the stream back with a blocking
// XREAD, so each change reaches every instance's subscribers once, with the stream's id. A refresh
// change (name, old, new) is written by the first instance that sees it: the others find its
// `dnslinkd:change-seen:*` key (SET NX, changes.refreshDedupeMs) and skip it.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { ChangeEvent } from './change-event.js';
import type { ChangeSink, ChangeStream } from './change-stream.js';

export const STREAM_KEY = 'dnslinkd:change-stream';
const SEEN_PREFIX = 'dnslinkd:change-seen:';
/** How long one blocking read waits before it reads again (it returns at once when an event comes). */
const BLOCK_MS = 5_000;
const READ_BATCH = 500;

function parseEntry(id: string, fields: string[]): ChangeEvent | undefined {
  const json = fields[1];
  if (fields[0] !== 'e' || json === undefined) return undefined;
  try {
    const body = JSON.parse(json) as Omit<ChangeEvent, 'id'>;
    if (typeof body.name !== 'string' || typeof body.kind !== 'string') return undefined;
    return { id, ...body };
  } catch {
    return undefined;
  }
}

export class FleetRelay implements ChangeSink {
  private readonly writer: Redis;
  private readonly reader: Redis;
  private lastId = '0-0';
  private closed = false;
  private reading: Promise<void> | undefined;

  private constructor(
    url: string,
    private readonly stream: ChangeStream,
    private readonly log: Logger,
  ) {
    const options: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: (times) => Math.min(100 * times, 1000) };
    this.writer = new Redis(url, { ...options, enableOfflineQueue: false, commandTimeout: 3000, connectionName: 'dnslinkd-changes' });
    this.reader = new Redis(url, { ...options, connectionName: 'dnslinkd-changes-read' });
    this.writer.on('error', () => {});
    this.reader.on('error', () => {});
  }

  /** Connects, loads the stream's last historySize events into the stream's ring, and starts reading. */
  static async open(url: string, stream: ChangeStream, log: Logger): Promise<FleetRelay> {
    const relay = new FleetRelay(url, stream, log);
    await relay.writer.connect();
    await relay.reader.connect();
    const newest = (await relay.writer.xrevrange(STREAM_KEY, '+', '-', 'COUNT', stream.config.historySize)) as Array<[string, string[]]>;
    for (const [id, fields] of newest.reverse()) {
      const event = parseEntry(id, fields);
      if (event) stream.deliver(event);
      relay.lastId = id;
    }
    relay.reading = relay.readLoop();
    return relay;
  }

  async write(event: Omit<ChangeEvent, 'id'>, dedupeKey?: string): Promise<void> {
    if (dedupeKey !== undefined) {
      const key = SEEN_PREFIX + createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32);
      const first = await this.writer.set(key, event.instance, 'PX', this.stream.config.refreshDedupeMs, 'NX');
      if (first === null) return;
    }
    await this.writer.xadd(STREAM_KEY, 'MAXLEN', '~', this.stream.config.historySize, '*', 'e', JSON.stringify(event));
  }

  private async readLoop(): Promise<void> {
    let failing = false;
    while (!this.closed) {
      try {
        const got = (await this.reader.xread('COUNT', READ_BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', STREAM_KEY, this.lastId)) as Array<[string, Array<[string, string[]]>]> | null;
        if (failing) this.log.info('fleet change stream readable again');
        failing = false;
        for (const [, entries] of got ?? []) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            const event = parseEntry(id, fields);
            if (event) this.stream.deliver(event);
          }
        }
      } catch (err) {
        if (this.closed) return;
        if (!failing) this.log.warn({ err }, 'fleet change stream (state.redis) unreadable: subscribers get no events until it is back; retrying');
        failing = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    await this.reading?.catch(() => {});
    this.writer.disconnect();
  }
}
