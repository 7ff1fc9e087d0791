// The HTTP/2 DoH fast path on a real socket (h2c on the cleartext listener): the same status,
// headers and body as fastify's route over HTTP/1.1 for every RFC 8484 case, errors included;
// which streams it takes and which it leaves to fastify; a client reset mid-request.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dohStreamFilter, filterStreams } from '../../../src/listeners/http/doh-fast-path.js';
import { useFakeDnsServers } from '../../../src/stages/testing/fake-dns-server.js';
import { buildTestApp, wireQuery, type TestApp } from './support.js';

const BODY_LIMIT = 1024;

interface Exchange {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as one chunk, or as these chunks (no content-length: the length is unknown upfront). */
  body?: Buffer | Buffer[];
}

/** The headers both transports must agree on (not date, connection or keep-alive). */
const COMPARED = ['content-type', 'cache-control', 'access-control-allow-origin', 'content-length', 'allow'];

function pick(headers: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(COMPARED.map((name) => [name, headers[name] === undefined ? undefined : String(headers[name])]));
}

function h2Request(session: http2.ClientHttp2Session, spec: RequestSpec): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks = Array.isArray(spec.body) ? spec.body : spec.body ? [spec.body] : [];
    const req = session.request({ ':method': spec.method, ':path': spec.path, ...spec.headers }, { endStream: chunks.length === 0 });
    const got: Buffer[] = [];
    let status = 0;
    let headers: Record<string, unknown> = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    req.on('data', (c: Buffer) => got.push(c));
    req.on('end', () => resolve({ status, headers: pick(headers), body: Buffer.concat(got) }));
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    if (chunks.length > 0) req.end();
  });
}

