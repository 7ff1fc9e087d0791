// DNS over TCP (RFC 7766): length-prefixed messages, several queries per connection answered as
// they complete (possibly out of order), idle connections closed, a cap on connections and on
// unanswered queries per connection. A thin adapter over the shared DNS handler.
import * as net from 'node:net';
import type { ResolverCore } from '../core/resolver-core.js';
import type { RunningServer } from './udp.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  maxPipelined: number;
}

function frame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 2);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

export function startTcpServer(core: ResolverCore, host: string, port: number, options: TcpOptions): Promise<RunningServer> {
  const { dns, log } = core;
  const connections = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('error', (err) => log.debug({ err }, 'TCP client error'));

    let buffered: Buffer = Buffer.alloc(0);
    let pending = 0;
    const send = (out: Buffer | null) => {
      pending--;
      if (out && !socket.destroyed) socket.write(frame(out));
      if (pending < options.maxPipelined && socket.isPaused()) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < len + 2) break;
        const packet = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        pending++;
        try {
          const out = dns.handle(packet, 'tcp', false);
          if (out instanceof Promise) out.then(send, (err: unknown) => { log.error({ err }, 'TCP reply failed'); send(null); });
          else send(out);
        } catch (err) {
          log.error({ err }, 'TCP query handling failed');
          send(null);
        }
      }
      if (pending >= options.maxPipelined) socket.pause();
    });
  });
  server.maxConnections = options.maxConnections;
  server.on('error', (err) => log.error({ err }, 'TCP server error'));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        address: { host: addr.address, port: addr.port },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of connections) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
