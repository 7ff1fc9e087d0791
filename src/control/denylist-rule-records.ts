// An operator denylist rule as read back from a store (embedded or Redis), checked with the admin
// API's rules before it is served: an id, one rule of the format, a reason, who added it and when.
// One that fails is skipped and reported (invalid-records.ts), never served, never stops a start.
import { operatorRuleProblem, type OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import { checkReason } from './override-rules.js';

/** The key operator denylist rules are reported under when invalid (the Redis key; the table for SQLite). */
export const DENYLIST_RULES_KEY = 'dnslinkd:denylist:rules';

const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));
/** Rule ids: what the control plane makes (a UUID), or any short token of safe characters. */
export const RULE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseStoredRule(id: string, raw: string): { record: OperatorRuleRecord } | { error: string } {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return { error: `not JSON (${JSON.stringify(raw.slice(0, 40))}${raw.length > 40 ? '...' : ''})` };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { error: 'not a JSON object' };
  const r = o as Record<string, unknown>;
  if (!RULE_ID.test(id) || r.id !== id) return { error: `id ${JSON.stringify(String(r.id).slice(0, 80))} does not match the field "${id.slice(0, 80)}" it is stored under` };
  if (typeof r.rule !== 'string') return { error: 'rule is missing or not a string' };
  const problem = operatorRuleProblem(r.rule);
  if (problem) return { error: `rule: ${problem}` };
  let reason: string;
  try {
    reason = checkReason(r.reason);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  if (typeof r.by !== 'string' || r.by === '') return { error: 'by (the token that added it) is missing' };
  if (!isTime(r.createdAt)) return { error: 'createdAt is missing or not an ISO time' };
  if (r.expiresAt !== undefined && !isTime(r.expiresAt)) return { error: `expiresAt ${JSON.stringify(r.expiresAt)} is not an ISO time` };
  return { record: { id, rule: r.rule, reason, by: r.by, createdAt: r.createdAt, ...(r.expiresAt !== undefined ? { expiresAt: r.expiresAt as string } : {}) } };
}
