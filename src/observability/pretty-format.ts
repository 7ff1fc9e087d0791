// The readable form of a log line (`log.format: pretty`): pino's JSON line rewritten as
// `2026-12-03T12:00:00.123Z WARN  message key=value key="two words"`, one line per event. Values
// with spaces, quotes, `=` or control characters are JSON-quoted; objects are written as JSON; an
// error shows its message (and code), never its stack. Pure: a string in, a string out.

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every line carries that the readable form leaves out (or shows in its own place). */
const OMITTED = new Set(['time', 'level', 'msg', 'service']);

const PLAIN_VALUE = /^[^\s"=\\\x00-\x1f\x7f]+$/;

function valueText(value: unknown): string {
  if (typeof value === 'string') return PLAIN_VALUE.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** An error as pino serialises it ({type, message, stack, code...}): its message and code only. */
function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return valueText(err);
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(err);
  return valueText(typeof e.code === 'string' ? `${message} (${e.code})` : message);
}

/** One JSON log line (newline-terminated or not) as one readable line, newline-terminated. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : String(entry.time ?? '');
  const level = (typeof entry.level === 'number' ? LEVEL_NAMES[entry.level] : undefined) ?? String(entry.level ?? '').toUpperCase();
  const parts = [time, level.padEnd(5)];
  if (typeof entry.msg === 'string' && entry.msg !== '') parts.push(entry.msg.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1)));
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key) || value === undefined) continue;
    parts.push(`${key}=${key === 'err' ? errorText(value) : valueText(value)}`);
  }
  return `${parts.join(' ')}\n`;
}
