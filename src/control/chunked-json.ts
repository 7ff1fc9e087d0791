// A large JSON answer (an import's thousands of results) written in pieces that yield between
// them: one JSON.stringify of it all would hold the event loop, and the DNS port, for as long as
// it takes. Owns only that serialisation; the admin routes send the stream it makes.
import { Readable } from 'node:stream';
import { WORK_CHUNK, yieldToEventLoop } from '../runtime/event-loop-yield.js';

/** `value` as JSON text, its array at `arrayKey` serialised WORK_CHUNK items at a time (that key comes last). */
export function jsonInChunks(value: object, arrayKey: string): Readable {
  const { [arrayKey]: items, ...rest } = value as Record<string, unknown>;
  const list = Array.isArray(items) ? items : [];
  async function* pieces(): AsyncGenerator<string> {
    const head = JSON.stringify(rest);
    yield `${head.slice(0, -1)}${head === '{}' ? '' : ','}${JSON.stringify(arrayKey)}:[`;
    for (let i = 0; i < list.length; i += WORK_CHUNK) {
      if (i > 0) await yieldToEventLoop();
      yield (i > 0 ? ',' : '') + list.slice(i, i + WORK_CHUNK).map((item: unknown) => JSON.stringify(item)).join(',');
    }
    yield ']}';
  }
  return Readable.from(pieces());
}
