// The resolver chain, declared once: the order in which a question meets the stages, why each
// stands where it does, and how each is built from the configuration. A question enters at the
// top and goes down until a stage answers; linkStages sets every stage's `next`.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { RRType } from '../dns/constants.js';
import { makeQuestion } from '../dns/names.js';
import { CacheMetrics } from './cache/metrics.js';
import { cacheStageOptions } from './cache/config.js';
import { CacheStage } from './cache/cache-stage.js';
import { LocalRecordsStage } from './local-records/local-records-stage.js';
import { readLocalRecords } from './local-records/records-file.js';
import { OverridesMetrics } from './overrides/metrics.js';
import { OverridesStage } from './overrides/overrides-stage.js';
import { QueryPolicyStage } from './query-policy/query-policy-stage.js';
import { EnsMetrics } from './ens/metrics.js';
import { DenylistMetrics } from './denylist/metrics.js';
import { DenylistStage } from './denylist/denylist-stage.js';
import { EnsStage } from './ens/ens-stage.js';
import { linkStages, type Stage } from './stage.js';
import { UpstreamMetrics } from './upstream/metrics.js';
import { UpstreamStage } from './upstream/upstream-stage.js';

/** What building a stage may use. */
export interface ChainDeps {
  config: Config;
  /** The instance's metrics registry: each stage declares its own metrics on it. */
  registry: Registry;
  log: Logger;
  now: () => number;
}

/** The chain, top to bottom: one entry per stage, the comment above it saying why it stands there. */
const CHAIN = [
  // 1. query-policy: refuse what dnslinkd never resolves (ANY gets the RFC 8482 HINFO answer; with
  //    forwarding off, everything but TXT) before any lookup is spent on it.
  {
    name: 'query-policy',
    build: ({ config }: ChainDeps) => new QueryPolicyStage({ forward: config.dns.forward }),
  },
  // 2. overrides: an operator's override beats every source below it, the cache included, and
  //    needs no upstream to answer; the control plane sets them.
  {
    name: 'overrides',
    build: ({ registry, now }: ChainDeps) => new OverridesStage(new OverridesMetrics(registry), now),
  },
  // 3. local-records: our own records answer authoritatively, before the cache: they never
  //    expire and need no storing.
  {
    name: 'local-records',
    build: ({ config }: ChainDeps) => new LocalRecordsStage(config.localRecords ? readLocalRecords(config.localRecords) : []),
  },
  // 4. cache: fresh hits answered synchronously; misses coalesced into one question to the stages
  //    below; the last known answer served stale when they fail or are too slow.
  {
    name: 'cache',
    build: ({ config, registry, now }: ChainDeps) =>
      new CacheStage(cacheStageOptions(config.cache, config.clientDeadlineMs), new CacheMetrics(registry), now),
  },
  // 4b. denylist: DNSLink names and the /ipfs/ and /ipns/ values of their answers checked against
  //    the denylists (IPIP-383) and the operator's blocks. Below the cache, so a cache hit costs no
  //    list lookup and a block is cached like any answer (a new list version evicts what it
  //    changes); above ens and upstream, so a blocked name is never asked for, and ENS answers
  //    (contenthash as DNSLink) are checked like DNS ones. Below overrides: an override answers
  //    before any list is consulted (docs/denylists.md says why).
  {
    name: 'denylist',
    build: ({ config, registry, now }: ChainDeps) =>
      new DenylistStage({ answer: config.denylist.answer, mirrors: config.ens.mirrors }, new DenylistMetrics(registry), now),
  },
  // 5. ens: ENS names (under ens.suffixes, or mirror names) answered from their contenthash, below
  //    the cache so they are cached, coalesced and served stale like DNS names; and the ENS fallback
  //    for DNS names, here because it needs DNS's answer first, and the cache above tells it when
  //    it holds a stale answer (a name's own last known value comes before the fallback). Off
  //    without ens.rpc.
  {
    name: 'ens',
    build: ({ config, registry, log, now }: ChainDeps) => EnsStage.fromConfig(config.ens, { metrics: new EnsMetrics(registry), log, now }),
  },
  // 6. upstream: last, asks the configured resolvers in turn; SERVFAIL with an Extended DNS Error
  //    when none answers.
  {
    name: 'upstream',
    build: ({ config, registry, log, now }: ChainDeps) =>
      new UpstreamStage({ upstreams: config.upstreams, timeoutMs: config.upstreamTimeoutMs, maxOutstanding: config.upstream.maxOutstanding, metrics: new UpstreamMetrics(registry), log, now }),
  },
] as const;

type ChainEntry = (typeof CHAIN)[number];

/** Each stage of a built chain by its name, typed (`stages.cache` is the CacheStage). */
export type ChainStages = { [E in ChainEntry as E['name']]: ReturnType<E['build']> };

export interface BuiltChain {
  /** Where every question enters. */
  head: Stage;
  stages: ChainStages;
}

/** The names of the stages, in chain order (logged at start, shown in docs/architecture.md). */
export const CHAIN_ORDER: readonly string[] = CHAIN.map((entry) => entry.name);

/** Builds every stage in declared order and links them. */
export function buildChain(deps: ChainDeps): BuiltChain {
  const built = CHAIN.map((entry) => entry.build(deps));
  const stages = Object.fromEntries(CHAIN.map((entry, i) => [entry.name, built[i]])) as ChainStages;
  // A name the ENS chain watch sees change on chain is re-resolved through the cache, which replaces its entry.
  stages.ens.refreshCached = (questionName) => stages.cache.refresh(makeQuestion(questionName, RRType.TXT));
  return { head: linkStages(built), stages };
}
