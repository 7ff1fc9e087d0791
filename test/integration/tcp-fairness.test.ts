// TCP fairness under a full table (issue 16): 32 loopback addresses each open their per-client cap
// of connections and hold them idle. Counted by network (IPv4 /24 by default) they are one client
// and get 32 connections in all; counted by address (dns.tcpClientIpv4PrefixLength: 32) they fill
// the whole table (32 x 32 = dns.tcpMaxConnections, 1,024), and a new client is still admitted: the
// connection idle longest is closed for it (RFC 7766 6.2.3). Every refusal and every such close is
// counted in /metrics.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerTxt, startFakeDnsServer, type FakeDnsServer } from '../../src/stages/testing/fake-dns-server.js';
import { encodeQuery, metricSum, openTcpConnection, parseHeader, requireBuild, startDnslinkd, stopAll, type DnslinkdHandle, type HeldTcpConnection } from './support/index.js';

const ok = requireBuild();
const ADDRESSES = 32;
const PER_CLIENT = 32; // the default dns.tcpMaxConnectionsPerClient
const TABLE = 1024; // the default dns.tcpMaxConnections
/** Attack connections stay open however long the test takes: only the listener's own choices close them. */
const IDLE_TIMEOUT_MS = 120_000;
const attacker = (i: number) => `127.0.0.${10 + i}`;

type Conn = HeldTcpConnection;
const openConnection = openTcpConnection;

/** `perAddress` connections from each of `addresses`, opened an address at a time. */
async function openMany(port: number, addresses: string[], perAddress: number): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (const address of addresses) conns.push(...(await Promise.all(Array.from({ length: perAddress }, () => openConnection(port, address)))));
  await sleep(500); // the server has accepted or closed each one
  return conns;
}

const framed = (id: number, name: string) => {
  const q = encodeQuery(id, name, 'TXT');
  return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
};

/**
 * A new client from `localAddress` asks one query over TCP and keeps its connection open (pushed
 * on `keep`): the reply's ID, or undefined when closed unanswered.
 */
async function newClientAsks(port: number, localAddress: string, id: number, keep: Conn[]): Promise<number | undefined> {
  const conn = await openConnection(port, localAddress);
  keep.push(conn);
  conn.socket.write(framed(id, `_dnslink.c${id}.fair.test`));
  for (let i = 0; i < 100 && conn.received().length < 2 && !conn.closed(); i++) await sleep(20);
  const reply = conn.received();
  return reply.length >= 14 ? parseHeader(reply.subarray(2)).id : undefined;
}

async function refused(d: DnslinkdHandle, reason: string): Promise<number> {
  return metricSum(await d.metrics(), 'dnslinkd_tcp_connections_refused_total', { reason });
}

