// The HTTP app in process (fastify inject, local records only): DoH wire and JSON answers, the
// synchronous fast path, CORS, every resolution-API status, JSON errors, a valid OpenAPI document.
import { Validator } from '@seriousme/openapi-schema-validator';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CID, CID2, buildTestApp, wireQuery, type TestApp } from './support.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ url, headers });

describe('DoH', () => {
  it('GET ?dns= answers the wire message with max-age and CORS', async () => {
    const r = await get(`/dns-query?dns=${wireQuery('www.example', 28).toString('base64url')}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/dns-message');
    expect(r.headers['cache-control']).toBe('max-age=20');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    const msg = dnsPacket.decode(r.rawPayload);
    expect(msg.answers?.map((a) => (a as { data: string }).data)).toEqual(['2001:db8::1']);
  });

  it('POST answers the same, ID echoed', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/dns-query', headers: { 'content-type': 'application/dns-message' }, payload: wireQuery('_dnslink.plain.example', 16, { id: 4242, edns: true }) });
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.readUInt16BE(0)).toBe(4242);
    expect(dnsPacket.decode(r.rawPayload).answers).toHaveLength(1);
  });

  it('answers a cached or local question synchronously (no promise on the fast path)', () => {
    const packet = wireQuery('_dnslink.plain.example', 16);
    const answer = t.core.wireHandler.answerHttp(packet);
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer).toMatchObject({ ok: true, rcode: 0, maxAge: 60 });
  });

  it('NOTIMP for another opcode is a DNS answer, not an HTTP error', async () => {
    const q = wireQuery('www.example', 1);
    q.writeUInt16BE(0x2900, 2); // opcode 5 (UPDATE)
    const r = await get(`/dns-query?dns=${q.toString('base64url')}`);
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.readUInt16BE(2) & 0xf).toBe(4);
    expect(r.headers['cache-control']).toBe('max-age=0');
  });

  it('JSON API: /resolve and /dns-query with accept: application/dns-json', async () => {
    const a = await get('/resolve?name=www.example&type=A');
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.json()).toMatchObject({ Status: 0, Answer: [{ name: 'www.example.', type: 1, TTL: 30, data: '192.0.2.1' }] });
    const cf = await get('/dns-query?name=_dnslink.multi.example&type=TXT', { accept: 'application/dns-json' });
    expect(cf.headers['content-type']).toMatch(/^application\/dns-json/);
    expect(cf.json().Answer[0].data).toBe(`"dnslink=/ipfs/" "${CID}" "say \\"hi\\"\\\\"`);
  });

  it('JSON API: ANY gets the RFC 8482 answer, its HINFO shown as dig shows it', async () => {
    const r = await get('/resolve?name=www.example&type=ANY');
    expect(r.statusCode).toBe(200);
    expect(r.json().Answer).toEqual([{ name: 'www.example.', type: 13, TTL: 3600, data: '"RFC8482" ""' }]);
  });

  it('answers CORS preflights', async () => {
    const r = await t.app.inject({ method: 'OPTIONS', url: '/v1/dnslink/x.example', headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' } });
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });

  it('unknown routes are JSON 404s', async () => {
    const r = await get('/nope');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('a method a path does not serve', () => {
  it.each([
    ['PUT', '/resolve?name=x', 'GET, HEAD, OPTIONS'],
    ['DELETE', '/resolve', 'GET, HEAD, OPTIONS'],
    ['PUT', '/dns-query', 'GET, HEAD, POST, OPTIONS'],
    ['DELETE', '/v1/dnslink/plain.example', 'GET, HEAD, OPTIONS'],
    ['PATCH', '/v1/dnslink/en-wikipedia--on--ipfs-example', 'GET, HEAD, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['OPTIONS', '/metrics', 'GET, HEAD'],
    ['DELETE', '/openapi.json', 'GET, HEAD'],
  ] as const)('%s %s: 405 with Allow: %s', async (method, url, allow) => {
    const r = await t.app.inject({ method, url });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe(allow);
    const path = url.split('?')[0];
    expect(r.json()).toEqual({ code: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed on ${path}: it answers ${allow}` });
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['cache-control']).toBe('max-age=0');
  });

  it('an unknown path stays 404 whatever the method', async () => {
    for (const [method, url] of [['PUT', '/nope'], ['DELETE', '/v1/dnslink'], ['GET', '/v1/dnslink/a/b'], ['POST', '/resolve/']] as const) {
      const r = await t.app.inject({ method, url });
      expect(r.statusCode, `${method} ${url}`).toBe(404);
      expect(r.headers.allow).toBeUndefined();
      expect(r.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});

describe('POST /dns-query with a body that is not a DNS message', () => {
  const expected = 'POST /dns-query takes one DNS message: content-type must be application/dns-message, got';
  const post = (headers: Record<string, string>, payload?: Buffer | string) =>
    t.app.inject({ method: 'POST', url: '/dns-query', headers, ...(payload === undefined ? {} : { payload }) });

  it.each([
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=x', 'application/x-www-form-urlencoded'],
    ['octet-stream', { 'content-type': 'application/octet-stream' }, wireQuery('www.example', 1), 'application/octet-stream'],
    ['valid JSON', { 'content-type': 'application/json' }, '{"name":"x"}', 'application/json'],
    ['broken JSON (refused for its type, not parsed)', { 'content-type': 'application/json' }, '{"name":', 'application/json'],
    ['text', { 'content-type': 'text/plain; charset=utf-8' }, 'hello', 'text/plain; charset=utf-8'],
    ['a body without a content type', {}, wireQuery('www.example', 1), 'no content-type'],
    ['no body and no content type', {}, undefined, 'no content-type'],
  ])('%s: 415 naming what is expected and what was sent', async (_what, headers, payload, got) => {
    const r = await post(headers, payload);
    expect(r.statusCode).toBe(415);
    expect(r.json()).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: `${expected} ${got}` });
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });

  it('413 says how large a body may be', async () => {
    const r = await post({ 'content-type': 'application/dns-message' }, Buffer.alloc(70_000));
    expect(r.statusCode).toBe(413);
    expect(r.json()).toEqual({ code: 'BODY_TOO_LARGE', message: 'POST /dns-query takes one DNS message of at most 65535 bytes; this one is larger' });
  });
});

