// Structured JSON logs (pino). The server logs to stdout; one-shot commands log to stderr so
// their stdout stays machine-readable.
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination: 1 | 2 = 1): Logger {
  return pino({ level, base: { service: 'dnslinkd' } }, pino.destination({ fd: destination, sync: destination === 2 }));
}
