// ENS names through dnslinkd, on a real local chain (anvil, the real ENSRegistry and PublicResolver,
// compiled wildcard and offchain test resolvers, a CCIP gateway): ipfs and ipns contenthashes, an
// unsupported namespace, unset and unregistered names, a wildcard and an offchain name, upper case
// and punycode, a first RPC down, a hanging gateway, a change on chain shown after a flush, and
// every RPC down with the stale answer served. Over UDP (dig) and the resolution API.
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, freePort, requireBinaries, requireBuild, sleep, startDnslinkd, startNsd, stopAll, txtValue, zone } from './support/index.js';
import type { DnslinkdHandle, NsdHandle } from './support/index.js';
import { requireAnvil, startAnvil, type AnvilHandle } from './support/anvil.js';
import { startCcipGateway, type CcipGateway } from './support/ccip-gateway.js';
import { deployEns, ipfsContenthash, type EnsChain } from './support/ens-chain.js';

const ok = requireBinaries('dig') && requireBuild() && requireAnvil();

const IPNS_NAME = Buffer.from('e5010170000f6170702e756e69737761702e6f7267', 'hex'); // ipns://app.uniswap.org
const SWARM = Buffer.from('e40101fa011b20d1de9994b4d039f6548d191eb26786769f580809256b4685ef316805265ea162', 'hex');

