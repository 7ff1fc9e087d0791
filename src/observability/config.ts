// Configuration of what the logs say and how (`log.*`, docs/configuration.md): the query log's
// share of questions (`log.queries`) and the lines' form (`log.format`). `logLevel` stays a root key.
import { z } from 'zod';

/** `off`, `all`, or a sampling rate 0..1 (a number, or a numeric string from an environment variable). */
const QUERIES_EXPECTED = 'must be off, all, or a sampling rate from 0 to 1 such as 0.01';
const queriesSchema = z.union(
  [
    z.enum(['off', 'all']),
    z.number().min(0, QUERIES_EXPECTED).max(1, QUERIES_EXPECTED),
    z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, QUERIES_EXPECTED)
      .transform(Number),
  ],
  { error: QUERIES_EXPECTED },
);

export const logConfigSchema = z
  .object({
    /** One line per answered question: off (default), all, or the share sampled (0.01: one in a hundred). */
    queries: queriesSchema.default('off'),
    /** json or pretty; unset: pretty when stderr and the log's output are terminals, else json. */
    format: z.enum(['json', 'pretty']).optional(),
  })
  .strict()
  .prefault({});
