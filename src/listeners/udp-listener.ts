// The UDP listener: a thin adapter that hands each datagram to the shared wire handler and sends
// back what it returns, once the client gate admits the sender (dns.allow, dns.rateLimit). Cache hits
// are answered synchronously; nothing a client sends can throw here.
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Admission } from '../core/admission.js';
import type { ResolverCore } from '../core/resolver-core.js';
import type { RunningListener } from './running-listener.js';

export function startUdpListener(core: ResolverCore, host: string, port: number): Promise<RunningListener> {
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  const { wireHandler, clientGate, log } = core;
  socket.on('message', (packet, rinfo) => {
    let out: Buffer | null | Promise<Buffer | null>;
    try {
      const admission = clientGate.udp(rinfo.address);
      out = admission === Admission.ANSWER ? wireHandler.handle(packet, 'udp', true) : wireHandler.answerStopped(packet, 'udp', admission);
    } catch (err) {
      log.error({ err }, 'UDP query handling failed');
      return;
    }
    if (out === null) return;
    if (!(out instanceof Promise)) {
      socket.send(out, rinfo.port, rinfo.address);
    } else {
      out.then(
        (late: Buffer | null) => {
          if (late) socket.send(late, rinfo.port, rinfo.address);
        },
        (err: unknown) => log.error({ err }, 'UDP reply failed'),
      );
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      // A bind error rejects (the caller reports it once); errors after that are logged.
      socket.off('error', reject);
      socket.on('error', (err) => log.error({ err }, 'UDP socket error'));
      const addr = socket.address();
      resolve({
        address: { host: addr.address, port: addr.port },
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
