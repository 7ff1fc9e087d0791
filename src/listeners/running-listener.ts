// What starting any listener gives back: the address it is bound to (the real port when 0 was
// asked), how to drain it (stop taking new work, finish what was taken) and how to close it at once.

export interface RunningListener {
  address: { host: string; port: number };
  /**
   * Stops taking new queries or requests and resolves once every one already taken has been
   * answered (a shutdown's grace period bounds the wait from outside; `close` ends the rest).
   */
  drain(): Promise<void>;
  /** Closes now: whatever is still in flight is dropped, quietly. */
  close(): Promise<void>;
}

/** A count of work in flight with a promise for the moment it falls to zero (a listener's drain). */
export class InFlight {
  private count = 0;
  private idle: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  begin(): void {
    this.count++;
  }

  end(): void {
    if (--this.count > 0) return;
    this.count = 0;
    for (const done of this.idle.splice(0)) done();
  }

  /** Resolves when nothing is in flight (at once if nothing is). */
  whenIdle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}
