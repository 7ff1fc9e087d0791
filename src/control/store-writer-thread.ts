// The embedded store's side of its writer thread (embedded-store-writer.ts): starts it on the
// store's file, sends it one request at a time and turns its answers back into values or errors
// shaped as node:sqlite's (so the store reports SQLite's codes the same way). A thread that cannot
// start or dies is reported once and the store writes on its own connection instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { WriterReply, WriterRequest } from './embedded-store-writer.js';

/** The thread's module: the compiled one, or the source when running from it (tests). */
function writerModule(): URL | undefined {
  for (const file of ['./embedded-store-writer.js', './embedded-store-writer.ts']) {
    const url = new URL(file, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

export class StoreWriterThread {
  private readonly waiting: Array<{ resolve: (value: number | null) => void; reject: (err: Error) => void }> = [];
  private dead: string | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly log: Logger | undefined,
  ) {
    worker.on('message', (reply: WriterReply) => {
      const next = this.waiting.shift();
      if (this.waiting.length === 0) worker.unref();
      if (!next) return;
      if (reply.ok) next.resolve(reply.value);
      else next.reject(Object.assign(new Error(reply.error.message), reply.error));
    });
    worker.on('error', (err: Error) => this.fail(`its thread failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(`its thread exited (${code})`));
    worker.unref();
  }

  /** Starts the thread on the SQLite file at `path` (its schema made already), or undefined when it cannot be. */
  static start(path: string, log?: Logger): StoreWriterThread | undefined {
    const url = writerModule();
    if (!url) return undefined;
    try {
      return new StoreWriterThread(new Worker(url, { workerData: { path } }), log);
    } catch (err) {
      log?.warn({ err, store: path }, 'the control store writes large changes on the main thread (its writer thread did not start)');
      return undefined;
    }
  }

  /** False once the thread died: the store writes on its own connection. */
  get usable(): boolean {
    return this.dead === undefined;
  }

  request(req: WriterRequest): Promise<number | null> {
    if (this.dead !== undefined) return Promise.reject(new Error(`the control store's writer is gone: ${this.dead}`));
    return new Promise((resolve, reject) => {
      // Held while a request waits (an answer must not be lost to the process ending), not otherwise.
      this.worker.ref();
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(req);
    });
  }

  private fail(why: string): void {
    if (this.dead !== undefined) return;
    this.dead = why;
    for (const w of this.waiting.splice(0)) w.reject(new Error(`the control store's writer is gone: ${why}`));
    this.log?.warn({ why }, `the control store's writer thread stopped (${why}): large changes are written on the main thread`);
  }

  /** Closes the thread's connection (a transaction left open is rolled back), then the thread. */
  async close(): Promise<void> {
    if (this.dead === undefined) await this.request({ op: 'close' }).catch(() => {});
    this.terminate();
  }

  /** Ends the thread at once (an exit). */
  terminate(): void {
    this.dead ??= 'closed';
    void this.worker.terminate();
  }
}
