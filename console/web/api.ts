// The console's only way to the server: the admin API on the same origin, with the token typed in
// at sign-in (kept in this tab's sessionStorage, sent as a Bearer header; no cookies, so no CSRF).

const TOKEN_KEY = 'dnslinkd.adminToken';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T & { code?: string; message?: string };
}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** One admin API request with `token` (default: the session's); the body parsed as JSON. */
export async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token: string | null = session.token): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), cache: 'no-store' });
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { code: 'NOT_JSON', message: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed as Answer<T>['body'] };
}

/** `path?k=v&...`, empty values left out. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** What an error answer says, for people. */
export function problem(answer: { status: number; body: { code?: string; message?: string } }): string {
  return `${answer.body.code ?? `HTTP ${answer.status}`}: ${answer.body.message ?? 'the request failed'}`;
}
