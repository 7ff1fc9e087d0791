// Slow and greedy HTTP clients against a real dnslinkd with small `http.*` limits, so each runs in
// seconds: 200 slow-loris connections of seven kinds (HTTP/1.1 and h2c) are all closed by the
// server while a well-behaved client is served throughout; connections past
// http.maxConnectionsPerClient from one client network (a /24) are closed on the cleartext, TLS and
// admin listeners alike, whichever address of the network they come from; HTTP/2
// advertises its limits, refuses streams past them, and survives rapid reset (CVE-2023-44487), PING
// and SETTINGS floods.
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, generatedAdminToken, localRecordsFile, requireBinaries, requireBuild, sleep, startDnslinkd, stopAll } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { b64url, dohQuery, h2cRequest, httpGet } from './support/http.js';
import { makeSelfSignedCert, type SelfSigned } from './support/tls.js';

const ok = requireBinaries('openssl') && requireBuild();

const LIMITS = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1500 };
/** Each slow client must be closed by then (the longest timeout plus a margin for a loaded machine). */
const CLOSED_WITHIN_MS = 12_000;
const DNSLINK_NAME = 'demo.dnslinkd.example';

/** A connection from `localAddress` (any of 127/8 is loopback on Linux); `closed` says when it closed. */
interface Held {
  socket: Socket;
  /** Milliseconds from the connect call to the close. */
  closed: Promise<number>;
  /** Everything the server sent. */
  received(): string;
}

/** Resolves once connected (TLS: handshake done) or closed, whichever comes first. */
function hold(port: number, localAddress = '127.0.0.1', tls = false): Promise<Held> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = tls
      ? tlsConnect({ socket: connect({ host: '127.0.0.1', port, localAddress }), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : connect({ host: '127.0.0.1', port, localAddress });
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - started)));
    let text = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const held = { socket, closed, received: () => text };
    socket.once(tls ? 'secureConnect' : 'connect', () => resolve(held));
    socket.once('close', () => resolve(held));
  });
}

/** The status line of one HTTP/1.1 GET from `localAddress`. */
async function statusLine(port: number, localAddress: string, tls: boolean, path: string): Promise<string> {
  const c = await hold(port, localAddress, tls);
  c.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await c.closed;
  return c.received().split('\r\n')[0] ?? '';
}

