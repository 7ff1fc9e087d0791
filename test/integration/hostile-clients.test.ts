// Hostile DNS clients never take dnslinkd down: 100,000 random and mutated packets over UDP
// (truncated headers, looping and forward compression pointers, counts that lie, oversized EDNS,
// labels over 63, names over 255, unknown types and classes, response bits set; seeded, so a failure
// replays) sent in bounded bursts with a well-formed probe after each, and a few hundred hostile
// TCP streams (the same packets framed, length prefixes that lie, trickling, half-open, silent) with
// TCP probes among them. Every probe is answered, no error is logged, and the RSS settles.
import { afterAll, describe, expect, it } from 'vitest';
import { digAt, encodeQuery, HostilePackets, parseHeader, playStream, requireBinaries, requireBuild, residentKb, streamPlan, tcpExchange, udpExchange, zone, type StreamOutcome } from './support/index.js';
import { nsdWithDnslinkd } from './support/suite.js';

const ok = requireBinaries('nsd', 'dig') && requireBuild();
const probeName = zone.names.plain.name;
const UDP_PACKETS = 100_000;
/** Packets sent back to back before a probe waits for its answer. */
const BURST = 250;
const TCP_STREAMS = 300;
/** Hostile streams open at once (below dns.tcpMaxConnectionsPerClient, since they all come from 127.0.0.1). */
const STREAMS_AT_ONCE = 16;
const SEED = 0x10_dead;

describe.skipIf(!ok)('hostile clients', () => {
  // Short TCP bounds so hostile streams do not linger (the defaults are 5 s and 10 s); trickled bytes come 150 ms apart.
  const servers = nsdWithDnslinkd({ config: { dns: { tcpQueryTimeoutMs: 500, tcpIdleTimeoutMs: 1000 } } });
  const packets = new HostilePackets(SEED, probeName);
  const rss: Record<string, number> = {};
  const pid = () => servers.d.proc.child.pid!;

  /** A well-formed probe over UDP: true when it gets its NOERROR answer. */
  const probeUdp = async (id: number) => {
    const reply = await udpExchange(servers.d.dnsPort, encodeQuery(id, probeName, 'TXT'), 2000);
    return reply !== undefined && parseHeader(reply).id === id && parseHeader(reply).rcode === 0 && parseHeader(reply).ancount > 0;
  };

  afterAll(() => {
    console.log(`hostile clients: UDP packets by shape ${JSON.stringify(Object.fromEntries(packets.made))}`);
  });

  it(`answers every probe among ${UDP_PACKETS.toLocaleString('en')} hostile UDP packets`, async () => {
    expect(await probeUdp(1)).toBe(true); // cached before the flood
    rss.before = residentKb(pid());
    const { createSocket } = await import('node:dgram');
    const sock = createSocket('udp4');
    let replies = 0;
    sock.on('message', () => replies++);
    let sent = 0;
    let probes = 0;
    let answered = 0;
    const started = Date.now();
    while (sent < UDP_PACKETS) {
      for (let k = 0; k < BURST && sent < UDP_PACKETS; k++, sent++) sock.send(packets.next(), servers.d.dnsPort, '127.0.0.1');
      probes++;
      if (await probeUdp(probes & 0xffff)) answered++;
    }
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    rss.afterUdp = residentKb(pid());
    console.log(`hostile UDP: ${sent} packets in bursts of ${BURST} and ${probes} probes in ${Date.now() - started} ms; ${answered}/${probes} probes answered; ${replies} replies to the junk; RSS ${rss.before} kB before, ${rss.afterUdp} kB after`);
    expect(answered).toBe(probes);
    expect(replies).toBeGreaterThan(0); // FORMERR, BADVERS, NOTIMP, or answers to mutations that stayed valid
    expect(servers.d.proc.exitCode).toBeUndefined();
  });

  it(`answers TCP probes among ${TCP_STREAMS} hostile TCP streams`, async () => {
    const outcomes = new Map<string, StreamOutcome[]>();
    let next = 0;
    let tcpProbes = 0;
    let tcpAnswered = 0;
    const started = Date.now();
    const client = async () => {
      while (next < TCP_STREAMS) {
        const i = next++;
        const plan = streamPlan(packets, i);
        const outcome = await playStream(servers.d.dnsPort, plan, 5000);
        outcomes.set(plan.kind, [...(outcomes.get(plan.kind) ?? []), outcome]);
        if (i % 20 === 0) {
          tcpProbes++;
          const [reply] = await tcpExchange(servers.d.dnsPort, [encodeQuery(i, probeName, 'TXT')], 3000).catch(() => [undefined]);
          if (reply && parseHeader(reply).rcode === 0 && parseHeader(reply).ancount > 0) tcpAnswered++;
        }
      }
    };
    await Promise.all(Array.from({ length: STREAMS_AT_ONCE }, client));
    rss.afterTcp = residentKb(pid());
    const summary = Object.fromEntries([...outcomes].map(([kind, list]) => [kind, { streams: list.length, closedByServer: list.filter((o) => o.closedByServer).length }]));
    console.log(`hostile TCP: ${TCP_STREAMS} streams (${STREAMS_AT_ONCE} at once) in ${Date.now() - started} ms: ${JSON.stringify(summary)}; ${tcpAnswered}/${tcpProbes} TCP probes answered; RSS ${rss.afterTcp} kB`);
    expect([...outcomes.values()].reduce((n, list) => n + list.length, 0)).toBe(TCP_STREAMS);
    expect(tcpAnswered).toBe(tcpProbes);
    // Trickling and silent clients are closed by the server's query and idle timeouts, not by giving up.
    expect(summary.trickle?.closedByServer).toBe(summary.trickle?.streams);
    expect(summary.silent?.closedByServer).toBe(summary.silent?.streams);
  });

  it('is alive, logged no error, counted the malformed packets, and its RSS settled', async () => {
    const r = await digAt(servers.d.dnsPort, probeName, 'TXT', ['+tcp']);
    expect(r.parsed?.status).toBe('NOERROR');
    expect(servers.d.proc.exitCode).toBeUndefined();
    expect(servers.d.logs()).not.toMatch(/"level":(50|60)/);
    expect(await servers.d.metric('dnslinkd_malformed_packets_total')).toBeGreaterThan(0);
    expect(await servers.d.metric('dnslinkd_tcp_query_timeouts_total')).toBeGreaterThan(0);
    console.log(`hostile clients: RSS ${rss.before} kB before, ${rss.afterUdp} kB after UDP, ${rss.afterTcp} kB after TCP`);
    expect(rss.afterTcp).toBeLessThan(2 * rss.before! + 64 * 1024);
  });
});
