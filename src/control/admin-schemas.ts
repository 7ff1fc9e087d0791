// The admin routes' documentation: one schema per route (summary, parameters, body, each answer and
// the error codes of each status), given to the route where admin-routes.ts registers it and
// published in /admin/openapi.json (admin-openapi.ts). A new route adds its schema here.
import type { FastifySchema } from 'fastify';

import { arrayOf, bool, DRY_RUN, error, FORBIDDEN, int, nullable, obj, STORE_ERRORS, str, UNAUTHORIZED, type Json } from './admin-schema-builders.js';

const STORE = error(STORE_ERRORS, 'The control store failed or is unreachable; nothing changed');
const NAME_PARAM = obj({ name: str('A host name (Unicode names are converted to punycode); without _dnslink.') }, ['name']);

const override = obj(
  {
    name: str('Host name, lower-case ASCII (punycode), without _dnslink. or a trailing dot'),
    value: str('/ipfs/<cid>[/path] or /ipns/<name>[/path]'),
    ttl: int('TTL of the answers, seconds', { minimum: 0, maximum: 86400 }),
    reason: str('Why: in the audit log and in the answers\' Extended DNS Error'),
    expiresAt: str('ISO time after which it no longer applies', { format: 'date-time' }),
    pinned: bool('Made by pinning what the name resolved to'),
    by: str('Label of the token that set it'),
    createdAt: str('ISO time', { format: 'date-time' }),
    updatedAt: str('ISO time', { format: 'date-time' }),
  },
  ['name', 'value', 'ttl', 'reason', 'by', 'createdAt', 'updatedAt'],
  'An override in force',
);

const overrideChange = obj(
  {
    dryRun: bool('True when nothing was changed'),
    name: str('The name changed'),
    before: nullable({ ...override, description: 'The override before (null: none)' }),
    after: nullable({ ...override, description: 'The override after (null: removed)' }),
    answers: obj(
      {
        before: nullable(str('What a query for the name gets before the change: its override, else what the local records, the cache or the upstreams answer (null: no DNSLink)')),
        after: nullable(str('What a query gets after it (null: no DNSLink)')),
      },
      ['before', 'after'],
      'DNSLink values (/ipfs/..., /ipns/...) a query for the name gets',
    ),
    cache: obj({ removed: int('Cache entries of the name removed (for a dry run: that would be)') }, ['removed']),
  },
  ['dryRun', 'name', 'before', 'after', 'answers', 'cache'],
);

const OVERRIDE_REFUSED = error(
  ['INVALID_BODY', 'INVALID_NAME', 'INVALID_VALUE', 'VALUE_TOO_LONG', 'INVALID_TTL', 'INVALID_EXPIRY', 'INVALID_REASON', 'REASON_REQUIRED', 'NEEDS_FORCE'],
  'Refused input, nothing changed (NEEDS_FORCE also carries reach and dryRun)',
);

const record = obj({ name: str('Owner name'), type: int('RR type number'), ttl: int('Seconds left'), data: str('Presentation format') });

const cachedAnswer = obj(
  {
    name: str('Owner name of the question'),
    type: int('Question type number (16: TXT)'),
    class: int('Question class (1: IN)'),
    rcode: str('NOERROR, NXDOMAIN, SERVFAIL...'),
    negative: bool('A negative answer (NXDOMAIN or no data)'),
    stale: bool('Expired: served only stale'),
    ttlLeft: int('Seconds before it expires (0 once stale)'),
    source: str('Where it came from: upstream, ens, ens-fallback, local...'),
    upstream: str('The upstream that answered'),
    fetchedAt: str('ISO time', { format: 'date-time' }),
    expiresAt: str('ISO time', { format: 'date-time' }),
    hits: int('Times it answered'),
    answers: arrayOf(record),
    authority: arrayOf(record),
    worker: int('With --workers: the worker holding it'),
    staleSince: str('Once stale: since when (ISO time)', { format: 'date-time' }),
    serveUntil: str('Until when it may be served (stale included), ISO time', { format: 'date-time' }),
  },
  ['name', 'type', 'rcode', 'negative', 'stale', 'ttlLeft', 'source', 'answers'],
);