describe.skipIf(!ok)('TCP fairness under a full table', () => {
  let upstream: FakeDnsServer;
  const held: Conn[] = [];
  beforeAll(async () => {
    // Silent for names under slow.fair.test: a query for one keeps its connection busy.
    upstream = await startFakeDnsServer((q) => (q.questions![0]!.name.endsWith('slow.fair.test') ? null : [answerTxt(q, ['dnslink=/ipfs/bafy-fair'])]));
  });
  afterAll(async () => {
    for (const c of held) c.socket.destroy();
    await upstream?.close();
    await stopAll();
  });
  /** For one describe: a dnslinkd asking the test's upstream, with `config` (attack connections never idle out). */
  function useDaemon(config: { dns?: Record<string, unknown>; [key: string]: unknown }): () => DnslinkdHandle {
    let d: DnslinkdHandle;
    beforeAll(async () => {
      d = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${upstream.port}`], config: { ...config, dns: { tcpIdleTimeoutMs: IDLE_TIMEOUT_MS, ...config.dns } } });
    });
    afterAll(async () => {
      for (const c of held.splice(0)) c.socket.destroy();
      await d?.stop();
    });
    return () => d;
  }

  describe('counted by network (the default /24)', () => {
    const daemon = useDaemon({});

    it(`${ADDRESSES} addresses of one /24 get ${PER_CLIENT} connections in all; the rest are refused and counted; a client of another /24 gets in`, async () => {
      const d = daemon();
      const addresses = Array.from({ length: ADDRESSES }, (_, i) => attacker(i));
      const conns = await openMany(d.dnsPort, addresses, PER_CLIENT);
      held.push(...conns);
      const open = conns.filter((c) => !c.closed()).length;
      const refusedClientCap = await refused(d, 'client_cap');
      console.log(`/24: ${ADDRESSES} addresses x ${PER_CLIENT} connections: ${open} open, ${refusedClientCap} refused (client_cap); dnslinkd_tcp_connections ${await d.metric('dnslinkd_tcp_connections')}`);
      expect(open).toBe(PER_CLIENT);
      expect(refusedClientCap).toBe(ADDRESSES * PER_CLIENT - PER_CLIENT);
      expect(await d.metric('dnslinkd_tcp_connections')).toBe(PER_CLIENT);
      expect(await newClientAsks(d.dnsPort, '127.0.1.1', 7, held)).toBe(7);
      expect(await d.metric('dnslinkd_tcp_idle_closed_total')).toBe(0);
    }, 60_000);
  });

  describe('counted by address (dns.tcpClientIpv4PrefixLength: 32): the table fills', () => {
    const daemon = useDaemon({ dns: { tcpClientIpv4PrefixLength: 32 } });

    it(`${ADDRESSES} addresses x ${PER_CLIENT} fill the ${TABLE}-connection table; each new client is still admitted and answered, the idlest connection closed for it, counted`, async () => {
      const d = daemon();
      const addresses = Array.from({ length: ADDRESSES }, (_, i) => attacker(i));
      const conns = await openMany(d.dnsPort, addresses, PER_CLIENT);
      held.push(...conns);
      expect(conns.filter((c) => !c.closed()).length).toBe(TABLE);
      expect(await d.metric('dnslinkd_tcp_connections')).toBe(TABLE);

      // Over one address's cap: refused at once, counted.
      const over = await openConnection(d.dnsPort, attacker(0));
      held.push(over);
      await sleep(200);
      expect(over.closed()).toBe(true);
      expect(await refused(d, 'client_cap')).toBe(1);

      // Ten new clients, each from an address of its own, each keeping its connection: each admitted and answered.
      const NEW_CLIENTS = 10;
      const t0 = Date.now();
      const replies: Array<number | undefined> = [];
      for (let i = 0; i < NEW_CLIENTS; i++) replies.push(await newClientAsks(d.dnsPort, `127.0.0.${100 + i}`, 100 + i, held));
      const ms = Date.now() - t0;
      await sleep(200);
      const attackClosed = conns.filter((c) => c.closed()).length;
      const idleClosed = await d.metric('dnslinkd_tcp_idle_closed_total');
      console.log(
        `/32: ${TABLE} attack connections held; ${NEW_CLIENTS} new clients answered ${replies.filter((r) => r !== undefined).length}/${NEW_CLIENTS} in ${ms} ms; ` +
          `${attackClosed} attack connections closed (dnslinkd_tcp_idle_closed_total ${idleClosed}), refused: client_cap ${await refused(d, 'client_cap')}, table_full ${await refused(d, 'table_full')}`,
      );
      expect(replies).toEqual(Array.from({ length: NEW_CLIENTS }, (_, i) => 100 + i));
      // One idle connection closed per new client: the oldest attack connections, idle longest.
      expect(idleClosed).toBe(NEW_CLIENTS);
      expect(attackClosed).toBe(NEW_CLIENTS);
      expect(conns.slice(0, NEW_CLIENTS).every((c) => c.closed())).toBe(true);
      expect(await refused(d, 'table_full')).toBe(0);
      // The attack connections left still work, and the table is still bounded.
      const survivor = conns[conns.length - 1]!;
      survivor.socket.write(framed(9, '_dnslink.survivor.fair.test'));
      for (let i = 0; i < 100 && survivor.received().length < 2; i++) await sleep(20);
      expect(parseHeader(survivor.received().subarray(2)).id).toBe(9);
      expect(await d.metric('dnslinkd_tcp_connections')).toBeLessThanOrEqual(TABLE);
    }, 60_000);
  });

  describe('a full table of busy connections (dns.tcpMaxConnections: 4)', () => {
    const daemon = useDaemon({ dns: { tcpMaxConnections: 4 }, upstreamTimeoutMs: 3_000 });

    it('closes no connection waiting for an answer: the new one is refused, counted table_full', async () => {
      const d = daemon();
      const busy = await openMany(d.dnsPort, ['127.0.0.1'], 4);
      held.push(...busy);
      busy.forEach((c, i) => c.socket.write(framed(i, `_dnslink.b${i}.slow.fair.test`)));
      await sleep(200);
      const extra = await openConnection(d.dnsPort, '127.0.0.2');
      held.push(extra);
      await sleep(200);
      expect(extra.closed()).toBe(true);
      expect(busy.every((c) => !c.closed())).toBe(true);
      expect(await refused(d, 'table_full')).toBe(1);
      expect(await d.metric('dnslinkd_tcp_idle_closed_total')).toBe(0);
    }, 30_000);
  });
});
