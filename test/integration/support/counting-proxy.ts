// A UDP forwarder in front of a real DNS server that counts the questions it passes, by name:
// what "the next query went upstream" is measured with, at the upstream's side of dnslinkd.
import { createSocket, type RemoteInfo } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export interface CountingProxy {
  port: number;
  /** Questions seen for `name` (any case, with or without the trailing dot). */
  count(name: string): number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const clients = new Map<number, RemoteInfo>();
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  front.on('message', (msg, rinfo) => {
    try {
      const name = dnsPacket.decode(msg).questions?.[0]?.name.toLowerCase() ?? '';
      counts.set(name, (counts.get(name) ?? 0) + 1);
    } catch {
      // not a DNS message: forwarded uncounted
    }
    clients.set(msg.readUInt16BE(0), rinfo);
    back.send(msg, targetPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    const client = clients.get(msg.readUInt16BE(0));
    if (client) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    count: (name) => counts.get(name.toLowerCase().replace(/\.$/, '')) ?? 0,
    close: async () => {
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => back.close(() => r()))]);
    },
  };
}
