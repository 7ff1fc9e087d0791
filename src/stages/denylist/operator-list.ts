// The operator's rules as one list, `operator`, first in the order (its `!` rules lift a block of
// a later list): compiled from the records the control store keeps, expired ones left out. What
// one rule may be: a single rule of the IPIP-383 format, bounded, parsed before it is stored.
import { OPERATOR_LIST } from './config.js';
import { MAX_LINE_LENGTH, parseDenylist, type CompiledDenylist } from './format/index.js';

/** One operator rule as the control store keeps it. */
export interface OperatorRuleRecord {
  id: string;
  /** One rule of the format (`/ipns/NAME`, `/ipfs/CID[/PATH][*]`, `//HASH`, `!...`). */
  rule: string;
  reason: string;
  /** The token that added it. */
  by: string;
  createdAt: string;
  expiresAt?: string;
}

/** Longest operator rule (the format's own line bound, and never more than 4 KiB). */
export const MAX_RULE_LENGTH = Math.min(MAX_LINE_LENGTH, 4096);

/** Why `rule` is not one rule of the format, or undefined when it is. */
export function operatorRuleProblem(rule: string): string | undefined {
  if (rule.length === 0) return 'the rule is empty';
  if (rule.length > MAX_RULE_LENGTH) return `the rule is ${rule.length} characters; at most ${MAX_RULE_LENGTH}`;
  if (/[\u0000-\u001f\u007f]/.test(rule)) return 'the rule holds a line break or another control character: give one rule';
  if (rule !== rule.trim()) return 'the rule starts or ends with white space';
  if (rule.startsWith('#') || rule === '---' || rule === '...') return 'that is a comment or a header line, not a rule';
  const bad: string[] = [];
  let list: CompiledDenylist;
  try {
    list = parseDenylist(rule, { name: OPERATOR_LIST, onBadLine: (_line, message) => bad.push(message) });
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (bad.length > 0) return `not a rule of the compact denylist format (IPIP-383): ${bad[0]}`;
  if (list.entries !== 1) return 'not a rule of the compact denylist format (IPIP-383): give /ipfs/CID[/PATH][*], /ipns/NAME[/PATH][*], //HASH, or one of them after !';
  return undefined;
}

/** The records in force at `now` (no expiry, or one still ahead), in the order they were added. */
export function rulesInForce(records: readonly OperatorRuleRecord[], now: number): OperatorRuleRecord[] {
  return records.filter((r) => r.expiresAt === undefined || Date.parse(r.expiresAt) > now).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** The `operator` list of these records (the last rule added decides among its matches), or undefined when there are none. */
export function compileOperatorList(records: readonly OperatorRuleRecord[], now: number): CompiledDenylist | undefined {
  const rules = rulesInForce(records, now);
  if (rules.length === 0) return undefined;
  return parseDenylist(`${rules.map((r) => r.rule).join('\n')}\n`, { name: OPERATOR_LIST });
}
