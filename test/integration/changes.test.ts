// The change stream of one instance over a real nsd zone: a DNS change is seen at the next refresh
// and sent with old and new values (SSE and a webhook); overrides and flushes are sent; filters,
// Last-Event-ID resume and the token; the subscriber cap; a webhook receiver that verifies the
// signature gets retries while it answers 500; GET /v1/ask; and SIGTERM ends open streams at once.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, metricSum, requireBinaries, requireBuild, startDnslinkd, startNsd, stopAll, txtValue, waitFor } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { openSse, type SseClient } from './support/sse.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';
import type { ChangeEvent } from '../../src/changes/change-event.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();

const ZONE = 'changes.test';
const SITE = `site.${ZONE}`;
const OTHER = `other.${ZONE}`;
const CID_A = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const CID_B = '/ipfs/bafkreibaoaidvjxyomg4xguvlpaeekw7dqeahsqjfgj4igx3ywr4n3sp34';
const CID_C = '/ipfs/bafkreiadj22nmzm5o7uqd43fhkcvnko4o2kh3npx54yfo76fyor4d6kgje';
const TOKEN = 'changes-test-token-0123456789';
const SECRET = 'webhook-secret-0123456789abcdef';

/** An event as the SSE stream and the webhooks carry it (the product's own type). */
type Change = ChangeEvent;

