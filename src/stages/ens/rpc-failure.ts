// What went wrong with one request to an ENS RPC endpoint or CCIP-Read gateway, from the error's
// cause chain (viem's `HTTP request failed.` wraps fetch's `fetch failed` wrapping the errno), as a
// metric result, a short cause code and a plain sentence; and the labels naming endpoints and
// gateways without what their URLs may hide (API keys in paths or queries). No I/O.
import { plainText } from './plain-text.js';

/** The `result` label of the ENS request counters. `reverted`: the node answered, the call reverted (about the name, not the endpoint). */
export const REQUEST_RESULTS = ['ok', 'reverted', 'timeout', 'network', 'tls', 'http', 'rpc_error', 'bad_response'] as const;
export type RequestResult = (typeof REQUEST_RESULTS)[number];

export interface RequestFailure {
  result: Exclude<RequestResult, 'ok'>;
  /** ECONNREFUSED, ENETUNREACH, TIMEOUT, ERR_TLS_CERT_ALTNAME_INVALID, HTTP_500, JSONRPC_-32000... */
  cause: string;
  /** The cause in words, printable ASCII, without the endpoint's address. */
  message: string;
}

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed for now',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the other side',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_)/;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  details?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and its causes, outermost first (at most 10; AggregateError's first member followed). */
function causeChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let at: unknown = err;
  while (at !== null && typeof at === 'object' && chain.length < 10) {
    const e = at as ErrorLike;
    chain.push(e);
    at = e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return chain;
}

const firstLine = (v: unknown): string => plainText(String(v ?? '').split('\n')[0] ?? '', 160);

/** Classifies a failed request; `timeoutMs` is the bound it had (for the sentence). */
export function classifyRequestFailure(err: unknown, timeoutMs: number): RequestFailure {
  const chain = causeChain(err);
  // First: a DOMException's numeric code (23 for a timeout) is no JSON-RPC error code.
  if (chain.some((e) => e.name === 'TimeoutError' || e.name === 'AbortError')) return { result: 'timeout', cause: 'TIMEOUT', message: `no answer within ${timeoutMs} ms` };
  for (const e of chain) {
    if (typeof e.code === 'number') {
      const reverted = e.code === 3 || /revert/i.test(String(e.details ?? e.message ?? ''));
      const text = firstLine(e.details ?? e.message);
      return reverted
        ? { result: 'reverted', cause: 'REVERTED', message: `the call reverted${text ? `: ${text}` : ''}` }
        : { result: 'rpc_error', cause: `JSONRPC_${e.code}`, message: `JSON-RPC error ${e.code}${text ? `: ${text}` : ''}` };
    }
  }
  for (const e of chain) {
    if (typeof e.status === 'number') {
      const text = e.details ? ` ${firstLine(e.details)}` : '';
      return { result: 'http', cause: `HTTP_${e.status}`, message: `HTTP ${e.status}${text}` };
    }
  }
  // The innermost code wins: fetch's own codes wrap the socket's.
  for (const e of [...chain].reverse()) {
    if (typeof e.code !== 'string') continue;
    if (TLS_CODE.test(e.code)) return { result: 'tls', cause: e.code, message: `TLS failed (${e.code})` };
    return { result: 'network', cause: e.code, message: `${ERRNO_WORDS[e.code] ?? 'network error'} (${e.code})` };
  }
  const inner = chain[chain.length - 1];
  const innerText = firstLine(inner?.message);
  if (chain.some((e) => e.name === 'HttpRequestError')) return { result: 'network', cause: 'NETWORK', message: `network error${innerText ? `: ${innerText}` : ''}` };
  return { result: 'bad_response', cause: 'BAD_RESPONSE', message: innerText || 'unreadable answer' };
}

/** `scheme://host[:port]` of a URL: never its path, query or credentials. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid-url';
  }
}

/** How an RPC endpoint is named in logs, metrics and the admin status: `#<n> scheme://host[:port]` (n from 1, as configured). */
export function endpointLabel(url: string, index: number): string {
  return `#${index + 1} ${originOf(url)}`;
}