/** Writes `chunks` one every `everyMs` until the socket closes. */
function trickle(socket: Socket, chunks: () => string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(chunks());
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** Once started, `closed` says when the server closed it (ms from the start). */
type SlowLoris = (port: number) => Promise<{ closed: Promise<number> }>;

/** The kinds of slow client, each resolving (once started) to when the server closed it. */
const SLOW_LORIS: Array<[kind: string, start: SlowLoris]> = [
  ['connects and says nothing', (port) => hold(port)],
  ['sends "PR" and stops (undecided between HTTP/1.1 and h2c)', async (port) => {
    const c = await hold(port);
    c.socket.write('PR');
    return c;
  }],
  ['HTTP/1.1 headers, one line every 200 ms, never ending', async (port) => trickleHeaders(await hold(port), `/v1/dnslink/${DNSLINK_NAME}`)],
  ['HTTP/1.1 POST whose body trickles a byte every 200 ms', async (port) => {
    const c = await hold(port);
    c.socket.write('POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\nContent-Length: 512\r\n\r\n');
    trickle(c.socket, () => 'x', 200);
    return c;
  }],
  ['HTTP/1.1 keep-alive, idle after one answer', async (port) => {
    const c = await hold(port);
    c.socket.write(`GET /livez HTTP/1.1\r\nHost: x\r\n\r\n`);
    return c;
  }],
  ['h2c session that only PINGs, every 200 ms', (port) => h2Slow(port, (session) => {
    const timer = setInterval(() => {
      if (session.closed || session.destroyed) clearInterval(timer);
      else session.ping(() => {});
    }, 200);
  })],
  ['h2c POST whose body trickles a byte every 200 ms', (port) => h2Slow(port, (session) => {
    const stream = session.request({ ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message' }, { endStream: false });
    stream.on('error', () => {});
    stream.on('data', () => {});
    const timer = setInterval(() => stream.write(Buffer.from([0])), 200);
    // The stream is what the server cancels; the session then goes idle and is closed too.
    stream.once('close', () => clearInterval(timer));
  })],
];

/** An h2c session driven by `drive`, resolving to when the server ended it (GOAWAY or close). */
function h2Slow(port: number, drive: (session: http2.ClientHttp2Session) => void, tls = false): Promise<{ closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const session = http2.connect(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    const ended = new Promise<number>((done) => {
      session.once('goaway', () => done(Date.now() - started));
      session.once('close', () => done(Date.now() - started));
    });
    session.once('connect', () => {
      drive(session);
      resolve({ closed: ended.finally(() => session.destroy()) });
    });
    session.once('close', () => reject(new Error('h2c session closed before connecting')));
  });
}

/** Header lines, one every 200 ms, after a request line that never gets its empty line. */
function trickleHeaders(c: Held, path: string): Held {
  c.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n`);
  let n = 0;
  trickle(c.socket, () => `X-Slow-${n++}: y\r\n`, 200);
  return c;
}

/** The same timeouts on the TLS listener (HTTP/1.1 and h2 by ALPN) and on the admin listener. */
interface Elsewhere {
  tls: number;
  admin: number;
  /** A valid admin token: a request without one is refused (and closed) before its body is read. */
  adminToken: string;
}

const SLOW_ELSEWHERE: Array<[kind: string, start: (target: Elsewhere) => Promise<{ closed: Promise<number> }>]> = [
  ['TLS: connects and never starts the handshake', (p) => hold(p.tls)],
  ['TLS: HTTP/1.1 headers, one line every 200 ms', async (p) => trickleHeaders(await hold(p.tls, '127.0.0.1', true), '/livez')],
  ['TLS: h2 session that only PINGs', (p) => h2Slow(p.tls, (session) => {
    const timer = setInterval(() => {
      if (session.closed || session.destroyed) clearInterval(timer);
      else session.ping(() => {});
    }, 200);
  }, true)],
  ['admin: connects and says nothing', (p) => hold(p.admin)],
  ['admin: headers, one line every 200 ms', async (p) => trickleHeaders(await hold(p.admin), '/admin/v1/status')],
  ['admin: POST with a valid token whose body trickles a byte every 200 ms', async (p) => {
    const c = await hold(p.admin);
    c.socket.write(
      `POST /admin/v1/cache/flush HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${p.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 512\r\n\r\n`,
    );
    trickle(c.socket, () => ' ', 200);
    return c;
  }],
];

describe.skipIf(!ok)('slow-loris: 200 slow connections are closed, a well-behaved client is served throughout', () => {
  let d: DnslinkdHandle;
  let cert: SelfSigned;
  let tlsPort: number;
  beforeAll(async () => {
    cert = makeSelfSignedCert();
    tlsPort = await freePort();
    d = await startDnslinkd({
      upstreams: ['udp://127.0.0.1:9'],
      config: {
        localRecords: localRecordsFile,
        http: { ...LIMITS, maxConnectionsPerClient: 1000, tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } },
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    cert?.remove();
    await stopAll();
  });

  it.each(SLOW_ELSEWHERE)('%s: closed by the server within the configured timeouts', async (kind, start) => {
    const slow = await Promise.all(Array.from({ length: 5 }, () => start({ tls: tlsPort, admin: d.adminPort, adminToken: generatedAdminToken(d.dataDir) })));
    const ms = await Promise.all(slow.map((s) => Promise.race([s.closed, sleep(CLOSED_WITHIN_MS).then(() => Infinity)])));
    console.log(`${kind}: 5 connections closed by the server after ${Math.min(...ms)}-${Math.max(...ms)} ms`);
    for (const t of ms) expect(t).toBeLessThan(CLOSED_WITHIN_MS);
    for (const t of ms) expect(t).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 100);
  }, 30_000);

  it('every one is closed by the server within the configured timeouts', async () => {
    const perKind = Math.ceil(200 / SLOW_LORIS.length);
    const started = Date.now();
    // Meanwhile a well-behaved client resolves a name every 100 ms, until the last slow one is closed.
    let done = false;
    const served: Array<{ status: number; ms: number }> = [];
    const wellBehaved = (async () => {
      while (!done) {
        const t = Date.now();
        const res = await httpGet(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${DNSLINK_NAME}`);
        served.push({ status: res.status, ms: Date.now() - t });
        await sleep(100);
      }
    })();
    const slow = await Promise.all(
      SLOW_LORIS.flatMap(([kind, start]) => Array.from({ length: perKind }, async () => ({ kind, closedAfterMs: (await start(d.httpPort)).closed }))),
    );
    const results = await Promise.all(
      slow.map(async ({ kind, closedAfterMs }) => ({ kind, ms: await Promise.race([closedAfterMs, sleep(CLOSED_WITHIN_MS).then(() => Infinity)]) })),
    );
    done = true;
    await wellBehaved;
    const byKind = new Map<string, number[]>();
    for (const r of results) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r.ms]);
    console.log(`slow-loris: ${results.length} connections (${perKind} of each of ${SLOW_LORIS.length} kinds), limits ${JSON.stringify(LIMITS)}`);
    for (const [kind, ms] of byKind) console.log(`  ${kind}: closed by the server after ${Math.min(...ms)}-${Math.max(...ms)} ms`);
    console.log(
      `  well-behaved client meanwhile (${Date.now() - started} ms): ${served.length} requests, statuses ${[...new Set(served.map((s) => s.status))].join(',')}, slowest ${Math.max(...served.map((s) => s.ms))} ms`,
    );
    expect(results.length).toBeGreaterThanOrEqual(200);
    for (const r of results) expect(r.ms, r.kind).toBeLessThan(CLOSED_WITHIN_MS);
    // Not before the timeout they were given (the fastest kind waits for the header timeout).
    for (const r of results) expect(r.ms, r.kind).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 100);
    expect(served.length).toBeGreaterThan(5);
    expect(served.every((s) => s.status === 200)).toBe(true);
    expect(d.proc.exitCode).toBeUndefined();
  }, 60_000);
});

