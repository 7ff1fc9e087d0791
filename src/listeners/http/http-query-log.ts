// The query log's side of the HTTP routes: the client's address (read only when the log is on,
// h2c included), and the line of a /v1/dnslink/{name} request (transport `api`): the name looked
// up, its TXT question, and what its lookups say together (the last one's rcode, the result's
// source, cached when every lookup was, stale when one was, the first EDE).
import type { Traced } from '../../core/dnslink-service.js';
import { rcodeName } from '../../dns/constants.js';
import type { FastifyRequest } from 'fastify';
import type { QueryLog } from '../../observability/query-log.js';

/**
 * The client's address for the query log, read only when it is on. Over h2c the request's socket
 * wraps the stream that replays the preface (http-sockets.ts), which carries the address.
 */
export function httpClient(queryLog: QueryLog, request: FastifyRequest): string {
  if (!queryLog.on) return '';
  return request.ip || socketAddress(request.raw.socket);
}

/** A socket's peer address, or that of the stream an h2c session's socket wraps. */
export function socketAddress(socket: unknown): string {
  const s = socket as { remoteAddress?: string; stream?: { remoteAddress?: string } } | undefined;
  return s?.remoteAddress ?? s?.stream?.remoteAddress ?? '';
}

/** When the query log will take this request's line: performance.now() at its start, else 0. */
export function queryLogClock(queryLog: QueryLog): number {
  return queryLog.on && queryLog.sample() ? performance.now() : 0;
}

/** Notes the request's line (nothing when it was not sampled, or nothing was looked up). */
export function noteDnslinkRequest(queryLog: QueryLog, startedAt: number, client: string, traced: Traced<unknown>): void {
  const { lookups } = traced;
  const last = lookups[lookups.length - 1];
  if (startedAt === 0 || !last) return;
  const ede = lookups.find((l) => l.ede)?.ede;
  queryLog.push({
    client,
    transport: 'api',
    name: traced.domain ?? last.name,
    type: 'TXT',
    rcode: rcodeName(last.rcode),
    source: traced.source,
    cached: lookups.every((l) => l.source === 'cache' || l.source === 'stale'),
    stale: traced.stale,
    ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
    ...(ede ? { ede: { code: ede.code, text: ede.text } } : {}),
  });
}
