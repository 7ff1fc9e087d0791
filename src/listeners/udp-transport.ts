// Chooses how DNS over UDP is read and answered (dns.udpBatching): the batched addon
// (udp-batched.ts) or node:dgram (udp-listener.ts), both over the same answering code (udp-answer.ts).
// `on` without the addon fails the start with a coded error, `auto` falls back; a fault of the
// batched transport at run time moves the listener to node:dgram on the same address, logged once.
import cluster from 'node:cluster';
import { CodedError } from '../errors.js';
import type { ResolverCore } from '../core/resolver-core.js';
import type { RunningListener } from './running-listener.js';
import { startBatchedUdpListener, type BatchedUdpListener } from './udp-batched.js';
import { loadUdpBatchAddon } from './udp-batch-addon.js';
import { startUdpListener } from './udp-listener.js';
import { UdpListenerMetrics, type UdpPath } from './udp-metrics.js';

export type UdpBatching = 'auto' | 'on' | 'off';

export interface UdpTransportOptions {
  recvBufferSize: number;
  batching: UdpBatching;
}

export interface UdpTransportListener extends RunningListener {
  /** The transport in use now (a run-time fault moves `batched` to `node`). */
  path(): UdpPath;
  /** Tests: the batched transport's next read fails with `errno` (nothing on the node path). */
  injectFault(errno: number): void;
  /** Resolves once a run-time fallback has finished (the node:dgram socket is bound or failed to bind). */
  fallenBack(): Promise<void>;
}

export const UDP_BATCHING_SETTING = 'dns.udpBatching (DNSLINKD_UDP_BATCHING)';

export async function startUdpTransport(core: ResolverCore, host: string, port: number, options: UdpTransportOptions): Promise<UdpTransportListener> {
  const { log } = core;
  const metrics = new UdpListenerMetrics(core.metrics.registry);
  // A --workers process reads the socket node:cluster's primary holds for all, on either path.
  const shared = cluster.isWorker;
  const startNode = (onPort: number) => startUdpListener(core, host, onPort, { recvBufferSize: options.recvBufferSize });
  let current: RunningListener;
  let batched: (RunningListener & BatchedUdpListener) | undefined;
  let path: UdpPath = 'node';
  let fallback: Promise<void> = Promise.resolve();
  let closing = false;

  if (options.batching !== 'off') {
    const load = loadUdpBatchAddon();
    if (!load.ok) {
      if (options.batching === 'on') throw new CodedError('UDP_BATCHING_UNAVAILABLE', `dns.udpBatching is on but the batched UDP transport is unavailable: ${load.reason}; or set ${UDP_BATCHING_SETTING} to auto or off`);
      log.info({ setting: 'dns.udpBatching', reason: load.reason }, 'batched UDP unavailable: DNS over UDP uses node:dgram');
    } else {
      const onFault = (code: string, syscall: string): void => {
        path = 'node';
        metrics.inUse('node');
        if (!closing) {
          fallback = startNode(batched?.address.port ?? port).then(
            (listener) => {
              if (closing) return listener.close();
              current = listener;
              log.info({ dns: `${host}:${listener.address.port}` }, 'DNS over UDP answered by node:dgram');
            },
            (err: unknown) => log.error({ err }, 'DNS over UDP cannot fall back to node:dgram: no UDP listener left (restart dnslinkd)'),
          );
        }
        log.error({ code, syscall, setting: 'dns.udpBatching' }, 'batched UDP failed at run time: DNS over UDP moves to node:dgram on the same address');
      };
      try {
        batched = await startBatchedUdpListener(core, load.addon, host, port, { recvBufferSize: options.recvBufferSize, shared, onFault });
        path = 'batched';
      } catch (err) {
        const { syscall } = err as NodeJS.ErrnoException;
        if (syscall === 'bind' || options.batching === 'on') throw err; // the address's problem (listenAs names the setting), or no fallback wanted
        log.warn({ err, setting: 'dns.udpBatching' }, 'batched UDP socket failed to open: DNS over UDP uses node:dgram');
      }
    }
  }
  current = batched ?? (await startNode(port));
  metrics.inUse(path);
  const address = current.address;
  return {
    address,
    path: () => path,
    injectFault: (errno) => batched?.injectFault(errno),
    fallenBack: () => fallback,
    drain: async () => {
      await fallback;
      await Promise.all([batched?.drain(), current.drain()]);
    },
    close: async () => {
      closing = true;
      await fallback;
      await Promise.allSettled([batched?.close(), current.close()]);
    },
  };
}
