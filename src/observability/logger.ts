// Structured logs (pino). The server logs to stdout; one-shot commands log to stderr so their stdout
// stays machine-readable. Each line is written as pino's JSON (`log.format: json`) or as one
// readable line (`pretty`: ISO time, level name, message, key=value fields); by default pretty when
// both stderr and the log's own output are terminals, JSON otherwise. The format can change live.
import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyLine } from './pretty-format.js';

export type LogFormat = 'json' | 'pretty';

/** Whether logs written to `fd` default to pretty: stderr and `fd` are terminals. */
export function defaultLogFormat(fd: 1 | 2): LogFormat {
  return isatty(2) && isatty(fd) ? 'pretty' : 'json';
}

/** The output a logger writes through: pino's JSON passed on as it is, or rewritten as one readable line. */
class FormattedOutput implements DestinationStream {
  constructor(
    readonly sink: ReturnType<typeof pino.destination>,
    readonly fd: 1 | 2,
    public format: LogFormat,
  ) {}

  write(line: string): void {
    this.sink.write(this.format === 'json' ? line : prettyLine(line));
  }

  flush(cb?: (err?: Error) => void): void {
    this.sink.flush(cb);
  }

  flushSync(): void {
    this.sink.flushSync();
  }
}

/** The output of each logger made here (and its children's: they share the root's). */
const outputs = new WeakMap<Logger, FormattedOutput>();

export function createLogger(level: string, destination: 1 | 2 = 1, format?: LogFormat): Logger {
  const output = new FormattedOutput(pino.destination({ fd: destination, sync: destination === 2 }), destination, format ?? defaultLogFormat(destination));
  const log = pino({ level, base: { service: 'dnslinkd' } }, output);
  outputs.set(log, output);
  return log;
}

/** Switches a logger made by createLogger to `format` (undefined: the default for its output); a live reload's. */
export function setLogFormat(log: Logger, format: LogFormat | undefined): void {
  const output = outputs.get(log);
  if (!output) return;
  output.format = format ?? defaultLogFormat(output.fd);
}
