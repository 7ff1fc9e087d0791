// Long work split so the event loop keeps turning: the DNS listeners answer between the chunks of
// an import, a sync or a restore of a large override set. Owns the chunk size and the yield itself.
import { setImmediate as immediate } from 'node:timers/promises';

/** Items handled between two yields: small enough that one chunk takes a few milliseconds. */
export const WORK_CHUNK = 500;

/** Resolves after the I/O waiting now (DNS queries included) has had its turn. */
export function yieldToEventLoop(): Promise<void> {
  return immediate();
}

/** Calls `each` on every item, yielding to the event loop after every `size` of them. */
export async function forEachInChunks<T>(items: Iterable<T>, each: (item: T) => void | Promise<void>, size = WORK_CHUNK): Promise<void> {
  let done = 0;
  for (const item of items) {
    await each(item);
    if (++done % size === 0) await yieldToEventLoop();
  }
}
