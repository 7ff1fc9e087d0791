// The answer a gateway gets for a name, as data: the status and JSON body of GET /v1/dnslink/{name}
// (value, CID, path, TTL, source, stale, hops and each lookup), built once here so the resolution
// API and the admin API's look-up (the console's) say the same thing.
import { isGatewayFailure, type GatewayErrorCode, type GatewayResult } from '../dnslink/gateway.js';
import { BLOCK_STATUS } from '../stages/denylist/block.js';
import type { Traced } from './dnslink-service.js';

/**
 * A subdomain gateway inlines a DNSLink name into one label (boxo / specs): `-` stands for `.`
 * and `--` for `-`. A name with no dot and at least one dash is read that way.
 */
export function decodeInlinedLabel(label: string): string {
  return label.replaceAll('--', '\u0000').replaceAll('-', '.').replaceAll('\u0000', '-');
}

export function isInlinedLabel(name: string): boolean {
  return !name.includes('.') && name.includes('-');
}

const STATUS: Readonly<Record<string, number>> = {
  INVALID_DOMAIN: 400,
  NO_DNSLINK: 404,
  INVALID_CID: 404,
  DNS_RCODE_3: 404,
  MULTIPLE_DNSLINK: 409,
  LOOP: 508,
  TOO_MANY_HOPS: 508,
};

function errorStatus(code: GatewayErrorCode | string): number {
  return STATUS[code] ?? 502;
}

export interface Naming {
  /** The name looked up (an inlined label decoded, a URL's host, punycode), or the input when invalid. */
  name: string;
  /** Set when the request named it differently. */
  input?: string;
  inlined?: boolean;
  /** What the name rules did to the input (a URL reduced to its host, IDNA). */
  notes?: string[];
}

/** The name a request asks for: an inlined subdomain-gateway label decoded. */
export function requestedName(raw: string): { name: string; inlined: boolean } {
  const inlined = isInlinedLabel(raw);
  return { name: inlined ? decodeInlinedLabel(raw) : raw, inlined };
}

export function naming(raw: string, traced: Traced<unknown>): Naming {
  const requested = requestedName(raw);
  const name = traced.domain ?? requested.name;
  const notes = traced.notes.length > 0 ? { notes: traced.notes } : {};
  return name === raw ? { name, ...notes } : { name, input: raw, ...(requested.inlined ? { inlined: true } : {}), ...notes };
}

/** An answer of the resolution API: its HTTP status and JSON body (errors: `{code, message, ...}`). */
export interface ApiAnswer {
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string };
  /** Seconds a client may cache it (answers found only). */
  maxAge?: number;
}

/** A failed look-up's answer: an upstream failure with nothing stale is a 502 UPSTREAM_FAILED. */
export function dnslinkErrorAnswer(traced: Traced<unknown>, names: Naming, code: string, message: string, extra: Record<string, unknown>): ApiAnswer {
  let status = errorStatus(code);
  let finalCode = code;
  let finalMessage = message;
  if (traced.upstreamFailed && code.startsWith('DNS_RCODE_')) {
    status = 502;
    finalCode = 'UPSTREAM_FAILED';
    const why = traced.lookups.find((l) => l.ede)?.ede?.text;
    finalMessage = `no upstream answered and no stale answer was cached (${message}${why ? `: ${why}` : ''})`;
  }
  return { status, body: { code: finalCode, message: finalMessage, ...names, ...extra, lookups: traced.lookups } };
}

/** For an overridden result, the operator's reason (from the override's Extended DNS Error). */
export function overrideReason(traced: Traced<unknown>): { reason?: string } {
  const text = traced.lookups.find((l) => l.source === 'override')?.ede?.text;
  return text === undefined ? {} : { reason: text.replace(/^override: /, '') };
}

/** A name or value a denylist blocks: 410 (blocked) or 451 (censored) with the list and the rule; undefined when none did. */
export function blockedAnswer(names: Naming, traced: Traced<unknown>): ApiAnswer | undefined {
  const block = traced.blocked;
  if (!block) return undefined;
  return { status: BLOCK_STATUS[block.code], body: { code: block.code, message: block.message, list: block.list, rule: block.rule, ...names, domain: block.domain, lookups: traced.lookups } };
}

/** What GET /v1/dnslink/{name} answers for a gateway resolution. */
export function gatewayAnswer(names: Naming, traced: Traced<GatewayResult>): ApiAnswer {
  const blocked = blockedAnswer(names, traced);
  if (blocked) return blocked;
  const { result } = traced;
  if (isGatewayFailure(result)) {
    const { reason } = result.error;
    return dnslinkErrorAnswer(traced, names, result.error.code, result.error.message, { domain: result.error.domain, ...(reason ? { reason } : {}), hops: result.hops });
  }
  const body = {
    ...names,
    value: result.value,
    namespace: result.namespace,
    ...(result.cidV1 !== undefined ? { cid: result.cidV1 } : {}),
    path: result.path,
    ttl: result.ttl,
    source: traced.source,
    ...overrideReason(traced),
    cached: traced.cached,
    stale: traced.stale,
    hops: result.hops,
    log: result.log,
    lookups: traced.lookups,
  };
  return { status: 200, body, maxAge: result.ttl };
}
