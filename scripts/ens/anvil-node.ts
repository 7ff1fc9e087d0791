// A local Ethereum node (anvil, from the npm package @foundry-rs/anvil): where its binary is
// ($ANVIL_BIN, the npm platform package, or PATH), its chain id and funded account, one JSON-RPC
// call. Shared by the ENS tests (test/integration/support/anvil.ts) and `npm run ens:dev`.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

export const ANVIL_CHAIN_ID = 31337;
/** anvil's first default account (mnemonic "test test ... junk"), funded with 10,000 ETH. */
export const ANVIL_ACCOUNT0_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
export const ANVIL_ACCOUNT0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' as const;

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
  return onPath('anvil');
}


function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
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
