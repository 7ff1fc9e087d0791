// A block as the resolution API and `dnslinkd resolve` report it: read back from the Extended DNS
// Error of a lookup (15 Blocked, 16 Censored, with the text verdict.ts writes), whether the block
// was answered now or from the cache. HTTP 410 for blocked, 451 (RFC 7725) for censored.
import { EdeCode } from '../../dns/constants.js';
import { parseVerdictText } from './verdict.js';

export interface DenylistBlock {
  code: 'BLOCKED' | 'CENSORED';
  /** The list whose rule matched (`operator` for the operator's rules). */
  list: string;
  /** The rule (a double-hash rule as its hash). */
  rule: string;
  /** The name whose lookup was blocked. */
  domain: string;
  message: string;
}

/** The HTTP status of a block. */
export const BLOCK_STATUS: Readonly<Record<DenylistBlock['code'], number>> = { BLOCKED: 410, CENSORED: 451 };

/** The block a lookup ended in, or undefined. */
export function blockOfLookup(lookup: { name: string; ede?: { code: number; text: string } }): DenylistBlock | undefined {
  const ede = lookup.ede;
  if (!ede || (ede.code !== EdeCode.BLOCKED && ede.code !== EdeCode.CENSORED)) return undefined;
  const verdict = parseVerdictText(ede.text);
  if (!verdict) return undefined;
  const code = verdict.kind === 'censored' ? 'CENSORED' : 'BLOCKED';
  const domain = lookup.name.replace(/^_dnslink\./, '');
  const message = `${domain} is ${verdict.kind} by denylist ${verdict.list} (rule ${verdict.rule})${code === 'CENSORED' ? ': unavailable for legal reasons' : ''}`;
  return { code, list: verdict.list, rule: verdict.rule, domain, message };
}
