// ENS resolution through a Universal Resolver (ENSIP-23) on anvil: a test UR (fixtures/ens/
// TestUniversalResolver.sol) deployed beside the registry; one daemon pointed at it
// (ens.universalResolver), one at an address without code (the registry walk). Both give the same
// answers on the same names (plain, wildcard, offchain through CCIP-Read, unset, missing); the UR's
// errors are mapped (ResolverNotFound -> NXDOMAIN, HttpError / ResolverError -> SERVFAIL + EDE).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namehash } from 'viem/ens';
import type { Address } from 'viem';
import { digAt, requireBinaries, requireBuild, startDnslinkd, stopAll, txtValue } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { startCcipGateway, type CcipGateway } from './support/ccip-gateway.js';
import { artifacts, deployEns, ipfsContenthash, type EnsChain } from './support/ens-chain.js';

const ok = requireBinaries('dig') && requireBuild() && requireAnvil();
/** Names both paths answer alike (the failing ones are set to fail in the UR only). */
const NAMES = ['_dnslink.site.eth', 'site.eth', '_dnslink.ipns.eth', '_dnslink.any.wild.eth', '_dnslink.wild.eth', '_dnslink.off.eth', '_dnslink.unset.eth', '_dnslink.nope.eth', '_dnslink.deep.site.eth'];

describe.skipIf(!ok)('ENS through the Universal Resolver (anvil)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let gateway: CcipGateway;
  let universal: Address;
  let viaUr: DnslinkdHandle;
  let viaRegistry: DnslinkdHandle;

  const answer = async (d: DnslinkdHandle, name: string) => {
    const r = await digAt(d.dnsPort, name, 'TXT');
    return { status: r.parsed?.status, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)), ede: r.parsed?.ede };
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    gateway = await startCcipGateway({ contenthash: ipfsContenthash('off').bytes });
    await ens.registerName('site.eth', { contenthash: ipfsContenthash('site').bytes });
    await ens.registerName('ipns.eth', { contenthash: Buffer.from('e5010170000f6170702e756e69737761702e6f7267', 'hex') });
    await ens.registerName('wild.eth', { resolver: await ens.deployWildcardResolver(ipfsContenthash('wild').bytes) });
    await ens.registerName('off.eth', { resolver: await ens.deployOffchainResolver(gateway.url) });
    await ens.registerName('unset.eth');
    await ens.registerName('http.eth', { contenthash: ipfsContenthash('http').bytes });
    await ens.registerName('broken.eth', { contenthash: ipfsContenthash('broken').bytes });
    const artifact = artifacts.TestUniversalResolver();
    universal = await ens.deploy(artifact, [ens.registry]);
    for (const [name, kind] of [['http.eth', 1], ['broken.eth', 2]] as const) {
      const hash = await ens.walletClient.writeContract({ address: universal, abi: artifact.abi, functionName: 'setFailure', args: [namehash(name), kind], account: ens.account, chain: ens.chain });
      await ens.publicClient.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    }
    const base = { rpc: [anvil.url], registry: ens.registry, ttl: 60, ccipTimeoutMs: 1000, watchIntervalMs: 0 };
    viaUr = await startDnslinkd({ upstreams: [], config: { ens: { ...base, universalResolver: universal } } });
    // The default (mainnet's address) has no code on anvil: the registry walk.
    viaRegistry = await startDnslinkd({ upstreams: [], config: { ens: base } });
  });
  afterAll(async () => {
    await viaUr?.stop();
    await viaRegistry?.stop();
    await gateway?.close();
    await anvil?.stop();
    await stopAll();
  });

  it('says in the start log which path each daemon uses', () => {
    expect(viaUr.logs()).toMatch(/"ensResolution":"universal-resolver"/);
    expect(viaRegistry.logs()).toMatch(/"ensResolution":"registry"/);
  });

  it('the Universal Resolver path and the registry path give the same answers on the same names', async () => {
    for (const name of NAMES) {
      const [ur, registry] = [await answer(viaUr, name), await answer(viaRegistry, name)];
      expect({ name, ...ur }).toEqual({ name, ...registry });
    }
    // Not all alike by accident: values, an unset name and a missing one are among them.
    expect((await answer(viaUr, '_dnslink.off.eth')).values).toEqual([`dnslink=${ipfsContenthash('off').value}`]);
    expect((await answer(viaUr, '_dnslink.any.wild.eth')).values).toEqual([`dnslink=${ipfsContenthash('wild').value}`]);
    expect((await answer(viaUr, '_dnslink.nope.eth')).status).toBe('NXDOMAIN');
    // The offchain name went through the UR: the gateway was asked with the UR as sender (EIP-3668).
    expect(gateway.received.some((r) => r.sender.toLowerCase() === universal.toLowerCase())).toBe(true);
  });

  it("maps the UR's errors: HttpError and ResolverError are SERVFAIL with the reason in an EDE", async () => {
    const http = await answer(viaUr, '_dnslink.http.eth');
    expect(http).toMatchObject({ status: 'SERVFAIL', values: [], ede: { text: expect.stringMatching(/gateway failed: HTTP 503 gateway down/) } });
    const broken = await answer(viaUr, '_dnslink.broken.eth');
    expect(broken).toMatchObject({ status: 'SERVFAIL', values: [], ede: { text: expect.stringMatching(/resolver failed: resolver broken/) } });
    // The registry walk does not go through the UR: the same names answer there.
    expect((await answer(viaRegistry, '_dnslink.http.eth')).values).toEqual([`dnslink=${ipfsContenthash('http').value}`]);
  });
});