describe.skipIf(!ok)('http.maxConnectionsPerClient: connections past it are closed, on every listener', () => {
  const MAX = 8;
  let d: DnslinkdHandle;
  let cert: SelfSigned;
  let tlsPort: number;
  beforeAll(async () => {
    cert = makeSelfSignedCert();
    tlsPort = await freePort();
    d = await startDnslinkd({
      upstreams: ['udp://127.0.0.1:9'],
      config: {
        localRecords: localRecordsFile,
        http: { maxConnectionsPerClient: MAX, headersTimeoutMs: 20_000, tls: { listen: `127.0.0.1:${tlsPort}`, cert: cert.cert, key: cert.key } },
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    cert?.remove();
    await stopAll();
  });

  // Each listener is flooded from its own /24 (connections count by network, http.clientIpv4PrefixLength),
  // which nothing else in the suite connects from.
  const listeners: Array<[name: string, port: () => number, tls: boolean, path: string, greedy: string]> = [
    ['cleartext HTTP/1.1 + h2c', () => d.httpPort, false, '/livez', '127.0.11.1'],
    ['TLS', () => tlsPort, true, '/livez', '127.0.12.1'],
    ['admin (no token: 401)', () => d.adminPort, false, '/admin/v1/overrides', '127.0.13.1'],
  ];

  it.each(listeners)('%s', async (name, port, tls, path, greedy) => {
    const held = await Promise.all(Array.from({ length: MAX + 12 }, () => hold(port(), greedy, tls)));
    // Those past the cap are closed at once; the first MAX stay open (they have 20 s to speak).
    const closedSoon = await Promise.all(held.map((h) => Promise.race([h.closed.then(() => true), sleep(1500).then(() => false)])));
    const refused = closedSoon.filter(Boolean).length;
    // Another client network is served meanwhile; another address of the greedy one is not.
    const other = await statusLine(port(), '127.0.2.1', tls, path);
    const refusedMeanwhile = await statusLine(port(), greedy, tls, path);
    const sameNetwork = await statusLine(port(), greedy.replace(/\.1$/, '.2'), tls, path);
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // Once they are gone (the server sees the last close a moment after the client), the greedy
    // address is served again.
    let again = '';
    for (let tries = 0; again === '' && tries < 20; tries++) {
      if (tries > 0) await sleep(100);
      again = await statusLine(port(), greedy, tls, path);
    }
    console.log(
      `${name}: ${held.length} connections from ${greedy}, ${refused} closed at once, ${held.length - refused} held; ` +
        `127.0.2.1 got "${other}"; ${greedy} got "${refusedMeanwhile}" (and another address of its /24 "${sameNetwork}") while at the cap and "${again}" after`,
    );
    expect(refused).toBe(held.length - MAX);
    expect(other).toMatch(/^HTTP\/1\.1 (200|401) /);
    expect(refusedMeanwhile).toBe('');
    expect(sameNetwork).toBe('');
    expect(again).toBe(other);
  });
});

describe.skipIf(!ok)('HTTP/2 limits: streams, header list, rapid reset, PING and SETTINGS floods', () => {
  let d: DnslinkdHandle;
  beforeAll(async () => {
    d = await startDnslinkd({ upstreams: ['udp://127.0.0.1:9'], config: { localRecords: localRecordsFile, http: { h2MaxConcurrentStreams: 50 } } });
  });
  afterAll(async () => {
    await d?.stop();
    await stopAll();
  });

  /** The server still answers a fresh h2c session and HTTP/1.1, and the process is alive. */
  async function expectStillServing(): Promise<void> {
    const query = b64url(dohQuery(`_dnslink.${DNSLINK_NAME}`));
    expect((await h2cRequest(d.httpPort, `/dns-query?dns=${query}`)).status).toBe(200);
    expect((await httpGet(`http://127.0.0.1:${d.httpPort}/livez`)).status).toBe(200);
    expect(d.proc.exitCode).toBeUndefined();
  }

  it('advertises SETTINGS_MAX_CONCURRENT_STREAMS and SETTINGS_MAX_HEADER_LIST_SIZE', async () => {
    const session = http2.connect(`http://127.0.0.1:${d.httpPort}`);
    session.on('error', () => {});
    const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    session.destroy();
    expect(settings.maxConcurrentStreams).toBe(50);
    expect(settings.maxHeaderListSize).toBe(16_384);
  });

  it('a header list over the limit is refused with a stream reset, once the client has our SETTINGS', async () => {
    const session = http2.connect(`http://127.0.0.1:${d.httpPort}`);
    session.on('error', () => {});
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    // A PING answered after our SETTINGS: the client's SETTINGS ACK has reached the server by then
    // (before it, the server holds the client to HTTP/2's initial, unlimited header list size).
    await new Promise((resolve) => session.ping(resolve));
    const outcome = await new Promise<string>((resolve) => {
      const stream = session.request({ ':path': '/livez', 'x-big': 'a'.repeat(20_000) });
      stream.on('response', (headers) => resolve(`status ${headers[':status']}`));
      stream.on('error', () => {});
      stream.on('close', () => resolve(`reset ${stream.rstCode}`));
      stream.end();
    });
    session.destroy();
    console.log(`h2 header list of 20 kB: ${outcome}`);
    expect(outcome).toBe(`reset ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`);
    await expectStillServing();
  });

  it('rapid reset: a burst of HEADERS + RST_STREAM ends in GOAWAY, and the server goes on serving', async () => {
    const session = http2.connect(`http://127.0.0.1:${d.httpPort}`);
    session.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
    let goaway: number | undefined;
    const ended = new Promise<void>((resolve) => {
      session.once('goaway', (code: number) => {
        goaway = code;
        resolve();
      });
      session.once('close', () => resolve());
    });
    let sent = 0;
    const started = Date.now();
    const path = `/dns-query?dns=${b64url(dohQuery(`_dnslink.${DNSLINK_NAME}`))}`;
    for (let i = 0; i < 5000 && !session.closed && !session.destroyed && goaway === undefined; i++) {
      try {
        const stream = session.request({ ':path': path });
        stream.on('error', () => {});
        stream.close(http2.constants.NGHTTP2_CANCEL);
        sent++;
      } catch {
        break;
      }
      // Let the frames go out now and then, so the burst reaches the server as one.
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([ended, sleep(10_000)]);
    console.log(`rapid reset: ${sent} HEADERS+RST_STREAM pairs sent; session ended after ${Date.now() - started} ms, GOAWAY code ${goaway ?? 'none'}`);
    session.destroy();
    // nghttp2's stream-reset rate limit ends the session with GOAWAY (on a loaded machine the client
    // may have written the whole burst before the server read it: the GOAWAY is what counts).
    expect(goaway).toBeDefined();
    expect(sent).toBeGreaterThan(0);
    await expectStillServing();
  }, 30_000);

  /** An HTTP/2 frame: 9-byte header (length, type, flags, stream id) and payload (RFC 9113 section 4.1). */
  function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
    const header = Buffer.alloc(9);
    header.writeUIntBE(payload.length, 0, 3);
    header[3] = type;
    header[4] = flags;
    header.writeUInt32BE(streamId, 5);
    return Buffer.concat([header, payload]);
  }
  const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const HEADERS = 0x1;
  const RST_STREAM = 0x3;
  const SETTINGS = 0x4;
  const PING = 0x6;
  const END_HEADERS = 0x4;
  const REFUSED_STREAM = 0x7;
  /** The frames in `bytes`, as far as they are complete. */
  function framesOf(bytes: Buffer): Array<{ type: number; payload: Buffer }> {
    const frames: Array<{ type: number; payload: Buffer }> = [];
    for (let at = 0; at + 9 <= bytes.length; ) {
      const length = bytes.readUIntBE(at, 3);
      if (at + 9 + length > bytes.length) break;
      frames.push({ type: bytes[at + 3]!, payload: bytes.subarray(at + 9, at + 9 + length) });
      at += 9 + length;
    }
    return frames;
  }

  it('streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused (RST_STREAM REFUSED_STREAM), from a client that ignores it', async () => {
    const socket = connect({ host: '127.0.0.1', port: d.httpPort });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    // HPACK: :method GET, :scheme http, :path / (static table 2, 6, 4), :authority "x" (literal, name 1).
    const headerBlock = Buffer.from([0x82, 0x86, 0x84, 0x01, 0x01, 0x78]);
    const opened = 80;
    // END_HEADERS without END_STREAM: every stream stays open on the client's side.
    const requests = Array.from({ length: opened }, (_, i) => frame(HEADERS, END_HEADERS, 1 + 2 * i, headerBlock));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), ...requests]));
    const refused = (): number => framesOf(Buffer.concat(received)).filter((f) => f.type === RST_STREAM && f.payload.readUInt32BE(0) === REFUSED_STREAM).length;
    for (let waited = 0; refused() < opened - 50 && waited < 5000; waited += 50) await sleep(50);
    socket.destroy();
    console.log(`${opened} streams opened at once on a session limited to 50: ${refused()} refused`);
    expect(refused()).toBe(opened - 50);
    await expectStillServing();
  });

  it.each([
    ['PING flood', () => frame(PING, 0, 0, Buffer.alloc(8))],
    ['SETTINGS flood', () => frame(SETTINGS, 0, 0)],
  ])('%s from a client that never reads the acknowledgements: the connection is closed', async (what, flood) => {
    const socket = connect({ host: '127.0.0.1', port: d.httpPort });
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    // Never read: every acknowledgement the server queues stays queued.
    socket.pause();
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    let frames = 0;
    const batch = Buffer.concat(Array.from({ length: 1000 }, flood));
    // Enough that the acknowledgements overflow both kernel buffers (a few MB each) if nothing else stops them.
    while (!socket.destroyed && frames < 2_000_000 && Date.now() - started < 8000) {
      if (!socket.write(batch)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), sleep(200)]);
      frames += 1000;
    }
    const closedAfter = await Promise.race([closed, sleep(10_000).then(() => Infinity)]);
    socket.destroy();
    console.log(`${what}: ${frames} frames written; connection closed by the server after ${closedAfter} ms`);
    expect(closedAfter).toBeLessThan(Infinity);
    await expectStillServing();
  }, 30_000);
});
