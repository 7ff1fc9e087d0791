// An override change while the upstream is silent: the change's answers line (what the name
// answered before) asks the stages as a query would, but the admin request never waits on the
// upstream for longer than the control plane's deadline; the cached answer stands for it then.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireBuild, startDnslinkd, stopAll } from './support/index.js';

const ok = requireBuild();
const VALUE = '/ipfs/bafkreibvfynyw7eashhw3z35kicod2sgi5aaivxmhj4zz7nxsg47uyg5km';

describe.skipIf(!ok)('override changes with a silent upstream', { timeout: 60_000 }, () => {
  let silent: UdpSocket;
  let received = 0;
  let url = '';
  beforeAll(async () => {
    const port = await freePort();
    silent = createSocket('udp4');
    silent.on('message', () => received++);
    await new Promise<void>((resolve) => silent.bind(port, '127.0.0.1', resolve));
    url = `udp://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await stopAll();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('PUT and DELETE answer within the deadline, not the upstream timeout (20 s), and name no current answer', async () => {
    const d = await startDnslinkd({ upstreams: [url], config: { upstreamTimeoutMs: 20_000, cache: { clientDeadlineMs: 25_000, prefetch: false } } });
    const before = received;
    let started = Date.now();
    const put = await d.admin('PUT', '/admin/v1/overrides/slow.example', { value: VALUE, reason: 'silent upstream' });
    const putMs = Date.now() - started;
    expect(put.status).toBe(200);
    // The stages were asked (the upstream got the question), and the change did not wait for it.
    expect(received).toBeGreaterThan(before);
    expect(putMs).toBeLessThan(5_000);
    expect((put.body as { answers: { before: string | null; after: string | null } }).answers).toEqual({ before: null, after: VALUE });
    started = Date.now();
    const del = await d.admin('DELETE', '/admin/v1/overrides/slow.example', { reason: 'done' });
    expect(del.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((del.body as { answers: { before: string | null; after: string | null } }).answers).toEqual({ before: VALUE, after: null });
  });
});
