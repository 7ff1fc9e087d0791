// The shared UDP sockets to upstreams, against in-process fake servers: many queries at once go
// over a bounded set of sockets, several source ports, rotated; each answer reaches its own query
// (ID and question per socket) and forged ones are dropped; a closed port fails what waits on the
// socket and the next query gets a fresh one; idle sockets are closed.
import * as dgram from 'node:dgram';
import type * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { RRType } from '../../dns/constants.js';
import { makeQuestion } from '../../dns/names.js';
import { joinTxtStrings } from '../../dns/txt-strings.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerTxt, useFakeDnsServers, type FakeClient } from '../testing/fake-dns-server.js';
import { UdpSocketPool, systemErrorCode } from './udp-socket-pool.js';
import { parseUpstreamUrl } from './upstream-url.js';

const server = useFakeDnsServers();
const pools: UdpSocketPool[] = [];
afterEach(() => {
  for (const pool of pools.splice(0)) pool.close();
});
function pool(options: ConstructorParameters<typeof UdpSocketPool>[0]): UdpSocketPool {
  const p = new UdpSocketPool(options);
  pools.push(p);
  return p;
}
const nameOf = (i: number) => `_dnslink.n${i}.example.com`;
const question = (i: number) => makeQuestion(nameOf(i), RRType.TXT);
const valueOf = (res: { answers: unknown[] }) => joinTxtStrings((res.answers[0] as { data: unknown }).data);

describe('UDP socket pool', () => {
  it('sends 200 questions at once over a bounded set of sockets, from several source ports, and answers each with its own', async () => {
    // 200: the fake server's receive buffer holds about 256 datagrams arriving at once.
    const ports = new Set<number>();
    const s = await server(async (q, _t, client) => {
      ports.add(client.port);
      await sleep(Math.floor(Math.random() * 30));
      return [answerTxt(q, [`dnslink=/ipfs/${q.questions![0]!.name}`])];
    });
    const p = pool({ socketsPerUpstream: 8, queriesPerSocket: 1_000 });
    const endpoint = parseUpstreamUrl(`udp://127.0.0.1:${s.port}`);
    const answers = Promise.all(Array.from({ length: 200 }, (_, i) => p.query(endpoint, question(i), 5_000).catch((e: unknown) => e)));
    expect(p.openSockets).toBeLessThanOrEqual(8);
    const results = await answers;
    results.forEach((res, i) => expect(valueOf(res as { answers: unknown[] })).toBe(`dnslink=/ipfs/${nameOf(i)}`));
    expect(ports.size).toBeGreaterThan(1);
    expect(ports.size).toBeLessThanOrEqual(8);
  });

  it('retires a socket after queriesPerSocket queries: new source ports, while the sockets open stay bounded', async () => {
    const ports = new Set<number>();
    let most = 0;
    const s = await server(async (q, _t, client) => {
      ports.add(client.port);
      await sleep(20);
      return [answerTxt(q, ['dnslink=/ipfs/x'])];
    });
    const p = pool({ socketsPerUpstream: 4, queriesPerSocket: 10 });
    const endpoint = parseUpstreamUrl(`udp://127.0.0.1:${s.port}`);
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 400; i++) {
      all.push(p.query(endpoint, question(i), 5_000));
      most = Math.max(most, p.openSockets);
      if (i % 50 === 49) await sleep(5);
    }
    await Promise.all(all);
    expect(ports.size).toBeGreaterThan(4); // rotated: more ports over time than sockets at once
    expect(most).toBeLessThanOrEqual(2 * 4); // the slots, and as many retired ones waiting for answers
    expect(p.openSockets).toBeLessThanOrEqual(4);
  });

  it('matches answers per socket by ID and question: a forged answer (right ID, other question; other ID) is dropped', async () => {
    const s = await server((q) => {
      const otherQuestion = answerTxt({ ...q, questions: [{ name: 'evil.example', type: 'TXT' }] } as dnsPacket.DecodedPacket, ['dnslink=/ipfs/evil']);
      const otherId = answerTxt({ ...q, id: (q.id! + 1) & 0xffff }, ['dnslink=/ipfs/spoofed']);
      return [otherQuestion, otherId, answerTxt(q, ['dnslink=/ipfs/real'])];
    });
    const p = pool({ socketsPerUpstream: 1 });
    const endpoint = parseUpstreamUrl(`udp://127.0.0.1:${s.port}`);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => p.query(endpoint, question(i), 2_000)));
    for (const res of results) expect(valueOf(res)).toBe('dnslink=/ipfs/real');
    // 50 queries on one socket: 50 distinct IDs.
    expect(new Set(s.queries.map((q) => q.id)).size).toBe(50);
  });

  it('drops an answer sent from another port, however well it matches', async () => {
    const elsewhere = dgram.createSocket('udp4');
    await new Promise<void>((r) => elsewhere.bind(0, '127.0.0.1', r));
    try {
      let client: FakeClient | undefined;
      const s = await server((q, _t, from) => {
        client = from;
        elsewhere.send(answerTxt(q, ['dnslink=/ipfs/spoofed']), from.port, from.address);
        return null; // the real upstream stays silent
      });
      const p = pool({});
      await expect(p.query(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question(1), 300)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
      expect(client).toBeDefined();
    } finally {
      elsewhere.close();
    }
  });

  it('a closed port fails what waits on that socket at once with ECONNREFUSED, and the next query gets a fresh socket', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', r));
    const port = closed.address().port;
    await new Promise<void>((r) => closed.close(() => r()));
    const p = pool({ socketsPerUpstream: 1 });
    const endpoint = parseUpstreamUrl(`udp://127.0.0.1:${port}`);
    const t0 = Date.now();
    const err = await p.query(endpoint, question(1), 10_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UPSTREAM_NETWORK' });
    expect(systemErrorCode(err)).toBe('ECONNREFUSED');
    expect(Date.now() - t0).toBeLessThan(5_000);
    await sleep(10);
    expect(p.openSockets).toBe(0);
    // The port opens: the pool asks it on a fresh socket.
    const s = await server((q) => [answerTxt(q, ['dnslink=/ipfs/back'])]);
    const res = await p.query(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question(2), 2_000);
    expect(valueOf(res)).toBe('dnslink=/ipfs/back');
  });

  it('closes sockets idle for idleCloseMs', async () => {
    const s = await server((q) => [answerTxt(q, ['dnslink=/ipfs/x'])]);
    const p = pool({ socketsPerUpstream: 4, idleCloseMs: 100 });
    const endpoint = parseUpstreamUrl(`udp://127.0.0.1:${s.port}`);
    await Promise.all(Array.from({ length: 20 }, (_, i) => p.query(endpoint, question(i), 2_000)));
    expect(p.openSockets).toBeGreaterThan(0);
    for (let i = 0; i < 50 && p.openSockets > 0; i++) await sleep(20);
    expect(p.openSockets).toBe(0);
  });

  it('times out with UPSTREAM_TIMEOUT, and a late answer after it is ignored', async () => {
    const s = await server(async (q) => {
      await sleep(150);
      return [answerTxt(q, ['dnslink=/ipfs/late'])];
    });
    const p = pool({});
    await expect(p.query(parseUpstreamUrl(`udp://127.0.0.1:${s.port}`), question(1), 50)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(p.pendingQueries).toBe(0);
    await sleep(200); // the late answer arrives and finds nothing waiting
    expect(p.pendingQueries).toBe(0);
  });
});
