// The admin API of the denylists: GET /admin/v1/denylist (every list: source, version, entries,
// last fetch, held versions), the operator's rules (GET, POST with ?dryRun=true naming the names
// it would block, DELETE by id with a reason), a check of a name or path, accepting a held version.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CodedError } from '../errors.js';
import type { ChangeContext } from './control-plane.js';
import type { DenylistControl } from './denylist-control.js';
import type { TokenScope } from './admin-auth.js';
import { denylistSchema } from './denylist-admin-schemas.js';

interface DenylistRequest {
  Params: { name?: string; id?: string; list?: string };
  Querystring: { dryRun?: string; reason?: string; subject?: string };
  Body: unknown;
}

/** admin-routes.ts's `guarded`: the token checked for `need`, coded errors answered as JSON. */
type Guarded = (
  need: TokenScope,
  handler: (request: FastifyRequest, ctx: ChangeContext, reply: FastifyReply) => Promise<unknown>,
) => (request: FastifyRequest<DenylistRequest>, reply: FastifyReply) => Promise<unknown>;

const paramsOf = (request: FastifyRequest) => request.params as DenylistRequest['Params'];
const queryOf = (request: FastifyRequest) => request.query as DenylistRequest['Querystring'];

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new CodedError('INVALID_BODY', 'the body must be a JSON object');
  return b as Record<string, unknown>;
}

export function registerDenylistRoutes(app: FastifyInstance, denylist: DenylistControl, guarded: Guarded): void {
  app.get(
    '/admin/v1/denylist',
    denylistSchema('GET', '/admin/v1/denylist'),
    guarded('read', async () => denylist.status()),
  );

  app.get(
    '/admin/v1/denylist/rules',
    denylistSchema('GET', '/admin/v1/denylist/rules'),
    guarded('read', async () => ({ rules: denylist.list() })),
  );

  app.post(
    '/admin/v1/denylist/rules',
    denylistSchema('POST', '/admin/v1/denylist/rules'),
    guarded('write', async (request, ctx) => {
      const b = bodyOf(request);
      return denylist.add({ rule: b.rule, reason: b.reason, expiresAt: b.expiresAt ?? undefined }, ctx);
    }),
  );

  app.delete(
    '/admin/v1/denylist/rules/:id',
    denylistSchema('DELETE', '/admin/v1/denylist/rules/:id'),
    // The reason may come in the body or, for clients that send no body with DELETE, as ?reason=.
    guarded('write', async (request, ctx) => denylist.remove(paramsOf(request).id ?? '', { reason: bodyOf(request).reason ?? queryOf(request).reason }, ctx)),
  );

  app.get(
    '/admin/v1/denylist/check',
    denylistSchema('GET', '/admin/v1/denylist/check'),
    guarded('read', async (request) => denylist.check(queryOf(request).subject ?? '')),
  );

  app.post(
    '/admin/v1/denylist/:list/accept',
    denylistSchema('POST', '/admin/v1/denylist/:list/accept'),
    guarded('write', async (request, ctx) => denylist.accept(paramsOf(request).list ?? '', ctx)),
  );
}
