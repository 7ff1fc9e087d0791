// The rate-limited log: a flood of one kind of event becomes at most one line per interval, each
// line carrying how many events it stands for; kinds are limited separately and bounded in number.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitedLog } from '../../../src/observability/rate-limited-log.js';

/** A pino logger writing JSON lines into an array. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('RateLimitedLog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes the first event at once and holds the rest of the interval for one line with their count', () => {
    const { log, lines } = capturingLogger();
    const limited = new RateLimitedLog(log, { intervalMs: 1000, now: () => Date.now() });
    for (let i = 0; i < 5000; i++) limited.warn('UPSTREAM_TIMEOUT', { code: 'UPSTREAM_TIMEOUT', upstream: 'udp://192.0.2.1:53' }, 'upstream attempt failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'upstream attempt failed', code: 'UPSTREAM_TIMEOUT', count: 1, level: 40 });
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ code: 'UPSTREAM_TIMEOUT', count: 4999 });
    // Nothing held: no line at the end of the next interval.
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
  });

  it('keeps a steady flood to one line per interval, and loses no event from the counts', () => {
    const { log, lines } = capturingLogger();
    const limited = new RateLimitedLog(log, { intervalMs: 1000, now: () => Date.now() });
    // 10 seconds at 1,000 events a second.
    for (let ms = 0; ms < 10_000; ms++) {
      limited.error('EMFILE', { errno: 'EMFILE' }, 'upstream socket failed');
      vi.advanceTimersByTime(1);
    }
    limited.flush();
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines.reduce((sum, line) => sum + (line.count as number), 0)).toBe(10_000);
  });

  it('limits each kind on its own', () => {
    const { log, lines } = capturingLogger();
    const limited = new RateLimitedLog(log, { intervalMs: 1000, now: () => Date.now() });
    for (let i = 0; i < 100; i++) {
      limited.warn('EMFILE', { errno: 'EMFILE' }, 'socket failed');
      limited.warn('ENOBUFS', { errno: 'ENOBUFS' }, 'socket failed');
    }
    expect(lines.map((l) => l.errno)).toEqual(['EMFILE', 'ENOBUFS']);
    vi.advanceTimersByTime(1000);
    expect(lines.map((l) => [l.errno, l.count])).toEqual([
      ['EMFILE', 1],
      ['ENOBUFS', 1],
      ['EMFILE', 99],
      ['ENOBUFS', 99],
    ]);
  });

  it('tracks a bounded number of kinds; the rest share one', () => {
    const { log, lines } = capturingLogger();
    const limited = new RateLimitedLog(log, { intervalMs: 1000, maxKinds: 3, now: () => Date.now() });
    for (let i = 0; i < 1000; i++) limited.warn(`kind-${i}`, { i }, 'event');
    vi.advanceTimersByTime(1000);
    expect(lines.length).toBeLessThanOrEqual(2 * 3);
    expect(lines.reduce((sum, line) => sum + (line.count as number), 0)).toBe(1000);
  });
});