function h1Request(port: number, spec: RequestSpec): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks = Array.isArray(spec.body) ? spec.body : spec.body ? [spec.body] : [];
    const req = http.request({ host: '127.0.0.1', port, method: spec.method, path: spec.path, headers: spec.headers, agent: false }, (res) => {
      const got: Buffer[] = [];
      res.on('data', (c: Buffer) => got.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: pick(res.headers), body: Buffer.concat(got) }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const DNS = { 'content-type': 'application/dns-message' };
const query = wireQuery('_dnslink.plain.example', 16, { id: 77 });
const dnsParam = wireQuery('www.example', 28).toString('base64url');

/** Each case: the request, and the status and error code fastify's route gives it. */
const CASES: Array<[string, RequestSpec, number, string | undefined]> = [
  ['GET ?dns= (a hit)', { method: 'GET', path: `/dns-query?dns=${dnsParam}` }, 200, undefined],
  ['GET ?dns= with padding', { method: 'GET', path: `/dns-query?dns=${wireQuery('www.example', 1).toString('base64')}` }, 200, undefined],
  ['GET ?dns= for a name with no record (NXDOMAIN, max-age from the SOA or 0)', { method: 'GET', path: `/dns-query?dns=${wireQuery('nothing.example', 16).toString('base64url')}` }, 200, undefined],
  ['HEAD ?dns=', { method: 'HEAD', path: `/dns-query?dns=${dnsParam}` }, 200, undefined],
  ['HEAD with bad base64', { method: 'HEAD', path: '/dns-query?dns=ab*c' }, 400, undefined],
  ['GET bad base64url', { method: 'GET', path: '/dns-query?dns=ab*c' }, 400, 'INVALID_DNS_PARAM'],
  ['GET impossible base64url length', { method: 'GET', path: '/dns-query?dns=AAAAA' }, 400, 'INVALID_DNS_PARAM'],
  ['GET empty dns', { method: 'GET', path: '/dns-query?dns=' }, 400, 'INVALID_DNS_PARAM'],
  ['GET shorter than a DNS header', { method: 'GET', path: '/dns-query?dns=AAAA' }, 400, 'INVALID_DNS_MESSAGE'],
  ['GET a response, not a query', { method: 'GET', path: `/dns-query?dns=${Buffer.from([0, 0, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0]).toString('base64url')}` }, 400, 'INVALID_DNS_MESSAGE'],
  ['GET dns= and another parameter (fastify)', { method: 'GET', path: `/dns-query?dns=${dnsParam}&ct=x` }, 200, undefined],
  ['GET a bad escape (fastify)', { method: 'GET', path: '/dns-query?dns=%zz' }, 400, 'BAD_URL'],
  ['GET no query (fastify)', { method: 'GET', path: '/dns-query' }, 400, 'MISSING_QUERY'],
  ['PUT (fastify)', { method: 'PUT', path: '/dns-query' }, 405, 'METHOD_NOT_ALLOWED'],
  ['POST a query', { method: 'POST', path: '/dns-query', headers: DNS, body: query }, 200, undefined],
  ['POST with expect: 100-continue (fastify)', { method: 'POST', path: '/dns-query', headers: { ...DNS, expect: '100-continue' }, body: query }, 200, undefined],
  ['POST with parameters in the content-type', { method: 'POST', path: '/dns-query', headers: { 'content-type': 'Application/DNS-Message; x=1' }, body: query }, 200, undefined],
  ['POST without content-length (chunks)', { method: 'POST', path: '/dns-query', headers: DNS, body: [query.subarray(0, 5), query.subarray(5)] }, 200, undefined],
  ['POST the wrong content-type', { method: 'POST', path: '/dns-query', headers: { 'content-type': 'application/json' }, body: query }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['POST no content-type, no body', { method: 'POST', path: '/dns-query' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['POST an empty body', { method: 'POST', path: '/dns-query', headers: { ...DNS, 'content-length': '0' } }, 400, 'INVALID_DNS_MESSAGE'],
  ['POST not a DNS message', { method: 'POST', path: '/dns-query', headers: DNS, body: Buffer.from('hello world!!') }, 400, 'INVALID_DNS_MESSAGE'],
  ['POST a huge body with content-length', { method: 'POST', path: '/dns-query', headers: DNS, body: Buffer.alloc(BODY_LIMIT * 5) }, 413, 'BODY_TOO_LARGE'],
  ['POST a huge body without content-length', { method: 'POST', path: '/dns-query', headers: DNS, body: [Buffer.alloc(BODY_LIMIT), Buffer.alloc(BODY_LIMIT), Buffer.alloc(BODY_LIMIT)] }, 413, 'BODY_TOO_LARGE'],
  ['POST a body of exactly the limit', { method: 'POST', path: '/dns-query', headers: DNS, body: Buffer.concat([query, Buffer.alloc(BODY_LIMIT - query.length)]) }, 200, undefined],
];

describe('DoH fast path (h2c) against the fastify route (HTTP/1.1)', () => {
  let t: TestApp;
  let port: number;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    t = await buildTestApp({ http: { bodyLimit: BODY_LIMIT } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    session = http2.connect(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    session?.close();
    await t?.close();
  });

  it.each(CASES)('%s', async (_name, spec, status, code) => {
    const [fast, routed] = [await h2Request(session, spec), await h1Request(port, spec)];
    expect(routed.status).toBe(status);
    if (code !== undefined) expect(JSON.parse(routed.body.toString())).toMatchObject({ code });
    expect(fast).toEqual(routed);
  });

  it('answers the POST query with its ID and max-age = the smallest TTL', async () => {
    const r = await h2Request(session, { method: 'POST', path: '/dns-query', headers: DNS, body: query });
    expect(r.body.readUInt16BE(0)).toBe(77);
    const answers = dnsPacket.decode(r.body).answers ?? [];
    expect(answers).toHaveLength(1);
    expect(r.headers['cache-control']).toBe(`max-age=${Math.min(...answers.map((a) => (a as { ttl: number }).ttl))}`);
  });

  it('keeps serving after a client resets a POST mid-body with an error code', async () => {
    const req = session.request({ ':method': 'POST', ':path': '/dns-query', ...DNS, 'content-length': '500' });
    req.write(Buffer.alloc(100));
    const closed = new Promise((resolve) => req.on('close', resolve));
    req.on('error', () => {});
    req.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    await closed;
    expect(req.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    // Same session, then a new one: the server is alive and answers.
    expect((await h2Request(session, { method: 'GET', path: `/dns-query?dns=${dnsParam}` })).status).toBe(200);
    const other = http2.connect(`http://127.0.0.1:${port}`);
    try {
      expect((await h2Request(other, { method: 'POST', path: '/dns-query', headers: DNS, body: query })).status).toBe(200);
    } finally {
      other.close();
    }
  });

  it('keeps serving after a client cancels GETs before reading the answers', async () => {
    for (let i = 0; i < 20; i++) {
      const req = session.request({ ':method': 'GET', ':path': `/dns-query?dns=${dnsParam}` });
      req.on('error', () => {});
      req.close(i % 2 === 0 ? http2.constants.NGHTTP2_CANCEL : http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
    expect((await h2Request(session, { method: 'GET', path: `/dns-query?dns=${dnsParam}` })).status).toBe(200);
  });
});

describe('filterStreams', () => {
  let t: TestApp;
  let server: http2.Http2Server;
  let session: http2.ClientHttp2Session;
  /** Paths the compat handler (fastify's place) saw. */
  const compatSaw: string[] = [];

  beforeAll(async () => {
    t = await buildTestApp({ http: { bodyLimit: BODY_LIMIT } });
    server = http2.createServer((req, res) => {
      compatSaw.push(`${req.method} ${req.url}`);
      res.writeHead(299).end();
    });
    filterStreams(server, dohStreamFilter(t.core, { bodyLimit: BODY_LIMIT }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    session?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  it('serves RFC 8484 GET, HEAD and POST itself, errors included', async () => {
    const served: RequestSpec[] = [
      { method: 'GET', path: `/dns-query?dns=${dnsParam}` },
      { method: 'HEAD', path: `/dns-query?dns=${dnsParam}` },
      { method: 'GET', path: '/dns-query?dns=ab*c' },
      { method: 'POST', path: '/dns-query', headers: DNS, body: query },
      { method: 'POST', path: '/dns-query', headers: { 'content-type': 'text/plain' }, body: query },
    ];
    for (const spec of served) expect((await h2Request(session, spec)).status).not.toBe(299);
    expect(compatSaw).toEqual([]);
  });

  it('leaves every other stream to the compat handler', async () => {
    const left: RequestSpec[] = [
      { method: 'GET', path: '/dns-query' },
      { method: 'GET', path: `/dns-query?dns=${dnsParam}&cd=1` },
      { method: 'GET', path: '/dns-query?dns=%41AAA' },
      { method: 'GET', path: '/dns-query?name=www.example' },
      { method: 'GET', path: '/dns-query/' },
      { method: 'GET', path: '/dns-queryx?dns=AAAA' },
      { method: 'POST', path: '/dns-query?x=1', headers: DNS, body: query },
      { method: 'POST', path: '/dns-query', headers: { ...DNS, expect: '100-continue' }, body: query },
      { method: 'PUT', path: '/dns-query' },
      { method: 'OPTIONS', path: '/dns-query' },
      { method: 'GET', path: '/resolve?name=www.example' },
    ];
    compatSaw.length = 0;
    for (const spec of left) expect((await h2Request(session, spec)).status).toBe(299);
    expect(compatSaw).toEqual(left.map((s) => `${s.method} ${s.path}`));
  });
});

describe('DoH fast path on a cache miss', () => {
  const fakeDns = useFakeDnsServers();

  it('drops the late answer of a stream the client reset, and answers the next one', async () => {
    // A silent upstream: the miss resolves (SERVFAIL) only once the upstream attempt times out.
    const upstream = await fakeDns(() => null);
    const t = await buildTestApp({ upstreamTimeoutMs: 300 }, [`udp://127.0.0.1:${upstream.port}`]);
    let session: http2.ClientHttp2Session | undefined;
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      session = http2.connect(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`);
      const path = `/dns-query?dns=${wireQuery('_dnslink.miss.test', 16).toString('base64url')}`;
      const reset = session.request({ ':method': 'GET', ':path': path });
      reset.on('error', () => {});
      await new Promise((resolve) => reset.on('ready', resolve));
      reset.close(http2.constants.NGHTTP2_CANCEL);
      // Asked after the reset, answered once the same question is resolved.
      const next = await h2Request(session, { method: 'GET', path });
      expect(upstream.queries.length).toBeGreaterThan(0);
      expect(next.status).toBe(200);
      expect(next.body.readUInt16BE(2) & 0x0f).toBe(2); // SERVFAIL
      expect(next.headers['cache-control']).toBe('max-age=0');
    } finally {
      session?.close();
      await t.close();
    }
  });
});
