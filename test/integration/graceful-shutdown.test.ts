// Graceful shutdown with real signals to a real process: queries wait on a silent upstream over UDP,
// TCP, DoH (HTTP/1.1 and h2c) and the resolution API when SIGTERM (or SIGINT) arrives; each one is
// answered, new connections are refused, the store is closed cleanly (no -wal/-shm) and the process
// exits 0 within the grace period, without a stack trace. A second signal exits at once; a grace
// period that runs out still exits 0. The same with --workers 2 (the primary waits for its workers).
// Upstreams slower than the grace period (UDP, TCP, DoH): what waits on them is answered (stale or
// SERVFAIL saying the server is shutting down) before it ends; a half-sent HTTP request holds nothing.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http2 from 'node:http2';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry, encodeQuery, freePort, parseHeader, repoRoot, requireBuild, spawnManaged, startDnslinkd, stopAll, tcpExchange, udpExchange, waitFor } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';

const ok = requireBuild();

/** An upstream that takes every question and answers none (UDP and TCP on one port). */
interface SilentUpstream {
  url: string;
  received(): number;
  close(): Promise<void>;
}

async function startSilentUpstream(): Promise<SilentUpstream> {
  const port = await freePort();
  let received = 0;
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', () => received++);
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  return {
    url: `udp://127.0.0.1:${port}`,
    received: () => received,
    close: () => new Promise<void>((resolve) => udp.close(() => resolve())),
  };
}

/** In-flight answers come back as SERVFAIL after this (the client deadline), well inside the grace period. */
const ANSWER_WITHIN = { upstreamTimeoutMs: 1500, cache: { clientDeadlineMs: 2000, prefetch: false } };
/** Nothing in flight is answered before the test's second signal or short grace period. */
const ANSWER_LATE = { upstreamTimeoutMs: 20_000, cache: { clientDeadlineMs: 25_000, prefetch: false } };

/** Queries put in flight per transport (SHUTDOWN_IN_FLIGHT runs more, up to the TCP pipelining and connection limits: dns.tcpMaxPipelined, http.maxConnectionsPerClient). */
const PER_TRANSPORT = Number(process.env.SHUTDOWN_IN_FLIGHT ?? 20);

const b64url = (buf: Buffer) => buf.toString('base64url');

/** Exit code, or the signal's name, of a process once it exited; and how long it took after `since`. */
async function exitOf(d: DnslinkdHandle, since: number, withinMs: number): Promise<{ code: number | null | undefined; ms: number }> {
  await Promise.race([d.proc.exited, new Promise((resolve) => setTimeout(resolve, withinMs))]);
  return { code: d.proc.exitCode, ms: Date.now() - since };
}

function stackLines(d: DnslinkdHandle): string[] {
  return d.logs().split('\n').filter((line) => /\n?\s+at .+\(.+:\d+:\d+\)/.test(line) || /"stack":/.test(line));
}

interface InFlight {
  udp: Promise<Buffer | undefined>[];
  tcp: Promise<Buffer[]>;
  doh1: Promise<number>[];
  doh2: Promise<number>[];
  api: Promise<number>[];
  sent: number;
  close(): void;
}

