// The resolution core every transport shares: builds the stage chain from the configuration
// (policy -> local records -> cache -> upstream) plus the wire handler and metrics. Transports get
// this object and nothing else.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { readLocalRecords } from '../config/local-records-file.js';
import { Metrics } from '../observability/metrics.js';
import { CacheStage } from '../resolver/cache.js';
import { LocalRecordsStage } from '../resolver/local-records.js';
import { QueryPolicyStage } from '../resolver/query-policy.js';
import type { Stage } from '../resolver/stage.js';
import { UpstreamStage } from '../resolver/upstream.js';
import { UpstreamPool } from '../upstream/pool.js';
import { DnsHandler } from './dns-handler.js';

export interface ResolverCore {
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** The head of the stage chain. */
  chain: Stage;
  cache: CacheStage;
  upstreams: UpstreamPool;
  local: LocalRecordsStage;
  dns: DnsHandler;
}

export interface CoreOptions {
  now?: () => number;
  processMetrics?: boolean;
}

export function createResolverCore(config: Config, log: Logger, options: CoreOptions = {}): ResolverCore {
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
  const upstreams = new UpstreamPool(config.upstreams, {
    timeoutMs: config.upstreamTimeoutMs,
    now: options.now,
    observer: {
      onAnswer: (upstream, rttMs) => metrics.observeUpstream(upstream, rttMs),
      onError: (upstream, code) => {
        metrics.upstreamErrors.inc({ upstream, code });
        log.warn({ upstream, code }, 'upstream attempt failed');
      },
    },
  });
  const upstream = new UpstreamStage(upstreams);
  const cache = new CacheStage(upstream, { ...config.cache, clientDeadlineMs: config.clientDeadlineMs }, metrics, options.now);
  const records = config.localRecords ? readLocalRecords(config.localRecords) : [];
  const local = new LocalRecordsStage(cache, records);
  const chain = new QueryPolicyStage(local, { forward: config.dns.forward });
  const dns = new DnsHandler(chain, { udpPayloadSize: config.dns.udpPayloadSize }, metrics, log);

  metrics.cacheStats = () => ({ entries: cache.cache.size, bytes: cache.cache.bytes });
  return { config, metrics, log, chain, cache, upstreams, local, dns };
}
