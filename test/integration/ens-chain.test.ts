// The ENS local-chain infrastructure proved with viem alone (no dnslinkd): anvil from npm, the
// registry + PublicResolver, an ENSIP-10 wildcard resolver and an EIP-3668 offchain resolver with
// its gateway, each read the way a client resolves a contenthash.
import { createHash } from 'node:crypto';
import { CID, varint } from 'multiformats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFunctionResult, encodeFunctionData, toHex, zeroAddress } from 'viem';
import type { Address, Hex } from 'viem';
import { namehash, packetToBytes } from 'viem/ens';
import { requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { waitFor } from './support/proc.js';
import { startCcipGateway, type CcipGateway } from './support/ccip-gateway.js';
import { CONTENTHASH_INTERFACE_ID, contenthashResolverAbi, deployEns, ENSIP10_INTERFACE_ID, ensRegistryAbi, extendedResolverAbi, type EnsChain } from './support/ens-chain.js';

const ok = requireAnvil();

/** ENSIP-7 ipfs contenthash: 0xe3 (ipfs-ns) 0x01 (CIDv1) 0x70 (dag-pb) 0x12 0x20 (sha2-256, 32 bytes) digest */
const ipfsContenthash = (seed: string): Hex => `0xe30101701220${createHash('sha256').update(seed).digest('hex')}`;
const ANVIL_ACCOUNT1: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

describe.skipIf(!ok)('ENS on a local anvil chain (viem only)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let gateway: CcipGateway;

  beforeAll(async () => {
    anvil = await startAnvil();
    console.log(`anvil ready in ${anvil.startMs.toFixed(0)} ms on ${anvil.url}`);
    ens = await deployEns(anvil.url);
    console.log(`ENSRegistry + PublicResolver deployed in ${ens.deployMs.toFixed(0)} ms`);
    gateway = await startCcipGateway();
  });
  afterAll(async () => {
    await gateway?.close();
    await anvil?.stop();
  });

  const registryResolver = (name: string) => ens.publicClient.readContract({ address: ens.registry, abi: ensRegistryAbi, functionName: 'resolver', args: [namehash(name)] });

  /** The client-side walk: the closest ancestor (or the name) with a resolver in the registry. */
  async function findResolver(name: string): Promise<{ resolver: Address; at: string } | undefined> {
    for (let n = name; n; n = n.includes('.') ? n.slice(n.indexOf('.') + 1) : '') {
      const resolver = await registryResolver(n);
      if (resolver !== zeroAddress) return { resolver, at: n };
    }
    return undefined;
  }

  /** contenthash(name) as a client does it: resolve(dnsEncode(name), contenthash(node)) when ENSIP-10, else contenthash(node). */
  async function readContenthash(name: string): Promise<Hex | undefined> {
    const found = await findResolver(name);
    if (!found) return undefined;
    const node = namehash(name);
    const client = ens.publicClient;
    if (await client.readContract({ address: found.resolver, abi: extendedResolverAbi, functionName: 'supportsInterface', args: [ENSIP10_INTERFACE_ID] })) {
      const call = encodeFunctionData({ abi: contenthashResolverAbi, functionName: 'contenthash', args: [node] });
      const result = await client.readContract({ address: found.resolver, abi: extendedResolverAbi, functionName: 'resolve', args: [toHex(packetToBytes(name)), call] });
      return decodeFunctionResult({ abi: contenthashResolverAbi, functionName: 'contenthash', data: result });
    }
    if (found.at !== name) return undefined; // no wildcard support: only the exact name counts
    return client.readContract({ address: found.resolver, abi: contenthashResolverAbi, functionName: 'contenthash', args: [node] });
  }

  it('site.eth: PublicResolver contenthash read through the registry', async () => {
    const value = ipfsContenthash('site.eth');
    const t0 = performance.now();
    await ens.registerName('site.eth', { contenthash: value });
    console.log(`registerName(site.eth) with contenthash in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(await ens.getResolver('site.eth')).toBe(ens.resolver);
    expect(await ens.publicClient.readContract({ address: ens.resolver, abi: contenthashResolverAbi, functionName: 'supportsInterface', args: [CONTENTHASH_INTERFACE_ID] })).toBe(true);
    const t1 = performance.now();
    const got = await readContenthash('site.eth');
    console.log(`contenthash(site.eth) read in ${(performance.now() - t1).toFixed(1)} ms`);
    expect(got).toBe(value);
    // it is an ENSIP-7 ipfs contenthash carrying a CIDv1
    const bytes = Buffer.from(got!.slice(2), 'hex');
    const [code, n] = varint.decode(bytes);
    expect(code).toBe(0xe3);
    expect(CID.decode(bytes.subarray(n)).version).toBe(1);
    // no wildcard on a PublicResolver: a subname without its own resolver has no contenthash
    expect(await readContenthash('nope.site.eth')).toBeUndefined();
    expect(await readContenthash('unregistered.eth')).toBeUndefined();
  });

  it('names owned by another account: records written as that owner; setResolver/setContenthash update', async () => {
    await ens.registerName('deep.sub.site.eth', { owner: ANVIL_ACCOUNT1 });
    expect(await ens.publicClient.readContract({ address: ens.registry, abi: ensRegistryAbi, functionName: 'owner', args: [namehash('deep.sub.site.eth')] })).toBe(ANVIL_ACCOUNT1);
    expect(await ens.publicClient.readContract({ address: ens.registry, abi: ensRegistryAbi, functionName: 'owner', args: [namehash('sub.site.eth')] })).toBe(ens.account.address);
    await ens.setContenthash('deep.sub.site.eth', Buffer.from(ipfsContenthash('deep').slice(2), 'hex'));
    expect(await readContenthash('deep.sub.site.eth')).toBe(ipfsContenthash('deep'));
    await ens.setResolver('deep.sub.site.eth', null);
    expect(await readContenthash('deep.sub.site.eth')).toBeUndefined();
    // site.eth untouched by its subnames' registration
    expect(await readContenthash('site.eth')).toBe(ipfsContenthash('site.eth'));
  });

  it('wild.eth: ENSIP-10 wildcard resolver answers any subname through the parent', async () => {
    const value = ipfsContenthash('wild');
    const wildcard = await ens.deployWildcardResolver(value);
    await ens.registerName('wild.eth', { resolver: wildcard });
    expect(await ens.publicClient.readContract({ address: wildcard, abi: extendedResolverAbi, functionName: 'supportsInterface', args: ['0x01ffc9a7'] })).toBe(true);
    expect(await registryResolver('anything.wild.eth')).toBe(zeroAddress);
    expect(await findResolver('anything.wild.eth')).toEqual({ resolver: wildcard, at: 'wild.eth' });
    expect(await readContenthash('anything.wild.eth')).toBe(value);
    expect(await readContenthash('a.b.c.wild.eth')).toBe(value);
    expect(await readContenthash('wild.eth')).toBe(value);
  });

  it('off.eth: EIP-3668 OffchainLookup followed by viem (GET template), answered by the gateway', async () => {
    const value = ipfsContenthash('off');
    gateway.setContenthash(value);
    const offchain = await ens.deployOffchainResolver(gateway.url);
    await ens.registerName('off.eth', { resolver: offchain });
    const before = gateway.requests;
    const t0 = performance.now();
    expect(await readContenthash('off.eth')).toBe(value);
    console.log(`contenthash(off.eth) via CCIP-Read in ${(performance.now() - t0).toFixed(1)} ms`);
    expect(gateway.requests).toBe(before + 1);
    const req = gateway.received.at(-1)!;
    expect(req.method).toBe('GET');
    expect(req.sender.toLowerCase()).toBe(offchain.toLowerCase());
    expect(req.data.startsWith('0x9061b923')).toBe(true); // resolve(bytes,bytes)
    // the gateway's answer changes, the chain does not
    gateway.setContenthash(ipfsContenthash('off-2'));
    expect(await readContenthash('sub.off.eth')).toBe(ipfsContenthash('off-2'));
  });

  it('off-post.eth: POST gateway (no {data} in the URL); a failing gateway makes the read throw', async () => {
    gateway.setContenthash(ipfsContenthash('post'));
    await ens.registerName('off-post.eth', { resolver: await ens.deployOffchainResolver(gateway.postUrl) });
    expect(await readContenthash('off-post.eth')).toBe(ipfsContenthash('post'));
    expect(gateway.received.at(-1)!.method).toBe('POST');
    gateway.setMode('error');
    try {
      await expect(readContenthash('off-post.eth')).rejects.toThrow();
    } finally {
      gateway.setMode('answer');
    }
  });

  it('the gateway can hang (for timeout tests): the request is counted, never answered, and close() ends it', async () => {
    const g = await startCcipGateway({ mode: 'hang' });
    try {
      const t0 = performance.now();
      await expect(fetch(g.url.replace('{sender}', zeroAddress).replace('{data}', '0x9061b923'), { signal: AbortSignal.timeout(200) })).rejects.toThrow();
      expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
      expect(g.requests).toBe(1);
      void fetch(g.postUrl, { method: 'POST', body: JSON.stringify({ sender: zeroAddress, data: '0x' }) }).catch(() => undefined);
      await waitFor('second request', async () => g.requests === 2, 2000, { intervalMs: 10 });
    } finally {
      await g.close(); // does not wait for the hanging POST
    }
  });
});
