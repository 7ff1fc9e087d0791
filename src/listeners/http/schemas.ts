// JSON schemas of the HTTP routes: they validate input, drive fast-json-stringify for output and
// are what /openapi.json publishes (via @fastify/swagger). Field names here are API contracts.
import { RESULT_SOURCES } from '../../core/dnslink-service.js';
import { ANSWER_SOURCES } from '../../dns/resolution.js';
import { DNS_PARAM_MAX_LENGTH } from './doh-wire.js';

/** Every error body: a stable code and a sentence for the operator. */
function errorResponse(description: string) {
  return {
    description,
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', description: 'Stable machine-readable code, e.g. INVALID_DNS_PARAM, NO_DNSLINK.' },
      message: { type: 'string', description: 'What went wrong, in words.' },
    },
  } as const;
}

const jsonRecordSchema = {
  type: 'object',
  required: ['name', 'type', 'TTL', 'data'],
  properties: {
    name: { type: 'string', description: 'Owner name, fully qualified with a trailing dot.' },
    type: { type: 'integer', description: 'Record type number (16 = TXT).' },
    TTL: { type: 'integer', description: 'Seconds left.' },
    data: { type: 'string', description: 'Presentation form; TXT is quoted: "\\"dnslink=/ipfs/...\\"".' },
  },
} as const;

const dnsJsonSchema = {
  type: 'object',
  description: 'DNS JSON (Google /resolve and Cloudflare application/dns-json field set).',
  required: ['Status', 'TC', 'RD', 'RA', 'AD', 'CD', 'Question'],
  properties: {
    Status: { type: 'integer', description: 'DNS rcode: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN...' },
    TC: { type: 'boolean' },
    RD: { type: 'boolean' },
    RA: { type: 'boolean' },
    AD: { type: 'boolean' },
    CD: { type: 'boolean' },
    Question: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'type'],
        properties: { name: { type: 'string' }, type: { type: 'integer' } },
      },
    },
    Answer: { type: 'array', items: jsonRecordSchema },
    Authority: { type: 'array', items: jsonRecordSchema },
    Comment: { type: 'string', description: 'Extended DNS Error, when there is one (e.g. a stale answer).' },
  },
} as const;

const flagParam = (description: string) => ({ type: 'string', maxLength: 5, description: `${description} 1/true or 0/false.` }) as const;

/** Query string shared by `/dns-query` (JSON form) and `/resolve`. */
const jsonQueryProperties = {
  name: { type: 'string', maxLength: 1024, description: 'Domain name to resolve (JSON API).' },
  type: { type: 'string', maxLength: 16, description: 'Record type by name (TXT) or number (16); default A.' },
  cd: flagParam('Checking Disabled: accepted and echoed (dnslinkd does not validate DNSSEC).'),
  do: flagParam('DNSSEC OK: accepted; no DNSSEC records are returned.'),
  ct: { type: 'string', maxLength: 64, description: 'Response media type, as Google: application/dns-json or application/x-javascript.' },
} as const;

export const dohGetSchema = {
  summary: 'DNS-over-HTTPS query (RFC 8484 GET, or DNS JSON)',
  description:
    'With `dns`: an RFC 8484 query, base64url without padding; answers application/dns-message. ' +
    'With `name` (and `accept: application/dns-json`): the DNS JSON API. ' +
    'Cache-Control max-age is the smallest TTL in the answer (negative answers: the SOA TTL; errors: 0).',
  tags: ['dns'],
  querystring: {
    type: 'object',
    properties: {
      dns: { type: 'string', maxLength: DNS_PARAM_MAX_LENGTH, description: 'DNS query message, base64url without padding (RFC 8484).' },
      ...jsonQueryProperties,
    },
  },
  response: {
    200: {
      description: 'A DNS answer (any rcode).',
      content: {
        'application/dns-message': { schema: { type: 'string', format: 'binary' } },
        'application/dns-json': { schema: dnsJsonSchema },
        'application/json': { schema: dnsJsonSchema },
      },
    },
    '4xx': errorResponse('Bad input: INVALID_DNS_PARAM, INVALID_DNS_MESSAGE, MISSING_QUERY, UNKNOWN_TYPE, INVALID_NAME.'),
  },
} as const;

export const dohPostSchema = {
  summary: 'DNS-over-HTTPS query (RFC 8484 POST)',
  description: 'Body: one DNS query message (application/dns-message, at most 65535 bytes).',
  tags: ['dns'],
  // The request body (application/dns-message) is added to the OpenAPI document only: a Buffer
  // body is not something the JSON validator can check (see openapi.ts).
  response: {
    200: {
      description: 'A DNS answer (any rcode).',
      content: { 'application/dns-message': { schema: { type: 'string', format: 'binary' } } },
    },
    '4xx': errorResponse('INVALID_DNS_MESSAGE (400), BODY_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415).'),
  },
} as const;

