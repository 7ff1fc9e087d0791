// Hostile HTTP requests against a real dnslinkd, on every route of the public listener and the
// admin listener, over raw HTTP/1.1 sockets and h2c: huge headers and URLs, path traversal, CR/LF
// and NUL in names and query parameters, bad escapes, wrong methods, broken bodies, invalid JSON,
// forged, missing, empty and overlong admin tokens. Each answer is a 4xx (or the connection is
// closed), never a 5xx; a body, when sent, is JSON {code, message}; the process lives on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRecordsFile, requireBuild, startDnslinkd, stopAll } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { h2cRequest, httpGet } from './support/http.js';
import { rawHttp, type RawHttpAnswer } from './support/raw-http.js';

const ok = requireBuild();

const WRITE_TOKEN = 'hostile-suite-write-token-0123456789';
const READ_TOKEN = 'hostile-suite-read-token-0123456789';
const bearer = (token: string): string => `Authorization: Bearer ${token}\r\n`;

type Listener = 'http' | 'admin';

interface Hostile {
  what: string;
  on: Listener;
  /** The request as sent; `Connection: close` is added to the headers. */
  request: string | Buffer;
  /** The status it must get; any 4xx (or a closed connection) when absent. */
  status?: number;
}

/** A request line, headers (each ending in CRLF) and body, with `Connection: close` added. */
function req(line: string, headers = '', body: string | Buffer = ''): Buffer {
  const length = body.length > 0 ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
  return Buffer.concat([Buffer.from(`${line} HTTP/1.1\r\nHost: dnslinkd.test\r\n${headers}${length}Connection: close\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}
const json = 'Content-Type: application/json\r\n';

const PUBLIC: Hostile[] = [
  // Sizes.
  { what: 'a 20 kB header', on: 'http', request: req('GET /livez', `X-Big: ${'a'.repeat(20_000)}\r\n`), status: 431 },
  { what: '3000 small headers', on: 'http', request: req('GET /livez', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')), status: 431 },
  { what: 'a 20 kB URL', on: 'http', request: req(`GET /v1/dnslink/${'a'.repeat(20_000)}`), status: 431 },
  { what: 'a 5 kB name', on: 'http', request: req(`GET /v1/dnslink/${'a'.repeat(5000)}.example`) },
  { what: 'a 254-character name', on: 'http', request: req(`GET /v1/dnslink/${`${'a'.repeat(62)}.`.repeat(4)}ab`), status: 400 },
  { what: 'a 70 kB DoH POST', on: 'http', request: req('POST /dns-query', 'Content-Type: application/dns-message\r\n', Buffer.alloc(70_000)), status: 413 },
  // Path traversal.
  { what: 'traversal in a name (%2f)', on: 'http', request: req('GET /v1/dnslink/..%2f..%2fetc%2fpasswd'), status: 400 },
  { what: 'traversal after a name', on: 'http', request: req('GET /v1/dnslink/example.com%2f..%2f..%2fadmin'), status: 400 },
  { what: '/dns-query/../admin', on: 'http', request: req('GET /dns-query/../admin'), status: 404 },
  { what: '/dns-query/..%2fadmin', on: 'http', request: req('GET /dns-query/..%2fadmin'), status: 404 },
  { what: '/%2e%2e/%2e%2e/etc/passwd', on: 'http', request: req('GET /%2e%2e/%2e%2e/etc/passwd'), status: 404 },
  { what: '/v1/dnslink/%2e%2e', on: 'http', request: req('GET /v1/dnslink/%2e%2e'), status: 400 },
  { what: 'an admin route on the public port', on: 'http', request: req('GET /admin/v1/overrides', bearer(WRITE_TOKEN)), status: 404 },
  { what: 'an admin route behind //', on: 'http', request: req('POST //admin/v1/cache/flush', bearer(WRITE_TOKEN) + json, '{"all":true}'), status: 404 },
  // CR, LF and NUL in names and parameters.
  { what: '%0d%0a in a /v1/dnslink name', on: 'http', request: req('GET /v1/dnslink/a%0d%0aSet-Cookie:%20x=1.example'), status: 400 },
  { what: '%0d%0a in /resolve?name=', on: 'http', request: req('GET /resolve?name=a%0d%0aX-Injected:%201.example&type=TXT'), status: 400 },
  { what: '%0d%0a in /dns-query?name= (DNS JSON)', on: 'http', request: req('GET /dns-query?name=a%0d%0aX-Injected:%201.example', 'Accept: application/dns-json\r\n'), status: 400 },
  { what: '%0d%0a in ?type=', on: 'http', request: req('GET /resolve?name=example.com&type=TXT%0d%0aX-Injected:%201'), status: 400 },
  { what: '%00 in a name', on: 'http', request: req('GET /v1/dnslink/a%00b.example'), status: 400 },
  { what: '%00 in /resolve?name=', on: 'http', request: req('GET /resolve?name=a%00b.example'), status: 400 },
  { what: 'a raw CR in the URL', on: 'http', request: req('GET /v1/dnslink/a\rb.example'), status: 400 },
  { what: 'a header value with a bare CR', on: 'http', request: req('GET /livez', 'X-A: b\rX-Injected: 1\r\n'), status: 400 },
  // Escapes.
  { what: 'a malformed escape on /resolve', on: 'http', request: req('GET /resolve?name=%zz'), status: 400 },
  { what: 'a malformed escape on /openapi.json', on: 'http', request: req('GET /openapi.json?x=%zz'), status: 400 },
  { what: 'a truncated escape on /healthz', on: 'http', request: req('GET /healthz?x=%'), status: 400 },
  { what: 'a truncated UTF-8 escape on /metrics', on: 'http', request: req('GET /metrics?x=%E0%A4%A'), status: 400 },
  { what: 'an overlong UTF-8 escape (%c0%af) in a name', on: 'http', request: req('GET /v1/dnslink/..%c0%af..%c0%afetc') },
  // Wrong methods on every route.
  { what: 'DELETE /dns-query', on: 'http', request: req('DELETE /dns-query'), status: 405 },
  { what: 'PATCH /resolve', on: 'http', request: req('PATCH /resolve'), status: 405 },
  { what: 'PUT /v1/dnslink/{name}', on: 'http', request: req('PUT /v1/dnslink/example.com', json, '{}'), status: 405 },
  { what: 'POST /healthz', on: 'http', request: req('POST /healthz'), status: 405 },
  { what: 'DELETE /livez', on: 'http', request: req('DELETE /livez'), status: 405 },
  { what: 'PUT /metrics', on: 'http', request: req('PUT /metrics'), status: 405 },
  { what: 'POST /openapi.json', on: 'http', request: req('POST /openapi.json'), status: 405 },
  { what: 'TRACE /', on: 'http', request: req('TRACE /') },
  { what: 'an unknown method', on: 'http', request: req('FOO /livez'), status: 400 },
  { what: 'CONNECT', on: 'http', request: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\nConnection: close\r\n\r\n' },
  // Broken DoH and API input.
  { what: 'GET /dns-query without a parameter', on: 'http', request: req('GET /dns-query'), status: 400 },
  { what: 'GET /dns-query?dns= that is not base64url', on: 'http', request: req('GET /dns-query?dns=!!!!'), status: 400 },
  { what: 'GET /dns-query?dns= that is no DNS query', on: 'http', request: req('GET /dns-query?dns=AAAA'), status: 400 },
  { what: 'POST /dns-query as text/plain', on: 'http', request: req('POST /dns-query', 'Content-Type: text/plain\r\n', 'hello'), status: 415 },
  { what: 'POST /dns-query as JSON', on: 'http', request: req('POST /dns-query', json, '{"name":"example.com"}'), status: 415 },
  { what: 'POST /dns-query with 5 garbage bytes', on: 'http', request: req('POST /dns-query', 'Content-Type: application/dns-message\r\n', Buffer.from([1, 2, 3, 4, 5])), status: 400 },
  { what: 'a negative Content-Length', on: 'http', request: req('POST /dns-query', 'Content-Type: application/dns-message\r\nContent-Length: -1\r\n'), status: 400 },
  { what: 'a broken chunked body', on: 'http', request: req('POST /dns-query', 'Content-Type: application/dns-message\r\nTransfer-Encoding: chunked\r\n', 'zz\r\nxx\r\n0\r\n\r\n'), status: 400 },
  { what: 'Content-Length with Transfer-Encoding', on: 'http', request: req('POST /dns-query', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), status: 400 },
  { what: '/resolve without a name', on: 'http', request: req('GET /resolve?type=TXT'), status: 400 },
  { what: '/resolve with an unknown type', on: 'http', request: req('GET /resolve?name=example.com&type=BOGUS'), status: 400 },
  { what: '/v1/dnslink/ without a name', on: 'http', request: req('GET /v1/dnslink/') },
];

const ADMIN: Hostile[] = [
  // Tokens.
  { what: 'no token', on: 'admin', request: req('GET /admin/v1/overrides'), status: 401 },
  { what: 'an empty Authorization header', on: 'admin', request: req('GET /admin/v1/overrides', 'Authorization: \r\n'), status: 401 },
  { what: '"Bearer " and nothing', on: 'admin', request: req('GET /admin/v1/status', 'Authorization: Bearer \r\n'), status: 401 },
  { what: 'a forged token', on: 'admin', request: req('GET /admin/v1/audit', bearer('forged-token-0123456789abcdef')), status: 401 },
  { what: 'the write token with one character changed', on: 'admin', request: req('GET /admin/v1/overrides', bearer(`${WRITE_TOKEN.slice(0, -1)}X`)), status: 401 },
  { what: 'a prefix of the write token', on: 'admin', request: req('GET /admin/v1/overrides', bearer(WRITE_TOKEN.slice(0, 16))), status: 401 },
  { what: 'an 8 kB token', on: 'admin', request: req('GET /admin/v1/overrides', bearer('x'.repeat(8000))), status: 401 },
  { what: 'a 20 kB token', on: 'admin', request: req('GET /admin/v1/overrides', bearer('x'.repeat(20_000))), status: 431 },
  { what: 'Basic credentials', on: 'admin', request: req('GET /admin/v1/overrides', 'Authorization: Basic dXNlcjpwYXNz\r\n'), status: 401 },
  { what: 'the token followed by another word', on: 'admin', request: req('GET /admin/v1/overrides', `Authorization: Bearer ${WRITE_TOKEN} extra\r\n`), status: 401 },
  { what: 'the token with %0d%0a after it', on: 'admin', request: req('GET /admin/v1/overrides', `Authorization: Bearer ${WRITE_TOKEN}%0d%0a\r\n`), status: 401 },
  { what: 'two Authorization headers', on: 'admin', request: req('GET /admin/v1/overrides', `${bearer('forged-token-0123456789abcdef')}${bearer(WRITE_TOKEN)}`) },
  // Every route without a token, and the changing ones with a read token.
  { what: 'POST cache/flush without a token', on: 'admin', request: req('POST /admin/v1/cache/flush', json, '{"all":true}'), status: 401 },
  { what: 'GET cache/{name} without a token', on: 'admin', request: req('GET /admin/v1/cache/example.com'), status: 401 },
  { what: 'GET overrides/{name} without a token', on: 'admin', request: req('GET /admin/v1/overrides/example.com'), status: 401 },
  { what: 'PUT overrides/{name} without a token', on: 'admin', request: req('PUT /admin/v1/overrides/example.com', json, '{"value":"dnslink=/ipfs/x"}'), status: 401 },
  { what: 'DELETE overrides/{name} without a token', on: 'admin', request: req('DELETE /admin/v1/overrides/example.com'), status: 401 },
  { what: 'POST overrides/import without a token', on: 'admin', request: req('POST /admin/v1/overrides/import', json, '{"overrides":[]}'), status: 401 },
  { what: 'GET audit without a token', on: 'admin', request: req('GET /admin/v1/audit'), status: 401 },
  { what: 'GET status without a token', on: 'admin', request: req('GET /admin/v1/status'), status: 401 },
  { what: 'POST cache/flush with a read token', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(READ_TOKEN) + json, '{"all":true}'), status: 403 },
  { what: 'PUT overrides/{name} with a read token', on: 'admin', request: req('PUT /admin/v1/overrides/example.com', bearer(READ_TOKEN) + json, '{"value":"dnslink=/ipfs/x"}'), status: 403 },
  { what: 'DELETE overrides/{name} with a read token', on: 'admin', request: req('DELETE /admin/v1/overrides/example.com', bearer(READ_TOKEN)), status: 403 },
  { what: 'POST overrides/import with a read token', on: 'admin', request: req('POST /admin/v1/overrides/import', bearer(READ_TOKEN) + json, '{"overrides":[]}'), status: 403 },
  // Bodies.
  { what: 'invalid JSON', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + json, '{"name":'), status: 400 },
  { what: 'invalid JSON without a token', on: 'admin', request: req('POST /admin/v1/cache/flush', json, '{"name":'), status: 401 },
  { what: 'a JSON array', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + json, '[]'), status: 400 },
  { what: 'a JSON string', on: 'admin', request: req('PUT /admin/v1/overrides/example.com', bearer(WRITE_TOKEN) + json, '"dnslink=/ipfs/x"'), status: 400 },
  { what: '__proto__ in the body', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + json, '{"__proto__":{"all":true}}'), status: 400 },
  { what: 'constructor.prototype in the body', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + json, '{"constructor":{"prototype":{"all":true}}}'), status: 400 },
  { what: 'JSON nested 100,000 deep', on: 'admin', request: req('POST /admin/v1/overrides/import', bearer(WRITE_TOKEN) + json, '['.repeat(100_000)), status: 400 },
  { what: 'a text/plain body', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + 'Content-Type: text/plain\r\n', 'all'), status: 400 },
  { what: 'an XML body', on: 'admin', request: req('POST /admin/v1/cache/flush', bearer(WRITE_TOKEN) + 'Content-Type: application/xml\r\n', '<all/>'), status: 415 },
  { what: 'a 9 MB body', on: 'admin', request: req('POST /admin/v1/overrides/import', bearer(WRITE_TOKEN) + json, `{"overrides":"${'a'.repeat(9 * 1024 * 1024)}"}`), status: 413 },
  { what: 'a 9 MB body without a token', on: 'admin', request: req('POST /admin/v1/overrides/import', json, `{"overrides":"${'a'.repeat(9 * 1024 * 1024)}"}`), status: 401 },
  // Names and parameters.
  { what: '%0d%0a in an override name (dry run)', on: 'admin', request: req('PUT /admin/v1/overrides/a%0d%0aSet-Cookie:%20x=1.example?dryRun=true', bearer(WRITE_TOKEN) + json, '{"value":"dnslink=/ipfs/bafkqaaa"}'), status: 400 },
  { what: 'traversal in an override name', on: 'admin', request: req('GET /admin/v1/overrides/..%2f..%2fetc%2fpasswd', bearer(READ_TOKEN)) },
  { what: 'traversal in a cache name', on: 'admin', request: req('GET /admin/v1/cache/..%2f..%2fetc%2fpasswd', bearer(READ_TOKEN)) },
  { what: '%0d%0a in a flush name (dry run)', on: 'admin', request: req('POST /admin/v1/cache/flush?dryRun=true', bearer(WRITE_TOKEN) + json, '{"name":"a\\r\\nb.example"}'), status: 400 },
  { what: '/admin/v1/../../etc/passwd', on: 'admin', request: req('GET /admin/v1/../../etc/passwd', bearer(READ_TOKEN)), status: 404 },
  { what: 'audit ?limit= far too large', on: 'admin', request: req('GET /admin/v1/audit?limit=99999999999', bearer(READ_TOKEN)), status: 400 },
  { what: 'audit ?since= with %0d%0a', on: 'admin', request: req('GET /admin/v1/audit?since=2026%0d%0aX', bearer(READ_TOKEN)), status: 400 },
  { what: 'a malformed escape', on: 'admin', request: req('GET /admin/v1/audit?since=%zz', bearer(READ_TOKEN)), status: 400 },
  // Wrong methods.
  { what: 'DELETE cache/flush', on: 'admin', request: req('DELETE /admin/v1/cache/flush', bearer(WRITE_TOKEN)), status: 405 },
  { what: 'PATCH overrides/{name}', on: 'admin', request: req('PATCH /admin/v1/overrides/example.com', bearer(WRITE_TOKEN) + json, '{}'), status: 405 },
  { what: 'PUT status', on: 'admin', request: req('PUT /admin/v1/status', bearer(WRITE_TOKEN)), status: 405 },
];

/** Header names an injection would have added to an answer. */
const INJECTED = ['set-cookie', 'x-injected'];

/** A 4xx with a JSON {code, message} body, or no answer on a connection the server closed. */
function expectRefusal(h: Hostile, res: RawHttpAnswer): void {
  const where = `${h.what}: ${res.raw.slice(0, 200)}`;
  if (res.status === 0) {
    expect(res.closedByServer, where).toBe(true);
    return;
  }
  if (h.status !== undefined) expect(res.status, where).toBe(h.status);
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  for (const name of INJECTED) expect(res.headers[name], where).toBeUndefined();
  expect(res.body, where).not.toMatch(/root:.*:0:0:/);
  if (res.body !== '') {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(typeof body.code, where).toBe('string');
    expect(typeof body.message, where).toBe('string');
  }
}

describe.skipIf(!ok)('hostile HTTP requests: a 4xx or a closed connection, never a 5xx', () => {
  let d: DnslinkdHandle;
  const sent = { connections: 0, requests: 0, byStatus: new Map<number, number>(), closedWithoutAnswer: [] as string[] };
  beforeAll(async () => {
    d = await startDnslinkd({
      // No hostile request may reach an upstream: a closed port answers any that does with a 5xx.
      upstreams: ['udp://127.0.0.1:9'],
      config: {
        localRecords: localRecordsFile,
        upstreamTimeoutMs: 200,
        admin: {
          tokens: [
            { label: 'ops', scope: 'write', secret: WRITE_TOKEN },
            { label: 'grafana', scope: 'read', secret: READ_TOKEN },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await stopAll();
  });

  const port = (on: Listener): number => (on === 'http' ? d.httpPort : d.adminPort);
  const count = (status: number): void => {
    sent.requests++;
    sent.byStatus.set(status, (sent.byStatus.get(status) ?? 0) + 1);
  };

  it.each([...PUBLIC, ...ADMIN].map((h) => [`${h.on}: ${h.what}`, h] as const))('%s', async (_name, h) => {
    const res = await rawHttp(port(h.on), h.request, 10_000);
    sent.connections++;
    count(res.status);
    if (res.status === 0) sent.closedWithoutAnswer.push(h.what);
    expectRefusal(h, res);
  });

  it.each([
    ['traversal in a name', '/v1/dnslink/..%2f..%2fetc%2fpasswd', 'GET', 400],
    ['%0d%0a in /resolve?name=', '/resolve?name=a%0d%0aX-Injected:%201.example', 'GET', 400],
    ['DELETE /dns-query', '/dns-query', 'DELETE', 405],
    ['a DoH POST that is no DNS query', '/dns-query', 'POST', 400],
    ['/dns-query/../admin', '/dns-query/../admin', 'GET', 404],
  ] as const)('h2c: %s', async (_what, path, method, status) => {
    const res = await h2cRequest(d.httpPort, path, {
      method,
      ...(method === 'POST' ? { body: Buffer.from([1, 2, 3]), headers: { 'content-type': 'application/dns-message' } } : {}),
    });
    sent.connections++;
    count(res.status);
    expect(res.status).toBe(status);
    expect(res.headers['set-cookie']).toBeUndefined();
    const body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(expect.arrayContaining(['code', 'message']));
  });

  it('the process is alive, serves a good request and logged no 5xx', async () => {
    expect(d.proc.exitCode).toBeUndefined();
    expect((await httpGet(`http://127.0.0.1:${d.httpPort}/v1/dnslink/demo.dnslinkd.example`)).status).toBe(200);
    expect((await d.admin('GET', '/admin/v1/status', undefined, READ_TOKEN)).status).toBe(200);
    const byStatus = [...sent.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s === 0 ? 'closed' : s}: ${n}`);
    console.log(`hostile HTTP: ${sent.requests} requests on ${sent.connections} connections (${PUBLIC.length} raw public, ${ADMIN.length} raw admin, 5 h2c); answers ${byStatus.join(', ')}; closed without an answer: ${sent.closedWithoutAnswer.join('; ') || 'none'}`);
    expect(sent.requests).toBe(PUBLIC.length + ADMIN.length + 5);
    expect([...sent.byStatus.keys()].every((s) => s === 0 || (s >= 400 && s < 500))).toBe(true);
    // pino level 50 is error: what a handler that failed (a 5xx) logs.
    expect(d.logs()).not.toMatch(/"level":50/);
  });
});