const cacheListEntry = obj(
  {
    name: str('Owner name of the question'),
    type: int('Question type number (16: TXT)'),
    rcode: str('NOERROR, NXDOMAIN, SERVFAIL...'),
    negative: bool('A negative answer (NXDOMAIN or no data)'),
    ttlLeft: int('Seconds before it expires (0 once stale)'),
    stale: bool('Expired: served only stale'),
    hits: int('Times it answered'),
    source: str('Where the answer was fetched from: upstream, ens, ens-fallback...'),
    expiresAt: str('ISO time', { format: 'date-time' }),
    serveUntil: str('Until when it may still be served stale, ISO time', { format: 'date-time' }),
    worker: int('With --workers: the worker holding it'),
    key: str('The entry\'s cache key, base64url'),
  },
  ['name', 'type', 'rcode', 'negative', 'ttlLeft', 'stale', 'hits', 'source', 'expiresAt', 'serveUntil', 'key'],
);

const auditRecord = obj(
  {
    id: str('Record id'),
    time: str('ISO time', { format: 'date-time' }),
    token: str('Label of the token (system for expiries)'),
    action: str('override.set, override.pin, override.remove, override.expire, override.import, override.restore, override.accept-reset or cache.flush'),
    name: str('The name it concerns'),
    reason: str('The reason given'),
    before: { description: 'The state before (an override, a flush target...)' },
    after: { description: 'The state after' },
    dryRun: bool('A dry run (nothing changed)'),
    force: bool('Asked with force'),
  },
  ['id', 'time', 'token', 'action', 'dryRun'],
);

const nameWhy = obj({ name: str('Name'), why: str('Why') }, ['name', 'why']);

const heldChange = obj(
  { dryRun: bool('True when nothing was changed'), overrides: arrayOf(override, 'The overrides published again, or dropped'), skipped: arrayOf(nameWhy, 'Ones a restore left as the store has them') },
  ['dryRun', 'overrides', 'skipped'],
);

const reasonBody = obj({ reason: str('Why (audit log)') });

