// The DNSLink names asked recently, bounded: what the guard counts besides the cache's names when
// it weighs a new list version. A name asked again moves to the newest end; past the bound or
// 24 hours the oldest go. Fed on the miss path only (hits are the cache's names already).
/** Names kept at most. */
export const RECENT_NAMES_MAX = 10_000;
/** How far back the guard looks. */
export const RECENT_WINDOW_MS = 24 * 60 * 60 * 1000;

export class RecentNames {
  /** name -> when last asked (ms); insertion order is age order. */
  private readonly asked = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = RECENT_NAMES_MAX,
  ) {}

  add(name: string): void {
    this.asked.delete(name);
    this.asked.set(name, this.now());
    if (this.asked.size > this.max) {
      const oldest = this.asked.keys().next();
      if (!oldest.done) this.asked.delete(oldest.value);
    }
  }

  /** The names asked within the window, oldest first. */
  names(): string[] {
    const since = this.now() - RECENT_WINDOW_MS;
    const names: string[] = [];
    for (const [name, at] of this.asked) if (at >= since) names.push(name);
    return names;
  }

  get size(): number {
    return this.asked.size;
  }
}