export const resolveSchema = {
  summary: 'DNS JSON API (Google style)',
  description: 'Same answers as /dns-query with accept: application/dns-json.',
  tags: ['dns'],
  querystring: {
    type: 'object',
    required: ['name'],
    properties: jsonQueryProperties,
  },
  response: {
    200: dnsJsonSchema,
    '4xx': errorResponse('MISSING_QUERY, UNKNOWN_TYPE or INVALID_NAME.'),
  },
} as const;

const hopSchema = {
  type: 'object',
  required: ['name', 'value', 'ttl'],
  properties: {
    name: { type: 'string', description: 'Domain looked up at this hop.' },
    value: { type: 'string', description: 'The DNSLink value chosen there.' },
    ttl: { type: 'integer', description: 'Its TTL (seconds left).' },
  },
} as const;

const logEntrySchema = {
  type: 'object',
  required: ['code'],
  properties: {
    code: { type: 'string', description: 'FALLBACK or INVALID_ENTRY (dnslink.dev log codes).' },
    name: { type: 'string', description: 'Domain the entry belongs to.' },
    entry: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;

const lookupSchema = {
  type: 'object',
  required: ['name', 'rcode', 'source'],
  properties: {
    name: { type: 'string', description: 'TXT name asked.' },
    rcode: { type: 'integer' },
    source: { type: 'string', enum: ANSWER_SOURCES, description: 'Which stage answered: ' + ANSWER_SOURCES.join(', ') + '.' },
    origin: { type: 'string', enum: ANSWER_SOURCES, description: 'With source cache or stale: where the cached answer first came from (upstream, ens, ens-fallback).' },
    upstream: { type: 'string' },
    ede: { type: 'object', properties: { code: { type: 'integer' }, text: { type: 'string' } } },
  },
} as const;

const NOTES_SCHEMA = {
  type: 'array',
  items: { type: 'string' },
  description: 'What the name rules did to the input: a URL reduced to its host, a Unicode name converted to punycode.',
} as const;

const linkSchema = {
  type: 'object',
  required: ['identifier', 'ttl'],
  properties: { identifier: { type: 'string' }, ttl: { type: 'integer' } },
} as const;


const dnslinkResultSchema = {
  type: 'object',
  description: 'The resolved DNSLink.',
  required: ['name', 'ttl', 'source', 'cached', 'stale', 'log'],
  properties: {
    name: { type: 'string', description: 'The domain resolved (after decoding an inlined subdomain-gateway label).' },
    input: { type: 'string', description: 'The name as requested, when it differs from `name`.' },
    inlined: { type: 'boolean', description: 'True when `input` was a subdomain-gateway inlined label (en-wikipedia--on--ipfs-org).' },
    notes: NOTES_SCHEMA,
    value: { type: 'string', description: 'Content path for the gateway: /ipfs/<cid>/<path> or /ipns/<key>/<path>.' },
    namespace: { type: 'string', enum: ['ipfs', 'ipns'] },
    cid: { type: 'string', description: 'The CID (or IPNS key) as CIDv1 base32.' },
    path: { type: 'string', description: 'Path after the CID, "" when none.' },
    ttl: { type: 'integer', description: 'Seconds left: the shortest TTL along the chain. Also Cache-Control max-age.' },
    source: {
      type: 'string',
      enum: RESULT_SOURCES,
      description:
        'Where the value comes from, on cache hits as on misses: dns (an upstream DNS answer), local (local records), override (an operator override), ens (an ENS contenthash), ens-fallback (ENS, because the DNS name had no DNSLink or failed).',
    },
    cached: { type: 'boolean', description: 'True when every lookup was answered from dnslinkd\'s cache (fresh or stale): nothing was asked now.' },
    reason: { type: 'string', description: 'With source override: why the operator set it.' },
    stale: { type: 'boolean', description: 'True when some record was served stale (upstreams failing): from the cache, past its TTL.' },
    hops: { type: 'array', items: hopSchema, description: 'Each DNSLink lookup, in order, when /ipns/ values were followed.' },
    log: { type: 'array', items: logEntrySchema, description: 'DNSLink log (fallbacks, invalid entries).' },
    links: {
      type: 'object',
      additionalProperties: { type: 'array', items: linkSchema },
      description: 'With all=true: every valid entry by namespace (dnslink.dev shape).',
    },
    txtEntries: {
      type: 'array',
      items: { type: 'object', required: ['value', 'ttl'], properties: { value: { type: 'string' }, ttl: { type: 'integer' } } },
      description: 'With all=true: every valid entry as /namespace/identifier (dnslink.dev shape).',
    },
    lookups: { type: 'array', items: lookupSchema, description: 'The DNS lookups made, with their sources.' },
  },
} as const;

function dnslinkError(description: string) {
  return {
  description,
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'NO_DNSLINK, MULTIPLE_DNSLINK, INVALID_DOMAIN, INVALID_CID, LOOP, TOO_MANY_HOPS, DNS_RCODE_<n>, UPSTREAM_FAILED.' },
    message: { type: 'string' },
    name: { type: 'string' },
    input: { type: 'string' },
    notes: NOTES_SCHEMA,
    reason: { type: 'string', description: 'For INVALID_DOMAIN: TOO_LONG, EMPTY_PART, INVALID_CHARACTER, INVALID_IDN or NOT_A_HOST.' },
    domain: { type: 'string', description: 'The domain whose lookup failed (the name or a later hop).' },
    hops: { type: 'array', items: hopSchema },
    log: { type: 'array', items: logEntrySchema },
    lookups: { type: 'array', items: lookupSchema },
  },
  } as const;
}

