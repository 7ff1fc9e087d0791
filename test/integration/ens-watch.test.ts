// The ENS chain watch through the real daemon on a real chain (anvil): with ens.ttl 3600, a
// contenthash changed on chain is served within 2 polls (ens.watchIntervalMs 500; delays measured),
// a resolver change (NewResolver) is seen, a reorg (evm_snapshot / evm_revert, then other blocks)
// brings back the value the chain holds, a mirror name is refreshed with its ENS name, and with the
// watch off the old value stays cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digAt, requireBinaries, requireBuild, sleep, startDnslinkd, stopAll, txtValue } from './support/index.js';
import type { DnslinkdHandle } from './support/index.js';
import { requireAnvil, rpc, startAnvil, type AnvilHandle } from './support/anvil.js';
import { deployEns, ipfsContenthash, type EnsChain } from './support/ens-chain.js';

const ok = requireBinaries('dig') && requireBuild() && requireAnvil();
const WATCH_MS = 500;

describe.skipIf(!ok)('ENS chain watch (anvil, ens.ttl 3600)', () => {
  let anvil: AnvilHandle;
  let ens: EnsChain;
  let d: DnslinkdHandle;
  let off: DnslinkdHandle;

  const value = async (handle: DnslinkdHandle, name: string): Promise<string | undefined> => {
    const r = await digAt(handle.dnsPort, name, 'TXT');
    if (!r.parsed?.answers[0]) console.log(r);
    const answer = r.parsed?.answers[0];
    return answer ? txtValue(answer.data) : undefined;
  };
  /** ms until `name` is served as `expected` (polled every 20 ms), or Infinity after `limitMs`. */
  const servedAfter = async (handle: DnslinkdHandle, name: string, expected: string, limitMs = 5000): Promise<number> => {
    const t0 = performance.now();
    while (performance.now() - t0 < limitMs) {
      if ((await value(handle, name)) === expected) return performance.now() - t0;
      await sleep(20);
    }
    return Infinity;
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    ens = await deployEns(anvil.url);
    await ens.registerName('site.eth', { contenthash: ipfsContenthash('site 0').bytes });
    await ens.registerName('moved.eth', { contenthash: ipfsContenthash('moved 0').bytes });
    await ens.registerName('reorg.eth', { contenthash: ipfsContenthash('reorg 0').bytes });
    await ens.registerName('other.eth', { contenthash: ipfsContenthash('other 0').bytes });
    const ensConfig = { rpc: [anvil.url], registry: ens.registry, ttl: 3600, rpcTimeoutMs: 1000 };
    d = await startDnslinkd({ upstreams: [], config: { ens: { ...ensConfig, watchIntervalMs: WATCH_MS, mirrors: ['eth.example.org'] }, cache: { prefetch: false } } });
    off = await startDnslinkd({ upstreams: [], config: { ens: { ...ensConfig, watchIntervalMs: 0 }, cache: { prefetch: false } } });
  });
  afterAll(async () => {
    await d?.stop();
    await off?.stop();
    await anvil?.stop();
    await stopAll();
  });

  it('a changed contenthash is served within 2 poll intervals, each time (ens.ttl 3600); the watch off keeps the old one', async () => {
    expect(await value(d, '_dnslink.site.eth')).toBe(`dnslink=${ipfsContenthash('site 0').value}`);
    expect(await value(off, '_dnslink.site.eth')).toBe(`dnslink=${ipfsContenthash('site 0').value}`);
    expect(await value(d, '_dnslink.site.eth.example.org')).toBe(`dnslink=${ipfsContenthash('site 0').value}`); // a mirror name, cached too
    await sleep(WATCH_MS * 2); // the watch's first poll takes the head it starts from
    const delays: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const next = ipfsContenthash(`site ${i}`);
      await ens.setContenthash('site.eth', next.bytes);
      delays.push(await servedAfter(d, '_dnslink.site.eth', `dnslink=${next.value}`));
    }
    const sorted = [...delays].sort((a, b) => a - b);
    console.log(`ENS watch delay (watchIntervalMs ${WATCH_MS}, ${delays.length} changes): p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms, all ${delays.map((x) => x.toFixed(0)).join(' ')}`);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(2 * WATCH_MS);
    // The mirror name was refreshed with it (it is not asked in between).
    expect(await value(d, '_dnslink.site.eth.example.org')).toBe(`dnslink=${ipfsContenthash('site 6').value}`);
    // The same change, the watch off: still the first value (ens.ttl 3600).
    expect(await value(off, '_dnslink.site.eth')).toBe(`dnslink=${ipfsContenthash('site 0').value}`);
    expect(await d.metric('dnslinkd_ens_watch_logs_matched_total')).toBeGreaterThanOrEqual(6);
    expect(await d.metric('dnslinkd_ens_watch_refreshes_total')).toBeGreaterThanOrEqual(6);
    expect(await d.metric('dnslinkd_ens_watch_polls_total')).toBeGreaterThan(0);
  });

  it('a new resolver for the name (NewResolver) is seen', async () => {
    expect(await value(d, '_dnslink.moved.eth')).toBe(`dnslink=${ipfsContenthash('moved 0').value}`);
    const elsewhere = ipfsContenthash('moved elsewhere');
    await ens.setResolver('moved.eth', await ens.deployWildcardResolver(elsewhere.bytes));
    expect(await servedAfter(d, '_dnslink.moved.eth', `dnslink=${elsewhere.value}`)).toBeLessThanOrEqual(2 * WATCH_MS);
  });

  it('a reorg (evm_revert, then other blocks) brings back what the chain holds; a later change is seen too', async () => {
    const first = ipfsContenthash('reorg 0');
    expect(await value(d, '_dnslink.reorg.eth')).toBe(`dnslink=${first.value}`);
    const snapshot = await rpc<string>(anvil.url, 'evm_snapshot', []);
    const dropped = ipfsContenthash('reorg dropped');
    await ens.setContenthash('reorg.eth', dropped.bytes);
    expect(await servedAfter(d, '_dnslink.reorg.eth', `dnslink=${dropped.value}`)).toBeLessThanOrEqual(2 * WATCH_MS);
    const reorgsBefore = await d.metric('dnslinkd_ens_watch_reorgs_total');
    expect(await rpc<boolean>(anvil.url, 'evm_revert', [snapshot])).toBe(true);
    // The new branch: as many blocks again, none touching reorg.eth (no log names it).
    await ens.setContenthash('other.eth', ipfsContenthash('other 1').bytes);
    await rpc(anvil.url, 'evm_mine', []);
    expect(await servedAfter(d, '_dnslink.reorg.eth', `dnslink=${first.value}`)).toBeLessThanOrEqual(3 * WATCH_MS);
    expect(await d.metric('dnslinkd_ens_watch_reorgs_total')).toBeGreaterThan(reorgsBefore);
    const later = ipfsContenthash('reorg later');
    await ens.setContenthash('reorg.eth', later.bytes);
    expect(await servedAfter(d, '_dnslink.reorg.eth', `dnslink=${later.value}`)).toBeLessThanOrEqual(2 * WATCH_MS);
    await sleep(2 * WATCH_MS);
    expect(await value(d, '_dnslink.reorg.eth')).toBe(`dnslink=${later.value}`);
  });
});
