// The query log (`log.queries`: off, `all`, or a sampling rate such as 0.01): one line per answered
// question, every transport, with who asked, what, the answer's rcode, where it came from, whether
// from the cache or stale, how long it took and its Extended DNS Error. Lines are written after the
// answers went out (batched on setImmediate), never before; when off, callers check `on` and do
// nothing else (no clock read, no object built).
import type { Logger } from 'pino';
import { rcodeName, RRType } from '../dns/constants.js';
import type { AnswerSource } from '../dns/resolution.js';
import type { ExtendedError } from '../dns/types.js';

/** `off`, `all`, or the share of questions logged (0 to 1). */
export type QueryLogSetting = 'off' | 'all' | number;

/** What a transport knows of an answer for its line. */
export interface LoggedAnswer {
  rcode: number;
  source: AnswerSource | string;
  ede?: ExtendedError;
  /** A cached answer's entry: where it came from before it was cached (`origin.source`). */
  encoded?: unknown;
}

/** One line of the query log, as written (the JSON fields; `pretty` writes them as key=value). */
export interface QueryLogLine {
  client: string;
  transport: string;
  name: string;
  type: string;
  rcode: string;
  /** Where the answer came from: upstream, local, override, ens, ens-fallback, policy, error (a cached answer: where it was fetched from). */
  source: string;
  cached: boolean;
  stale: boolean;
  /** From the question's arrival to its answer, in milliseconds. */
  ms: number;
  ede?: { code: number; text: string };
}

const TYPE_NAMES = new Map<number, string>(Object.entries(RRType).map(([name, n]) => [n, name]));

export function typeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** Where a cached answer came from (its entry's origin), else the answer's own source. */
function originOf(answer: LoggedAnswer): string {
  const origin = (answer.encoded as { origin?: { source?: unknown } } | undefined)?.origin?.source;
  return typeof origin === 'string' ? origin : answer.source;
}

/** The setting as a share of questions: 0 (off) to 1 (all). */
export function sampleRate(setting: QueryLogSetting): number {
  if (setting === 'off') return 0;
  if (setting === 'all') return 1;
  return Math.min(1, Math.max(0, setting));
}

export class QueryLog {
  /** Whether any question may be logged: the one check a listener makes when the log is off. */
  on = false;
  private rate = 0;
  private pending: QueryLogLine[] = [];
  private scheduled = false;
  private readonly out: Logger;

  constructor(log: Logger, setting: QueryLogSetting) {
    // Its own level: the query log is asked for by log.queries, whatever logLevel says.
    this.out = log.child({}, { level: 'info' });
    this.reconfigure(setting);
  }

  /** Another setting (a configuration reload), from the next question on. */
  reconfigure(setting: QueryLogSetting): void {
    this.rate = sampleRate(setting);
    this.on = this.rate > 0;
  }

  /** Whether this question is logged (the sampling draw); asked only when `on`. */
  sample(): boolean {
    return this.rate >= 1 || Math.random() < this.rate;
  }

  /** Notes an answered question that arrived at `startedAt` (performance.now()); written after the answer went out. */
  note(client: string, transport: string, name: string, type: number, answer: LoggedAnswer, startedAt: number): void {
    const source = answer.source;
    const cached = source === 'cache' || source === 'stale';
    const ede = answer.ede;
    this.push({
      client,
      transport,
      name: name === '' ? '.' : name,
      type: typeName(type),
      rcode: rcodeName(answer.rcode),
      source: cached ? originOf(answer) : source,
      cached,
      stale: source === 'stale',
      ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
      ...(ede ? { ede: { code: ede.code, text: ede.text } } : {}),
    });
  }

  /** Notes a line already made (the DNSLink API's, which sums several lookups). */
  push(line: QueryLogLine): void {
    this.pending.push(line);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.write());
  }

  private write(): void {
    const lines = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (const line of lines) this.out.info(line, 'query');
  }
}