/** The schema of each admin route, by `METHOD path` as admin-routes.ts registers it. */
export const ADMIN_ROUTE_SCHEMAS = {
  'POST /admin/v1/cache/flush': {
    summary: 'Flush cache entries',
    description: 'Removes the cached answers of one name, of every name under a suffix, or all; negativeOnly keeps positive answers. A flush of a wide suffix or of more than admin.maxFlushEntries entries needs "force": true.',
    tags: ['cache'],
    querystring: DRY_RUN,
    body: obj({
      name: str('One name (its _dnslink. name too)'),
      suffix: str('Every name under this zone'),
      all: { type: 'boolean', enum: [true], description: 'Everything' },
      negativeOnly: bool('Only negative answers'),
      reason: str('Why (audit log)'),
      force: bool('Accept a wide reach'),
    }, [], 'Exactly one of name, suffix or all'),
    response: {
      200: obj({ dryRun: bool('True when nothing was removed'), removed: int('Entries removed (or that would be)'), generation: int('The flush generation') }, ['dryRun', 'removed', 'generation']),
      400: error(['INVALID_BODY', 'INVALID_NAME', 'NEEDS_FORCE'], 'Refused input (NEEDS_FORCE also carries reach and dryRun)'),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      503: STORE,
    },
  },
  'GET /admin/v1/cache/:name': {
    summary: 'What the cache holds for a name',
    description: 'Every cached answer of the name and of _dnslink.<name>, stale ones included.',
    tags: ['cache'],
    params: NAME_PARAM,
    response: {
      200: obj({ name: str('The name asked'), entries: arrayOf(cachedAnswer), override: nullable(override) }, ['name', 'entries']),
      400: error(['INVALID_NAME'], 'Not a host name'),
      401: UNAUTHORIZED,
    },
  },
  'GET /admin/v1/cache': {
    summary: 'A page of the cache entries',
    description: 'Every worker\'s entries, filtered, the busiest first (top) or in key order by pages. The table is scanned in slices that yield; an answer never holds more than 1000 entries.',
    tags: ['cache'],
    querystring: obj({
      suffix: str('Only names at or under this zone'),
      stale: str('true: expired entries only', { enum: ['true', 'false', '1', '0'] }),
      top: str('The N busiest entries, 1 to 1000 (no paging)'),
      limit: str('Entries per page, 1 to 1000 (default 100)'),
      cursor: str('The `next` of the previous page'),
    }),
    response: {
      200: obj({ entries: arrayOf(cacheListEntry), matched: int('Entries that matched the filters'), next: str('Cursor of the next page; absent on the last page') }, ['entries', 'matched']),
      400: error(['INVALID_PARAMETER'], 'A bad suffix, limit, top or cursor'),
      401: UNAUTHORIZED,
    },
  },
  'GET /admin/v1/overrides': {
    summary: 'The overrides in force',
    tags: ['overrides'],
    response: { 200: obj({ overrides: arrayOf(override) }, ['overrides']), 401: UNAUTHORIZED },
  },
  'GET /admin/v1/overrides/:name': {
    summary: 'The override of one name',
    tags: ['overrides'],
    params: NAME_PARAM,
    response: { 200: override, 400: error(['INVALID_NAME'], 'Not a host name'), 401: UNAUTHORIZED, 404: error(['OVERRIDE_NOT_FOUND'], 'No override is in force for the name') },
  },
  'PUT /admin/v1/overrides/:name': {
    summary: 'Set or pin an override',
    description: 'Gives the name a value of the operator\'s ({"value": "/ipfs/..."}), or freezes what the cache holds for it ({"pin": true}). A one-label name, a special-use name, an IP address or a public suffix needs "force": true.',
    tags: ['overrides'],
    params: NAME_PARAM,
    querystring: DRY_RUN,
    body: obj(
      {
        value: str('/ipfs/<cid>[/path] or /ipns/<name>[/path]'),
        pin: { type: 'boolean', enum: [true], description: 'Freeze the cached value instead of giving one' },
        reason: str('Why: required'),
        ttl: int('Seconds (default 60)', { minimum: 0, maximum: 86400 }),
        expiresAt: str('ISO time in the future', { format: 'date-time' }),
        force: bool('Accept a wide reach'),
      },
      ['reason'],
      'value or pin, not both',
    ),
    response: {
      200: overrideChange,
      400: OVERRIDE_REFUSED,
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      409: error(['NOTHING_CACHED', 'CONFLICT'], 'Nothing cached to pin, or the override changed meanwhile'),
      503: STORE,
    },
  },
  'DELETE /admin/v1/overrides/:name': {
    summary: 'Remove an override',
    description: 'The reason comes in the body or, for clients that send no body with DELETE, as ?reason=.',
    tags: ['overrides'],
    params: NAME_PARAM,
    querystring: obj({ ...(DRY_RUN.properties as Record<string, Json>), reason: str('Why, when no body is sent') }),
    body: reasonBody,
    response: {
      200: overrideChange,
      400: error(['INVALID_BODY', 'INVALID_NAME', 'INVALID_REASON', 'REASON_REQUIRED'], 'Refused input'),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      404: error(['OVERRIDE_NOT_FOUND'], 'No override is in force for the name'),
      409: error(['CONFLICT'], 'The override changed meanwhile'),
      503: STORE,
    },
  },
  'POST /admin/v1/overrides/import': {
    summary: 'Import overrides',
    description: 'An export (GET /admin/v1/overrides) of another instance, applied in one transaction; who made each and when are kept; expired ones are skipped.',
    tags: ['overrides'],
    querystring: DRY_RUN,
    body: obj({ overrides: arrayOf(obj({ name: str('Name'), value: str('Value'), ttl: int('Seconds'), expiresAt: str('ISO time'), reason: str('Why') }, ['name', 'value'])), reason: str('Why: required'), force: bool('Accept a wide reach') }, ['overrides', 'reason']),
    response: {
      200: obj({ dryRun: bool('True when nothing was changed'), changed: arrayOf(overrideChange), skipped: arrayOf(nameWhy) }, ['dryRun', 'changed', 'skipped']),
      400: error(['INVALID_BODY', 'INVALID_IMPORT', 'VALUE_TOO_LONG', 'INVALID_NAME', 'INVALID_REASON', 'REASON_REQUIRED', 'NEEDS_FORCE'], 'Refused input; nothing imported'),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      409: error(['CONFLICT'], 'Changed meanwhile'),
      413: error(['BODY_TOO_LARGE'], 'A body over 8 MiB'),
      503: STORE,
    },
  },
  'POST /admin/v1/overrides/restore': {
    summary: 'Publish again the overrides held after a store reset',
    tags: ['overrides'],
    querystring: DRY_RUN,
    body: reasonBody,
    response: { 200: heldChange, 400: error(['INVALID_BODY', 'INVALID_REASON'], 'Refused input'), 401: UNAUTHORIZED, 403: FORBIDDEN, 503: STORE },
  },
  'POST /admin/v1/overrides/accept-reset': {
    summary: 'Drop the overrides held after a store reset',
    tags: ['overrides'],
    querystring: DRY_RUN,
    body: obj({ reason: str('Why: required') }, ['reason']),
    response: { 200: heldChange, 400: error(['INVALID_BODY', 'INVALID_REASON', 'REASON_REQUIRED'], 'Refused input'), 401: UNAUTHORIZED, 403: FORBIDDEN, 503: STORE },
  },
  'GET /admin/v1/audit': {
    summary: 'Read the audit log',
    description: 'Newest first.',
    tags: ['audit'],
    querystring: obj({ name: str('Only records of this name'), since: str('Only records from this ISO time on'), until: str('Only records up to this ISO time'), before: str('Only records older than this record id (the next page, newest first)'), token: str('Only the changes of this token label (system: expiries)'), action: str('Only this action (override.pin, cache.flush...)'), limit: str('At most this many, 1 to 1000 (default 100)') }),
    response: { 200: obj({ records: arrayOf(auditRecord) }, ['records']), 400: error(['INVALID_PARAMETER', 'INVALID_NAME'], 'A bad limit, since or name'), 401: UNAUTHORIZED, 503: STORE },
  },
  'GET /admin/v1/lookup/:name': {
    summary: 'The answer a gateway gets for a name',
    description: 'Looks the name up now as GET /v1/dnslink/{name} on the HTTP listener does (same cache, overrides, upstreams): `answer` is that route\'s JSON body and `status` its HTTP status (a name without DNSLink is a 200 here with status 404).',
    tags: ['cache'],
    params: NAME_PARAM,
    response: {
      200: obj({ status: int('The HTTP status GET /v1/dnslink/{name} answers'), answer: obj({ value: str('/ipfs/<cid>[/path] or /ipns/<name>[/path]'), source: str('Where the answer came from'), ttl: int('Seconds'), stale: bool('Served stale'), code: str('The error code when status is not 200') }, [], 'The body of GET /v1/dnslink/{name}') }, ['status', 'answer']),
      400: error(['LOOKUP_UNAVAILABLE'], 'This process cannot look names up'),
      401: UNAUTHORIZED,
    },
  },
  'GET /admin/v1/samples': {
    summary: 'Counter samples of the last 15 minutes (the console\'s live charts)',
    description: 'One sample every admin.consoleSampleSeconds, the last 180 kept, oldest first; counters are cumulative (draw their differences as rates).',
    tags: ['instance'],
    response: {
      200: obj(
        {
          intervalSeconds: nullable(int('Seconds between samples (null: no sampler in this process)')),
          samples: arrayOf(
            obj({
              at: str('ISO time', { format: 'date-time' }),
              queries: { type: 'object', additionalProperties: { type: 'number' }, description: 'Queries answered so far, by transport (udp, tcp, doh, api...)' },
              cacheHits: int('Answers served fresh from the cache so far'),
              cacheMisses: int('Cache misses so far'),
              staleServed: int('Stale answers served so far'),
              overrides: int('Overrides in force'),
              upstreamErrors: int('Upstream attempts failed so far'),
              ensErrors: int('ENS RPC requests failed so far (not ok nor reverted)'),
              upstreamLatencySum: { type: 'number', description: 'Seconds spent waiting for upstreams so far (dnslinkd_upstream_latency_seconds_sum)' },
              upstreamLatencyCount: int('Upstream answers timed so far (dnslinkd_upstream_latency_seconds_count)'),
            }),
          ),
        },
        ['intervalSeconds', 'samples'],
      ),
      401: UNAUTHORIZED,
    },
  },
  'GET /admin/v1/whoami': {
    summary: "The caller's token: its label and scope",
    tags: ['instance'],
    response: { 200: obj({ label: str('The token\'s label (admin.tokens, env, generated)'), scope: str('read or write', { enum: ['read', 'write'] }) }, ['label', 'scope']), 401: UNAUTHORIZED },
  },
  'GET /admin/v1/status': {
    summary: "The control plane's state",
    tags: ['instance'],
    response: {
      200: obj(
        {
          store: obj({ kind: str('embedded or redis'), location: str('File or Redis URL (no password)') }),
          version: int('Override version applied'),
          generation: int('Flush generation applied'),
          overrides: int('Overrides in force'),
          degraded: bool('True while the store is unreachable or overrides are held after a reset'),
          degradedReason: str('Why'),
          storeReset: obj({ held: int('Overrides held'), since: str('ISO time'), cause: str('Why'), overrides: arrayOf(override), choices: str('What to do') }),
          ens: obj(
            {
              configured: int('RPC endpoints configured (ens.rpc)'),
              failing: int('Endpoints failing now'),
              degraded: bool('True while every endpoint fails: ENS names get SERVFAIL or their stale answer'),
              chainId: int('The chain id the endpoints reported at start'),
              endpoints: arrayOf(obj({ endpoint: str('#n scheme://host[:port] (never the path or query)'), state: str('unknown, up or failing'), since: str('ISO time of the last change of state'), failures: int('Requests failed in a row'), lastError: obj({ cause: str('ECONNREFUSED, TIMEOUT, HTTP_500, JSONRPC_-32000...'), message: str('What failed'), at: str('ISO time') }) })),
              workers: arrayOf(obj({ worker: int('Worker id') }), 'With --workers: each worker\'s own view'),
            },
            [],
            'ENS RPC endpoints (docs/ens.md, "Watching ENS"); absent without ens.rpc',
          ),
          invalidRecords: obj({ count: int('Records of the store skipped as invalid'), records: arrayOf(obj({ key: str('Key'), id: str('Id'), why: str('Why'), since: str('ISO time') })) }),
          unbuildableOverrides: obj({ count: int('Overrides whose answers cannot be built'), overrides: arrayOf(obj({ name: str('Name'), why: str('Why'), since: str('ISO time') })) }),
        },
        ['store', 'version', 'generation', 'overrides', 'degraded', 'invalidRecords', 'unbuildableOverrides'],
      ),
      401: UNAUTHORIZED,
    },
  },
  'POST /admin/v1/reload': {
    summary: 'Reload the configuration file',
    description: 'Reads the configuration file again and applies the keys that apply live, as SIGHUP does; refused whole when it does not validate.',
    tags: ['instance'],
    querystring: DRY_RUN,
    response: {
      200: obj(
        {
          dryRun: bool('True when nothing was applied'),
          changed: arrayOf(str('Key'), 'Keys applied live'),
          needsRestart: arrayOf(str('Key'), 'Keys changed that only a restart applies'),
          workers: int('With --workers: how many applied it'),
          pinnedByFlags: arrayOf(str('Key'), 'Keys changed in the file but pinned by a flag given at start'),
        },
        ['dryRun', 'changed', 'needsRestart'],
      ),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      422: error(['RELOAD_REFUSED'], 'The file does not validate: nothing applied'),
      500: error(['RELOAD_FAILED'], 'Applying failed'),
      503: error(['RELOAD_UNAVAILABLE'], 'This process cannot reload'),
    },
  },
} satisfies Record<string, FastifySchema & { summary: string; tags: string[] }>;

/** The schema of a route, as `{ schema }` route options: `app.get(path, adminSchema('GET', path), handler)`. */
export function adminSchema(method: string, path: string): { schema?: FastifySchema } {
  const schema = (ADMIN_ROUTE_SCHEMAS as Record<string, FastifySchema>)[`${method} ${path}`];
  // An undocumented route still registers: the test of the document (admin-openapi.test.ts) names it.
  return schema ? { schema } : {};
}
