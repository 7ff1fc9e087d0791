// Readiness and liveness of a real dnslinkd: upstreams on a port where nothing listens make
// /healthz 503 after a failed query (saying how many failed and why, never where), /livez stays
// 200; nsd started on that port and one answered query make /healthz 200 again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { httpGet, json } from './support/http.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();

interface Health {
  status: string;
  reason: string;
  upstreams: { configured: number; failing: number; errors: string[] };
  cache: { entries: number; bytes: number; inflight: number };
  localRecords: number;
}

describe.skipIf(!ok)('/healthz readiness and /livez liveness', () => {
  let port: number;
  let d: DnslinkdHandle;
  let nsd: NsdHandle | undefined;
  let base: string;

  beforeAll(async () => {
    port = await freePort();
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${port}`, `tcp://127.0.0.1:${port}`],
      config: { upstreamTimeoutMs: 300, clientDeadlineMs: 2000 },
    });
    base = `http://127.0.0.1:${d.httpPort}`;
  });
  afterAll(async () => {
    await d?.stop();
    await nsd?.stop();
    await stopAll();
  });

  const expectNoAddress = (body: string): void => {
    expect(body).not.toContain('127.0.0.1');
    expect(body).not.toContain(String(port));
    expect(body).not.toMatch(/udp:\/\/|tcp:\/\//);
  };

  it('ready before any upstream was asked (nothing failed yet)', async () => {
    const r = await httpGet(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(json<Health>(r)).toMatchObject({ status: 'ready', upstreams: { configured: 2, failing: 0, errors: [] } });
    expectNoAddress(r.body.toString('utf8'));
  });

  it('503 not-ready once every upstream failed its last attempt; /livez stays 200', async () => {
    const lookup = json<{ Status: number }>(await httpGet(`${base}/resolve?name=${zone.names.plain.name}&type=TXT`));
    expect(lookup.Status).toBe(2);

    const r = await httpGet(`${base}/healthz`);
    expect(r.status).toBe(503);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = json<Health>(r);
    expect(body).toMatchObject({
      status: 'not-ready',
      // Both refused at once: TCP by the connection, UDP by ICMP port unreachable (connected socket).
      upstreams: { configured: 2, failing: 2, errors: ['UPSTREAM_NETWORK'] },
      cache: { entries: expect.any(Number), bytes: expect.any(Number), inflight: 0 },
      localRecords: 0,
    });
    expect(body.reason).toMatch(/^all 2 upstreams failed their last attempt in the last 30 s \(UPSTREAM_NETWORK\)/);
    expectNoAddress(r.body.toString('utf8'));

    const live = await httpGet(`${base}/livez`);
    expect(live.status).toBe(200);
    expect(json(live)).toEqual({ status: 'alive' });
  });

  it('200 ready again once an upstream answers (nsd started on that port)', async () => {
    nsd = await startNsd({ port });
    const lookup = json<{ Status: number }>(await httpGet(`${base}/resolve?name=${zone.names.www.name}&type=A`));
    expect(lookup.Status).toBe(0);
    const r = await httpGet(`${base}/healthz`);
    expect(r.status).toBe(200);
    const body = json<Health>(r);
    expect(body.status).toBe('ready');
    // The upstream that answered is not failing; the other may still be, until it answers too.
    expect(body.upstreams.failing).toBeLessThan(2);
    expectNoAddress(r.body.toString('utf8'));
  });
});
