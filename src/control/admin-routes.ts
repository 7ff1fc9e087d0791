// The admin API (/admin/v1/...): cache flush and inspection, overrides (set, pin, read, remove,
// import, restore or drop the ones held after a store reset), the audit log, the control plane's
// status and the configuration reload. Every route needs a bearer token (a write token to change
// anything, checked before the body is read); `?dryRun=true` on every change says what would
// change, changing nothing. Each route's schema (admin-schemas.ts) documents it in
// /admin/openapi.json; docs/admin-api.md describes it for people.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CodedError } from '../errors.js';
import { sendError } from '../listeners/http/http-errors.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import type { AdminAuth, AuthOutcome, TokenScope } from './admin-auth.js';
import { ADMIN_OPENAPI_PATH } from './admin-openapi.js';
import { adminSchema } from './admin-schemas.js';
import { jsonInChunks } from './chunked-json.js';
import type { ChangeContext, ControlPlane } from './control-plane.js';
import { NeedsForceError } from './reach-guard.js';
import { parseCacheListQuery } from './cache-listing.js';
import { overrideInForce, statusReport } from './status-report.js';
import { registerDenylistRoutes } from './denylist-admin-routes.js';

/** HTTP status for the control plane's error codes; anything else coded is a 400. */
const STATUS: Readonly<Record<string, number>> = {
  OVERRIDE_NOT_FOUND: 404,
  NOTHING_CACHED: 409,
  CONFLICT: 409,
  STORE_UNAVAILABLE: 503,
  STORE_DEGRADED: 503,
  RELOAD_REFUSED: 422,
  RELOAD_FAILED: 500,
  RELOAD_UNAVAILABLE: 503,
  STORE_REPLACED: 503,
  STORE_FULL: 503,
  RULE_NOT_FOUND: 404,
  DENYLIST_NOT_FOUND: 404,
  NOTHING_HELD: 409,
};

const AUDIT_LIMIT_MAX = 1000;

interface AdminRequest {
  Params: { name?: string };
  Querystring: { dryRun?: string; name?: string; since?: string; until?: string; before?: string; token?: string; action?: string; limit?: string; reason?: string; suffix?: string; stale?: string; top?: string; cursor?: string };
  Body: unknown;
}

const isTrue = (v: string | undefined): boolean => v === 'true' || v === '1';

/** `"force": true` in a change's body: a change with a wide reach accepted on purpose (reach-guard.ts). */
function forceOf(request: FastifyRequest): boolean {
  const b = request.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) return false;
  const force = (b as Record<string, unknown>).force;
  if (force !== undefined && typeof force !== 'boolean') throw new CodedError('INVALID_BODY', '"force" must be true or false');
  return force === true;
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new CodedError('INVALID_BODY', 'the body must be a JSON object');
  return b as Record<string, unknown>;
}

function flushTarget(b: Record<string, unknown>): FlushTarget {
  const given = (['name', 'suffix', 'all'] as const).filter((k) => b[k] !== undefined);
  if (given.length !== 1) throw new CodedError('INVALID_BODY', `give exactly one of {"name": "example.org"}, {"suffix": "example.org"} or {"all": true} (got ${given.length ? given.join(', ') : 'none'})`);
  if (b.all !== undefined) {
    if (b.all !== true) throw new CodedError('INVALID_BODY', '"all" must be true');
    return { all: true };
  }
  const key = given[0] as 'name' | 'suffix';
  const value = b[key];
  if (typeof value !== 'string' || value === '') throw new CodedError('INVALID_BODY', `"${key}" must be a domain name`);
  return key === 'name' ? { name: value } : { suffix: value };
}

function optionalString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new CodedError('INVALID_BODY', `"${key}" must be a string`);
  return v;
}

/** An ISO time parameter of the audit query, normalized; undefined when not given. */
function isoTime(key: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw new CodedError('INVALID_PARAMETER', `${key} must be an ISO time such as 2026-11-25T10:00:00Z (got "${raw}")`);
  return new Date(at).toISOString();
}

/** The 401 or 403 of a token that does not do. */
function refuse(reply: FastifyReply, outcome: Extract<AuthOutcome, { ok: false }>): FastifyReply {
  if (outcome.status === 401) reply.header('www-authenticate', 'Bearer realm="dnslinkd admin"');
  sendError(reply, outcome.status, outcome.code, outcome.message);
  return reply;
}

