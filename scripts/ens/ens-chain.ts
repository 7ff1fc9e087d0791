// ENS on a local chain (anvil): deploys an ENSRegistry and a PublicResolver (npm @ensdomains
// artifacts) and the test resolvers in fixtures/ens with viem, and writes names (owner chain from
// the root down, resolver, contenthash). Owns the typed ABIs. Used by the ENS tests (through
// test/integration/support/ens-chain.ts), the ENS benchmark and `npm run ens:dev`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { createPublicClient, createWalletClient, getAddress, http, isHex, toHex } from 'viem';
import type { Abi, Address, Chain, Hex, PublicClient, WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { PrivateKeyAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { labelhash, namehash } from 'viem/ens';
import { ANVIL_ACCOUNT0_KEY, rpc } from './anvil-node.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export const ensRegistryAbi = [
  { type: 'function', name: 'owner', stateMutability: 'view', inputs: [{ name: 'node', type: 'bytes32' }], outputs: [{ type: 'address' }] },
  { type: 'function', name: 'resolver', stateMutability: 'view', inputs: [{ name: 'node', type: 'bytes32' }], outputs: [{ type: 'address' }] },
  { type: 'function', name: 'setOwner', stateMutability: 'nonpayable', inputs: [{ name: 'node', type: 'bytes32' }, { name: 'owner', type: 'address' }], outputs: [] },
  { type: 'function', name: 'setResolver', stateMutability: 'nonpayable', inputs: [{ name: 'node', type: 'bytes32' }, { name: 'resolver', type: 'address' }], outputs: [] },
  {
    type: 'function',
    name: 'setSubnodeOwner',
    stateMutability: 'nonpayable',
    inputs: [{ name: 'node', type: 'bytes32' }, { name: 'label', type: 'bytes32' }, { name: 'owner', type: 'address' }],
    outputs: [],
  },
] as const;

/** contenthash (ENSIP-7) and ERC-165 on a resolver (PublicResolver has both). */
export const contenthashResolverAbi = [
  { type: 'function', name: 'contenthash', stateMutability: 'view', inputs: [{ name: 'node', type: 'bytes32' }], outputs: [{ type: 'bytes' }] },
  { type: 'function', name: 'setContenthash', stateMutability: 'nonpayable', inputs: [{ name: 'node', type: 'bytes32' }, { name: 'hash', type: 'bytes' }], outputs: [] },
  { type: 'function', name: 'supportsInterface', stateMutability: 'view', inputs: [{ name: 'interfaceID', type: 'bytes4' }], outputs: [{ type: 'bool' }] },
] as const;

/** ENSIP-10 IExtendedResolver (WildcardResolver, OffchainResolver). */
export const extendedResolverAbi = [
  { type: 'function', name: 'resolve', stateMutability: 'view', inputs: [{ name: 'name', type: 'bytes' }, { name: 'data', type: 'bytes' }], outputs: [{ type: 'bytes' }] },
  { type: 'function', name: 'supportsInterface', stateMutability: 'view', inputs: [{ name: 'interfaceID', type: 'bytes4' }], outputs: [{ type: 'bool' }] },
] as const;

export const ENSIP10_INTERFACE_ID = '0x9061b923' as const;
export const CONTENTHASH_INTERFACE_ID = '0xbc1c58d1' as const;

interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

const require = createRequire(import.meta.url);
const loadArtifact = (path: string): Artifact => {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { abi: Abi; bytecode: string };
  return { abi: j.abi, bytecode: (j.bytecode.startsWith('0x') ? j.bytecode : `0x${j.bytecode}`) as Hex };
};
export const artifacts = {
  ENSRegistry: () => loadArtifact(require.resolve('@ensdomains/ens/build/contracts/ENSRegistry.json')),
  PublicResolver: () => loadArtifact(require.resolve('@ensdomains/resolver/build/contracts/PublicResolver.json')),
  WildcardResolver: () => loadArtifact(join(repoRoot, 'fixtures', 'ens', 'WildcardResolver.json')),
  OffchainResolver: () => loadArtifact(join(repoRoot, 'fixtures', 'ens', 'OffchainResolver.json')),
  TestUniversalResolver: () => loadArtifact(join(repoRoot, 'fixtures', 'ens', 'TestUniversalResolver.json')),
};

export interface RegisterOptions {
  /** final owner of the name (default: the deployer, anvil account 0) */
  owner?: Address;
  /** resolver set on the name (default: the deployed PublicResolver; null: none) */
  resolver?: Address | null;
  /** contenthash written to the (PublicResolver-like) resolver before ownership moves to `owner` */
  contenthash?: Uint8Array | Hex;
}

export interface EnsChain {
  rpcUrl: string;
  chain: Chain;
  account: PrivateKeyAccount;
  publicClient: PublicClient;
  walletClient: WalletClient;
  /** ENSRegistry address (root owned by account) */
  registry: Address;
  /** PublicResolver address (constructed with the registry) */
  resolver: Address;
  /** ms spent deploying the registry and the resolver */
  deployMs: number;
  /** Creates `name` and its ancestors (setSubnodeOwner from the root down), sets resolver/contenthash/owner; returns namehash. */
  registerName(name: string, opts?: RegisterOptions): Promise<Hex>;
  /** registry.setResolver(namehash(name), address), sent by the name's current owner. */
  setResolver(name: string, address: Address | null): Promise<void>;
  /** setContenthash on the name's resolver in the registry (or `opts.resolver`), sent by the name's current owner. */
  setContenthash(name: string, value: Uint8Array | Hex, opts?: { resolver?: Address }): Promise<void>;
  /** registry.resolver(namehash(name)) (zero address when unset; no walk up). */
  getResolver(name: string): Promise<Address>;
  /** Deploys the test WildcardResolver (fixtures/ens) answering `contenthash` for any name. */
  deployWildcardResolver(contenthash: Uint8Array | Hex): Promise<Address>;
  /** Deploys the test OffchainResolver (fixtures/ens) sending clients to `gatewayUrl` (EIP-3668 template). */
  deployOffchainResolver(gatewayUrl: string): Promise<Address>;
  /** Deploys any artifact from account 0; returns its address. */
  deploy(artifact: Artifact, args?: readonly unknown[]): Promise<Address>;
}

const ZERO: Address = '0x0000000000000000000000000000000000000000';
const asHex = (v: Uint8Array | Hex): Hex => (typeof v === 'string' ? (isHex(v) ? v : (() => { throw new Error(`not hex: ${v}`); })()) : toHex(v));

/** Deploys ENSRegistry + PublicResolver on the chain at rpcUrl (anvil, chain id 31337) from anvil account 0. */
export async function deployEns(rpcUrl: string): Promise<EnsChain> {
  const chain: Chain = { ...foundry, rpcUrls: { default: { http: [rpcUrl] } } };
  const account = privateKeyToAccount(ANVIL_ACCOUNT0_KEY);
  // pollingInterval: receipts on anvil (automine) are there at once; default 4 s polling would dominate.
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 20 }) as PublicClient;
  const walletClient = createWalletClient({ chain, transport: http(rpcUrl), account });

  async function send(from: Address, write: (acct: PrivateKeyAccount | Address) => Promise<Hex>): Promise<void> {
    let hash: Hex;
    if (getAddress(from) === account.address) {
      hash = await write(account);
    } else {
      // anvil can send as anyone: the tests may give names to other owners and still write their records
      await rpc(rpcUrl, 'anvil_impersonateAccount', [from]);
      await rpc(rpcUrl, 'anvil_setBalance', [from, toHex(10n ** 20n)]);
      try {
        hash = await write(from);
      } finally {
        await rpc(rpcUrl, 'anvil_stopImpersonatingAccount', [from]);
      }
    }
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
  }

  async function deploy(artifact: Artifact, args: readonly unknown[] = []): Promise<Address> {
    const hash = await walletClient.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args, account, chain });
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment ${hash} failed`);
    return getAddress(receipt.contractAddress);
  }

  const t0 = performance.now();
  const registry = await deploy(artifacts.ENSRegistry());
  const resolver = await deploy(artifacts.PublicResolver(), [registry]);
  const deployMs = performance.now() - t0;

  const ownerOf = (node: Hex) => publicClient.readContract({ address: registry, abi: ensRegistryAbi, functionName: 'owner', args: [node] });
  const getResolver = (name: string) => publicClient.readContract({ address: registry, abi: ensRegistryAbi, functionName: 'resolver', args: [namehash(name)] });

  const writeRegistry = (from: Address, functionName: 'setOwner' | 'setResolver' | 'setSubnodeOwner', args: readonly [Hex, Address] | readonly [Hex, Hex, Address]) =>
    send(from, (acct) =>
      walletClient.writeContract({ address: registry, abi: ensRegistryAbi, functionName, args, account: acct, chain } as Parameters<typeof walletClient.writeContract>[0]),
    );

  async function setResolver(name: string, address: Address | null): Promise<void> {
    const node = namehash(name);
    await writeRegistry(await ownerOf(node), 'setResolver', [node, address ?? ZERO]);
  }

  async function setContenthash(name: string, value: Uint8Array | Hex, opts: { resolver?: Address } = {}): Promise<void> {
    const node = namehash(name);
    const target = opts.resolver ?? (await getResolver(name));
    if (target === ZERO) throw new Error(`setContenthash(${name}): no resolver set`);
    await send(await ownerOf(node), (acct) =>
      walletClient.writeContract({ address: target, abi: contenthashResolverAbi, functionName: 'setContenthash', args: [node, asHex(value)], account: acct, chain }),
    );
  }

  async function registerName(name: string, opts: RegisterOptions = {}): Promise<Hex> {
    const labels = name.replace(/\.$/, '').split('.');
    if (labels.some((l) => l === '')) throw new Error(`registerName: empty label in "${name}"`);
    // from the TLD down: each node owned by account 0 so it can create the next one
    for (let i = labels.length - 1; i >= 0; i--) {
      const parent = namehash(labels.slice(i + 1).join('.'));
      const node = namehash(labels.slice(i).join('.'));
      if (i > 0 && (await ownerOf(node)) === account.address) continue;
      await writeRegistry(await ownerOf(parent), 'setSubnodeOwner', [parent, labelhash(labels[i]!), account.address]);
    }
    const node = namehash(name);
    const res = opts.resolver === undefined ? resolver : opts.resolver;
    if (res !== null) await writeRegistry(account.address, 'setResolver', [node, res]);
    if (opts.contenthash !== undefined) await setContenthash(name, opts.contenthash);
    if (opts.owner !== undefined && getAddress(opts.owner) !== account.address) await writeRegistry(account.address, 'setOwner', [node, opts.owner]);
    return node;
  }

  return {
    rpcUrl,
    chain,
    account,
    publicClient,
    walletClient,
    registry,
    resolver,
    deployMs,
    registerName,
    setResolver,
    setContenthash,
    getResolver,
    deployWildcardResolver: (contenthash) => deploy(artifacts.WildcardResolver(), [asHex(contenthash)]),
    deployOffchainResolver: (gatewayUrl) => deploy(artifacts.OffchainResolver(), [gatewayUrl]),
    deploy,
  };
}

/** An ipfs-ns contenthash (ENSIP-7: 0xe3 0x01, then a CIDv1 dag-pb sha2-256 of `seed`) and the DNSLink value it stands for. */
export function ipfsContenthash(seed: string): { bytes: Uint8Array; value: string } {
  const cid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(seed).digest()));
  return { bytes: Uint8Array.from([0xe3, 0x01, ...cid.bytes]), value: `/ipfs/${cid.toString()}` };
}
