// The ENS chain watch's bookkeeping against a scripted chain (no network): the watched names are
// bounded (least recently answered dropped), a gap is read in ranges of ens.watchMaxBlocks, a log on
// a name's or a parent's node refreshes exactly the DNS names it answered, and a reorg (a block's
// hash changed, the head went back) or a too long gap re-reads every watched name.
import { afterEach, describe, expect, it } from 'vitest';
import { keccak256, toHex, type Hex } from 'viem';
import { namehash } from 'viem/ens';
import { EnsChainWatch } from '../../../src/stages/ens/chain-watch.js';
import type { EnsClient } from '../../../src/stages/ens/ens-client.js';

/** A chain whose head, block hashes and logs the test sets; records each eth_getLogs range. */
function scriptedChain() {
  const chain = {
    head: 100n,
    fork: 'a',
    logs: [] as Array<{ block: bigint; topics: Hex[] }>,
    ranges: [] as Array<[number, number]>,
  };
  const hashOf = (n: bigint) => keccak256(toHex(`${chain.fork}:${n}`));
  const client = {
    getBlock: async (args: { blockTag?: string; blockNumber?: bigint }) => {
      const number = args.blockNumber ?? chain.head;
      return { number, hash: hashOf(number) };
    },
    request: async ({ params }: { params: [{ fromBlock: Hex; toBlock: Hex; topics: [Hex[], Hex[]] }] }) => {
      const [{ fromBlock, toBlock, topics }] = params;
      chain.ranges.push([Number(fromBlock), Number(toBlock)]);
      return chain.logs.filter((l) => l.block >= BigInt(fromBlock) && l.block <= BigInt(toBlock) && topics[0].includes(l.topics[0]!) && topics[1].includes(l.topics[1]!));
    },
  };
  const ensClient = { withFailover: (read: (c: unknown) => Promise<unknown>) => read(client) } as unknown as EnsClient;
  return { chain, ensClient };
}

const CONTENTHASH_CHANGED = keccak256(toHex('ContenthashChanged(bytes32,bytes)'));
const NEW_RESOLVER = keccak256(toHex('NewResolver(bytes32,address)'));

describe('ENS chain watch', () => {
  const watches: EnsChainWatch[] = [];
  afterEach(() => watches.splice(0).forEach((w) => w.stop()));
  const make = (opts: { maxNames?: number; maxBlocks?: number } = {}) => {
    const { chain, ensClient } = scriptedChain();
    const refreshed: string[] = [];
    const watch = new EnsChainWatch(ensClient, { intervalMs: 60_000, maxNames: opts.maxNames ?? 100, maxBlocks: opts.maxBlocks ?? 1000 }, async (q) => void refreshed.push(q));
    watches.push(watch);
    return { chain, watch, refreshed };
  };

  it('follows at most watchMaxNames names, dropping the least recently answered', () => {
    const { watch } = make({ maxNames: 2 });
    watch.note('a.eth', '_dnslink.a.eth');
    watch.note('b.eth', '_dnslink.b.eth');
    watch.note('a.eth', 'a.eth');
    watch.note('c.eth', '_dnslink.c.eth');
    expect([...watch.watched().keys()]).toEqual(['a.eth', 'c.eth']);
    expect([...watch.watched().get('a.eth')!]).toEqual(['_dnslink.a.eth', 'a.eth']);
  });

  it('reads a gap in ranges of watchMaxBlocks and refreshes the names a log names (its own node or a parent)', async () => {
    const { chain, watch, refreshed } = make({ maxBlocks: 10 });
    watch.note('site.eth', '_dnslink.site.eth');
    watch.note('sub.wild.eth', '_dnslink.sub.wild.eth');
    watch.note('quiet.eth', '_dnslink.quiet.eth');
    await watch.pollOnce(); // takes the head (100) it starts from
    chain.head = 125n;
    chain.logs.push({ block: 103n, topics: [CONTENTHASH_CHANGED, namehash('site.eth')] });
    chain.logs.push({ block: 121n, topics: [NEW_RESOLVER, namehash('wild.eth')] });
    chain.logs.push({ block: 122n, topics: [CONTENTHASH_CHANGED, namehash('other.eth')] });
    await watch.pollOnce();
    expect(chain.ranges).toEqual([[101, 110], [111, 120], [121, 125]]);
    expect(refreshed.sort()).toEqual(['_dnslink.site.eth', '_dnslink.sub.wild.eth']);
    chain.ranges.length = 0;
    await watch.pollOnce(); // nothing new: no log read, nothing refreshed
    expect(chain.ranges).toEqual([]);
    expect(refreshed).toHaveLength(2);
  });

  it('re-reads every watched name when the block it read last changed (a reorg) or the head went back', async () => {
    const { chain, watch, refreshed } = make();
    watch.note('a.eth', '_dnslink.a.eth');
    watch.note('b.eth', 'b.eth');
    await watch.pollOnce();
    chain.fork = 'b'; // same height, other blocks: no log names a.eth or b.eth
    chain.head = 101n;
    await watch.pollOnce();
    expect(refreshed.sort()).toEqual(['_dnslink.a.eth', 'b.eth']);
    chain.head = 90n;
    await watch.pollOnce();
    expect(refreshed).toHaveLength(4);
  });

  it('after a gap longer than 10 ranges re-reads every name instead of scanning it', async () => {
    const { chain, watch, refreshed } = make({ maxBlocks: 5 });
    watch.note('a.eth', '_dnslink.a.eth');
    await watch.pollOnce();
    chain.head = 200n;
    await watch.pollOnce();
    expect(chain.ranges).toEqual([]);
    expect(refreshed).toEqual(['_dnslink.a.eth']);
  });
});
