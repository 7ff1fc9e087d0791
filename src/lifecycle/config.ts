// Configuration of the process's life: how long a shutdown waits for the queries and requests
// already taken before it closes what is left (`shutdownGraceMs`, docs/configuration.md).
import { z } from 'zod';

/** Top-level keys owned by the lifecycle. */
export const lifecycleRootKeys = {
  /** SIGTERM/SIGINT: stop accepting, answer what is in flight for at most this long, then exit. */
  shutdownGraceMs: z.number().int().min(0).max(600_000).default(5_000),
};