describe('GET /v1/dnslink/{name}', () => {
  it('resolves a 3-hop chain with joined paths and the shortest TTL', async () => {
    const r = await get('/v1/dnslink/hop1.example');
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('max-age=45');
    expect(r.json()).toMatchObject({ name: 'hop1.example', value: `/ipfs/${CID2}/three/two/one`, cid: CID2, path: '/three/two/one', ttl: 45, source: 'local', stale: false });
    expect(r.json().hops).toHaveLength(3);
  });

  it('accepts an inlined label and says which name it resolved', async () => {
    const r = await get('/v1/dnslink/en-wikipedia--on--ipfs-example');
    expect(r.json()).toMatchObject({ name: 'en.wikipedia-on-ipfs.example', input: 'en-wikipedia--on--ipfs-example', inlined: true, path: '/wiki/' });
  });

  it('all=true gives the dnslink.dev shape', async () => {
    const r = await get('/v1/dnslink/two.example?all=true');
    expect(r.statusCode).toBe(200);
    expect(r.json().links.ipfs).toHaveLength(2);
    expect(r.json().txtEntries).toHaveLength(2);
  });

  it.each([
    ['two.example', 409, 'MULTIPLE_DNSLINK'],
    ['none.example', 404, 'NO_DNSLINK'],
    ['none.example?all=true', 404, 'NO_DNSLINK'],
    ['loop-a.example', 508, 'LOOP'],
    [`${'a'.repeat(64)}.example`, 400, 'INVALID_DOMAIN'],
    ['unknown.example', 502, 'UPSTREAM_FAILED'],
    ['plain.example?all=maybe', 400, 'INVALID_PARAMETER'],
  ])('%s: %i %s', async (path, status, code) => {
    const r = await get(`/v1/dnslink/${path}`);
    expect(r.statusCode).toBe(status);
    expect(r.json()).toMatchObject({ code, message: expect.any(String) });
    expect(r.headers['cache-control']).toBe('max-age=0');
  });
});

