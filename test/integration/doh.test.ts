// DNS-over-HTTPS end to end: dnslinkd in front of nsd, queried with RFC 8484 GET and POST over
// HTTP/1.1, with dig +http-plain (h2c) and dig +https (TLS, self-signed certificate made here),
// answers compared with what UDP gives; the DNS JSON API; every malformed input gets its 4xx.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digAt,
  freePort,
  requireBinaries,
  requireBuild,
  startDnslinkd,
  startNsd,
  stopAll,
  txtValue,
  udpExchange,
  zone,
} from './support/index.js';
import type { DigResult, DnslinkdHandle, NsdHandle } from './support/index.js';
import { answerSummary, b64url, dohQuery, h2cRequest, httpGet, httpPost, json } from './support/http.js';
import { makeSelfSignedCert, type SelfSigned } from './support/tls.js';

const ok = requireBinaries('nsd', 'dig', 'openssl') && requireBuild();
const n = zone.names;

interface ErrorBody {
  code: string;
  message: string;
}

describe.skipIf(!ok)('DNS-over-HTTPS', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let cert: SelfSigned;
  let tlsPort: number;
  let base: string;

  beforeAll(async () => {
    nsd = await startNsd();
    cert = makeSelfSignedCert();
    tlsPort = await freePort();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`],
      config: { http: { tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } } },
    });
    base = `http://127.0.0.1:${d.httpPort}`;
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    cert?.remove();
    await stopAll();
  });

  async function udpAnswer(name: string, type: 'TXT' | 'A' | 'AAAA' = 'TXT') {
    const reply = await udpExchange(d.dnsPort, dohQuery(name, type), 3000);
    expect(reply).toBeDefined();
    return answerSummary(reply!);
  }

  it('GET ?dns= answers application/dns-message with the UDP answer and max-age = smallest TTL', async () => {
    const q = dohQuery(n.plain.name);
    const r = await httpGet(`${base}/dns-query?dns=${b64url(q)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/dns-message');
    const doh = answerSummary(r.body);
    expect(doh.rcode).toBe(0);
    expect(doh.answers).toEqual((await udpAnswer(n.plain.name)).answers);
    expect(r.body.readUInt16BE(0)).toBe(0); // ID echoed (clients send 0)
    const maxAge = Number(/max-age=(\d+)/.exec(r.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBe(Math.min(...doh.ttls));
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(n.plain.ttl);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('POST application/dns-message gives the same answer; multi-string and long TXT records intact', async () => {
    for (const name of [n.plain.name, n.multi.name, n.hop3?.name ?? '']) {
      const r = await httpPost(`${base}/dns-query`, dohQuery(name), 'application/dns-message');
      expect(r.status).toBe(200);
      expect(answerSummary(r.body).answers).toEqual((await udpAnswer(name)).answers);
    }
    // Over 512 bytes: plain UDP would truncate; DoH has no size limit, like TCP.
    const long = await httpPost(`${base}/dns-query`, dohQuery(n.long.name), 'application/dns-message');
    expect(long.body.readUInt16BE(2) & 0x0200).toBe(0);
    expect(answerSummary(long.body).answers).toEqual([`${n.long.name} TXT ${n.long.strings.join('|')}`]);
  });

  it('max-age takes the smallest TTL among several records, and the SOA TTL for NXDOMAIN', async () => {
    const big = await httpGet(`${base}/dns-query?dns=${b64url(dohQuery(n.big.name))}`);
    const s = answerSummary(big.body);
    expect(s.answers.length).toBe(n.big.values.length);
    expect(big.headers.get('cache-control')).toBe(`max-age=${Math.min(...s.ttls)}`);
    const nx = await httpGet(`${base}/dns-query?dns=${b64url(dohQuery('nope.dnslink.test'))}`);
    expect(answerSummary(nx.body).rcode).toBe(3);
    const nxAge = Number(/max-age=(\d+)/.exec(nx.headers.get('cache-control') ?? '')?.[1]);
    expect(nxAge).toBeGreaterThan(0);
    expect(nxAge).toBeLessThanOrEqual(zone.soaMinimum);
  });

  it('answers HTTP/2 with prior knowledge (h2c) on the same port as HTTP/1.1', async () => {
    const r = await h2cRequest(d.httpPort, `/dns-query?dns=${b64url(dohQuery(n.plain.name))}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/dns-message');
    expect(answerSummary(r.body).answers).toEqual((await udpAnswer(n.plain.name)).answers);
    const post = await h2cRequest(d.httpPort, '/dns-query', {
      method: 'POST',
      body: dohQuery(n.plain.name),
      headers: { 'content-type': 'application/dns-message' },
    });
    expect(post.status).toBe(200);
  });

  function expectSameAsUdp(doh: DigResult, udp: DigResult, name: string): void {
    expect(doh.noAnswer, doh.stdout + doh.stderr).toBe(false);
    expect(doh.parsed?.status).toBe('NOERROR');
    expect(doh.parsed?.answers.map((a) => [a.name, a.type, txtValue(a.data)])).toEqual(
      udp.parsed?.answers.map((a) => [a.name, a.type, txtValue(a.data)]),
    );
    expect(doh.parsed?.answers.length).toBeGreaterThan(0);
    expect(doh.parsed?.answers[0]?.name).toBe(`${name}.`);
  }

  it('dig +http-plain (h2c) answers like UDP, with POST and GET', async () => {
    const udp = await digAt(d.dnsPort, n.plain.name, 'TXT');
    const post = await digAt(d.httpPort, n.plain.name, 'TXT', ['+http-plain']);
    expectSameAsUdp(post, udp, n.plain.name);
    const get = await digAt(d.httpPort, n.plain.name, 'TXT', ['+http-plain-get']);
    expectSameAsUdp(get, udp, n.plain.name);
  });

  it('dig +https (h2 over TLS, self-signed certificate) answers like UDP, with POST and GET', async () => {
    const udp = await digAt(d.dnsPort, n.multi.name, 'TXT');
    const post = await digAt(tlsPort, n.multi.name, 'TXT', ['+https']);
    expectSameAsUdp(post, udp, n.multi.name);
    const get = await digAt(tlsPort, n.multi.name, 'TXT', ['+https-get']);
    expectSameAsUdp(get, udp, n.multi.name);
    const a = await digAt(tlsPort, n.www.name, 'A', ['+https']);
    expect(a.parsed?.answers.map((r) => r.data)).toEqual([n.www.a]);
  });

  it('h2 over TLS (the HTTP/2 fast path): a miss, then a hit, answer like UDP; HEAD, bad base64url and POST errors', async () => {
    const tlsCa = readFileSync(cert.cert);
    const path = `/dns-query?dns=${b64url(dohQuery(n.two.name))}`;
    // First asked here: a miss resolved by nsd; then the same from the cache.
    const miss = await h2cRequest(tlsPort, path, { tlsCa });
    const hit = await h2cRequest(tlsPort, path, { tlsCa });
    const udp = await udpAnswer(n.two.name);
    for (const r of [miss, hit]) {
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/dns-message');
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(answerSummary(r.body).answers).toEqual(udp.answers);
      expect(r.headers['cache-control']).toBe(`max-age=${Math.min(...answerSummary(r.body).ttls)}`);
    }
    const head = await h2cRequest(tlsPort, path, { method: 'HEAD', tlsCa });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(hit.body.length);
    const bad = await h2cRequest(tlsPort, '/dns-query?dns=ab*c', { tlsCa });
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe('*');
    expect(JSON.parse(bad.body.toString())).toMatchObject({ code: 'INVALID_DNS_PARAM' });
    const wrongType = await h2cRequest(tlsPort, '/dns-query', { method: 'POST', body: dohQuery(n.two.name), headers: { 'content-type': 'text/plain' }, tlsCa });
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body.toString())).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const post = await h2cRequest(tlsPort, '/dns-query', { method: 'POST', body: dohQuery(n.two.name), headers: { 'content-type': 'application/dns-message' }, tlsCa });
    expect(answerSummary(post.body).answers).toEqual(udp.answers);
  });

  it('the JSON API on /dns-query (accept: application/dns-json) and /resolve quotes TXT as Cloudflare does', async () => {
    const cf = await httpGet(`${base}/dns-query?name=${n.plain.name}&type=TXT`, { accept: 'application/dns-json' });
    expect(cf.status).toBe(200);
    expect(cf.headers.get('content-type')).toMatch(/^application\/dns-json/);
    const body = json<{ Status: number; Question: unknown[]; Answer: Array<{ name: string; type: number; TTL: number; data: string }> }>(cf);
    expect(body).toMatchObject({ Status: 0, TC: false, RD: true, RA: true, AD: false, CD: false });
    expect(body.Question).toEqual([{ name: `${n.plain.name}.`, type: 16 }]);
    expect(body.Answer).toEqual([{ name: `${n.plain.name}.`, type: 16, TTL: expect.any(Number), data: `"${n.plain.values[0]}"` }]);
    expect(cf.headers.get('cache-control')).toBe(`max-age=${body.Answer[0]!.TTL}`);

    const multi = json<{ Answer: Array<{ data: string }> }>(await httpGet(`${base}/resolve?name=${n.multi.name}&type=16`));
    expect(multi.Answer[0]?.data).toBe(n.multi.strings.map((s) => `"${s}"`).join(' '));

    const long = json<{ Answer: Array<{ data: string }> }>(await httpGet(`${base}/resolve?name=${n.long.name}&type=txt`));
    expect(long.Answer[0]?.data).toBe(n.long.strings.map((s) => `"${s}"`).join(' '));

    const nx = json<{ Status: number; Authority?: Array<{ type: number }> }>(await httpGet(`${base}/resolve?name=nope.dnslink.test&type=TXT&cd=1`));
    expect(nx.Status).toBe(3);
    expect(nx.Authority?.[0]?.type).toBe(6);

    const aaaa = json<{ Answer: Array<{ data: string }>; CD: boolean }>(await httpGet(`${base}/resolve?name=${n.www.name}&type=AAAA&cd=true`));
    expect(aaaa.Answer.map((a) => a.data)).toEqual([n.www.aaaa]);
    expect(aaaa.CD).toBe(true);
  });

  it('answers CORS preflights on the DoH and API routes', async () => {
    const res = await fetch(`${base}/dns-query`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  describe('malformed input gets a 4xx with a JSON {code, message}', () => {
    async function expectError(r: Promise<{ status: number; body: Buffer; headers: Headers }>, status: number, code: string) {
      const res = await r;
      expect(res.status).toBe(status);
      const body = JSON.parse(res.body.toString('utf8')) as ErrorBody;
      expect(body.code).toBe(code);
      expect(body.message.length).toBeGreaterThan(5);
      expect(res.headers.get('cache-control')).toBe('max-age=0');
    }

    it('GET without dns', () => expectError(httpGet(`${base}/dns-query`), 400, 'MISSING_QUERY'));
    it('GET with an empty dns', () => expectError(httpGet(`${base}/dns-query?dns=`), 400, 'INVALID_DNS_PARAM'));
    it('GET with dns that is not base64url', () => expectError(httpGet(`${base}/dns-query?dns=a+b/c`), 400, 'INVALID_DNS_PARAM'));
    it('GET with dns of an impossible length', () => expectError(httpGet(`${base}/dns-query?dns=AAAAA`), 400, 'INVALID_DNS_PARAM'));
    it('GET with dns that decodes to something shorter than a header', () =>
      expectError(httpGet(`${base}/dns-query?dns=${b64url(Buffer.from('hello'))}`), 400, 'INVALID_DNS_MESSAGE'));
    it('GET with a DNS response instead of a query', () => {
      const response = dohQuery(n.plain.name);
      response.writeUInt16BE(0x8180, 2);
      return expectError(httpGet(`${base}/dns-query?dns=${b64url(response)}`), 400, 'INVALID_DNS_MESSAGE');
    });
    it('POST a body that is not a DNS message', () =>
      expectError(httpPost(`${base}/dns-query`, Buffer.from('this is not a DNS message at all'), 'application/dns-message'), 400, 'INVALID_DNS_MESSAGE'));
    it('POST an empty body', () => expectError(httpPost(`${base}/dns-query`, Buffer.alloc(0), 'application/dns-message'), 400, 'INVALID_DNS_MESSAGE'));
    it('POST with a wrong content type', () => expectError(httpPost(`${base}/dns-query`, dohQuery(n.plain.name), 'application/octet-stream'), 415, 'UNSUPPORTED_MEDIA_TYPE'));
    it('POST JSON', () => expectError(httpPost(`${base}/dns-query`, '{"name":"x"}', 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE'));
    it('a 415 names what POST /dns-query takes and what was sent (a form, octet-stream, nothing)', async () => {
      const form = await fetch(`${base}/dns-query`, { method: 'POST', body: new URLSearchParams({ dns: 'AAAB' }), signal: AbortSignal.timeout(5000) });
      expect(form.status).toBe(415);
      expect(await form.json()).toEqual({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'POST /dns-query takes one DNS message: content-type must be application/dns-message, got application/x-www-form-urlencoded;charset=UTF-8',
      });
      const octets = json<ErrorBody>(await httpPost(`${base}/dns-query`, dohQuery(n.plain.name), 'application/octet-stream'));
      expect(octets.message).toMatch(/takes one DNS message: content-type must be application\/dns-message, got application\/octet-stream$/);
      const none = json<ErrorBody>(await httpPost(`${base}/dns-query`, dohQuery(n.plain.name)));
      expect(none).toEqual({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringMatching(/content-type must be application\/dns-message, got no content-type$/) });
    });
    it('POST an oversized body', () => expectError(httpPost(`${base}/dns-query`, Buffer.alloc(70_000), 'application/dns-message'), 413, 'BODY_TOO_LARGE'));
    it('JSON API with an unknown type name', () => expectError(httpGet(`${base}/resolve?name=${n.plain.name}&type=NOPE`), 400, 'UNKNOWN_TYPE'));
    it('JSON API with a type number out of range', () => expectError(httpGet(`${base}/resolve?name=${n.plain.name}&type=70000`), 400, 'UNKNOWN_TYPE'));
    it('JSON API without a name', () => expectError(httpGet(`${base}/dns-query?type=TXT`, { accept: 'application/dns-json' }), 400, 'MISSING_QUERY'));
    it('JSON API with a label over 63 bytes', () => expectError(httpGet(`${base}/resolve?name=${'a'.repeat(64)}.test`), 400, 'INVALID_NAME'));
    it('/resolve without name fails schema validation', () => expectError(httpGet(`${base}/resolve`), 400, 'INVALID_PARAMETER'));
    it('/resolve with a malformed percent-escape: BAD_URL, not a lookup of the literal name', async () => {
      const res = await httpGet(`${base}/resolve?name=%ZZ.com`);
      expect(res.status).toBe(400);
      expect(json<ErrorBody>(res)).toEqual({ code: 'BAD_URL', message: expect.stringContaining('malformed percent-escape "%ZZ"') });
    });
    it('/dns-query?name= with a malformed percent-escape', () =>
      expectError(httpGet(`${base}/dns-query?name=%ZZ.com&type=TXT`, { accept: 'application/dns-json' }), 400, 'BAD_URL'));

    it('no 500 for any of them, and the server is still healthy', async () => {
      const health = await httpGet(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(d.logs()).not.toMatch(/HTTP handler failed/);
    });
  });
});
