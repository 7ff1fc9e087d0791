// Graceful shutdown: what SIGTERM and SIGINT do to a serving process. The first signal drains
// (listeners stop accepting, what is in flight is answered within the grace period, state is
// closed cleanly) and the process exits 0; a second one exits at once. No stack trace on any path.
import type { Logger } from 'pino';
import { runExitHooks } from '../runtime/exit-hooks.js';

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
 * When, within a grace period of `graceMs`, the questions still waiting for upstreams are ended
 * (answered stale or SERVFAIL), so the listeners can still write those answers before it ends:
 * min(1000 ms, graceMs / 5) before its end.
 */
export const upstreamAbortDelayMs = (graceMs: number): number => Math.max(0, graceMs - Math.min(1000, graceMs / 5));

/** The EDE text of a question the shutdown ended before an upstream answered. */
export const SHUTTING_DOWN_TEXT = 'dnslinkd is shutting down: no upstream answered before the grace period (shutdownGraceMs) ends';

/** A SIGTERM/SIGINT that came while the process was still starting, handed to the first onShutdownSignals. */
interface HeldWhileStarting {
  signal?: ShutdownSignal;
  handler: (signal: ShutdownSignal) => void;
}
let whileStarting: HeldWhileStarting | undefined;

/**
 * From now until serving begins (onShutdownSignals), a SIGTERM or SIGINT does not kill the process
 * the default way (a lock, a WAL left behind): it is held, and the drain starts as soon as the
 * process serves. A second one exits at once.
 */
export function holdShutdownSignalsWhileStarting(log: Logger): void {
  if (whileStarting) return;
  const held: HeldWhileStarting = {
    handler: (signal) => {
      if (held.signal) {
        log.warn({ signal }, 'second signal while starting: exiting at once');
        exitNow(log, exitCodeAtOnce(signal));
      }
      held.signal = signal;
      log.info({ signal }, 'signal while starting: shutting down as soon as the start is done');
    },
  };
  whileStarting = held;
  process.on('SIGTERM', held.handler);
  process.on('SIGINT', held.handler);
  // What bin/dnslinkd.js held while the code was loading (before any of this could run).
  const early = (globalThis as Record<symbol, unknown>)[EARLY_SIGNALS] as { signals: NodeJS.Signals[]; handler: (signal: NodeJS.Signals) => void } | undefined;
  if (!early) return;
  delete (globalThis as Record<symbol, unknown>)[EARLY_SIGNALS];
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, early.handler);
  for (const signal of early.signals) {
    if (signal === 'SIGTERM' || signal === 'SIGINT') held.handler(signal);
    else log.warn({ signal }, 'SIGHUP while starting: ignored (the configuration being loaded is the newest)');
  }
}

/** Where bin/dnslinkd.js leaves the signals it held while the code was loading. */
const EARLY_SIGNALS = Symbol.for('dnslinkd.earlySignals');

/** Removes the start's handlers; the signal they held, if any. */
function takeSignalHeldWhileStarting(): ShutdownSignal | undefined {
  if (!whileStarting) return undefined;
  const { signal, handler } = whileStarting;
  process.off('SIGTERM', handler);
  process.off('SIGINT', handler);
  whileStarting = undefined;
  return signal;
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
    const held = takeSignalHeldWhileStarting();
    if (held) onSignal(held);
  });
}

/** Exits now with `code` once pino has written what it holds (pino.final is gone; flush is sync for a sync destination). */
export function exitNow(log: Logger, code: number): never {
  runExitHooks();
  try {
    log.flush();
  } catch {
    // nothing more can be done about a log that cannot be written
  }
  process.exit(code);
}