describe.skipIf(!ok)('ENS names through dnslinkd (anvil)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let gateway: CcipGateway;
  let hanging: CcipGateway;
  let huge: CcipGateway;
  let d: DnslinkdHandle;
  const site = ipfsContenthash('site');
  const wild = ipfsContenthash('wild');
  const off = ipfsContenthash('off');
  const txt = async (name: string) => {
    const r = await digAt(d.dnsPort, name, 'TXT');
    return { status: r.parsed?.status, ede: r.parsed?.ede, ttl: r.parsed?.answers[0]?.ttl, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    gateway = await startCcipGateway({ contenthash: off.bytes });
    hanging = await startCcipGateway({ mode: 'hang' });
    huge = await startCcipGateway({ contenthash: off.bytes, mode: 'huge' });
    await ens.registerName('site.eth', { contenthash: site.bytes });
    await ens.registerName('bücher.eth', { contenthash: site.bytes });
    await ens.registerName('ipns.eth', { contenthash: IPNS_NAME });
    await ens.registerName('swarm.eth', { contenthash: SWARM });
    await ens.registerName('unset.eth');
    await ens.registerName('wild.eth', { resolver: await ens.deployWildcardResolver(wild.bytes) });
    await ens.registerName('off.eth', { resolver: await ens.deployOffchainResolver(gateway.url) });
    await ens.registerName('hang.eth', { resolver: await ens.deployOffchainResolver(hanging.url) });
    await ens.registerName('huge.eth', { resolver: await ens.deployOffchainResolver(huge.url) });
    const down = `http://127.0.0.1:${await freePort()}`; // nothing listens: the first RPC fails
    d = await startDnslinkd({
      upstreams: [],
      config: {
        ens: { rpc: [down, anvil.url], registry: ens.registry, ttl: 2, ccipTimeoutMs: 500, rpcTimeoutMs: 1000, mirrors: ['eth.example.org'], mirrorAddresses: { A: ['192.0.2.10'], AAAA: ['2001:db8::10'] } },
        cache: { prefetch: false, clientDeadlineMs: 500, staleRefreshMs: 0 },
      },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await gateway?.close();
    await hanging?.close();
    await huge?.close();
    await anvil?.stop();
    await stopAll();
  });

  it('serves an ipfs contenthash as DNSLink at _dnslink.<name> and <name>, through a failed first RPC', async () => {
    const api = (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/site.eth`).then((r) => r.json())) as Record<string, unknown>;
    expect(api).toMatchObject({ source: 'ens', value: site.value, ttl: 2 });
    expect((api.lookups as Array<{ upstream?: string }>)[0]?.upstream).toContain(anvil.url);
    for (const name of ['_dnslink.site.eth', 'site.eth']) {
      expect(await txt(name)).toMatchObject({ status: 'NOERROR', values: [`dnslink=${site.value}`] });
    }
  });

  it('serves an ipns contenthash, and names an unsupported namespace (EDE 21)', async () => {
    expect((await txt('_dnslink.ipns.eth')).values).toEqual(['dnslink=/ipns/app.uniswap.org']);
    expect(await txt('_dnslink.swarm.eth')).toMatchObject({ status: 'NOERROR', values: [], ede: { code: 21, text: expect.stringContaining('swarm') } });
  });

  it('answers NXDOMAIN for an unset and an unregistered name, as DNS would, and caches the miss', async () => {
    expect((await txt('_dnslink.unset.eth')).status).toBe('NXDOMAIN');
    expect((await txt('_dnslink.never-registered.eth')).status).toBe('NXDOMAIN');
    const hits = await d.metric('dnslinkd_cache_hits_total');
    expect((await txt('_dnslink.never-registered.eth')).status).toBe('NXDOMAIN');
    expect(await d.metric('dnslinkd_cache_hits_total')).toBe(hits + 1); // no RPC call for the second miss
  });

  it('an override wins over ENS, as over DNS', async () => {
    const set = await d.admin('PUT', '/admin/v1/overrides/swarm.eth', { value: site.value, reason: 'swarm is not served' });
    expect(set.status).toBe(200);
    expect(await txt('_dnslink.swarm.eth')).toMatchObject({ values: [`dnslink=${site.value}`], ede: { code: 4 } });
    await d.admin('DELETE', '/admin/v1/overrides/swarm.eth', { reason: 'done' });
  });

  it('follows a wildcard (ENSIP-10) resolver and an offchain one (CCIP-Read through the gateway)', async () => {
    expect((await txt('_dnslink.anything.wild.eth')).values).toEqual([`dnslink=${wild.value}`]);
    const before = gateway.requests;
    const api = (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/off.eth`).then((r) => r.json())) as { source: string; lookups: Array<{ upstream?: string }> };
    expect(api.source).toBe('ens');
    expect(api.lookups[0]?.upstream).toMatch(/resolver 0x[0-9a-fA-F]{40}, CCIP-Read\)$/);
    expect((await txt('_dnslink.off.eth')).values).toEqual([`dnslink=${off.value}`]);
    expect(gateway.requests).toBe(before + 1);
    const wildApi = (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/other.wild.eth`).then((r) => r.json())) as { lookups: Array<{ upstream?: string }> };
    expect(wildApi.lookups[0]?.upstream).toMatch(/, wildcard\)$/);
  });

  it('a name ENSIP-15 refuses: NXDOMAIN with an EDE saying why over DNS, 400 in the API', async () => {
    const r = await txt('_dnslink.a_b.eth');
    expect(r).toMatchObject({ status: 'NXDOMAIN', ede: { code: 0, text: expect.stringMatching(/"a_b\.eth" is not a valid ENS name/) } });
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/a_b.eth`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'INVALID_DOMAIN', reason: 'INVALID_ENS_NAME' });
  });

  it('answers eth.link-style mirror names from ENS, with the gateway addresses for A and AAAA', async () => {
    expect((await txt('_dnslink.site.eth.example.org')).values).toEqual([`dnslink=${site.value}`]);
    const a = await digAt(d.dnsPort, 'site.eth.example.org', 'A');
    expect(a.parsed?.answers.map((r) => r.data)).toEqual(['192.0.2.10']);
    const aaaa = await digAt(d.dnsPort, 'site.eth.example.org', 'AAAA');
    expect(aaaa.parsed?.answers.map((r) => r.data)).toEqual(['2001:db8::10']);
  });

  it('answers over DoH too', async () => {
    const wire = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: '_dnslink.ipns.eth', type: 'TXT' }] });
    const res = await fetch(`http://127.0.0.1:${d.httpPort}/dns-query`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: wire });
    expect(dnsPacket.decode(Buffer.from(await res.arrayBuffer())).answers?.map((r) => String((r as { data: Buffer[] }).data))).toEqual(['dnslink=/ipns/app.uniswap.org']);
  });

  it('normalizes upper case and decodes punycode before asking ENS', async () => {
    expect((await txt('_dnslink.SITE.ETH')).values).toEqual([`dnslink=${site.value}`]);
    expect((await txt('_dnslink.xn--bcher-kva.eth')).values).toEqual([`dnslink=${site.value}`]);
  });

  it('a hanging CCIP gateway: SERVFAIL with an EDE once its timeout passes', async () => {
    const started = Date.now();
    const r = await txt('_dnslink.hang.eth');
    expect(r).toMatchObject({ status: 'SERVFAIL', ede: { code: 22, text: expect.stringMatching(/no answer within 500 ms/) } });
    expect(Date.now() - started).toBeLessThan(1900);
  });

  it('a CCIP gateway answering more than ens.ccipMaxBytes: SERVFAIL with an EDE saying so, the rest not read', async () => {
    const r = await txt('_dnslink.huge.eth');
    expect(r).toMatchObject({ status: 'SERVFAIL', ede: { code: 22, text: expect.stringMatching(/larger than 65536 bytes/) } });
    expect(huge.requests).toBeGreaterThanOrEqual(1);
  });

  it('a contenthash changed on chain shows after a flush', async () => {
    const next = ipfsContenthash('site v2');
    await txt('_dnslink.site.eth');
    await ens.setContenthash('site.eth', next.bytes);
    expect((await d.admin('POST', '/admin/v1/cache/flush', { name: 'site.eth' })).status).toBe(200);
    expect((await txt('_dnslink.site.eth')).values).toEqual([`dnslink=${next.value}`]);
  });

  it('every RPC down: the last answer is served stale (EDE 3)', async () => {
    expect((await txt('_dnslink.anything.wild.eth')).status).toBe('NOERROR');
    await anvil.stop();
    await sleep(2200); // past ens.ttl
    const r = await txt('_dnslink.anything.wild.eth');
    expect(r).toMatchObject({ status: 'NOERROR', ede: { code: 3 }, values: [`dnslink=${wild.value}`] });
  });
});

