// Graceful shutdown: what SIGTERM and SIGINT do to a serving process. The first signal drains
// (listeners stop accepting, what is in flight is answered within the grace period, state is
// closed cleanly) and the process exits 0; a second one exits at once. No stack trace on any path.
import type { Logger } from 'pino';

export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** Exit code of a process stopped by a second signal, without draining: 0 for SIGTERM (a supervisor's stop), 130 for SIGINT. */
export const exitCodeAtOnce = (signal: ShutdownSignal): number => (signal === 'SIGINT' ? 130 : 0);

/**
 * Resolves once `work` settles or `ms` have passed, whichever is first; true when the work
 * finished in time. A failure of `work` counts as finished (the caller logs its own errors).
 */
export async function withinGrace(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const, () => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `drain` on the first SIGTERM or SIGINT and resolves with what it resolves to; a second
 * signal calls `atOnce` (which should exit the process). SIGHUP is not handled here (reload).
 */
export function onShutdownSignals(log: Logger, drain: (signal: ShutdownSignal) => Promise<void>, atOnce: (signal: ShutdownSignal) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: ShutdownSignal): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting at once, without waiting for what is in flight');
        atOnce(signal);
        return;
      }
      stopping = true;
      drain(signal).then(resolve, (err: unknown) => {
        log.error({ err: { message: err instanceof Error ? err.message : String(err) } }, 'error during shutdown');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Exits now with `code` once pino has written what it holds (pino.final is gone; flush is sync for a sync destination). */
export function exitNow(log: Logger, code: number): never {
  try {
    log.flush();
  } catch {
    // nothing more can be done about a log that cannot be written
  }
  process.exit(code);
}
