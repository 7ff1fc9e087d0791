// A burst of junk does not cost real clients their answers: rounds of a few hundred hostile packets
// sent back to back, with a well-formed probe from another socket after every tenth, and every probe
// answered. What makes it hold is the receive buffer (dns.recvBufferSize, 4 MiB by default): the
// whole burst queues in the kernel while dnslinkd drains it. Where the kernel caps the buffer
// (net.core.rmem_max below it; dnslinkd warns at start), loss depends on the machine's load, so
// the test then only bounds it; the figure is printed either way.
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeQuery, HostilePackets, requireBinaries, requireBuild, sleep, udpExchange, zone } from './support/index.js';
import { nsdWithDnslinkd } from './support/suite.js';

const ok = requireBinaries('nsd') && requireBuild();
const probeName = zone.names.plain.name;
const ROUNDS = 10;
const JUNK_PER_ROUND = 300;
const PROBE_EVERY = 10;

/** Linux's cap on SO_RCVBUF, when this is Linux. */
const RMEM_MAX_FILE = '/proc/sys/net/core/rmem_max';
const rmemMax = existsSync(RMEM_MAX_FILE) ? Number(readFileSync(RMEM_MAX_FILE, 'utf8')) : undefined;

const bound = (socket: Socket) => new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));

describe.skipIf(!ok)('UDP flood', () => {
  const servers = nsdWithDnslinkd();

  it(`answers every probe among rounds of ${JUNK_PER_ROUND} junk packets sent back to back`, async () => {
    expect(await udpExchange(servers.d.dnsPort, encodeQuery(1, probeName, 'TXT'), 2000)).toBeDefined(); // cached first
    const capped = /UDP receive buffer smaller than configured/.test(servers.d.logs());
    const packets = new HostilePackets(0xf100d, probeName);
    const junk = createSocket('udp4');
    const probe = createSocket('udp4');
    await Promise.all([bound(junk), bound(probe)]);
    const answered = new Set<number>();
    probe.on('message', (reply: Buffer) => answered.add(reply.readUInt16BE(0)));
    let probes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < JUNK_PER_ROUND; i++) {
        junk.send(packets.next(), servers.d.dnsPort, '127.0.0.1');
        if (i % PROBE_EVERY === 0) probe.send(encodeQuery(probes++, probeName, 'TXT'), servers.d.dnsPort, '127.0.0.1');
      }
      for (let wait = 0; wait < 40 && answered.size < probes; wait++) await sleep(50);
    }
    junk.close();
    probe.close();
    const lost = probes - answered.size;
    console.log(`UDP flood: ${ROUNDS * JUNK_PER_ROUND} junk packets in rounds of ${JUNK_PER_ROUND} back to back, ${probes} probes, ${lost} lost (${((100 * lost) / probes).toFixed(1)} %); receive buffer ${capped ? 'capped by the kernel (see the warning)' : 'as configured'}`);
    if (capped) expect(lost).toBeLessThan(probes * 0.05);
    else expect(lost).toBe(0);
    expect(servers.d.proc.exitCode).toBeUndefined();
  });
});

describe.skipIf(!ok || rmemMax === undefined)('UDP receive buffer over the kernel cap', () => {
  const asked = 2 * rmemMax!;
  const servers = nsdWithDnslinkd({ config: { dns: { recvBufferSize: asked } } });

  it('is warned about at start, with the size asked and the size granted', () => {
    const warning = servers.d.logs().split('\n').find((line) => line.includes('UDP receive buffer smaller than configured'));
    expect(warning).toBeDefined();
    const fields = JSON.parse(warning!) as { level: number; asked: number; granted: number; setting: string };
    expect(fields).toMatchObject({ level: 40, asked, granted: rmemMax, setting: 'dns.recvBufferSize' });
  });
});