describe.skipIf(!ok || !requireBinaries('nsd'))('ENS as a fallback for DNS names (anvil, nsd)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let nsd: NsdHandle;
  let aliases: DnslinkdHandle;
  let all: DnslinkdHandle;
  const site = ipfsContenthash('fallback site');
  const generic = ipfsContenthash('generic');
  const txt = async (d: DnslinkdHandle, name: string) => {
    const r = await digAt(d.dnsPort, name, 'TXT');
    return { status: r.parsed?.status, ede: r.parsed?.ede, values: (r.parsed?.answers ?? []).map((a) => txtValue(a.data)) };
  };
  const api = async (d: DnslinkdHandle, name: string) => (await fetch(`http://127.0.0.1:${d.httpPort}/v1/dnslink/${name}`).then((r) => r.json())) as Record<string, unknown>;

  beforeAll(async () => {
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    await ens.registerName('site.eth', { contenthash: site.bytes });
    await ens.registerName('gen.dnslink.test', { contenthash: generic.bytes }); // a DNS name imported into ENS
    await ens.registerName('plain.dnslink.test', { contenthash: generic.bytes });
    nsd = await startNsd();
    const common = { registry: ens.registry, rpc: [anvil.url], ttl: 60 };
    const cache = { prefetch: false, maxTtl: 1, clientDeadlineMs: 500, staleRefreshMs: 0 };
    aliases = await startDnslinkd({
      upstreams: [`udp://127.0.0.1:${nsd.port}`],
      config: { ens: { ...common, aliases: { 'missing.dnslink.test': 'site.eth', 'plain.dnslink.test': 'site.eth', 'bare.dnslink.test': 'site.eth' } }, cache, upstreamTimeoutMs: 300 },
    });
    all = await startDnslinkd({ upstreams: [`udp://127.0.0.1:${nsd.port}`], config: { ens: { ...common, fallback: 'all' }, cache, upstreamTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await aliases?.stop();
    await all?.stop();
    await nsd?.stop();
    await anvil?.stop();
    await stopAll();
  });

  it('an aliased name DNS does not know is answered from its ENS alias, and says so', async () => {
    expect(await api(aliases, 'missing.dnslink.test')).toMatchObject({ source: 'ens-fallback', value: site.value });
    const r = await txt(aliases, 'missing.dnslink.test');
    expect(r.values).toEqual([`dnslink=${site.value}`]);
    expect(r.ede?.text).toMatch(/ENS fallback: answered from ENS site\.eth \(DNS: no such name\)/);
  });

  it('with fallback "all", the DNS name itself is looked up in ENS', async () => {
    expect(await api(all, 'gen.dnslink.test')).toMatchObject({ source: 'ens-fallback', value: generic.value });
    expect((await api(aliases, 'gen.dnslink.test')).source).not.toBe('ens-fallback'); // no alias: no fallback there
  });

  it('a name that resolves in DNS is answered from DNS', async () => {
    expect(await api(aliases, 'plain.dnslink.test')).toMatchObject({ source: 'dns', value: `/ipfs/${zone.names.plain.cid}` });
  });

  it('when the DNS upstream fails: the stale DNS answer first, the ENS alias for a name with nothing stale', async () => {
    await nsd.stop();
    await sleep(1100); // past the 1 s maxTtl: plain.dnslink.test is only held stale now
    const stale = await txt(aliases, '_dnslink.plain.dnslink.test');
    expect(stale).toMatchObject({ ede: { code: 3 }, values: [`dnslink=/ipfs/${zone.names.plain.cid}`] });
    const fellBack = await txt(aliases, '_dnslink.bare.dnslink.test');
    expect(fellBack.values).toEqual([`dnslink=${site.value}`]);
    expect(fellBack.ede?.text).toMatch(/ENS fallback: answered from ENS site\.eth \(DNS failed/);
    // Generic: with fallback "all", a name never asked before is looked up in ENS as itself.
    const generic2 = await txt(all, '_dnslink.plain.dnslink.test');
    expect(generic2.values).toEqual([`dnslink=${generic.value}`]);
    expect(generic2.ede?.text).toMatch(/ENS fallback: answered from ENS plain\.dnslink\.test \(DNS failed/);
  });
});
