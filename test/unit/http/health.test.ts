// /healthz is readiness: ready with no upstreams (local records and the cache answer) or while some
// upstream answers, 503 not-ready with why and Retry-After once every upstream failed its last
// attempt; never an upstream address. /livez is 200 whenever the process serves HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readiness } from '../../../src/listeners/http/ops-routes.js';
import type { PoolHealth } from '../../../src/stages/upstream/upstream-pool.js';
import { RECORDS, buildTestApp, type TestApp } from './support.js';

/** A TCP port nothing listens on: connection refused at once. */
const CLOSED = 'tcp://127.0.0.1:1';

describe('/healthz and /livez without upstreams', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('/healthz: ready, saying that local records and the cache answer', async () => {
    const r = await t.app.inject({ url: '/healthz' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json()).toEqual({
      status: 'ready',
      reason: 'no upstreams are configured: local records and the cache answer, other names get SERVFAIL',
      upstreams: { configured: 0, failing: 0, errors: [] },
      cache: { entries: 0, bytes: 0, inflight: 0 },
      localRecords: new Set(RECORDS.map((r) => `${r.name}/${r.type}`)).size,
    });
  });

  it('/livez: alive; HEAD works on both', async () => {
    const r = await t.app.inject({ url: '/livez' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'alive' });
    expect((await t.app.inject({ method: 'HEAD', url: '/livez' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'HEAD', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('/healthz with an upstream that refuses connections', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({}, [CLOSED]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('ready before any query, 503 not-ready after one failed, without the address; /livez stays 200', async () => {
    const before = await t.app.inject({ url: '/healthz' });
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({ status: 'ready', upstreams: { configured: 1, failing: 0, errors: [] } });
    expect(before.body).not.toContain('127.0.0.1');

    const lookup = await t.app.inject({ url: '/resolve?name=nowhere.example&type=TXT' });
    expect(lookup.json().Status).toBe(2);

    const after = await t.app.inject({ url: '/healthz' });
    expect(after.statusCode).toBe(503);
    expect(after.json()).toMatchObject({
      status: 'not-ready',
      reason: expect.stringMatching(/^the only upstream failed its last attempt in the last 30 s \(UPSTREAM_NETWORK\): only local records and cached answers/),
      upstreams: { configured: 1, failing: 1, errors: ['UPSTREAM_NETWORK'] },
      cache: { entries: expect.any(Number), bytes: expect.any(Number), inflight: 0 },
    });
    expect(Number(after.headers['retry-after'])).toBeGreaterThanOrEqual(29);
    expect(after.body).not.toMatch(/127\.0\.0\.1|tcp:\/\//);

    const live = await t.app.inject({ url: '/livez' });
    expect(live.statusCode).toBe(200);
  });
});

describe('readiness', () => {
  const health = (...states: Array<[failing: boolean, code?: string, errorAt?: number]>): PoolHealth => ({
    penaltyMs: 30_000,
    endpoints: states.map(([failing, code, errorAt], i) => ({
      url: `udp://192.0.2.${i}:53`,
      failing,
      ...(code ? { lastErrorCode: code, lastErrorAt: errorAt ?? 1_000 } : {}),
    })),
  });

  it('ready while one upstream is not failing, naming the failing ones by code', () => {
    expect(readiness(health([false], [false]), 1_000)).toEqual({
      ready: true,
      reason: '2 upstreams configured, none failed its last attempt in the last 30 s',
      upstreams: { configured: 2, failing: 0, errors: [] },
    });
    expect(readiness(health([true, 'UPSTREAM_TIMEOUT'], [false]), 1_000)).toMatchObject({
      ready: true,
      reason: '1 of 2 upstreams failed its last attempt in the last 30 s (UPSTREAM_TIMEOUT); the others answer',
    });
  });

  it('not ready when all fail, with the distinct codes and the seconds until the oldest failure expires', () => {
    const r = readiness(health([true, 'UPSTREAM_TIMEOUT', 1_000], [true, 'UPSTREAM_NETWORK', 5_000], [true, 'UPSTREAM_TIMEOUT', 2_000]), 11_000);
    expect(r).toMatchObject({
      ready: false,
      upstreams: { configured: 3, failing: 3, errors: ['UPSTREAM_NETWORK', 'UPSTREAM_TIMEOUT'] },
      retryAfter: 20,
    });
    expect(r.reason).toMatch(/^all 3 upstreams failed their last attempt in the last 30 s \(UPSTREAM_NETWORK, UPSTREAM_TIMEOUT\)/);
    expect(JSON.stringify(r)).not.toContain('192.0.2');
  });
});
