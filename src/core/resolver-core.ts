// The resolution core every listener shares: the metrics registry, the stage chain built from its
// declaration (stages/chain.ts), the wire handler in front of it and the DNSLink service beside it.
// Listeners, the CLI and the HTTP routes get this object and nothing else.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ClientGate } from '../listeners/client-gate.js';
import { Metrics } from '../observability/metrics.js';
import { buildChain, type ChainStages } from '../stages/chain.js';
import { DenylistManager } from '../stages/denylist/denylist-manager.js';
import { makeDenylistSource } from '../stages/denylist/make-source.js';
import { DnslinkService } from './dnslink-service.js';
import { WireHandler } from './wire-handler.js';
import { WireMetrics } from './wire-metrics.js';
import type { ChangeStream } from '../changes/change-stream.js';

export interface ResolverCore {
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** Each stage by its name in the chain declaration (the chain's head is the wire handler's and the DNSLink service's). */
  stages: ChainStages;
  /** Wire query in, wire response out (UDP, TCP, DoH). */
  wireHandler: WireHandler;
  /** DNSLink results (dnslink.dev and gateway semantics) through the chain. */
  dnslink: DnslinkService;
  /** Who the DNS listeners answer and how much (dns.allow, dns.rateLimit), checked before the wire handler. */
  clientGate: ClientGate;
  /** Which version of each denylist is in force in the denylist stage (started by the instance). */
  denylist: DenylistManager;
  /** The change stream (GET /v1/changes, webhooks): set by the instance once started (src/changes/). */
  changes?: ChangeStream;
}

export interface CoreOptions {
  now?: () => number;
  /** Where the denylist sources keep their copies (under denylists/) and the applied versions (default: dataDir; a cluster worker its own). */
  denylistDataDir?: string;
  /** Data dirs whose kept denylist copies are read at start when denylistDataDir has none (a worker: the single process's; and the reverse). */
  denylistFallbackDirs?: readonly string[];
  processMetrics?: boolean;
}

export function createResolverCore(config: Config, log: Logger, options: CoreOptions = {}): ResolverCore {
  const metrics = new Metrics({ processMetrics: options.processMetrics ?? false });
  const { head, stages } = buildChain({ config, registry: metrics.registry, log, now: options.now ?? Date.now });
  const clientGate = new ClientGate(config.dns, metrics.registry, options.now ?? Date.now);
  const wireHandler = new WireHandler(head, { udpPayloadSize: config.dns.udpPayloadSize, queryLog: config.log.queries }, new WireMetrics(metrics.registry), log);
  const denylist = new DenylistManager({ stage: stages.denylist, cache: stages.cache, config: config.denylist, dataDir: options.denylistDataDir ?? config.dataDir, ...(options.denylistFallbackDirs ? { fallbackDataDirs: options.denylistFallbackDirs } : {}), log, now: options.now ?? Date.now, makeSource: makeDenylistSource, ...(stages.denylist.metrics ? { metrics: stages.denylist.metrics } : {}) });
  return { config, metrics, log, stages, wireHandler, clientGate, denylist, dnslink: new DnslinkService(head, (domain) => stages.ens.invalidEnsName(domain)) };
}
