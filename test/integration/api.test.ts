// The gateway resolution API end to end (dnslinkd in front of nsd): GET /v1/dnslink/{name} for a
// plain /ipfs/ name, a 3-hop /ipns/ chain, several values, none, a loop, an inlined subdomain label,
// all=true, a stale answer after the upstream stops, 502 with nothing cached; /openapi.json validates.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_DOWN_CONFIG, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { httpGet, json } from './support/http.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const n = zone.names;
const bare = (fixtureName: string): string => fixtureName.replace(/^_dnslink\./, '');

interface Resolved {
  name: string;
  input?: string;
  inlined?: boolean;
  value: string;
  namespace: string;
  cid?: string;
  path: string;
  ttl: number;
  source: string;
  cached: boolean;
  stale: boolean;
  hops: Array<{ name: string; value: string; ttl: number }>;
  log: unknown[];
  links?: Record<string, Array<{ identifier: string; ttl: number }>>;
  txtEntries?: Array<{ value: string; ttl: number }>;
  lookups: Array<{ name: string; rcode: number; source: string }>;
}

interface ApiError {
  code: string;
  message: string;
  domain?: string;
}

describe.skipIf(!ok)('gateway resolution API', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  let base: string;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`, `tcp://127.0.0.1:${nsd.port}`] });
    base = `http://127.0.0.1:${d.httpPort}`;
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  const get = (path: string) => httpGet(`${base}${path}`);

  it('a plain /ipfs/ name: value, CIDv1, path, TTL, source dns (cached on the second ask), Cache-Control', async () => {
    const first = await get(`/v1/dnslink/${bare(n.plain.name)}`);
    expect(first.status).toBe(200);
    const body = json<Resolved>(first);
    expect(body).toMatchObject({
      name: bare(n.plain.name),
      value: `/ipfs/${n.plain.cid}`,
      namespace: 'ipfs',
      cid: n.plain.cid,
      path: '',
      source: 'dns',
      cached: false,
      stale: false,
      log: [],
    });
    expect(body.ttl).toBeGreaterThan(0);
    expect(body.ttl).toBeLessThanOrEqual(n.plain.ttl);
    expect(first.headers.get('cache-control')).toBe(`max-age=${body.ttl}`);
    expect(body.hops).toEqual([{ name: bare(n.plain.name), value: `/ipfs/${n.plain.cid}`, ttl: body.ttl }]);
    const again = json<Resolved>(await get(`/v1/dnslink/_dnslink.${bare(n.plain.name)}.`));
    // A hit says where the value comes from, as the miss did, and that it was cached.
    expect(again).toMatchObject({ source: 'dns', cached: true, stale: false });
    expect(again.value).toBe(body.value);
  });

  it('a 3-hop /ipns/ chain: paths joined, the shortest TTL, every hop listed', async () => {
    const r = await get(`/v1/dnslink/${bare(n.hop1!.name)}`);
    expect(r.status).toBe(200);
    const body = json<Resolved>(r);
    const resolved = n.chainResolved as unknown as { path: string; ttl: number };
    expect(body.value).toBe(resolved.path);
    expect(body.cid).toBe(n.hop3!.cid);
    expect(body.path).toBe('/three/two/one');
    expect(body.ttl).toBeLessThanOrEqual(resolved.ttl);
    expect(body.ttl).toBeGreaterThan(0);
    expect(body.hops.map((h) => h.name)).toEqual([bare(n.hop1!.name), bare(n.hop2!.name), bare(n.hop3!.name)]);
    expect(body.hops.map((h) => h.value)).toEqual([n.hop1!.values![0], n.hop2!.values![0], n.hop3!.values![0]].map((v) => v!.replace('dnslink=', '')));
    expect(body.ttl).toBe(Math.min(...body.hops.map((h) => h.ttl)));
    expect(r.headers.get('cache-control')).toBe(`max-age=${body.ttl}`);
  });

  it('recursive=false stops at the first /ipns/ value', async () => {
    const body = json<Resolved>(await get(`/v1/dnslink/${bare(n.hop1!.name)}?recursive=false`));
    expect(body.value).toBe('/ipns/hop2.dnslink.test/one');
    expect(body.namespace).toBe('ipns');
    expect(body.hops).toHaveLength(1);
  });

  it('an inlined subdomain-gateway label resolves the dotted name and says so', async () => {
    const label = bare(n.plain.name).replaceAll('-', '--').replaceAll('.', '-');
    const r = await get(`/v1/dnslink/${label}`);
    expect(r.status).toBe(200);
    const body = json<Resolved>(r);
    expect(body).toMatchObject({ name: bare(n.plain.name), input: label, inlined: true, cid: n.plain.cid });
    // Dashes in the name itself survive as `--`.
    const loop = json<ApiError & { name: string }>(await get('/v1/dnslink/loop--a-dnslink-test'));
    expect(loop.name).toBe('loop-a.dnslink.test');
  });

  it('all=true gives every entry in the dnslink.dev shape', async () => {
    const r = await get(`/v1/dnslink/${bare(n.two.name)}?all=true`);
    expect(r.status).toBe(200);
    const body = json<Resolved>(r);
    expect(body.links?.ipfs?.map((l) => l.identifier).sort()).toEqual(n.two.values.map((v) => v.replace('dnslink=/ipfs/', '')).sort());
    expect(body.txtEntries).toHaveLength(2);
    expect(body.log).toEqual([]);
  });

  async function expectError(path: string, status: number, code: string): Promise<ApiError> {
    const r = await get(path);
    expect(r.status).toBe(status);
    const body = json<ApiError>(r);
    expect(body.code).toBe(code);
    expect(body.message.length).toBeGreaterThan(5);
    expect(r.headers.get('cache-control')).toBe('max-age=0');
    return body;
  }

  it('several /ipfs/ values: 409 MULTIPLE_DNSLINK', () => expectError(`/v1/dnslink/${bare(n.two.name)}`, 409, 'MULTIPLE_DNSLINK'));
  it('no dnslink entry: 404 NO_DNSLINK', () => expectError(`/v1/dnslink/${bare(n.none!.name)}`, 404, 'NO_DNSLINK'));
  it('a name that does not exist: 404 DNS_RCODE_3', () => expectError('/v1/dnslink/nope.dnslink.test', 404, 'DNS_RCODE_3'));
  it('a loop: 508 LOOP', async () => {
    const body = await expectError(`/v1/dnslink/${bare(n.loopA!.name)}`, 508, 'LOOP');
    expect(body.message).toContain('loop-b.dnslink.test');
  });
  it('an invalid domain: 400 INVALID_DOMAIN', () => expectError(`/v1/dnslink/${'a'.repeat(64)}.dnslink.test`, 400, 'INVALID_DOMAIN'));
  it('a bad query option: 400', () => expectError(`/v1/dnslink/${bare(n.plain.name)}?recursive=maybe`, 400, 'INVALID_PARAMETER'));
  it('a malformed percent-escape in the query string: 400 BAD_URL, as in the path', async () => {
    const query = await expectError(`/v1/dnslink/${bare(n.plain.name)}?recursive=%ZZ`, 400, 'BAD_URL');
    expect(query.message).toContain('"%ZZ"');
    await expectError('/v1/dnslink/%ff.dnslink.test', 400, 'BAD_URL');
  });

  it('/openapi.json is a valid OpenAPI 3 document describing the routes', async () => {
    const r = await get('/openapi.json');
    expect(r.status).toBe(200);
    const doc = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(r);
    expect(doc.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/dns-query', '/resolve', '/v1/dnslink/{name}']));
    expect(Object.keys(doc.paths['/dns-query'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    const post = doc.paths['/dns-query']?.post as { requestBody?: { content?: Record<string, unknown> } };
    expect(Object.keys(post.requestBody?.content ?? {})).toEqual(['application/dns-message']);
    const api = doc.paths['/v1/dnslink/{name}']?.get as { responses: Record<string, unknown> };
    expect(Object.keys(api.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '409', '502', '508']));
  });
});

describe.skipIf(!ok)('gateway resolution API with the upstream down', () => {
  let nsd: NsdHandle;
  let d: DnslinkdHandle;
  beforeAll(async () => {
    nsd = await startNsd();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: UPSTREAM_DOWN_CONFIG,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  it('serves the last known value as stale (source dns, cached, stale, ttl 30), then 502 for a name never cached', async () => {
    const base = `http://127.0.0.1:${d.httpPort}`;
    const fresh = json<Resolved>(await httpGet(`${base}/v1/dnslink/${bare(n.plain.name)}`));
    expect(fresh.stale).toBe(false);
    await nsd.stop();
    await sleep(1500);
    const r = await httpGet(`${base}/v1/dnslink/${bare(n.plain.name)}`);
    expect(r.status).toBe(200);
    const stale = json<Resolved>(r);
    expect(stale).toMatchObject({ value: `/ipfs/${n.plain.cid}`, source: 'dns', cached: true, stale: true, ttl: 30 });
    expect(r.headers.get('cache-control')).toBe('max-age=30');

    const none = await httpGet(`${base}/v1/dnslink/${bare(n.hop3!.name)}`);
    expect(none.status).toBe(502);
    const body = json<ApiError>(none);
    expect(body.code).toBe('UPSTREAM_FAILED');
    expect(body.message).toMatch(/upstream/);
  }, 30_000);
});
