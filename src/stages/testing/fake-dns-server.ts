// A tiny in-process DNS server on 127.0.0.1 (UDP and TCP on one port) for upstream-client unit
// tests: it answers from a handler that can misbehave on purpose (wrong ID, truncation, silence).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterEach } from 'vitest';
import { MessageReader, frameMessage } from '../../dns/tcp-framing.js';

export type FakeReply = (query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp') => Buffer[] | null;

export interface FakeDnsServer {
  port: number;
  queries: Array<{ transport: 'udp' | 'tcp'; name: string; id: number }>;
  close(): Promise<void>;
}

export function answerTxt(query: dnsPacket.DecodedPacket, values: string[], extra: Partial<dnsPacket.Packet> = {}): Buffer {
  const q = query.questions![0]!;
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [q],
    answers: values.map((v) => ({ name: q.name, type: 'TXT' as const, class: 'IN' as const, ttl: 60, data: [v] })),
    ...extra,
  });
}

/** For a test file: a `server(reply)` that starts fake servers, all closed after each test. */
export function useFakeDnsServers(): (reply: FakeReply) => Promise<FakeDnsServer> {
  const servers: FakeDnsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (reply) => {
    const s = await startFakeDnsServer(reply);
    servers.push(s);
    return s;
  };
}

/** Binds UDP on a free port and TCP on the same number; another port when that TCP port is taken. */
export async function startFakeDnsServer(reply: FakeReply, attempts = 5): Promise<FakeDnsServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await bindFakeDnsServer(reply);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= attempts) throw err;
    }
  }
}

async function bindFakeDnsServer(reply: FakeReply): Promise<FakeDnsServer> {
  const queries: FakeDnsServer['queries'] = [];
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    queries.push({ transport: 'udp', name: query.questions?.[0]?.name ?? '', id: query.id ?? 0 });
    for (const out of reply(query, 'udp') ?? []) udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reader = new MessageReader();
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (message) => {
        const query = dnsPacket.decode(message);
        queries.push({ transport: 'tcp', name: query.questions?.[0]?.name ?? '', id: query.id ?? 0 });
        for (const out of reply(query, 'tcp') ?? []) socket.write(frameMessage(out));
      });
    });
  });
  try {
    // The same port number over TCP may be held by another process: that rejects, not hangs.
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => udp.close(() => r()));
    throw err;
  }
  return {
    port,
    queries,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
