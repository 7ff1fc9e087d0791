// A local Ethereum node (anvil, from the npm package @foundry-rs/anvil) on 127.0.0.1 for the ENS
// tests: chain id 31337, anvil's default funded accounts, ready once it answers eth_chainId. Owns
// the loud skip on a dev machine (error in CI) and stopping it. Always stopped. The binary lookup,
// constants and RPC call are scripts/ens/anvil-node.ts (shared with `npm run ens:dev`).
import { findAnvil, rpc, ANVIL_CHAIN_ID } from '../../../scripts/ens/anvil-node.js';
import { missing } from './binaries.js';
import { exitedWith, spawnManaged, startOnFreePort, waitFor } from './proc.js';
import type { Managed } from './proc.js';

export { ANVIL_ACCOUNT0, ANVIL_ACCOUNT0_KEY, ANVIL_CHAIN_ID, findAnvil, rpc } from '../../../scripts/ens/anvil-node.js';

export interface AnvilHandle {
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  proc: Managed;
  /** ms from spawn to the first eth_chainId answer */
  startMs: number;
  logs(): string;
  stop(): Promise<void>;
}

/** True when anvil can be found. Missing: throws in CI, warns loudly and returns false otherwise (`describe.skipIf(!ok)`). */
export function requireAnvil(): boolean {
  return findAnvil() ? true : missing(`anvil not found (npm install: @foundry-rs/anvil and its ${process.platform}-${process.arch} package; or set ANVIL_BIN)`);
}

/** Starts anvil on a free loopback port (3 attempts) and waits (at most 15 s) for eth_chainId. */
export async function startAnvil(opts: { port?: number; extraArgs?: string[] } = {}): Promise<AnvilHandle> {
  const bin = findAnvil();
  if (!bin) throw new Error('anvil not found (call requireAnvil() first)');
  let started = 0;
  return startOnFreePort(
    opts.port,
    (port): AnvilHandle => {
      started = performance.now();
      const proc = spawnManaged('anvil', bin, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(ANVIL_CHAIN_ID), ...(opts.extraArgs ?? [])]);
      return { port, url: `http://127.0.0.1:${port}`, proc, startMs: 0, logs: () => proc.output(), stop: () => proc.stop() };
    },
    async (handle) => {
      await waitFor(`anvil on ${handle.url}`, async () => Number(await rpc<string>(handle.url, 'eth_chainId', [], 1000)) === ANVIL_CHAIN_ID, 15_000, {
        intervalMs: 25,
        abortIf: exitedWith(handle.proc),
      });
      handle.startMs = performance.now() - started;
    },
  );
}
