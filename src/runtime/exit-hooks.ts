// What must still happen when the process exits at once (a second SIGTERM/SIGINT skips the drain):
// synchronous closers registered by whoever holds state on disk (the embedded store checkpoints its
// WAL), run by src/lifecycle/shutdown.ts just before process.exit. Each runs once; errors are ignored.

const hooks = new Set<() => void>();

/** Registers `close` to run at an exit at once; returns its removal (call it after a normal close). */
export function onExitAtOnce(close: () => void): () => void {
  hooks.add(close);
  return () => hooks.delete(close);
}

/** Runs every registered closer once (newest first) and forgets them. */
export function runExitHooks(): void {
  const all = [...hooks].reverse();
  hooks.clear();
  for (const close of all) {
    try {
      close();
    } catch {
      // exiting anyway: the next start finishes what was left (SQLite replays its WAL)
    }
  }
}
