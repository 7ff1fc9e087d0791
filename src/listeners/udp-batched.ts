// The batched UDP listener: the same work as udp-listener.ts (udp-answer.ts: client gate, wire
// handler, late answers) over the recvmmsg/sendmmsg addon, which hands JS a batch of datagrams per
// wake-up and sends the answers written into its output slots with one syscall. A fault inside the
// transport (a socket error, an exception out of a batch) is reported to `onFault`, never thrown.
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ResolverCore } from '../core/resolver-core.js';
import { InFlight, type RunningListener } from './running-listener.js';
import { answerDatagram, replyWhenResolved, warnIfRecvBufferCapped } from './udp-answer.js';
import type { UdpBatchAddon } from './udp-batch-addon.js';

export interface BatchedUdpOptions {
  recvBufferSize: number;
  /**
   * A --workers process: read the one socket node:cluster's primary holds for all (as the node:dgram
   * path does), so a worker that dies loses nothing queued; otherwise bind a socket of our own.
   */
  shared: boolean;
  /** Datagrams read per recvmmsg. */
  batch?: number;
  /** The transport failed at run time (code: errno name or EJSCALLBACK; syscall: where); the socket is closed already. */
  onFault: (code: string, syscall: string) => void;
}

export interface BatchedUdpListener extends RunningListener {
  /** Tests: the next read fails with `errno`, as a broken socket would. */
  injectFault(errno: number): void;
}

const DEFAULT_BATCH = 64;
/** Int32s per datagram in `inMeta`: length, address text length (-1: as the datagram before), sockaddr length, offset in `in`. */
const IN_META = 4;
const BIND_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

interface UdpHandle {
  fd: number;
  recvStop(): number;
}

/**
 * The libuv handle under a node:dgram socket (its fd, and to stop Node reading it), read from the
 * socket's internal state: `socket._handle` says the same but prints a deprecation warning (DEP0112).
 */
function udpHandleOf(socket: dgram.Socket): UdpHandle {
  const state = Object.getOwnPropertySymbols(socket).find((sym) => sym.description === 'state symbol');
  const handle = state ? (socket as unknown as Record<symbol, { handle?: UdpHandle }>)[state]?.handle : undefined;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.recvStop !== 'function') {
    throw new Error('the node:dgram socket of this worker has no file descriptor to read (a Node without it): batched UDP cannot share it');
  }
  return handle;
}

export async function startBatchedUdpListener(core: ResolverCore, addon: UdpBatchAddon, host: string, port: number, options: BatchedUdpOptions): Promise<RunningListener & BatchedUdpListener> {
  const { log } = core;
  const inFlight = new InFlight();
  let draining = false;
  let closed = false;
  let handle: object | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    draining = true;
    const h = handle;
    handle = undefined;
    if (h) addon.close(h);
    closeShared();
  };
  // Views over the addon's buffers, set once open returns (no batch comes before the next loop turn).
  let input!: Buffer;
  let output!: Buffer;
  let text!: Buffer;
  let addr!: Uint8Array;
  let inMeta!: Int32Array;
  let outMeta!: Int32Array;
  let outSlot = 0;
  let textSlot = 0;
  let addrSlot = 0;

  /** The client address of the datagram before (the addon says when the next one comes from the same). */
  let lastAddress = '';

  /** Answers `count` datagrams; returns how many answers it wrote into the output slots. */
  const onBatch = (count: number): number => {
    if (draining) return 0;
    // One copy of the batch's datagrams (the addon packed them from the start of `in`): the slots are
    // overwritten by the next batch while a miss may still hold its packet.
    const last = (count - 1) * IN_META;
    const batchBytes = Buffer.from(input.subarray(0, inMeta[last + 3]! + inMeta[last]!));
    let answers = 0;
    for (let i = 0; i < count; i++) {
      const meta = i * IN_META;
      const offset = inMeta[meta + 3]!;
      const packet = batchBytes.subarray(offset, offset + inMeta[meta]!);
      const textLength = inMeta[meta + 1]!;
      if (textLength >= 0) lastAddress = text.toString('latin1', i * textSlot, i * textSlot + textLength);
      const address = lastAddress;
      const out = answerDatagram(core, packet, address);
      if (out === null) continue;
      if (out instanceof Promise) {
        const to = addr.slice(i * addrSlot, i * addrSlot + inMeta[meta + 2]!);
        replyWhenResolved(out, inFlight, log, (late, sent) => {
          if (handle) addon.sendTo(handle, late, to);
          sent();
        });
        continue;
      }
      if (out.length > outSlot) {
        addon.sendTo(handle!, out, addr.subarray(i * addrSlot, i * addrSlot + inMeta[meta + 2]!));
        continue;
      }
      output.set(out, answers * outSlot);
      outMeta[answers * 2] = out.length;
      outMeta[answers * 2 + 1] = i;
      answers++;
    }
    return answers;
  };
  const onFault = (code: string, syscall: string): void => {
    close();
    options.onFault(code, syscall);
  };

  /** The socket node:cluster shares with this worker (the primary binds it), not read by Node: the addon reads a duplicate of its fd. */
  const clusterShare = (): Promise<dgram.Socket> =>
    new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: options.recvBufferSize });
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => log.error({ err }, 'UDP socket error'));
        try {
          udpHandleOf(socket).recvStop();
          resolve(socket);
        } catch (err) {
          socket.close();
          reject(err as Error);
        }
      });
    });
  let shared: dgram.Socket | undefined;
  const closeShared = (): void => {
    try {
      shared?.close();
    } catch {
      // closed already
    }
    shared = undefined;
  };

  let sock;
  try {
    if (options.shared) {
      shared = await clusterShare();
      const fd = udpHandleOf(shared).fd;
      sock = addon.adopt(fd, options.batch ?? DEFAULT_BATCH, onBatch, onFault);
    } else {
      sock = addon.open(host, port, options.batch ?? DEFAULT_BATCH, false, options.recvBufferSize, onBatch, onFault);
    }
  } catch (err) {
    closeShared();
    // As node:dgram's errors, for listenAs: a bind error names the setting to change.
    const e = err as NodeJS.ErrnoException;
    if (e.code && BIND_ERRORS.has(e.code) && !e.syscall) e.syscall = 'bind';
    throw e;
  }
  handle = sock.handle;
  input = Buffer.from(sock.in);
  output = Buffer.from(sock.out);
  text = Buffer.from(sock.text);
  addr = new Uint8Array(sock.addr);
  inMeta = new Int32Array(sock.inMeta);
  outMeta = new Int32Array(sock.outMeta);
  ({ outSlot, textSlot, addrSlot } = sock);
  warnIfRecvBufferCapped(sock.recvBufferSize / 2, options.recvBufferSize, log);
  return {
    address: { host, port: sock.port },
    drain: () => {
      draining = true;
      return inFlight.whenIdle();
    },
    close: async () => close(),
    injectFault: (errno) => {
      if (handle) addon.injectFault(handle, errno);
    },
  };
}
