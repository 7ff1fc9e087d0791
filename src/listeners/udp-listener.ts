// The UDP listener: a thin adapter that hands each datagram to the shared wire handler and sends
// back what it returns, once the client gate admits the sender (dns.allow, dns.rateLimit), on a
// socket with a receive buffer sized for bursts (dns.recvBufferSize). Cache hits are answered
// synchronously; nothing a client sends can throw here. Draining ignores new datagrams and waits for
// the answers still being resolved; an answer that comes after the socket closed is dropped quietly.
import * as dgram from 'node:dgram';
import { lookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { ResolverCore } from '../core/resolver-core.js';
import { InFlight, type RunningListener } from './running-listener.js';
import { answerDatagram, replyWhenResolved, warnIfRecvBufferCapped } from './udp-answer.js';

export interface UdpOptions {
  /** SO_RCVBUF asked of the kernel, in bytes. */
  recvBufferSize: number;
}

/** Today's size when no option is given (bench scripts); the configured default is the same. */
const DEFAULT_UDP_OPTIONS: UdpOptions = { recvBufferSize: 4 * 1024 * 1024 };

/**
 * The receive buffer the kernel granted. Linux reports twice what it grants (the other half is its
 * bookkeeping, socket(7)) and caps the request at net.core.rmem_max without an error.
 */
function grantedRecvBufferSize(socket: dgram.Socket): number {
  const reported = socket.getRecvBufferSize();
  return process.platform === 'linux' ? reported / 2 : reported;
}

/**
 * The socket's address lookup. Every reply goes to an IP literal (the client's address), which
 * dgram would otherwise pass through dns.lookup and a process.nextTick per datagram sent.
 */
function literalLookup(host: string, options: LookupOneOptions, done: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(host);
  if (family !== 0) done(null, host, family);
  else lookup(host, options, done);
}

export function startUdpListener(core: ResolverCore, host: string, port: number, options: UdpOptions = DEFAULT_UDP_OPTIONS): Promise<RunningListener> {
  const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: options.recvBufferSize, lookup: literalLookup });
  const { log } = core;
  const inFlight = new InFlight();
  let draining = false;
  let closed = false;
  socket.on('message', (packet, rinfo) => {
    if (draining) return;
    const out = answerDatagram(core, packet, rinfo.address);
    if (out === null) return;
    if (!(out instanceof Promise)) {
      socket.send(out, rinfo.port, rinfo.address);
      return;
    }
    // A late answer (a miss): sent unless the socket closed meanwhile.
    replyWhenResolved(out, inFlight, log, (late, sent) => {
      if (closed) return sent();
      socket.send(late, rinfo.port, rinfo.address, sent);
    });
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      // A bind error rejects (the caller reports it once); errors after that are logged.
      socket.off('error', reject);
      socket.on('error', (err) => log.error({ err }, 'UDP socket error'));
      warnIfRecvBufferCapped(grantedRecvBufferSize(socket), options.recvBufferSize, log);
      const addr = socket.address();
      resolve({
        address: { host: addr.address, port: addr.port },
        drain: () => {
          draining = true;
          return inFlight.whenIdle();
        },
        close: () =>
          new Promise<void>((done) => {
            if (closed) return done();
            closed = true;
            draining = true;
            socket.close(() => done());
          }),
      });
    });
  });
}
