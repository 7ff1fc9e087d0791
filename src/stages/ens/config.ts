// Configuration of the ENS stage: the `ens` object (JSON-RPC endpoints tried in order, the
// registry address, the TTL of ENS answers, which DNS suffixes are ENS names, and the bounds on
// RPC and CCIP-Read gateway requests). No RPC configured: ENS is off.
import { z } from 'zod';
import { millis, seconds } from '../../config/units.js';

/** Mainnet's ENS Universal Resolver (ENSIP-23; an upgradable proxy). */
const MAINNET_UNIVERSAL_RESOLVER = '0xeEeEEEeE14D718C2B47D9923Deab1335E144EeEe';
/** Mainnet's ENS registry. */
const MAINNET_ENS_REGISTRY = '0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e';

const rpcUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// JSON-RPC URL');
const suffix = z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'a DNS suffix such as "eth" (lower case, no dots at either end)');

export const ensConfigSchema = z
  .object({
    /** Ethereum JSON-RPC endpoints, tried in order (--ens-rpc, DNSLINKD_ENS_RPC). Empty: ENS off. */
    rpc: z.array(rpcUrl).default([]),
    registry: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address: 0x and 40 hex digits').default(MAINNET_ENS_REGISTRY),
    /** ENSIP-23 Universal Resolver: names are resolved through it when it has code on the chain, else by walking ens.registry. */
    universalResolver: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address: 0x and 40 hex digits').default(MAINNET_UNIVERSAL_RESOLVER),
    /** TTL of ENS answers: short, since a changed contenthash should show soon. */
    ttl: seconds.default(60),
    /** Names under these suffixes are ENS names. */
    suffixes: z.array(suffix).min(1).default(['eth']),
    /** One try at one RPC endpoint. */
    rpcTimeoutMs: millis.default(2_000),
    /** One request to a CCIP-Read (EIP-3668) gateway. */
    ccipTimeoutMs: millis.default(3_000),
    /** Largest gateway answer read, in bytes. */
    ccipMaxBytes: z.number().int().min(1024).max(4 * 1024 * 1024).default(64 * 1024),
    /** DNS suffixes that stand for `eth`, as eth.link did: `site.eth.example.org` is ENS `site.eth`. */
    mirrors: z.array(suffix).default([]),
    /** Addresses mirror names answer A and AAAA with (a gateway's), so browsers reach them. */
    mirrorAddresses: z
      .object({
        A: z.array(z.ipv4()).default([]),
        AAAA: z.array(z.ipv6()).default([]),
      })
      .strict()
      .prefault({}),
    /** DNS names answered from an ENS name when their DNS fails or has no DNSLink: {"ipfs.io": "ipfs.eth"}. */
    aliases: z.record(suffix, z.string().min(1)).default({}),
    /** ENS chain watch: eth_getLogs every this many ms for changes to the names answered (one block on mainnet); 0: off. */
    watchIntervalMs: z.number().int().min(0).max(3_600_000).default(12_000),
    /** ENS names the chain watch follows at most (the least recently answered dropped first). */
    watchMaxNames: z.number().int().min(1).max(100_000).default(1_000),
    /** Blocks read per eth_getLogs request; a gap of more than 10 such ranges re-reads every watched name instead. */
    watchMaxBlocks: z.number().int().min(1).max(100_000).default(1_000),
    /** `aliases` (default): fall back for aliased names only; `all`: also try the DNS name itself in ENS; `off`. */
    fallback: z.enum(['aliases', 'all', 'off']).default('aliases'),
  })
  .strict()
  .prefault({});

export type EnsConfig = z.output<typeof ensConfigSchema>;