/** A denylist's refusal: the list and the rule (a double-hash rule as its hash) beside the usual error fields. */
function denylistError(description: string) {
  const base = dnslinkError(description);
  return {
    ...base,
    required: ['code', 'list', 'rule', 'message'],
    properties: {
      ...base.properties,
      code: { type: 'string', description: 'BLOCKED (410) or CENSORED (451).' },
      list: { type: 'string', description: 'The denylist whose rule matched (operator: the operator rules).' },
      rule: { type: 'string', description: 'The rule as written; a double-hash rule as its hash, never the name it stands for.' },
    },
  } as const;
}

export const dnslinkSchema = {
  summary: 'Resolve a DNSLink the way a gateway does',
  description:
    'boxo (Kubo, Rainbow) semantics: _dnslink.<name> wins over <name>, exactly one /ipfs/ or /ipns/ value, ' +
    '/ipns/<domain> values followed (recursive=true) with paths joined and the shortest TTL kept. ' +
    'A single label with dashes is read as a subdomain-gateway inlined name (en-wikipedia--on--ipfs-org).',
  tags: ['dnslink'],
  params: {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', maxLength: 1024, description: 'Domain, with or without _dnslink., or an inlined label.' } },
  },
  querystring: {
    type: 'object',
    properties: {
      recursive: { type: 'boolean', default: true, description: 'Follow /ipns/<domain> values.' },
      all: { type: 'boolean', default: false, description: 'Return every valid entry by namespace (dnslink.dev shape) instead of one gateway value.' },
    },
  },
  response: {
    200: dnslinkResultSchema,
    400: dnslinkError('INVALID_DOMAIN or a bad query parameter'),
    404: dnslinkError('NO_DNSLINK, INVALID_CID, or DNS_RCODE_3 (the name does not exist)'),
    409: dnslinkError('MULTIPLE_DNSLINK'),
    502: dnslinkError('UPSTREAM_FAILED or DNS_RCODE_<n>: upstreams failed or answered an error, and no stale answer was left'),
    508: dnslinkError('LOOP or TOO_MANY_HOPS'),
    410: denylistError('BLOCKED: the name or a value resolved on the way matches a denylist rule (kind blocked)'),
    451: denylistError('CENSORED: the name or a value resolved on the way matches a denylist rule (kind censored)'),
  },
} as const;

/** The ENS section of /healthz (absent while ENS is off). */
export const ENS_HEALTH_SCHEMA = {
  type: 'object',
  description: 'The ENS RPC endpoints (ens.rpc), absent while ENS is off. Readiness does not change for them.',
  required: ['configured', 'failing', 'degraded', 'endpoints'],
  properties: {
    configured: { type: 'integer', description: 'RPC endpoints configured.' },
    failing: { type: 'integer', description: 'Endpoints whose last request failed.' },
    degraded: { type: 'boolean', description: 'True while every endpoint is failing: ENS names get their stale answer or SERVFAIL.' },
    chainId: { type: 'integer', description: 'The chain the endpoints serve, once one answered eth_chainId.' },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        required: ['endpoint', 'state', 'failures'],
        properties: {
          endpoint: { type: 'string', description: 'The endpoint: `#n` (its place in ens.rpc, from 1); its address only on the admin API.' },
          state: { type: 'string', enum: ['unknown', 'up', 'failing'], description: '`unknown`: not asked yet; `up`: its last request was answered; `failing`: its last request failed.' },
          since: { type: 'string', description: 'Since when it is in this state (ISO time).' },
          failures: { type: 'integer', description: 'Requests failed in a row.' },
          lastError: {
            type: 'object',
            required: ['cause', 'message', 'at'],
            properties: {
              cause: { type: 'string', description: 'ECONNREFUSED, ENETUNREACH, TIMEOUT, a TLS code, HTTP_<status>, JSONRPC_<code>...' },
              message: { type: 'string', description: 'The cause in words.' },
              at: { type: 'string', description: 'When (ISO time).' },
            },
          },
        },
      },
    },
  },
} as const;

