// A local Ethereum node (anvil, from the npm package @foundry-rs/anvil) on 127.0.0.1 for the ENS
// tests: chain id 31337, anvil's default funded accounts, ready once it answers eth_chainId. Owns
// finding the binary (loud skip on a dev machine, error in CI) and stopping it. Always stopped.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findBinary, missing } from './binaries.js';
import { exitedWith, spawnManaged, startOnFreePort, waitFor } from './proc.js';
import type { Managed } from './proc.js';

export const ANVIL_CHAIN_ID = 31337;
/** anvil's first default account (mnemonic "test test ... junk"), funded with 10,000 ETH. */
export const ANVIL_ACCOUNT0_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
export const ANVIL_ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const;

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

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': 'anvil-linux-amd64',
  'linux-arm64': 'anvil-linux-arm64',
  'darwin-x64': 'anvil-darwin-amd64',
  'darwin-arm64': 'anvil-darwin-arm64',
};

/** The anvil binary: $ANVIL_BIN, else the npm platform package, else anvil on PATH; undefined if none. */
export function findAnvil(): string | undefined {
  const candidates: string[] = [];
  if (process.env.ANVIL_BIN) candidates.push(process.env.ANVIL_BIN);
  const pkg = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (pkg) {
    try {
      const require = createRequire(import.meta.url);
      candidates.push(join(dirname(require.resolve(`@foundry-rs/${pkg}/package.json`)), 'bin', 'anvil'));
    } catch {
      // platform package not installed
    }
  }
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not usable
    }
  }
  return findBinary('anvil');
}

/** True when anvil can be found. Missing: throws in CI, warns loudly and returns false otherwise (`describe.skipIf(!ok)`). */
export function requireAnvil(): boolean {
  return findAnvil() ? true : missing(`anvil not found (npm install: @foundry-rs/anvil and its ${process.platform}-${process.arch} package; or set ANVIL_BIN)`);
}

/** One JSON-RPC request; throws on HTTP or RPC error or after timeoutMs. */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 2000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
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
