// JSON schemas of GET /v1/changes (Server-Sent Events of change events) and GET /v1/ask (on-demand
// TLS): they validate the query and are what /openapi.json publishes. Field names are API contracts.
import { CHANGE_KINDS } from '../../changes/config.js';

function errorResponse(description: string) {
  return {
    description,
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string' }, message: { type: 'string' } },
  } as const;
}

const nameList = (description: string) => ({ type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 }, description }) as const;

/** One change event: the `data:` of each SSE event and the body of a webhook POST. */
export const CHANGE_EVENT_SCHEMA = {
  type: 'object',
  required: ['id', 'time', 'name', 'kind', 'origin', 'instance'],
  properties: {
    id: { type: 'string', description: '<ms>-<seq>, monotonic per stream (the fleet Redis stream id with state.redis); also the SSE id:' },
    time: { type: 'string', format: 'date-time' },
    name: { type: 'string', description: 'The DNSLink name; for a suffix flush the suffix, "." for a flush of everything.' },
    kind: { type: 'string', enum: [...CHANGE_KINDS] },
    old: { type: 'string', nullable: true, description: 'DNSLink value(s) before (several sorted, space separated); null: none. Absent for a flush.' },
    new: { type: 'string', nullable: true, description: 'DNSLink value(s) after; null: none. Absent for a flush.' },
    origin: { type: 'string', description: 'dns or ens (a refresh), admin:<token label>, expiry, or a denylist\'s.' },
    instance: { type: 'string', description: 'The instance that recorded it.' },
    scope: { type: 'string', enum: ['name', 'suffix', 'all'], description: 'For a flush: what was flushed.' },
  },
} as const;

export const changesSchema = {
  summary: 'Change events as Server-Sent Events',
  description:
    'One event each time what dnslinkd answers for a DNSLink name changes (refresh with a new value, override set/changed/removed/expired, flush, block/unblock). ' +
    'Each SSE event has id: (resume with Last-Event-ID from the last changes.historySize events) and data: a change event (JSON). ' +
    'Event `gap` says the history no longer holds what followed Last-Event-ID; event `end` comes when the instance shuts down. ' +
    'With changes.token set, Authorization: Bearer <token> is required. See docs/changes.md.',
  tags: ['changes'],
  querystring: {
    type: 'object',
    properties: {
      name: nameList('Only events of these names (repeatable).'),
      suffix: nameList('Only events of names under these suffixes (repeatable).'),
      kind: { type: 'array', maxItems: 20, items: { type: 'string', enum: [...CHANGE_KINDS] }, description: 'Only events of these kinds (repeatable).' },
      lastEventId: { type: 'string', maxLength: 40, description: 'Same as the Last-Event-ID header, for clients that cannot set it.' },
    },
  },
  response: {
    200: { description: 'text/event-stream of change events', content: { 'text/event-stream': { schema: CHANGE_EVENT_SCHEMA } } },
    400: errorResponse('INVALID_LAST_EVENT_ID or a bad query parameter'),
    401: errorResponse('UNAUTHORIZED: changes.token is set and the request did not carry it'),
    503: errorResponse('TOO_MANY_SUBSCRIBERS (changes.maxSubscribers) or CHANGES_UNAVAILABLE'),
  },
} as const;

export const askSchema = {
  summary: 'On-demand TLS ask: does this domain serve a DNSLink?',
  description:
    'For Caddy `on_demand_tls { ask <url> }`: 200 when the domain has a valid DNSLink (DNS, ENS or an ENS mirror name) that is not blocked, ' +
    '404 when not, 400 when it is not a domain name. Answered through the same cache as /v1/dnslink/{name}.',
  tags: ['dnslink'],
  querystring: {
    type: 'object',
    required: ['domain'],
    properties: { domain: { type: 'string', minLength: 1, maxLength: 1024, description: 'The host name a TLS certificate is asked for.' } },
  },
  response: {
    200: {
      description: 'It serves a DNSLink: a certificate may be issued.',
      type: 'object',
      required: ['domain', 'value', 'source'],
      properties: { domain: { type: 'string' }, value: { type: 'string' }, source: { type: 'string' } },
    },
    400: errorResponse('INVALID_DOMAIN: not a domain name'),
    404: errorResponse('NO_DNSLINK, INVALID_CID, DNS_RCODE_3, MULTIPLE_DNSLINK, LOOP...: no certificate'),
    502: errorResponse('UPSTREAM_FAILED: no upstream answered and nothing was cached'),
  },
} as const;
