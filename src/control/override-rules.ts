// The rules an override's fields follow, wherever it comes from: the admin API (a name, a reason,
// a TTL, an expiry given by an operator) and the records read back from a shared store (each field
// checked the same way before it is served). No I/O.
import { parseDnslinkHostname } from '../dnslink/hostname.js';
import { describeDnslinkResultError } from '../dnslink/resolve.js';
import { CodedError } from '../errors.js';
import { checkOverrideValue, DEFAULT_OVERRIDE_TTL, type Override } from '../stages/overrides/override.js';
import { ipnsTargetProblem, reasonTextProblem } from './override-content.js';

export const MAX_REASON = 500;
export const MAX_TTL = 86_400;

/** An admin name: a host name, lower-cased, without `_dnslink.` or a trailing dot. */
export function controlName(raw: string, what = 'name'): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) throw new CodedError('INVALID_NAME', `${what} "${raw}" is a URL: give the domain name alone`);
  const parsed = parseDnslinkHostname(raw);
  if ('error' in parsed) throw new CodedError('INVALID_NAME', `${what}: ${describeDnslinkResultError(parsed.error)}`);
  return parsed.domain.toLowerCase();
}

export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim() === '') throw new CodedError('REASON_REQUIRED', 'a reason is required: say why, for the audit log and the answers');
  if (reason.length > MAX_REASON) throw new CodedError('INVALID_REASON', `the reason is ${reason.length} characters; at most ${MAX_REASON}`);
  const unprintable = reasonTextProblem(reason);
  if (unprintable) throw new CodedError('INVALID_REASON', unprintable);
  return reason.trim();
}

export function checkTtl(ttl: unknown): number {
  if (ttl === undefined) return DEFAULT_OVERRIDE_TTL;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new CodedError('INVALID_TTL', `ttl must be a whole number of seconds from 0 to ${MAX_TTL}`);
  return ttl;
}

/** An expiry given for a new override: an ISO time, not yet past; normalized. */
export function checkExpiry(expiresAt: unknown, now: number): string | undefined {
  if (expiresAt === undefined || expiresAt === null) return undefined;
  const at = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(at)) throw new CodedError('INVALID_EXPIRY', `expiresAt must be an ISO time such as 2026-12-01T12:00:00Z (got ${JSON.stringify(expiresAt)})`);
  if (at <= now) throw new CodedError('INVALID_EXPIRY', `expiresAt ${new Date(at).toISOString()} is already past`);
  return new Date(at).toISOString();
}

const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/**
 * An override as read back from a store (`field`: the name it is stored under), checked with the
 * admin API's rules (an expiry may be past: it has expired, not been refused); the override, or
 * why it cannot be served. Unknown fields are dropped.
 */
export function parseStoredOverride(field: string, raw: string): { override: Override } | { error: string } {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    return { error: `not JSON (${JSON.stringify(raw.slice(0, 40))}${raw.length > 40 ? '...' : ''})` };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { error: `not a JSON object (${Array.isArray(o) ? 'an array' : o === null ? 'null' : typeof o})` };
  const r = o as Record<string, unknown>;
  try {
    if (typeof r.name !== 'string') return { error: 'name is missing or not a string' };
    const name = controlName(r.name);
    if (name !== r.name || name !== field) return { error: `name "${r.name.slice(0, 80)}" does not match the field "${field.slice(0, 80)}" it is stored under (or is not lower-case)` };
    if (typeof r.value !== 'string') return { error: `value is ${r.value === undefined ? 'missing' : `a ${typeof r.value}`}, not a string` };
    const value = checkOverrideValue(r.value);
    if ('error' in value) return { error: value.error };
    const target = ipnsTargetProblem(name, value.value);
    if (target) return { error: `value: ${target}` };
    if (r.ttl === undefined) return { error: 'ttl is missing' };
    const ttl = checkTtl(r.ttl);
    const reason = checkReason(r.reason);
    if (r.expiresAt !== undefined && !isTime(r.expiresAt)) return { error: `expiresAt ${JSON.stringify(r.expiresAt)} is not an ISO time` };
    if (r.pinned !== undefined && typeof r.pinned !== 'boolean') return { error: 'pinned is not true or false' };
    if (typeof r.by !== 'string' || r.by === '') return { error: 'by (the token that set it) is missing' };
    if (!isTime(r.createdAt) || !isTime(r.updatedAt)) return { error: 'createdAt or updatedAt is missing or not an ISO time' };
    const override: Override = {
      name,
      value: value.value,
      ttl,
      reason,
      ...(r.expiresAt !== undefined ? { expiresAt: r.expiresAt as string } : {}),
      ...(r.pinned === true ? { pinned: true } : {}),
      by: r.by,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
    return { override };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
