// The fuzz targets' runner: replays the saved corpus of a target (fixtures/fuzz/<target>/*.hex)
// first, then runs fast-check with a fixed seed (FUZZ_SEED and FUZZ_RUNS run it longer or
// elsewhere) and saves every counterexample it finds into that corpus, so it is replayed from then on.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';

const CORPUS_ROOT = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'fuzz');
const DEFAULT_SEED = 20261125;

export interface CorpusCase {
  file: string;
  comment: string;
  input: Buffer;
}

/**
 * A corpus file: one `# comment` line saying what the case is, then the input as hex (whitespace
 * and further `#` lines ignored).
 */
export function readCorpus(target: string): CorpusCase[] {
  const dir = join(CORPUS_ROOT, target);
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.hex')).sort();
  } catch {
    return [];
  }
  return files.map((file) => {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    const comment = (lines.find((line) => line.startsWith('#')) ?? '').replace(/^#\s*/, '');
    const hex = lines.filter((line) => !line.startsWith('#')).join('').replace(/\s+/g, '');
    return { file, comment, input: Buffer.from(hex, 'hex') };
  });
}

/** Saves `input` into the target's corpus; returns the file name (content-addressed, so saved once). */
export function saveCorpusCase(target: string, input: Buffer, comment: string, prefix = 'found'): string {
  const dir = join(CORPUS_ROOT, target);
  mkdirSync(dir, { recursive: true });
  const file = `${prefix}-${createHash('sha256').update(input).digest('hex').slice(0, 12)}.hex`;
  const hex = input.toString('hex').replace(/(.{64})/g, '$1\n').trimEnd();
  writeFileSync(join(dir, file), `# ${comment.split('\n')[0]}\n${hex}\n`);
  return file;
}

/** The run parameters: a fixed seed unless FUZZ_SEED is set, `defaultRuns` unless FUZZ_RUNS is. */
export function fuzzParameters(defaultRuns: number): { seed: number; numRuns: number } {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : DEFAULT_SEED;
  const numRuns = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  if (!Number.isInteger(seed) || !Number.isInteger(numRuns) || numRuns < 1) {
    throw new Error(`FUZZ_SEED and FUZZ_RUNS must be integers (FUZZ_RUNS >= 1), got ${process.env.FUZZ_SEED} and ${process.env.FUZZ_RUNS}`);
  }
  return { seed, numRuns };
}

/** Replays every corpus case of `target` through `property` (which throws or rejects when it does not hold). */
export async function replayCorpus(target: string, property: (input: Buffer, comment: string) => void | Promise<void>): Promise<number> {
  const cases = readCorpus(target);
  for (const { file, comment, input } of cases) {
    try {
      await property(input, comment);
    } catch (err) {
      throw new Error(`corpus case fixtures/fuzz/${target}/${file} (${comment}) fails: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return cases.length;
}

/** Saves a failure's shrunk counterexample to the corpus and throws the report; returns the number of runs. */
function verdict(target: string, seed: number, details: fc.RunDetails<[Buffer]>): number {
  if (details.failed && details.counterexample) {
    const [input] = details.counterexample;
    const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const file = saveCorpusCase(target, input, `found by seed ${seed}: ${message}`);
    throw new Error(
      `fuzz target ${target} failed after ${details.numRuns} runs (seed ${seed}, path ${details.counterexamplePath}); ` +
        `counterexample saved to fixtures/fuzz/${target}/${file}: ${message}`,
    );
  }
  if (details.failed) throw new Error(`fuzz target ${target} failed: ${String(details.errorInstance)}`);
  return details.numRuns;
}

/**
 * Runs `property` over `inputs` (every input encoded as one buffer, the corpus form). A failure is
 * shrunk by fast-check, saved to the corpus and reported with the seed that reproduces it.
 * Returns the number of runs.
 */
export function fuzz(target: string, inputs: fc.Arbitrary<Buffer>, property: (input: Buffer) => void, defaultRuns: number): number {
  const { seed, numRuns } = fuzzParameters(defaultRuns);
  return verdict(target, seed, fc.check(fc.property(inputs, (input) => property(input)), { seed, numRuns }));
}

/** `fuzz` for a property that awaits (e.g. a reference implementation with an async API). */
export async function fuzzAsync(target: string, inputs: fc.Arbitrary<Buffer>, property: (input: Buffer) => Promise<void>, defaultRuns: number): Promise<number> {
  const { seed, numRuns } = fuzzParameters(defaultRuns);
  return verdict(target, seed, await fc.check(fc.asyncProperty(inputs, (input) => property(input)), { seed, numRuns }));
}

/** Replaces, inserts or removes bytes of `base`: the mutations every target applies to valid input. */
export function mutated(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
  );
  return fc.tuple(base, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([buf, edits]) => {
    let out = Buffer.from(buf);
    for (const e of edits) {
      if (out.length === 0) break;
      const at = e.at % out.length;
      if (e.kind === 'flip') out[at] = out[at]! ^ (1 << e.bit);
      else if (e.kind === 'set') out[at] = e.value;
      else if (e.kind === 'truncate') out = out.subarray(0, at);
      else if (e.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(e.bytes), out.subarray(at)]);
      else if (at + 2 <= out.length) out.writeUInt16BE(e.value, at);
    }
    return out;
  });
}