describe.skipIf(!ok)('change stream of one instance (nsd upstream, real HTTP clients)', () => {
  let dir: string;
  let zoneFile: string;
  let nsd: NsdHandle;
  let receiver: WebhookReceiver;
  let d: DnslinkdHandle;
  const streams: SseClient[] = [];
  const base = () => `http://127.0.0.1:${d.httpPort}`;
  const sse = async (query = '', headers: Record<string, string> = {}) => {
    const s = await openSse(`${base()}/v1/changes${query}`, { authorization: `Bearer ${TOKEN}`, ...headers });
    streams.push(s);
    return s;
  };
  const writeZone = (siteValue: string, mtime: number) => {
    writeFileSync(
      zoneFile,
      [`$ORIGIN ${ZONE}.`, '$TTL 1', `@ 3600 IN SOA ns1.${ZONE}. hostmaster.${ZONE}. ${mtime} 3600 600 86400 1`, `@ 3600 IN NS ns1.${ZONE}.`, 'ns1 3600 IN A 127.0.0.1', `_dnslink.site 1 IN TXT "dnslink=${siteValue}"`, `_dnslink.other 1 IN TXT "dnslink=${CID_C}"`, 'nolink 60 IN A 192.0.2.1', ''].join('\n'),
    );
    utimesSync(zoneFile, mtime, mtime);
  };
  const value = async (name: string) => ((await (await fetch(`${base()}/v1/dnslink/${name}`)).json()) as { value?: string }).value;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslinkd-changes-'));
    zoneFile = join(dir, `${ZONE}.zone`);
    writeZone(CID_A, Math.floor(Date.now() / 1000) - 10);
    nsd = await startNsd({ zones: [{ name: ZONE, file: zoneFile }] });
    receiver = await startWebhookReceiver(SECRET);
    d = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: {
        shutdownGraceMs: 20_000,
        cache: { minTtl: 0, maxTtl: 1, serveStale: true, staleMaxAge: 3600, prefetch: false },
        changes: { historySize: 1000, token: TOKEN, subscriberBufferBytes: 16_384, maxSubscribers: 6, keepAliveMs: 1000, webhookRetryMs: 5000, webhooks: [{ url: receiver.url, secret: SECRET, suffixes: [ZONE] }] },
      },
    });
  }, 60_000);
  afterAll(async () => {
    for (const s of streams) s.close();
    await d?.stop();
    await receiver?.stop();
    await nsd?.stop();
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const closeAll = () => {
    for (const s of streams.splice(0)) s.close();
  };

  it('sends a DNS change in the zone at the next refresh, with old and new values (SSE and webhook)', async () => {
    const s = await sse(`?name=${SITE}`);
    expect(s.status).toBe(200);
    expect(await value(SITE)).toBe(CID_A);
    writeZone(CID_B, Math.floor(Date.now() / 1000));
    process.kill(-nsd.proc.child.pid!, 'SIGHUP');
    await waitFor('nsd serving the new value', async () => txtValue((await digAt(nsd.port, `_dnslink.${SITE}`, 'TXT')).parsed?.answers[0]?.data ?? '') === `dnslink=${CID_B}`, 5000);
    await waitFor('dnslinkd answering the new value', async () => (await value(SITE)) === CID_B, 5000, { intervalMs: 200 });
    await s.until((events) => events.length >= 1);
    const [change] = s.changes<Change>();
    expect(change).toMatchObject({ name: SITE, kind: 'refresh', old: CID_A, new: CID_B, origin: 'dns' });
    expect(change!.id).toMatch(/^\d+-\d+$/);
    await waitFor('webhook got the refresh', async () => receiver.posts.some((p) => p.status === 200 && p.event.kind === 'refresh' && p.event.new === CID_B), 5000);
    const post = receiver.posts.find((p) => p.event.kind === 'refresh')!;
    expect(post.signatureValid).toBe(true);
    expect(post.event).toEqual(change);
    // Further refreshes fetching the same value send nothing.
    await new Promise((r) => setTimeout(r, 1200));
    expect(await value(SITE)).toBe(CID_B);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.changes<Change>().filter((c) => c.kind === 'refresh')).toHaveLength(1);
    closeAll();
  });

  it('sends override and flush changes; filters by name, suffix and kind; resumes after Last-Event-ID', async () => {
    const byName = await sse(`?name=${OTHER}`);
    const setsUnder = await sse(`?suffix=${ZONE}&kind=override.set`);
    const elsewhere = await sse('?suffix=elsewhere.example');
    expect((await d.admin('PUT', `/admin/v1/overrides/${OTHER}`, { value: CID_A, reason: 'changes test' })).status).toBe(200);
    expect((await d.admin('PUT', `/admin/v1/overrides/${SITE}`, { value: CID_C, reason: 'changes test' })).status).toBe(200);
    expect((await d.admin('PUT', `/admin/v1/overrides/${OTHER}`, { value: CID_B, reason: 'changes test' })).status).toBe(200);
    expect((await d.admin('DELETE', `/admin/v1/overrides/${OTHER}`, { reason: 'changes test' })).status).toBe(200);
    expect((await d.admin('POST', '/admin/v1/cache/flush', { suffix: ZONE, reason: 'changes test' })).status).toBe(200);
    await byName.until((e) => e.length >= 4);
    expect(byName.changes<Change>().map((c) => [c.kind, c.old ?? null, c.new ?? null])).toEqual([
      ['override.set', null, CID_A],
      ['override.change', CID_A, CID_B],
      ['override.remove', CID_B, null],
      ['flush', null, null],
    ]);
    expect(byName.changes<Change>()[0]!.origin).toMatch(/^admin:/);
    expect(byName.changes<Change>()[3]).toMatchObject({ kind: 'flush', scope: 'suffix', name: ZONE });
    await setsUnder.until((e) => e.length >= 2);
    expect(setsUnder.changes<Change>().map((c) => c.name)).toEqual([OTHER, SITE]);
    expect(elsewhere.changes()).toHaveLength(0);
    // Resume: after the first event, the rest of the history passing the filter, in order.
    const ids = byName.events.map((e) => e.id!);
    const resumed = await sse(`?name=${OTHER}`, { 'last-event-id': ids[0]! });
    await resumed.until((e) => e.length >= 3);
    expect(resumed.events.map((e) => e.id)).toEqual(ids.slice(1));
    const bad = await fetch(`${base()}/v1/changes`, { headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': 'nope' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_LAST_EVENT_ID');
    await d.admin('DELETE', `/admin/v1/overrides/${SITE}`, { reason: 'changes test' });
    closeAll();
  });

  it('asks for the token, and refuses subscribers past changes.maxSubscribers with 503', async () => {
    const none = await fetch(`${base()}/v1/changes`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    for (let i = 0; i < 6; i++) expect((await sse()).status).toBe(200);
    const over = await fetch(`${base()}/v1/changes`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(over.status).toBe(503);
    expect(((await over.json()) as { code: string; message: string }).code).toBe('TOO_MANY_SUBSCRIBERS');
    expect(metricSum(await d.metrics(), 'dnslinkd_change_subscribers_refused_total')).toBe(1);
    closeAll();
    await waitFor('subscribers gone', async () => metricSum(await d.metrics(), 'dnslinkd_change_subscribers') === 0, 3000);
  });

  it('retries a webhook while it answers 500, signed each time', async () => {
    const before = receiver.posts.length;
    receiver.failNext(3);
    expect((await d.admin('PUT', `/admin/v1/overrides/${OTHER}`, { value: CID_C, reason: 'webhook retries' })).status).toBe(200);
    await waitFor('delivered after retries', async () => receiver.posts.slice(before).some((p) => p.status === 200 && p.event.kind === 'override.set'), 8000);
    const tries = receiver.posts.slice(before).filter((p) => p.event.kind === 'override.set' && p.event.name === OTHER);
    expect(tries.map((p) => p.status)).toEqual([500, 500, 500, 200]);
    expect(tries.every((p) => p.signatureValid && Math.abs(p.timestamp * 1000 - p.at) < 5000)).toBe(true);
    expect(new Set(tries.map((p) => p.event.id)).size).toBe(1);
    const m = await d.metrics();
    expect(metricSum(m, 'dnslinkd_change_webhook_deliveries_total', { result: 'retry' })).toBeGreaterThanOrEqual(3);
    await d.admin('DELETE', `/admin/v1/overrides/${OTHER}`, { reason: 'changes test' });
  });

  it('GET /v1/ask: 200 for a name with a DNSLink, 404 without, 400 for a bad name', async () => {
    const yes = await fetch(`${base()}/v1/ask?domain=${SITE}`);
    expect(yes.status).toBe(200);
    expect(((await yes.json()) as { value: string }).value).toBe(CID_B);
    const no = await fetch(`${base()}/v1/ask?domain=nolink.${ZONE}`);
    expect(no.status).toBe(404);
    expect(((await no.json()) as { code: string }).code).toBe('NO_DNSLINK');
    const bad = await fetch(`${base()}/v1/ask?domain=${encodeURIComponent('not a name')}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_DOMAIN');
    const missing = await fetch(`${base()}/v1/ask`);
    expect(missing.status).toBe(400);
    await missing.arrayBuffer();
    const spec = (await (await fetch(`${base()}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/changes', '/v1/ask']));
  });

  it('disconnects a subscriber that does not read once it is changes.historySize events behind (its socket given at most changes.subscriberBufferBytes); readers get every event', async () => {
    const stalled = connect(d.httpPort, '127.0.0.1');
    await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
    stalled.write(`GET /v1/changes?suffix=slow.example HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n\r\n`);
    stalled.pause();
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    stalled.on('error', () => {});
    const reader = await sse('?suffix=slow.example');
    await waitFor('both subscribed', async () => metricSum(await d.metrics(), 'dnslinkd_change_subscribers') === 2, 3000);
    // Bursts under the history (1000) that a reader takes; the stalled one falls behind until lapped
    // (once the kernel's socket buffers, megabytes on loopback, are full).
    let made = 0;
    for (const size of [900, ...Array<number>(24).fill(600)]) {
      if (metricSum(await d.metrics(), 'dnslinkd_change_subscribers_disconnected_total') > 0) break;
      const overrides = Array.from({ length: size }, (_, i) => ({ name: `${'x'.repeat(60)}.${'y'.repeat(60)}.${'z'.repeat(60)}.n${made + i}.slow.example`, value: CID_A, ttl: 60 }));
      expect((await d.admin('POST', '/admin/v1/overrides/import', { overrides, reason: 'slow subscriber' })).status).toBe(200);
      made += size;
      await reader.until((e) => e.length >= made, 20_000);
    }
    expect(new Set(reader.events.map((e) => e.id)).size).toBe(made);
    await waitFor('the stalled subscriber cut off', async () => metricSum(await d.metrics(), 'dnslinkd_change_subscribers_disconnected_total') === 1, 5000);
    // It reads again: what it gets ends, the connection closed by the server.
    stalled.resume();
    await waitFor('the stalled connection closed', async () => stalledClosed, 10_000);
    console.log(`a stalled subscriber was cut off after ${made} events (~${Math.round((made * reader.events[0]!.data.length) / 1024)} KiB of frames); the reader got all of them`);
    expect(metricSum(await d.metrics(), 'dnslinkd_change_subscribers_disconnected_total')).toBe(1);
    closeAll();
  }, 40_000);

  it('SIGTERM ends open streams with an end event; the drain does not wait for them', async () => {
    const s = await sse();
    const started = Date.now();
    process.kill(d.proc.child.pid!, 'SIGTERM');
    await s.ended;
    const endedMs = Date.now() - started;
    expect(s.events.at(-1)?.event).toBe('end');
    expect(endedMs).toBeLessThan(1000);
    await waitFor('dnslinkd exited', async () => d.proc.exitCode !== undefined, 20_000);
    const ms = Date.now() - started;
    console.log(`shutdown with an open change stream: stream ended after ${endedMs} ms, process exited after ${ms} ms (shutdownGraceMs 20000)`);
    expect(d.proc.exitCode).toBe(0);
    expect(ms).toBeLessThan(20_000);
  });
});
