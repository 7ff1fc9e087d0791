// The TCP listener's defences, with small configured values so they show in a second: a message
// trickled a byte at a time is cut off after dns.tcpQueryTimeoutMs although every byte would reset
// the idle timer; the gap between two queries is still bounded only by dns.tcpIdleTimeoutMs; a
// message split into two writes within the bound is answered; past dns.tcpMaxConnectionsPerClient
// a new connection is closed at once, counted, and one closing makes room again.
import { describe, expect, it } from 'vitest';
import { encodeQuery, openTcpConnection, parseHeader, playStream, requireBinaries, requireBuild, sleep, tcpExchange, zone } from './support/index.js';
import { nsdWithDnslinkd } from './support/suite.js';

const ok = requireBinaries('nsd') && requireBuild();
const probeName = zone.names.plain.name;
const QUERY_TIMEOUT_MS = 600;
const IDLE_TIMEOUT_MS = 3000;
const PER_CLIENT = 4;

const framed = (id: number) => {
  const q = encodeQuery(id, probeName, 'TXT');
  return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
};

/** The IDs of the complete length-prefixed replies in `stream`. */
function replyIds(stream: Buffer): number[] {
  const ids: number[] = [];
  for (let rest = stream; rest.length >= 2 && rest.length >= 2 + rest.readUInt16BE(0); rest = rest.subarray(2 + rest.readUInt16BE(0))) ids.push(parseHeader(rest.subarray(2)).id);
  return ids;
}

const openConnection = (port: number) => openTcpConnection(port);

describe.skipIf(!ok)('TCP limits', () => {
  const servers = nsdWithDnslinkd({ config: { dns: { tcpQueryTimeoutMs: QUERY_TIMEOUT_MS, tcpIdleTimeoutMs: IDLE_TIMEOUT_MS, tcpMaxConnectionsPerClient: PER_CLIENT } } });

  it('closes a connection trickling one byte every 100 ms before its message is complete', async () => {
    const bytes = framed(1);
    const outcome = await playStream(servers.d.dnsPort, { kind: 'trickle', pieces: Array.from(bytes, (b) => Buffer.from([b])), gapMs: 100, endAfter: false }, 20_000);
    console.log(`trickle: ${outcome.written}/${bytes.length} bytes written when the server closed the connection`);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.written).toBeLessThan(bytes.length);
    expect(outcome.received).toBe(0);
    expect(await servers.d.metric('dnslinkd_tcp_query_timeouts_total')).toBeGreaterThanOrEqual(1);
  });

  it('answers a message split into two writes within the bound, and a second query after a gap longer than the bound', async () => {
    const conn = await openConnection(servers.d.dnsPort);
    const first = framed(2);
    conn.socket.write(first.subarray(0, 5));
    await sleep(QUERY_TIMEOUT_MS / 3);
    conn.socket.write(first.subarray(5));
    await sleep(QUERY_TIMEOUT_MS * 2); // idle between queries: longer than the query bound, shorter than the idle timeout
    expect(conn.closed()).toBe(false);
    conn.socket.write(framed(3));
    for (let i = 0; i < 50 && replyIds(conn.received()).length < 2; i++) await sleep(50);
    conn.socket.destroy();
    expect(replyIds(conn.received())).toEqual([2, 3]);
  });

  it(`closes a client's connection past ${PER_CLIENT} at once, counts it, and admits one again when another closes`, async () => {
    const refusedBefore = await servers.d.metric('dnslinkd_tcp_connections_refused_total');
    const held = await Promise.all(Array.from({ length: PER_CLIENT }, () => openConnection(servers.d.dnsPort)));
    await sleep(100); // the server has accepted them all
    const t0 = Date.now();
    const over = await playStream(servers.d.dnsPort, { kind: 'framed junk', pieces: [framed(4)], gapMs: 0, endAfter: false }, 5000);
    console.log(`over the cap: closed after ${Date.now() - t0} ms`);
    expect(over.closedByServer).toBe(true);
    expect(over.received).toBe(0);
    expect(await servers.d.metric('dnslinkd_tcp_connections_refused_total')).toBe(refusedBefore + 1);
    // The held connections still work.
    held[0]!.socket.write(framed(5));
    for (let i = 0; i < 50 && replyIds(held[0]!.received()).length < 1; i++) await sleep(50);
    expect(replyIds(held[0]!.received())).toEqual([5]);
    held[1]!.socket.destroy();
    await sleep(100);
    const [reply] = await tcpExchange(servers.d.dnsPort, [encodeQuery(6, probeName, 'TXT')], 3000);
    expect(parseHeader(reply!).id).toBe(6);
    for (const conn of held) conn.socket.destroy();
  });
});