export function registerAdminRoutes(app: FastifyInstance, control: ControlPlane, auth: AdminAuth): void {
  // Before the body is read, any path: without a valid token nothing is parsed (an 8 MiB JSON
  // body, invalid JSON) and no route is told apart from an unknown one.
  app.addHook('onRequest', async (request, reply) => {
    // The OpenAPI document holds no secret (admin-openapi.ts): automation reads it before it has a token.
    if (request.routeOptions.url === ADMIN_OPENAPI_PATH) return undefined;
    // The console's page and assets hold no data (src/listeners/console-assets.ts): its data comes from here, with a token.
    if ((request.routeOptions.config as { publicAsset?: boolean } | undefined)?.publicAsset === true) return undefined;
    const outcome = auth.check(request.headers.authorization, 'read');
    if (outcome.ok) return undefined;
    // A body announced and not read: close rather than read it to its end to keep the connection.
    const { 'content-length': length, 'transfer-encoding': chunked } = request.headers;
    if ((length !== undefined && length !== '0') || chunked !== undefined) reply.header('connection', 'close');
    return refuse(reply, outcome);
  });

  /** Runs a handler with the caller's token checked for `need`; coded errors become JSON answers. */
  const guarded =
    (need: TokenScope, handler: (request: FastifyRequest<AdminRequest>, ctx: ChangeContext, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest<AdminRequest>, reply: FastifyReply): Promise<unknown> => {
      const outcome = auth.check(request.headers.authorization, need);
      if (!outcome.ok) return refuse(reply, outcome);
      try {
        const result = await handler(request, { token: outcome.label, dryRun: isTrue(request.query.dryRun), force: forceOf(request) }, reply);
        return reply.header('cache-control', 'no-store').send(result);
      } catch (err) {
        if (!(err instanceof CodedError)) throw err;
        // NEEDS_FORCE carries what the change would reach and its dry run (docs/api.md).
        sendError(reply, STATUS[err.code] ?? 400, err.code, err.message, err instanceof NeedsForceError ? err.details : {});
        return reply;
      }
    };

  app.post<AdminRequest>(
    '/admin/v1/cache/flush',
    adminSchema('POST', '/admin/v1/cache/flush'),
    guarded('write', async (request, ctx) => {
      const b = body(request);
      const negativeOnly = b.negativeOnly === true;
      if (b.negativeOnly !== undefined && typeof b.negativeOnly !== 'boolean') throw new CodedError('INVALID_BODY', '"negativeOnly" must be true or false');
      return control.flush(flushTarget(b), negativeOnly, ctx, optionalString(b, 'reason'));
    }),
  );

  app.get<AdminRequest>(
    '/admin/v1/cache/:name',
    adminSchema('GET', '/admin/v1/cache/:name'),
    guarded('read', async (request) => ({ name: request.params.name, entries: await control.cached(request.params.name ?? ''), override: overrideInForce(control, request.params.name ?? '') })),
  );

  // A bounded page of the cache (`dnslinkd cache ls`): ?suffix=&stale=&top=&limit=&cursor= (cache-listing.ts).
  app.get<AdminRequest>(
    '/admin/v1/cache',
    adminSchema('GET', '/admin/v1/cache'),
    guarded('read', async (request) => control.cacheList(parseCacheListQuery(request.query))),
  );

  app.get<AdminRequest>(
    '/admin/v1/overrides',
    adminSchema('GET', '/admin/v1/overrides'),
    guarded('read', async () => ({ overrides: control.active() })),
  );

  app.get<AdminRequest>(
    '/admin/v1/overrides/:name',
    adminSchema('GET', '/admin/v1/overrides/:name'),
    guarded('read', async (request) => {
      const override = control.get(request.params.name ?? '');
      if (!override) throw new CodedError('OVERRIDE_NOT_FOUND', `no override is in force for ${request.params.name}`);
      return override;
    }),
  );

  app.put<AdminRequest>(
    '/admin/v1/overrides/:name',
    adminSchema('PUT', '/admin/v1/overrides/:name'),
    guarded('write', async (request, ctx) => {
      const b = body(request);
      const name = request.params.name ?? '';
      const input = { reason: optionalString(b, 'reason'), expiresAt: optionalString(b, 'expiresAt'), ...(b.ttl !== undefined ? { ttl: b.ttl as number } : {}) };
      if (b.pin === true) {
        if (b.value !== undefined) throw new CodedError('INVALID_BODY', 'give either "value" or "pin": true, not both');
        return control.pin(name, input, ctx);
      }
      if (b.pin !== undefined && b.pin !== false) throw new CodedError('INVALID_BODY', '"pin" must be true');
      return control.setOverride(name, { ...input, value: optionalString(b, 'value') }, ctx);
    }),
  );

  app.delete<AdminRequest>(
    '/admin/v1/overrides/:name',
    adminSchema('DELETE', '/admin/v1/overrides/:name'),
    // The reason may come in the body or, for clients that send no body with DELETE, as ?reason=.
    guarded('write', async (request, ctx) => control.removeOverride(request.params.name ?? '', { reason: optionalString(body(request), 'reason') ?? request.query.reason }, ctx)),
  );

  app.post<AdminRequest>(
    '/admin/v1/overrides/import',
    adminSchema('POST', '/admin/v1/overrides/import'),
    guarded('write', async (request, ctx, reply) => {
      const b = body(request);
      const result = await control.importOverrides(b.overrides, { reason: optionalString(b, 'reason') }, ctx);
      // Thousands of results: written in pieces that yield, so the DNS port keeps answering.
      reply.type('application/json; charset=utf-8');
      return jsonInChunks(result, 'changed');
    }),
  );

  // After a store reset (docs/fleet.md): publish the overrides held here again, or drop them.
  app.post<AdminRequest>(
    '/admin/v1/overrides/restore',
    adminSchema('POST', '/admin/v1/overrides/restore'),
    guarded('write', async (request, ctx) => control.restoreHeld({ reason: optionalString(body(request), 'reason') }, ctx)),
  );

  app.post<AdminRequest>(
    '/admin/v1/overrides/accept-reset',
    adminSchema('POST', '/admin/v1/overrides/accept-reset'),
    guarded('write', async (request, ctx) => control.acceptReset({ reason: optionalString(body(request), 'reason') }, ctx)),
  );

  app.get<AdminRequest>(
    '/admin/v1/audit',
    adminSchema('GET', '/admin/v1/audit'),
    guarded('read', async (request) => {
      const q = request.query;
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_LIMIT_MAX) throw new CodedError('INVALID_PARAMETER', `limit must be a whole number from 1 to ${AUDIT_LIMIT_MAX}`);
      const since = isoTime('since', q.since);
      const until = isoTime('until', q.until);
      if (q.before !== undefined && !/^[0-9]+(-[0-9]+)?$/.test(q.before)) throw new CodedError('INVALID_PARAMETER', `before must be the id of an audit record (got "${q.before}")`);
      const name = q.name ? control.normalizeName(q.name) : undefined;
      const who = { ...(q.token ? { token: q.token } : {}), ...(q.action ? { action: q.action } : {}) };
      return { records: await control.audit({ limit, ...(name ? { name } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}), ...(q.before ? { before: q.before } : {}), ...who }) };
    }),
  );

  // The answer a gateway gets, as GET /v1/dnslink/{name} gives it: the console's look-up.
  app.get<AdminRequest>(
    '/admin/v1/lookup/:name',
    adminSchema('GET', '/admin/v1/lookup/:name'),
    guarded('read', async (request) => {
      const { status, body } = await control.lookup(request.params.name ?? '');
      return { status, answer: body };
    }),
  );

  // The console's live charts: the counter samples of the last 15 minutes (counter-samples.ts).
  app.get<AdminRequest>(
    '/admin/v1/samples',
    adminSchema('GET', '/admin/v1/samples'),
    guarded('read', async () => ({ intervalSeconds: control.samples?.intervalSeconds ?? null, samples: control.samples?.points() ?? [] })),
  );

  // Who the caller's token is: its label and scope (the console says when it is read-only).
  app.get<AdminRequest>(
    '/admin/v1/whoami',
    adminSchema('GET', '/admin/v1/whoami'),
    guarded('read', async (request) => {
      const outcome = auth.check(request.headers.authorization, 'read');
      return outcome.ok ? { label: outcome.label, scope: outcome.scope } : {};
    }),
  );

  app.get<AdminRequest>(
    '/admin/v1/status',
    adminSchema('GET', '/admin/v1/status'),
    guarded('read', async () => ({ ...(await statusReport(control)), ...(await control.ensStatus()) })),
  );

  // The denylists and the operator's rules (docs/denylists.md).
  if (control.denylist) registerDenylistRoutes(app, control.denylist, guarded);

  // Reads the configuration file again and applies it (src/lifecycle/reload.ts), as SIGHUP does.
  app.post<AdminRequest>(
    '/admin/v1/reload',
    adminSchema('POST', '/admin/v1/reload'),
    guarded('write', async (_request, ctx) => {
      if (!control.reload) throw new CodedError('RELOAD_UNAVAILABLE', 'this process cannot reload its configuration');
      return control.reload(ctx.dryRun, ctx.token);
    }),
  );
}
