// The IPIP-383 compact denylist format: parse a `.deny` list (sync, or in slices that yield to the
// event loop) into a CompiledDenylist that says which rule decides a name or a content path.
// Entry point of src/stages/denylist/format/ (README.md there lists the rules supported).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DenylistCompiler } from './compiled-denylist.js';
import type { CompiledDenylist, ParseDenylistOptions } from './types.js';

export type { CompiledDenylist, DenylistHeader, DenylistRuleRef, ParseDenylistOptions } from './types.js';
export { inlinedLabelToName, MAX_LINE_LENGTH } from './compiled-denylist.js';

/** Longest run of parsing between two turns of the event loop in parseDenylistAsync. */
export const PARSE_SLICE_MS = 8;

/**
 * Parses and compiles a list at once. A bad line is reported to onBadLine (1-based line number)
 * and skipped. Throws CodedError(DENYLIST_INVALID_HEADER | DENYLIST_UNSUPPORTED_VERSION) when the
 * list has a header that is not valid or names another version (the spec says to abort the list).
 */
export function parseDenylist(text: string, options: ParseDenylistOptions): CompiledDenylist {
  const compiler = new DenylistCompiler(options);
  for (const _ of compiler.feed(text));
  const finish = compiler.finish();
  for (;;) {
    const step = finish.next();
    if (step.done) return step.value;
  }
}

/**
 * The same, in slices of at most ~PARSE_SLICE_MS that yield to the event loop, so that a
 * million-rule list never holds the DNS port for long. `text` may be the whole list or its pieces
 * (e.g. a decoded HTTP body stream).
 */
export async function parseDenylistAsync(text: string | AsyncIterable<string>, options: ParseDenylistOptions): Promise<CompiledDenylist> {
  const compiler = new DenylistCompiler(options);
  let sliceStart = performance.now();
  const run = async <T>(steps: Generator<void, T>): Promise<T> => {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (performance.now() - sliceStart >= PARSE_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  };
  if (typeof text === 'string') await run(compiler.feed(text));
  else for await (const chunk of text) await run(compiler.feed(chunk));
  return run(compiler.finish());
}
