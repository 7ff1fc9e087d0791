// The denylist admin routes' documentation: one schema per route (summary, parameters, body, each
// answer and the error codes of each status), given to the route where denylist-admin-routes.ts
// registers it, so the admin API's OpenAPI document covers them. Objects keep the fields they do
// not list (the serializer is JSON.stringify), so a schema never strips an answer.
import type { FastifySchema } from 'fastify';
import { arrayOf, bool, DRY_RUN, error, FORBIDDEN, int, num, obj, STORE_ERRORS, str, UNAUTHORIZED } from './admin-schema-builders.js';

const STORE = error([...STORE_ERRORS, 'DENYLIST_UNAVAILABLE'], 'The control store failed or is unreachable; nothing changed');

const rule = obj(
  {
    id: str('The rule\'s id (dnslinkd deny rm ID)'),
    rule: str('One rule of the compact denylist format (IPIP-383): /ipns/NAME, /ipfs/CID[/PATH][*], //HASH, or ! before one'),
    reason: str('Why (audit log)'),
    by: str('Label of the token that added it'),
    createdAt: str('ISO time', { format: 'date-time' }),
    expiresAt: str('ISO time it ends by itself', { format: 'date-time' }),
  },
  ['id', 'rule', 'reason', 'by', 'createdAt'],
  'An operator rule',
);
const newlyBlocked = obj({ count: int('Served names it newly blocks'), served: int('DNSLink names served in the last 24 h'), percent: num('count / served, %'), names: arrayOf(str('A name it would block')) }, ['count', 'served', 'percent', 'names']);
const held = obj({ version: str('sha256 of the held version'), entries: int('Its rules'), newlyBlocked: int('Served names it would newly block'), served: int('Names served in the last 24 h'), percent: num('%'), examples: arrayOf(str('A name')), at: str('ISO time it was held', { format: 'date-time' }) });
const list = obj(
  {
    name: str('The list (operator: the operator rules)'),
    kind: str('blocked (EDE 15, HTTP 410) or censored (EDE 16, HTTP 451)', { enum: ['blocked', 'censored'] }),
    source: str('URL, file, or the control store'),
    version: str('sha256 of the version in force'),
    entries: int('Rules of the version in force'),
    badLines: int('Lines skipped'),
    lastFetch: obj({ at: str('ISO time'), result: str('ok, not-modified or error'), error: str('Why it failed') }),
    loadedFrom: str('network, file or data-dir'),
    held: { ...held, description: 'A newer version held by the guard: dnslinkd deny accept LIST' },
  },
  ['name', 'kind', 'source'],
);
const match = obj({ list: str('List'), rule: str('Rule (a double hash as its hash)'), line: int('Line in the list'), allow: bool('An allow (!) rule'), kind: str('blocked or censored') });

export const DENYLIST_ROUTE_SCHEMAS: Record<string, FastifySchema> = {
  'GET /admin/v1/denylist': {
    summary: 'Every denylist and the version in force',
    description: 'Source, version (sha256), rules, last fetch and its result, and a version held by the guard, for each list; with --workers, `processes`.',
    tags: ['denylist'],
    response: {
      200: obj({ lists: arrayOf(list), maxNewlyBlockedPercent: num('denylist.maxNewlyBlockedPercent'), answer: str('denylist.answer'), operatorRules: int('Operator rules in force'), processes: int('Workers that answered') }, ['lists']),
      401: UNAUTHORIZED,
    },
  },
  'GET /admin/v1/denylist/rules': {
    summary: 'The operator denylist rules in force',
    tags: ['denylist'],
    response: { 200: obj({ rules: arrayOf(rule) }, ['rules']), 401: UNAUTHORIZED },
  },
  'POST /admin/v1/denylist/rules': {
    summary: 'Add an operator denylist rule, fleet-wide',
    description: 'Any rule of the format (! rules too), checked, weighed against the names served (dry run: the names it would block), written with its audit record; a rule newly blocking more than denylist.maxNewlyBlockedPercent, or on a name of wide reach, needs "force": true.',
    tags: ['denylist'],
    querystring: DRY_RUN,
    // Checked by the route (INVALID_RULE, REASON_REQUIRED, INVALID_EXPIRY name what is wrong), not here.
    body: obj({ rule: { description: 'One rule of the format (required)' }, reason: { description: 'Why, for the audit log (required)' }, expiresAt: { description: 'ISO time it ends by itself' }, force: { description: 'true: accept a wide reach' } }),
    response: {
      200: obj({ dryRun: bool('True when nothing was changed'), rule, newlyBlocked }, ['dryRun', 'rule', 'newlyBlocked']),
      400: error(['INVALID_BODY', 'INVALID_RULE', 'REASON_REQUIRED', 'INVALID_REASON', 'INVALID_EXPIRY', 'NEEDS_FORCE'], 'Refused input, nothing changed (NEEDS_FORCE also carries reach and dryRun)'),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      503: STORE,
    },
  },
  'DELETE /admin/v1/denylist/rules/:id': {
    summary: 'Remove an operator denylist rule',
    tags: ['denylist'],
    params: obj({ id: str('The rule\'s id') }, ['id']),
    querystring: obj({ dryRun: str('true: change nothing'), reason: str('Why, for clients that send no body') }),
    response: {
      200: obj({ dryRun: bool('True when nothing was changed'), removed: rule }, ['dryRun', 'removed']),
      400: error(['INVALID_BODY', 'REASON_REQUIRED', 'INVALID_REASON'], 'Refused input'),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      404: error(['RULE_NOT_FOUND'], 'No rule has that id'),
      503: STORE,
    },
  },
  'GET /admin/v1/denylist/check': {
    summary: 'Which list and rule decide for a name or a content path',
    tags: ['denylist'],
    querystring: obj({ subject: str('A DNSLink name, or /ipfs/CID[/PATH] or /ipns/NAME[/PATH] (required)') }),
    response: {
      200: obj({ subject: str('As asked'), results: arrayOf(obj({ subject: str('A name or path checked'), matches: arrayOf(match), decided: match })) }, ['subject', 'results']),
      400: error(['INVALID_PARAMETER'], 'Not a name or a path'),
      401: UNAUTHORIZED,
    },
  },
  'POST /admin/v1/denylist/:list/accept': {
    summary: 'Apply a version the guard holds',
    tags: ['denylist'],
    params: obj({ list: str('A denylist.sources name') }, ['list']),
    response: {
      200: obj({ list: str('The list'), version: str('sha256 now in force'), entries: int('Its rules'), newlyBlocked: int('Served names it newly blocks'), processes: int('Processes that applied it') }, ['list', 'version']),
      401: UNAUTHORIZED,
      403: FORBIDDEN,
      404: error(['DENYLIST_NOT_FOUND'], 'No source has that name'),
      409: error(['NOTHING_HELD'], 'No version of it is held'),
      503: STORE,
    },
  },
};

/** A route's schema as route options. */
export function denylistSchema(method: string, path: string): { schema?: FastifySchema } {
  const schema = DENYLIST_ROUTE_SCHEMAS[`${method} ${path}`];
  return schema ? { schema } : {};
}