it('/openapi.json validates as OpenAPI 3', async () => {
  const doc = (await get('/openapi.json')).json();
  const result = await new Validator().validate(doc);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

describe('router-level errors', () => {
  it('accepts a long but valid domain in /v1/dnslink/{name} (up to the 244-character DNSLink limit)', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example`; // 191 characters
    const res = await get(`/v1/dnslink/${long}`);
    // Accepted and resolved: the test app has no upstream, so an unknown name ends in 502.
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'UPSTREAM_FAILED', name: long });
    const tooLong = `${`${'a'.repeat(60)}.`.repeat(4)}example`; // 252 characters
    expect((await get(`/v1/dnslink/${tooLong}`)).json()).toMatchObject({ code: 'INVALID_DOMAIN' });
  });

  it('answers 400 INVALID_DOMAIN, not 500, for a label over 63 bytes even as punycode (60 é: 64 characters)', async () => {
    const res = await get(`/v1/dnslink/${encodeURIComponent('é'.repeat(60))}.example`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_DOMAIN' });
    const all = await get(`/v1/dnslink/${encodeURIComponent('é'.repeat(60))}.example?all=true`);
    expect(all.statusCode).toBe(400);
    expect(all.json()).toMatchObject({ code: 'INVALID_DOMAIN' });
  });

  it('looks a Unicode name up as punycode (40 é: 80 bytes of UTF-8, a 46-character IDNA label)', async () => {
    const res = await get(`/v1/dnslink/${encodeURIComponent('é'.repeat(40))}.example`);
    expect(res.json()).toMatchObject({ name: `xn--9c${'a'.repeat(40)}.example`, input: `${'é'.repeat(40)}.example` });
    expect(res.json().lookups.map((l: { name: string }) => l.name)).toContain(`_dnslink.xn--9c${'a'.repeat(40)}.example`);
  });

  it('answers a path segment over 1024 characters with 414 and a JSON error', async () => {
    const res = await get(`/v1/dnslink/${'a'.repeat(1100)}`);
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({ code: 'URI_TOO_LONG', message: expect.stringContaining('exceeding the max param length') });
  });

  it.each([
    ['/resolve?name=%ZZ.com', '%ZZ', 'two hex digits'],
    ['/resolve?name=x.example&type=TXT%', '%', 'two hex digits'],
    ['/resolve?name=%ff.example', '%ff', 'not UTF-8'],
    ['/resolve?name=%C3.example', '%C3', 'not UTF-8'],
    ['/dns-query?name=%ZZ.com', '%ZZ', 'two hex digits'],
    ['/dns-query?dns=AAAB%G1', '%G1', 'two hex digits'],
    ['/v1/dnslink/plain.example?recursive=%ZZ', '%ZZ', 'two hex digits'],
    ['/v1/dnslink/plain.example?x=%e9%ZZ', '%ZZ', 'two hex digits'],
    ['/healthz?%', '%', 'two hex digits'],
  ])('a malformed percent-escape in the query string of any route is 400 BAD_URL: %s', async (url, escape, why) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: 'BAD_URL', message: expect.stringContaining(`malformed percent-escape "${escape}"`) });
    expect(res.json().message).toContain(why);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('well-formed escapes in the query string are decoded as before', async () => {
    const res = await get('/resolve?name=%77ww.example&type=%41');
    expect(res.statusCode).toBe(200);
    expect(res.json().Answer).toEqual([{ name: 'www.example.', type: 1, TTL: 30, data: '192.0.2.1' }]);
    const utf8 = await get('/resolve?name=%C3%A9t%C3%A9.example&type=TXT');
    expect(utf8.statusCode).toBe(200);
    // A Unicode name is looked up in punycode (IDNA), as /v1/dnslink does.
    expect(utf8.json().Question).toEqual([{ name: 'xn--t-9fab.example.', type: 16 }]);
    const percent = await get('/v1/dnslink/plain.example?recursive=true&note=100%25');
    expect(percent.statusCode).toBe(200);
  });

  it('answers an undecodable URL with 400 BAD_URL', async () => {
    const res = await get('/v1/dnslink/%00%ff');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: 'BAD_URL', message: expect.stringContaining('not a valid url component') });
  });
});
