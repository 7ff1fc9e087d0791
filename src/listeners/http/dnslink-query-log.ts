// The query log's line for a /v1/dnslink/{name} request (transport `api`): the name looked up, its
// TXT question, and what the lookups it took say together (the last one's rcode, the result's
// source, cached when every lookup was, stale when one was, the first EDE).
import type { Traced } from '../../core/dnslink-service.js';
import { rcodeName } from '../../dns/constants.js';
import type { QueryLog } from '../../observability/query-log.js';

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