const healthBody = (description: string, status: string) =>
  ({
    description,
    type: 'object',
    required: ['status', 'reason', 'upstreams', 'cache', 'localRecords'],
    properties: {
      status: { type: 'string', enum: [status] },
      reason: { type: 'string', description: 'Why, in words: how many upstreams failed, with their error codes (never their addresses).' },
      worker: { type: 'integer', description: 'The cluster worker that answered (dns.workers > 1); absent in a single process.' },
      upstreams: {
        type: 'object',
        required: ['configured', 'failing', 'errors'],
        properties: {
          configured: { type: 'integer', description: 'Upstreams configured (0: local records and the cache only).' },
          failing: { type: 'integer', description: 'Upstreams whose last attempt got no answer within the penalty time (30 s).' },
          errors: { type: 'array', items: { type: 'string' }, description: 'Error codes of the failing ones: UPSTREAM_TIMEOUT, UPSTREAM_NETWORK, UPSTREAM_HTTP, UPSTREAM_BAD_RESPONSE.' },
        },
      },
      cache: {
        type: 'object',
        required: ['entries', 'bytes', 'inflight'],
        properties: {
          entries: { type: 'integer', description: 'Answers cached (fresh and stale).' },
          bytes: { type: 'integer', description: 'Their size.' },
          inflight: { type: 'integer', description: 'Upstream queries in flight.' },
        },
      },
      localRecords: { type: 'integer', description: 'Local (name, type) pairs served.' },
      control: {
        type: 'object',
        description: 'The control plane of this process (absent where there is none, as in a cluster worker).',
        required: ['store', 'degraded'],
        properties: {
          store: { type: 'string', enum: ['embedded', 'redis'], description: 'Where overrides and flushes are kept.' },
          degraded: {
            type: 'boolean',
            description:
              'True while the store takes no changes (the shared store (Redis) unreachable, or the embedded store\'s file deleted or replaced (STORE_REPLACED) or its last write failed (SQLITE_FULL, ...): the last state is served, admin changes are refused with 503), or while overrides are held after a store reset. Readiness does not change for it.',
          },
          reason: { type: 'string', description: 'Why, when degraded.' },
          heldAfterReset: { type: 'integer', description: 'Overrides served here that the shared store lost (emptied or replaced): held until `dnslinkd override restore` or `accept-reset`.' },
          invalidRecords: { type: 'integer', description: 'Records of the shared store skipped as invalid (never served): listed in /admin/v1/status.' },
        },
      },
      ens: ENS_HEALTH_SCHEMA,
      denylist: {
        type: 'object',
        description: 'Present when a denylist needs attention: a new version held by the guard (dnslinkd deny accept LIST), or a list never read (not blocking by it). Readiness does not change for it.',
        required: ['degraded', 'note'],
        properties: {
          degraded: { type: 'boolean', description: 'True while some configured list has no version in force.' },
          note: { type: 'string' },
        },
      },
    },
  }) as const;

export const healthSchema = {
  summary: 'Readiness, for load balancers',
  description:
    '200 `ready` while dnslinkd can resolve: some upstream answered its last attempt or has not failed in the last 30 s, ' +
    'or none is configured. 503 `not-ready` (with Retry-After) when every upstream failed its last attempt in the last 30 s: ' +
    'cached and local answers are still served, so use /livez for restarts.',
  tags: ['ops'],
  response: {
    200: healthBody('Ready.', 'ready'),
    503: healthBody('Not ready: every upstream failed its last attempt within the penalty time.', 'not-ready'),
  },
} as const;

export const liveSchema = {
  summary: 'Liveness, for container health checks',
  description: '200 whenever the process serves HTTP, upstreams up or not: a restart would lose the cache that still answers stale.',
  tags: ['ops'],
  response: {
    200: { description: 'Alive.', type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['alive'] } } },
  },
} as const;
