// Reads and validates a local-records JSON file (an array of {name, type, ttl, data}); a bad
// record stops the start with its index and field named.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { encodeName } from '../../dns/names.js';
import { CodedError } from '../../errors.js';
import type { LocalRecord } from './local-records-stage.js';

const recordSchema = z
  .object({
    name: z.string().min(1).refine((name) => {
      try {
        encodeName(name);
        return true;
      } catch {
        return false;
      }
    }, 'not a valid DNS name (labels 1-63 bytes, 255 bytes in all)'),
    type: z.enum(['TXT', 'A', 'AAAA']),
    ttl: z.number().int().min(0).max(2_147_483_647),
    data: z.union([z.string(), z.array(z.string()).min(1)]),
    comment: z.string().optional(),
  })
  .strict()
  .superRefine((record, ctx) => {
    const value = Array.isArray(record.data) ? record.data[0]! : record.data;
    if (record.type === 'A' && !isIPv4(value)) ctx.addIssue({ code: 'custom', path: ['data'], message: 'A data must be an IPv4 address' });
    if (record.type === 'AAAA' && !isIPv6(value)) ctx.addIssue({ code: 'custom', path: ['data'], message: 'AAAA data must be an IPv6 address' });
  });

export function readLocalRecords(path: string): LocalRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CodedError('LOCAL_RECORDS_UNREADABLE', `cannot read local records ${path}: ${(err as Error).message}`);
  }
  const result = z.array(recordSchema).safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `[${i.path.join('.')}]: ${i.message}`);
    throw new CodedError('LOCAL_RECORDS_INVALID', `invalid local records in ${path}:\n  ${problems.join('\n  ')}`);
  }
  return result.data.map(({ name, type, ttl, data }) => ({ name, type, ttl, data }));
}