/** Puts queries in flight on every transport, each for a name of its own (no coalescing). */
function sendInFlight(d: DnslinkdHandle, tag: string, perTransport: number): InFlight {
  const name = (t: string, i: number) => `_dnslink.${t}-${i}.${tag}.inflight.example`;
  const udp = Array.from({ length: perTransport }, (_, i) => udpExchange(d.dnsPort, encodeQuery(i + 1, name('udp', i), 'TXT'), 15_000));
  const tcp = tcpExchange(d.dnsPort, Array.from({ length: perTransport }, (_, i) => encodeQuery(i + 1, name('tcp', i), 'TXT')), 15_000);
  const doh1 = Array.from({ length: perTransport }, async (_, i) => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/dns-query?dns=${b64url(encodeQuery(0, name('doh1', i), 'TXT'))}`, { headers: { accept: 'application/dns-message' }, signal: AbortSignal.timeout(15_000) });
    const body = Buffer.from(await res.arrayBuffer());
    return res.status === 200 ? parseHeader(body).rcode : -res.status;
  });
  const session = http2.connect(`http://127.0.0.1:${d.httpPort}`);
  session.on('error', () => undefined);
  const doh2 = Array.from(
    { length: perTransport },
    (_, i) =>
      new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': `/dns-query?dns=${b64url(encodeQuery(0, name('doh2', i), 'TXT'))}`, accept: 'application/dns-message' });
        const chunks: Buffer[] = [];
        let status = 0;
        req.on('response', (headers) => (status = Number(headers[':status'])));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve(status === 200 ? parseHeader(Buffer.concat(chunks)).rcode : -status));
        req.on('error', reject);
        req.end();
      }),
  );
  const api = Array.from({ length: perTransport }, async (_, i) => {
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/api-${i}.${tag}.inflight.example`, { signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    return res.status;
  });
  return { udp, tcp, doh1, doh2, api, sent: perTransport * 5, close: () => session.close() };
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.on('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.on('error', () => resolve(true));
  });
}

describe.skipIf(!ok)('graceful shutdown', () => {
  let upstream: SilentUpstream;
  beforeAll(async () => {
    upstream = await startSilentUpstream();
  });
  afterAll(async () => {
    await stopAll();
    await upstream?.close();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: every query in flight (UDP, TCP, DoH h1 and h2c, API) is answered, then exit 0 without a stack trace`, { timeout: 40_000 }, async () => {
      const d = await startDnslinkd({ upstreams: [upstream.url], config: { ...ANSWER_WITHIN } });
      // A change through the admin API, so the store has written (WAL) before the stop.
      expect((await d.admin('PUT', '/admin/v1/overrides/pinned.example', { value: '/ipfs/bafkreibvfynyw7eashhw3z35kicod2sgi5aaivxmhj4zz7nxsg47uyg5km', reason: 'shutdown test' })).status).toBe(200);
      const before = upstream.received();
      const flight = sendInFlight(d, signal.toLowerCase(), PER_TRANSPORT);
      // Every question reached the upstream: all of them are waiting when the signal comes.
      await waitFor('queries in flight', async () => upstream.received() - before >= flight.sent, 10_000, { intervalMs: 20 }).catch((err: Error) => { throw new Error(`${err.message}: ${upstream.received() - before} of ${flight.sent} reached the upstream`); });
      const since = Date.now();
      d.proc.child.kill(signal);
      await waitFor('listeners closed', () => refusesConnections(d.dnsPort), 3_000, { intervalMs: 20 });
      const [udp, tcp, doh1, doh2, api] = await Promise.all([Promise.all(flight.udp), flight.tcp, Promise.all(flight.doh1), Promise.all(flight.doh2), Promise.all(flight.api)]);
      flight.close();
      const exit = await exitOf(d, since, 10_000);
      const answered = udp.filter(Boolean).length + tcp.length + doh1.length + doh2.length + api.length;
      console.log(`${signal} with ${flight.sent} queries in flight: ${answered} answered, exit ${exit.code} after ${exit.ms} ms`);
      expect(udp.every((r) => r !== undefined && parseHeader(r).rcode === 2)).toBe(true);
      expect(tcp.map((r) => parseHeader(r).rcode)).toEqual(Array(PER_TRANSPORT).fill(2));
      expect(doh1).toEqual(Array(PER_TRANSPORT).fill(2));
      expect(doh2).toEqual(Array(PER_TRANSPORT).fill(2));
      // The resolution API's answer for an upstream failure (docs/api.md), a JSON error, not a dropped connection.
      expect(api.every((status) => status >= 400 && status < 600)).toBe(true);
      expect(answered).toBe(flight.sent);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(5_000);
      expect(stackLines(d)).toEqual([]);
      expect(readdirSync(d.dataDir).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
      await d.stop();
    });
  }

  it('a second SIGTERM exits at once with 0; a second SIGINT with 130; the store still closed cleanly', { timeout: 40_000 }, async () => {
    for (const [signal, expected] of [['SIGTERM', 0], ['SIGINT', 130]] as const) {
      const d = await startDnslinkd({ upstreams: [upstream.url], config: { ...ANSWER_LATE, shutdownGraceMs: 30_000 } });
      // A change first: the store's WAL is there when the second signal comes.
      expect((await d.admin('PUT', '/admin/v1/overrides/twice.example', { value: '/ipfs/bafkreibvfynyw7eashhw3z35kicod2sgi5aaivxmhj4zz7nxsg47uyg5km', reason: 'shutdown test' })).status).toBe(200);
      const before = upstream.received();
      const pending = udpExchange(d.dnsPort, encodeQuery(7, `_dnslink.twice-${signal}.inflight.example`, 'TXT'), 3_000);
      await waitFor('query in flight', async () => upstream.received() > before, 5_000, { intervalMs: 20 });
      d.proc.child.kill(signal);
      await waitFor('draining', () => refusesConnections(d.dnsPort), 3_000, { intervalMs: 20 });
      const since = Date.now();
      d.proc.child.kill(signal);
      const exit = await exitOf(d, since, 5_000);
      expect(exit.code).toBe(expected);
      expect(exit.ms).toBeLessThan(2_000);
      expect(await pending).toBeUndefined();
      expect(stackLines(d)).toEqual([]);
      // Even at once, the store is closed cleanly (its WAL checkpointed).
      expect(readdirSync(d.dataDir).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
      await d.stop();
    }
  });

  it('a short grace period (500 ms): a query waiting on a silent upstream gets SERVFAIL before it ends, exit 0', { timeout: 30_000 }, async () => {
    const d = await startDnslinkd({ upstreams: [upstream.url], config: { ...ANSWER_LATE, shutdownGraceMs: 500 } });
    const before = upstream.received();
    const pending = tcpExchange(d.dnsPort, [encodeQuery(9, '_dnslink.grace.inflight.example', 'TXT')], 5_000);
    await waitFor('query in flight', async () => upstream.received() > before, 5_000, { intervalMs: 20 });
    const since = Date.now();
    d.proc.child.kill('SIGTERM');
    const exit = await exitOf(d, since, 5_000);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(3_000);
    expect((await pending).map((r) => parseHeader(r).rcode)).toEqual([2]);
    expect(d.logs()).toMatch(/everything in flight was answered/);
    expect(stackLines(d)).toEqual([]);
    await d.stop();
  });

  it('--workers 2: SIGTERM to the primary, every worker answers what it took, the primary exits 0 after them', { timeout: 60_000 }, async () => {
    const d = await startDnslinkd({ upstreams: [upstream.url], config: { ...ANSWER_WITHIN }, args: ['--workers', '2'] });
    const before = upstream.received();
    const flight = sendInFlight(d, 'workers', PER_TRANSPORT);
    await waitFor('queries in flight', async () => upstream.received() - before >= flight.sent, 10_000, { intervalMs: 20 }).catch((err: Error) => { throw new Error(`${err.message}: ${upstream.received() - before} of ${flight.sent} reached the upstream`); });
    const since = Date.now();
    d.proc.child.kill('SIGTERM');
    const [udp, tcp, doh1, doh2, api] = await Promise.all([Promise.all(flight.udp), flight.tcp, Promise.all(flight.doh1), Promise.all(flight.doh2), Promise.all(flight.api)]);
    flight.close();
    const exit = await exitOf(d, since, 15_000);
    const answered = udp.filter(Boolean).length + tcp.length + doh1.length + doh2.length + api.length;
    console.log(`--workers 2, SIGTERM with ${flight.sent} queries in flight: ${answered} answered, exit ${exit.code} after ${exit.ms} ms`);
    expect(answered).toBe(flight.sent);
    expect([...doh1, ...doh2, ...tcp.map((r) => parseHeader(r).rcode)].every((rcode) => rcode === 2)).toBe(true);
    expect(exit.code).toBe(0);
    expect(stackLines(d)).toEqual([]);
    expect(readdirSync(d.dataDir).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    await d.stop();
  });

  it('a SIGTERM while it is still starting stops it once started: exit 0, lock released, no WAL left', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-early-'));
    const dataDir = join(dir, 'data');
    const args = ['serve', '--dns', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`, '--no-local-records', '--upstream', upstream.url, '--data-dir', dataDir];
    const proc = spawnManaged('dnslinkd-early', process.execPath, [cliEntry, ...args], { cwd: repoRoot });
    // The first log line comes once the configuration is read, before the store, the snapshot and the listeners.
    await waitFor('the first log line', async () => proc.lines.length > 0, 10_000, { intervalMs: 5 });
    proc.child.kill('SIGTERM');
    await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    expect(proc.exitCode).toBe(0);
    expect(proc.output()).not.toMatch(/"stack":/);
    expect(readdirSync(dataDir).filter((f) => /-(wal|shm)$|^dnslinkd\.lock$/.test(f))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGHUP then SIGTERM in its first moments (while the code loads): it lives through the first, drains on the second, exit 0', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-early-'));
    const args = ['serve', '--dns', `127.0.0.1:${await freePort()}`, '--http', `127.0.0.1:${await freePort()}`, '--admin', `127.0.0.1:${await freePort()}`, '--no-local-records', '--upstream', upstream.url, '--data-dir', join(dir, 'data')];
    const proc = spawnManaged('dnslinkd-earliest', process.execPath, [cliEntry, ...args], { cwd: repoRoot });
    // Past Node's own start (nothing can hold a signal before the first line runs), well before the
    // code is loaded (about a second here): the reviewer's 0.3 s.
    await new Promise((resolve) => setTimeout(resolve, 300));
    proc.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(proc.exitCode).toBeUndefined();
    proc.child.kill('SIGTERM');
    await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    expect(proc.exitCode).toBe(0);
    expect(proc.output()).not.toMatch(/"stack":/);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** A TXT query with EDNS (so the answer can carry an Extended DNS Error). */
const ednsQuery = (id: number, name: string): Buffer => dnsPacket.encode({ id, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'TXT', class: 'IN', name }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] });

/** The Extended DNS Error of a DNS answer (code and text), if it has one. */
function edeOf(msg: Buffer): { code: number; text: string } | undefined {
  const decoded = dnsPacket.decode(msg) as { additionals?: Array<{ type: string; options?: Array<{ code: number; data?: Buffer }> }> };
  const opt = decoded.additionals?.find((r) => r.type === 'OPT');
  const ede = opt?.options?.find((o) => o.code === 15);
  if (!ede?.data) return undefined;
  return { code: ede.data.readUInt16BE(0), text: ede.data.subarray(2).toString('utf8') };
}

/**
 * An upstream on one port: UDP, TCP and HTTP (DoH) take every question and answer none, except the
 * UDP names in `answerOnce`, answered once (TXT, TTL 1 s) so that dnslinkd caches them.
 */
async function startHangingUpstream(answerOnce: Set<string>) {
  const port = await freePort();
  let received = 0;
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    received++;
    const q = dnsPacket.decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    if (!answerOnce.delete(name)) return;
    const answer = dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'TXT', class: 'IN', name, ttl: 1, data: ['dnslink=/ipfs/bafkreibvfynyw7eashhw3z35kicod2sgi5aaivxmhj4zz7nxsg47uyg5km'] }] });
    udp.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const held: Array<{ destroy(): void }> = [];
  const tcp = (await import('node:net')).createServer((s) => {
    received++;
    held.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  const httpPort = await freePort();
  const web = (await import('node:http')).createServer((req) => {
    received++;
    held.push(req.socket);
  });
  await new Promise<void>((resolve) => web.listen(httpPort, '127.0.0.1', resolve));
  return {
    udpUrl: `udp://127.0.0.1:${port}`,
    tcpUrl: `tcp://127.0.0.1:${port}`,
    dohUrl: `http://127.0.0.1:${httpPort}/dns-query`,
    received: () => received,
    close: async () => {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => web.close(() => resolve()));
    },
  };
}

/** Upstreams slower than the grace period: answered only because the shutdown ends their wait. */
const SLOWER_THAN_GRACE = { upstreamTimeoutMs: 9_000, shutdownGraceMs: 3_000, cache: { clientDeadlineMs: 25_000, prefetch: false, staleRefreshMs: 0 } };

describe.skipIf(!ok)('graceful shutdown with upstreams slower than the grace period', () => {
  const answerOnce = new Set<string>();
  let hanging: Awaited<ReturnType<typeof startHangingUpstream>>;
  beforeAll(async () => {
    hanging = await startHangingUpstream(answerOnce);
  });
  afterAll(async () => {
    await stopAll();
    await hanging?.close();
  });

  it('upstreamTimeoutMs 9000, shutdownGraceMs 3000: every query in flight is answered (SERVFAIL saying shutting down, or stale EDE 3), exit 0 within ~3.5 s', { timeout: 40_000 }, async () => {
    const d = await startDnslinkd({ upstreams: [hanging.udpUrl], config: SLOWER_THAN_GRACE });
    const staleName = '_dnslink.stale.slow.example';
    answerOnce.add(staleName);
    const first = await udpExchange(d.dnsPort, encodeQuery(1, staleName, 'TXT'), 3_000);
    expect(first && parseHeader(first).ancount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the entry expires (TTL 1 s)
    const before = hanging.received();
    const stale = udpExchange(d.dnsPort, ednsQuery(2, staleName), 15_000);
    const withEdns = udpExchange(d.dnsPort, ednsQuery(3, '_dnslink.edns.slow.example'), 15_000);
    const flight = sendInFlight(d, 'slow', 25);
    await waitFor('queries in flight', async () => hanging.received() - before >= flight.sent + 2, 10_000, { intervalMs: 20 });
    const since = Date.now();
    d.proc.child.kill('SIGTERM');
    const [udp, tcp, doh1, doh2, api, staleAnswer, ednsAnswer] = await Promise.all([Promise.all(flight.udp), flight.tcp, Promise.all(flight.doh1), Promise.all(flight.doh2), Promise.all(flight.api), stale, withEdns]);
    flight.close();
    const exit = await exitOf(d, since, 10_000);
    const answered = udp.filter(Boolean).length + tcp.length + doh1.length + doh2.length + api.length + (staleAnswer ? 1 : 0);
    console.log(`upstream slower than the grace: ${flight.sent + 1} queries in flight, ${answered} answered, exit ${exit.code} after ${exit.ms} ms`);
    expect(answered).toBe(flight.sent + 1);
    for (const r of [...(udp as Buffer[]), ...tcp]) expect(parseHeader(r).rcode).toBe(2);
    // SERVFAIL with an Extended DNS Error saying why (for a client that sent EDNS).
    expect(parseHeader(ednsAnswer!).rcode).toBe(2);
    expect(edeOf(ednsAnswer!)?.text).toMatch(/shutting down/);
    expect([...doh1, ...doh2]).toEqual(Array(50).fill(2));
    expect(api.every((status) => status >= 500 && status < 600)).toBe(true);
    // The name cached before and expired: stale (EDE 3), not SERVFAIL.
    expect(parseHeader(staleAnswer!).rcode).toBe(0);
    expect(parseHeader(staleAnswer!).ancount).toBe(1);
    expect(edeOf(staleAnswer!)?.code).toBe(3);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(3_500);
    expect(d.logs()).toMatch(/everything in flight was answered/);
    expect(d.logs()).not.toMatch(/grace period \(shutdownGraceMs\) ran out/);
    expect(stackLines(d)).toEqual([]);
    await d.stop();
  });

  for (const via of ['tcp', 'doh'] as const) {
    it(`the same over a ${via} upstream: what waits on it is answered SERVFAIL before the grace ends`, { timeout: 30_000 }, async () => {
      const d = await startDnslinkd({ upstreams: [via === 'tcp' ? hanging.tcpUrl : hanging.dohUrl], config: SLOWER_THAN_GRACE });
      const before = hanging.received();
      const pending = Array.from({ length: 5 }, (_, i) => udpExchange(d.dnsPort, ednsQuery(i + 1, `_dnslink.${via}-${i}.slow.example`), 15_000));
      await waitFor('queries in flight', async () => hanging.received() - before >= 5, 10_000, { intervalMs: 20 });
      const since = Date.now();
      d.proc.child.kill('SIGTERM');
      const answers = await Promise.all(pending);
      const exit = await exitOf(d, since, 10_000);
      expect(answers.map((r) => r && parseHeader(r).rcode)).toEqual(Array(5).fill(2));
      expect(answers.every((r) => /shutting down/.test(edeOf(r!)?.text ?? ''))).toBe(true);
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(3_500);
      expect(d.logs()).toMatch(/everything in flight was answered/);
      await d.stop();
    });
  }

  it('a half-sent HTTP/1.1 request does not hold the exit for the whole grace period', { timeout: 30_000 }, async () => {
    const d = await startDnslinkd({ upstreams: [hanging.udpUrl], config: SLOWER_THAN_GRACE });
    const sock = connect({ host: '127.0.0.1', port: d.httpPort });
    sock.on('error', () => undefined);
    await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
    sock.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const since = Date.now();
    d.proc.child.kill('SIGTERM');
    const exit = await exitOf(d, since, 10_000);
    sock.destroy();
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(2_000);
    expect(d.logs()).toMatch(/everything in flight was answered/);
    await d.stop();
  });
});
