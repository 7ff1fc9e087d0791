// The TCP listener (RFC 7766): length-prefixed messages, several queries per connection answered
// as they complete (possibly out of order), idle connections closed, a cap on connections (at it,
// the connection idle longest is closed to admit a new one, RFC 7766 6.2.3), on connections per
// client network and on unanswered queries per connection, and a bound on how long one message may
// take to arrive (a client trickling bytes is closed). A thin adapter over the shared wire handler.
// Draining stops accepting, reads no new queries, and closes each connection once its answers are written.
import * as net from 'node:net';
import { Admission } from '../core/admission.js';
import type { ResolverCore } from '../core/resolver-core.js';
import { MessageReader, frameMessage } from '../dns/tcp-framing.js';
import { NetworkGrouping } from './client-address.js';
import { ConnectionsPerClient } from './connections-per-client.js';
import type { RunningListener } from './running-listener.js';
import { TcpListenerMetrics } from './tcp-metrics.js';

export interface TcpOptions {
  /** No byte in either direction for this long: the connection is closed (the gap between queries). */
  idleTimeoutMs: number;
  /** A message not complete this long after its first byte (or the end of the one before): closed. */
  queryTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Prefix lengths that make one client network for maxConnectionsPerClient (default /24 and /56). */
  clientIpv4PrefixLength?: number;
  clientIpv6PrefixLength?: number;
  maxPipelined: number;
}

export function startTcpListener(core: ResolverCore, host: string, port: number, options: TcpOptions): Promise<RunningListener> {
  const { wireHandler, log } = core;
  const metrics = new TcpListenerMetrics(core.metrics.registry);
  /**
   * Open connections with how many of their queries are unanswered, the one idle longest first: a
   * connection moves to the end when a query arrives or an answer leaves.
   */
  const connections = new Map<net.Socket, { pending: number }>();
  const perClient = new ConnectionsPerClient(new NetworkGrouping(options.clientIpv4PrefixLength ?? 24, options.clientIpv6PrefixLength ?? 56));
  metrics.open = () => connections.size;
  const touch = (socket: net.Socket, state: { pending: number }): void => {
    if (!connections.delete(socket)) return; // closed, or closed as the idlest
    connections.set(socket, state);
  };
  /**
   * At dns.tcpMaxConnections: closes the connection idle longest (nothing unanswered, no query or
   * answer for the longest time) to make room (RFC 7766 6.2.3); false when every one is busy.
   */
  const closeIdlest = (): boolean => {
    for (const [socket, { pending }] of connections) {
      if (pending > 0) continue;
      connections.delete(socket);
      metrics.idleClosed.inc();
      socket.destroy();
      return true;
    }
    return false;
  };
  let draining = false;
  let whenDrained: (() => void) | undefined;
  /** Ends a connection with nothing left to answer, once its writes are flushed. */
  const finish = (socket: net.Socket): void => {
    if (!socket.destroyed) socket.end(() => socket.destroy());
  };

  const server = net.createServer((socket) => {
    // A socket already reset by its peer has no address: it is closing anyway.
    const network = perClient.admit(socket.remoteAddress ?? '', options.maxConnectionsPerClient);
    if (network === undefined) {
      metrics.overClientCap.inc();
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    if (connections.size >= options.maxConnections && !closeIdlest()) {
      metrics.tableFull.inc();
      perClient.release(network);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const state = { pending: 0 };
    connections.set(socket, state);
    socket.setNoDelay(true);
    socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    socket.on('error', (err) => log.debug({ err }, 'TCP client error'));

    // dns.allow is decided once per connection; TCP is never rate limited (it is where slips send clients).
    const admission = core.clientGate.tcp(socket.remoteAddress);
    const client = socket.remoteAddress ?? '';
    const reader = new MessageReader();
    // Armed while a message is partly read; any byte resets the idle timer, this one only a complete message.
    let queryTimer: NodeJS.Timeout | undefined;
    const stopQueryTimer = () => {
      clearTimeout(queryTimer);
      queryTimer = undefined;
    };
    const onQueryTimeout = () => {
      queryTimer = undefined;
      // Reading is paused by us (too many queries unanswered), not by the client: wait for the answers.
      if (socket.isPaused()) {
        queryTimer = setTimeout(onQueryTimeout, options.queryTimeoutMs);
        return;
      }
      metrics.queryTimeouts.inc();
      socket.destroy();
    };
    socket.on('close', () => {
      stopQueryTimer();
      connections.delete(socket);
      perClient.release(network);
      if (draining && connections.size === 0) whenDrained?.();
    });

    const send = (out: Buffer | null) => {
      state.pending--;
      touch(socket, state);
      if (out && !socket.destroyed) socket.write(frameMessage(out));
      if (draining) {
        if (state.pending === 0) finish(socket);
      } else if (state.pending < options.maxPipelined && socket.isPaused()) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      if (draining) return;
      let completed = 0;
      reader.push(chunk, (packet) => {
        completed++;
        state.pending++;
        try {
          const out = admission === Admission.ANSWER ? wireHandler.handle(packet, 'tcp', false, client) : wireHandler.answerStopped(packet, 'tcp', admission, client);
          if (out instanceof Promise) out.then(send, (err: unknown) => { log.error({ err }, 'TCP reply failed'); send(null); });
          else send(out);
        } catch (err) {
          log.error({ err }, 'TCP query handling failed');
          send(null);
        }
      });
      if (completed > 0) {
        stopQueryTimer();
        touch(socket, state);
      }
      if (reader.partialBytes > 0 && queryTimer === undefined && !socket.destroyed) queryTimer = setTimeout(onQueryTimeout, options.queryTimeoutMs);
      if (state.pending >= options.maxPipelined) socket.pause();
    });
  });
  // No server.maxConnections: Node would refuse past it silently, before the idlest could be closed.

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      // A listen error rejects (the caller reports it once); errors after that are logged.
      server.off('error', reject);
      server.on('error', (err) => log.error({ err }, 'TCP server error'));
      const addr = server.address() as net.AddressInfo;
      resolve({
        address: { host: addr.address, port: addr.port },
        drain: () => {
          draining = true;
          server.close();
          const drained = new Promise<void>((done) => (whenDrained = done));
          for (const [socket, { pending }] of connections) if (pending === 0) finish(socket);
          if (connections.size === 0) whenDrained?.();
          return drained;
        },
        close: () =>
          new Promise<void>((done) => {
            draining = true;
            for (const socket of connections.keys()) socket.destroy();
            if (!server.listening) return done();
            server.close(() => done());
          }),
      });
    });
  });
}
