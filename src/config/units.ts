// Value shapes the configuration fragments share (zod): durations in seconds or milliseconds and
// HOST:PORT listen addresses, each with the message an operator sees when a value is wrong.
import { z } from 'zod';

export const seconds = z.number().int().min(0);
export const millis = z.number().int().min(1);

export const hostPort = z
  .string()
  // abort: a value that is no HOST:PORT at all gets this one message, not a port complaint too.
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, { message: 'expected HOST:PORT, e.g. 127.0.0.1:10053 or [::1]:10053', abort: true })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535');

/** Splits a validated HOST:PORT (brackets of an IPv6 host removed). */
export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
