// The TCP listener (RFC 7766): length-prefixed messages, several queries per connection answered
// as they complete (possibly out of order), idle connections closed, a cap on connections and on
// unanswered queries per connection. A thin adapter over the shared wire handler.
import * as net from 'node:net';
import { Admission } from '../core/admission.js';
import type { ResolverCore } from '../core/resolver-core.js';
import { MessageReader, frameMessage } from '../dns/tcp-framing.js';
import type { RunningListener } from './running-listener.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  maxPipelined: number;
}

export function startTcpListener(core: ResolverCore, host: string, port: number, options: TcpOptions): Promise<RunningListener> {
  const { wireHandler, log } = core;
  const connections = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('error', (err) => log.debug({ err }, 'TCP client error'));

    // dns.allow is decided once per connection; TCP is never rate limited (it is where slips send clients).
    const admission = core.clientGate.tcp(socket.remoteAddress);
    const reader = new MessageReader();
    let pending = 0;
    const send = (out: Buffer | null) => {
      pending--;
      if (out && !socket.destroyed) socket.write(frameMessage(out));
      if (pending < options.maxPipelined && socket.isPaused()) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (packet) => {
        pending++;
        try {
          const out = admission === Admission.ANSWER ? wireHandler.handle(packet, 'tcp', false) : wireHandler.answerStopped(packet, 'tcp', admission);
          if (out instanceof Promise) out.then(send, (err: unknown) => { log.error({ err }, 'TCP reply failed'); send(null); });
          else send(out);
        } catch (err) {
          log.error({ err }, 'TCP query handling failed');
          send(null);
        }
      });
      if (pending >= options.maxPipelined) socket.pause();
    });
  });
  server.maxConnections = options.maxConnections;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      // A listen error rejects (the caller reports it once); errors after that are logged.
      server.off('error', reject);
      server.on('error', (err) => log.error({ err }, 'TCP server error'));
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
