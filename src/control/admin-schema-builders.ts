// The pieces the admin routes' schemas are written with (admin-schemas.ts, denylist-admin-schemas.ts):
// JSON Schema builders with a description each, the `{code, message}` error answer, and the answers
// every guarded route shares (401, 403). The serializer is JSON.stringify: a schema documents, it
// never strips a field an answer carries.
export type Json = Record<string, unknown>;

export const str = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });
export const int = (description: string, extra: Json = {}): Json => ({ type: 'integer', description, ...extra });
export const num = (description: string): Json => ({ type: 'number', description });
export const bool = (description: string): Json => ({ type: 'boolean', description });
export const obj = (properties: Record<string, Json>, required: string[] = [], description?: string): Json => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  ...(required.length ? { required } : {}),
});
export const arrayOf = (items: Json, description?: string): Json => ({ type: 'array', items, ...(description ? { description } : {}) });
export const nullable = (schema: Json): Json => ({ ...schema, nullable: true });

/** `{code, message}`: every error answer; `codes` are the ones this status carries on this route. */
export function error(codes: string[], what: string): Json {
  return {
    description: `${what}: ${codes.join(', ')}`,
    ...obj({ code: str(`One of ${codes.join(', ')}`), message: str('What failed and what to do') }, ['code', 'message']),
  };
}

export const UNAUTHORIZED = error(['UNAUTHORIZED'], 'No token, or not a valid one (WWW-Authenticate: Bearer)');
export const FORBIDDEN = error(['FORBIDDEN'], 'A read token asked for a change: use a write token');
/** The control store's failures: nothing changed. */
export const STORE_ERRORS = ['STORE_UNAVAILABLE', 'STORE_DEGRADED', 'STORE_REPLACED', 'STORE_FULL'];
export const DRY_RUN = obj({ dryRun: str('true (or 1): say what would change, change nothing', { enum: ['true', '1', 'false', '0'] }) });
