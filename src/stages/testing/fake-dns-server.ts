// A tiny in-process DNS server on 127.0.0.1 (UDP and TCP on one port) for upstream-client unit
// tests and the fault-injecting upstream of the integration tests: it answers from a handler that
// can misbehave on purpose (wrong ID, truncation, silence, late or from elsewhere).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterEach } from 'vitest';
import { MessageReader, frameMessage } from '../../dns/tcp-framing.js';

/** Where a query came from (UDP: the client's address and port; TCP: the connection's peer). */
export interface FakeClient {
  address: string;
  port: number;
}

/** The messages to answer `query` with (none: silence); may take its time (a late answer). */
export type FakeReply = (
  query: dnsPacket.DecodedPacket,
  transport: 'udp' | 'tcp',
  client: FakeClient,
  raw: Buffer,
) => Buffer[] | null | Promise<Buffer[] | null>;

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

/**
 * Binds UDP on a free port (or `port`, to come back where a stopped server was) and TCP on the same
 * number; another free port when that TCP port is taken.
 */
export async function startFakeDnsServer(reply: FakeReply, port = 0, attempts = 5): Promise<FakeDnsServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await bindFakeDnsServer(reply, port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port !== 0 || attempt >= attempts) throw err;
    }
  }
}

/** A query that does not decode is answered with nothing (the handler never sees it). */
function decodeQuery(msg: Buffer): dnsPacket.DecodedPacket | undefined {
  try {
    return dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
}

async function bindFakeDnsServer(reply: FakeReply, wantedPort: number): Promise<FakeDnsServer> {
  const queries: FakeDnsServer['queries'] = [];
  const udp = dgram.createSocket('udp4');
  let open = true;
  udp.on('message', (msg, rinfo) => {
    const query = decodeQuery(msg);
    if (!query) return;
    queries.push({ transport: 'udp', name: query.questions?.[0]?.name ?? '', id: query.id ?? 0 });
    void Promise.resolve(reply(query, 'udp', { address: rinfo.address, port: rinfo.port }, msg)).then((outs) => {
      for (const out of outs ?? []) if (open) udp.send(out, rinfo.port, rinfo.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(wantedPort, '127.0.0.1', () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reader = new MessageReader();
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (message) => {
        const query = decodeQuery(message);
        if (!query) return;
        queries.push({ transport: 'tcp', name: query.questions?.[0]?.name ?? '', id: query.id ?? 0 });
        const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
        void Promise.resolve(reply(query, 'tcp', peer, message)).then((outs) => {
          for (const out of outs ?? []) if (!socket.destroyed) socket.write(frameMessage(out));
        });
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
      open = false;
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
