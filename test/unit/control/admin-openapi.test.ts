// The admin API's OpenAPI document covers every route the admin app registers: each one with a
// summary, its answer and its error statuses, and a section in docs/admin-api.md. A route added
// without them fails here with what to add. The document itself is valid OpenAPI 3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { AdminAuth } from '../../../src/control/admin-auth.js';
import { registeredAdminRoutes } from '../../../src/control/admin-openapi.js';
import type { ControlPlane } from '../../../src/control/control-plane.js';
import { buildAdminApp } from '../../../src/listeners/admin-listener.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN_DOC = readFileSync(join(repoRoot, 'docs', 'admin-api.md'), 'utf8');

interface Operation {
  summary?: string;
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }>;
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** `/admin/v1/overrides/:name` as OpenAPI writes it: `/admin/v1/overrides/{name}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('the admin API document', () => {
  let app: FastifyInstance;
  let doc: OpenApi;
  beforeAll(async () => {
    const config = loadConfig({ flags: { localRecords: null }, env: {} });
    // The routes are enumerated, never called: no control plane or tokens are needed (a denylist
    // present, so its routes are registered too).
    app = await buildAdminApp(pino({ level: 'silent' }), { denylist: {} } as unknown as ControlPlane, {} as AdminAuth, { limits: config.http });
    doc = app.swagger() as unknown as OpenApi;
  });
  afterAll(() => app?.close());

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route the admin app registers (its answer, its errors) and docs/admin-api.md describes each', () => {
    const routes = registeredAdminRoutes(app).filter((r) => r.schema?.hide !== true);
    // The routes of this tree at least; others added later are held to the same rules below.
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /admin/v1/cache/flush', 'GET /admin/v1/overrides', 'PUT /admin/v1/overrides/:name', 'GET /admin/v1/status', 'POST /admin/v1/reload']),
    );
    const problems: string[] = [];
    for (const { method, url } of routes) {
      const path = openApiPath(url);
      const op = doc.paths[path]?.[method.toLowerCase()];
      const missing: string[] = [];
      if (!op?.summary) missing.push('a summary');
      const statuses = Object.keys(op?.responses ?? {});
      if (!statuses.some((s) => s.startsWith('2'))) missing.push('its answer (response 200)');
      if (!statuses.includes('401')) missing.push('its 401 (no valid token)');
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        const schema = op?.responses?.[status]?.content?.['application/json']?.schema;
        if (!schema?.properties?.code) missing.push(`the {code, message} body of its ${status}, naming the codes`);
      }
      if (missing.length) {
        problems.push(
          `${method} ${url} lacks ${missing.join(', ')}: give its route options a schema (see ADMIN_ROUTE_SCHEMAS in src/control/admin-schemas.ts: summary, tags, body, response with each status)`,
        );
      }
      if (!ADMIN_DOC.includes(`### ${method} ${path}\n`)) problems.push(`${method} ${url} has no section in docs/admin-api.md: add "### ${method} ${path}" with its body, answers and error codes`);
    }
    expect(problems).toEqual([]);
  });
});
