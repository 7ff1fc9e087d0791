// Configuration of the process's memory: the `memory` object (docs/configuration.md), how far the
// garbage collector lets V8's heap grow past what it holds, so that `cache.maxBytes` bounds RSS.
import { z } from 'zod';

export const memoryConfigSchema = z
  .object({
    /** Percent the old generation may grow past what the last full collection kept (0: V8's own choice, up to 300). */
    heapGrowthPercent: z.number().int().min(0).max(300).default(25),
    /** MB the young generation (both semi-spaces) grows to at most (0: V8's own limit, 128 MB on a large heap). */
    youngGenerationMb: z.number().int().min(0).max(1024).default(16),
  })
  .strict()
  .prefault({});

export type MemoryConfig = z.output<typeof memoryConfigSchema>;
