// Loads the batched UDP addon (native/udp-batch, built at install by native/udp-batch/build.mjs)
// once per process, and says why when it cannot: not built (no compiler or headers at install),
// not Linux, or a file that does not load. DNSLINKD_UDP_BATCH_ADDON names another file (tests).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions (native/udp-batch/udp-batch.cc says what each does). */
export interface UdpBatchAddon {
  open(
    host: string,
    port: number,
    batch: number,
    reusePort: boolean,
    recvBufferSize: number,
    onBatch: (count: number) => number,
    onFault: (code: string, syscall: string) => void,
  ): BatchSocketHandle;
  adopt(fd: number, batch: number, onBatch: (count: number) => number, onFault: (code: string, syscall: string) => void): BatchSocketHandle;
  sendTo(handle: object, bytes: Buffer, sockaddr: Uint8Array): 0 | string;
  stats(handle: object): [batches: number, datagrams: number, sendDropped: number];
  injectFault(handle: object, errno: number): void;
  close(handle: object): void;
}

export interface BatchSocketHandle {
  handle: object;
  port: number;
  /** SO_RCVBUF as the kernel reports it (twice what it grants on Linux). */
  recvBufferSize: number;
  in: ArrayBuffer;
  out: ArrayBuffer;
  text: ArrayBuffer;
  addr: ArrayBuffer;
  inMeta: ArrayBuffer;
  outMeta: ArrayBuffer;
  inSlot: number;
  outSlot: number;
  textSlot: number;
  addrSlot: number;
}

export const ADDON_PATH_ENV = 'DNSLINKD_UDP_BATCH_ADDON';
const DEFAULT_ADDON_PATH = fileURLToPath(new URL('../../native/udp-batch/build/udp-batch.node', import.meta.url));

export type AddonLoad = { ok: true; addon: UdpBatchAddon; path: string } | { ok: false; reason: string };

const loads = new Map<string, AddonLoad>();

/** The addon, or why it is not there (the same answer for a file for the life of the process). */
export function loadUdpBatchAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  const path = env[ADDON_PATH_ENV] || DEFAULT_ADDON_PATH;
  const known = loads.get(path);
  if (known) return known;
  let loaded: AddonLoad;
  if (process.platform !== 'linux') loaded = { ok: false, reason: `recvmmsg/sendmmsg are Linux-only (this is ${process.platform})` };
  else if (!existsSync(path)) loaded = { ok: false, reason: `the addon was not built at install (${path} missing: no C++ compiler or Node headers then; install build-essential and run node native/udp-batch/build.mjs)` };
  else {
    try {
      loaded = { ok: true, addon: createRequire(import.meta.url)(path) as UdpBatchAddon, path };
    } catch (err) {
      loaded = { ok: false, reason: `${path} does not load: ${(err as Error).message}` };
    }
  }
  loads.set(path, loaded);
  return loaded;
}
