// Where the control plane's decisions take effect: the overrides stage and the cache of one
// process. With --workers N the primary holds the control plane and reaches every worker's
// replica over IPC (cluster.ts); otherwise the one process holds both.
import type { ResolverCore } from '../core/resolver-core.js';
import { txtRecordsOf } from '../core/dnslink-service.js';
import { gatewayAnswer, naming, requestedName, type ApiAnswer } from '../core/gateway-answer.js';
import { rcodeName, RRType } from '../dns/constants.js';
import { decodeName, makeQuestion } from '../dns/names.js';
import { recordData } from '../dns/presentation.js';
import { recordTypeNumber } from '../dns/record-types.js';
import { recordTtl, remainingTtl, type AnswerSource } from '../dns/resolution.js';
import type { DnsRecord } from '../dns/types.js';
import type { TxtLookupResult } from '../dnslink/resolve.js';
import type { CacheEntry } from '../stages/cache/answer-store.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import type { Override } from '../stages/overrides/override.js';
import { forEachInChunks } from '../runtime/event-loop-yield.js';
import type { EnsHealthView } from '../stages/ens/rpc-health.js';
import type { ControlHealth } from './health.js';
import { listCache, mergePages, type CacheListPage, type CacheListQuery } from './cache-listing.js';
import { instanceStatus, type InstanceStatusView } from './instance-status.js';
import { runDenylistCall, type DenylistCall } from './denylist-replica.js';
import type { DenylistAuditEvent } from '../stages/denylist/denylist-manager.js';

/** One cached answer as the admin API shows it. */
export interface CachedAnswerView {
  name: string;
  type: number;
  class: number;
  rcode: string;
  negative: boolean;
  stale: boolean;
  /** Seconds left before it expires (0 once stale). */
  ttlLeft: number;
  source: AnswerSource;
  upstream?: string;
  fetchedAt: string;
  expiresAt: string;
  hits: number;
  /** Since when it is stale (its expiry), once it is. */
  staleSince?: string;
  /** Until when it may be served stale (serve-stale on), else its expiry. */
  serveUntil: string;
  answers: Array<{ name: string; type: number; ttl: number; data: string }>;
  authority: Array<{ name: string; type: number; ttl: number; data: string }>;
  /** The cluster worker holding it (with --workers). */
  worker?: number;
}

/** One override set (`after`) or removed (`after: null`) on a replica. */
export interface OverrideUpdate {
  name: string;
  after: Override | null;
}

export interface Replica {
  /** Makes `overrides` the whole set (a start, a worker joining): applied in chunks that yield. */
  applyOverrides(overrides: readonly Override[]): Promise<void>;
  /** Applies these changes only, in order: O(1) each, in chunks that yield (the DNS port keeps answering). */
  changeOverrides(updates: readonly OverrideUpdate[]): Promise<void>;
  /** Entries removed (or, for a dry run, that would be). */
  flush(target: FlushTarget, negativeOnly: boolean, dryRun: boolean): Promise<number>;
  cached(name: string): Promise<CachedAnswerView[]>;
  /** A name's TXT answer as cached, stale included; undefined when none is. */
  cachedTxt(fqdn: string): Promise<TxtLookupResult | undefined>;
  /**
   * A name's TXT answer as a query gets it now from the stages below the overrides (local records,
   * cache, ENS, upstreams): what the name answers without an override. Absent (a test's replica):
   * the cached answer stands for it.
   */
  resolvedTxt?(fqdn: string): Promise<TxtLookupResult>;
  /** The answer a gateway gets for the name now, as GET /v1/dnslink/{name} gives it (the console's look-up). */
  gatewayAnswer?(name: string): Promise<ApiAnswer>;
  /** What each serving process says of itself (`/admin/v1/status`). */
  instanceStatus?(): Promise<InstanceStatusView[]>;
  /** A bounded page of the cache entries (every process's, merged). */
  cacheList?(query: CacheListQuery): Promise<CacheListPage>;
  /** Where /healthz is answered in other processes (cluster workers): the control plane's health, as it changes. */
  publishHealth?(health: ControlHealth): void;
  /** The ENS RPC endpoints' health where ENS runs (undefined while it is off), for /admin/v1/status. */
  ensHealth?(): Promise<EnsStatusView | undefined>;
  /** A call to the denylist stage of every process that answers queries: one result each. */
  denylist?(call: DenylistCall): Promise<unknown[]>;
  /** Where a process's list manager reports a version it held (for the audit log). */
  onDenylistEvent?(listener: (event: DenylistAuditEvent) => Promise<void>): void;
}

/** The ENS section of /admin/v1/status: with --workers, the first worker's view and every worker's. */
export type EnsStatusView = EnsHealthView & { workers?: Array<{ worker: number } & EnsHealthView> };

function recordViews(records: readonly DnsRecord[], age: number) {
  return records.map((rr) => ({ name: rr.name, type: recordTypeNumber(rr.type), ttl: remainingTtl(recordTtl(rr), { ttlAge: age }), data: recordData(rr) }));
}

function cachedAnswerView(entry: CacheEntry, now: number, staleWindowMs: number): CachedAnswerView {
  const age = Math.floor((now - entry.storedAt) / 1000);
  const res = entry.resolution;
  const nameEnd = entry.key.length - 4;
  const type = entry.key.charCodeAt(nameEnd) * 256 + entry.key.charCodeAt(nameEnd + 1);
  const klass = entry.key.charCodeAt(nameEnd + 2) * 256 + entry.key.charCodeAt(nameEnd + 3);
  return {
    name: decodeName(Buffer.from(entry.key, 'latin1'), 0, nameEnd),
    type,
    class: klass,
    rcode: rcodeName(res.rcode),
    negative: entry.negative,
    stale: now >= entry.expiresAt,
    ttlLeft: Math.max(0, Math.ceil((entry.expiresAt - now) / 1000)),
    source: res.source,
    ...(res.upstream ? { upstream: res.upstream } : {}),
    fetchedAt: new Date(entry.storedAt).toISOString(),
    expiresAt: new Date(entry.expiresAt).toISOString(),
    hits: entry.hits,
    ...(now >= entry.expiresAt ? { staleSince: new Date(entry.expiresAt).toISOString() } : {}),
    serveUntil: new Date(entry.expiresAt + staleWindowMs).toISOString(),
    answers: recordViews(res.answers, age),
    authority: recordViews(res.authorities, age),
  };
}

/** The replica of this process. */
export class LocalReplica implements Replica {
  constructor(
    private readonly core: ResolverCore,
    private readonly now: () => number = Date.now,
  ) {}

  async ensHealth(): Promise<EnsHealthView | undefined> {
    return this.core.stages.ens.health();
  }

  async applyOverrides(overrides: readonly Override[]): Promise<void> {
    const stage = this.core.stages.overrides;
    stage.replaceAll([]);
    await forEachInChunks(overrides, (o) => stage.set(o));
  }

  async changeOverrides(updates: readonly OverrideUpdate[]): Promise<void> {
    const stage = this.core.stages.overrides;
    await forEachInChunks(updates, (u) => (u.after ? stage.set(u.after) : stage.remove(u.name)));
  }

  flush(target: FlushTarget, negativeOnly: boolean, dryRun: boolean): Promise<number> {
    return this.core.stages.cache.flush(target, negativeOnly, dryRun);
  }

  async cached(name: string): Promise<CachedAnswerView[]> {
    const now = this.now();
    const policy = this.core.stages.cache.store.policy;
    const staleWindowMs = policy.serveStale ? policy.staleMaxAge * 1000 : 0;
    return this.core.stages.cache.entriesFor(name).map((entry) => cachedAnswerView(entry, now, staleWindowMs));
  }

  async instanceStatus(): Promise<InstanceStatusView[]> {
    return [await instanceStatus(this.core, this.now())];
  }

  /** This process's page; `worker` tags it (a cluster worker's, for the primary to merge). */
  async cacheList(query: CacheListQuery, worker?: number): Promise<CacheListPage> {
    const page = await listCache(this.core.stages.cache.store, query, this.now(), worker);
    return worker === undefined ? mergePages([page], query) : page;
  }

  async denylist(call: DenylistCall): Promise<unknown[]> {
    return [await runDenylistCall(this.core, call)];
  }

  onDenylistEvent(listener: (event: DenylistAuditEvent) => Promise<void>): void {
    this.core.denylist.audit = listener;
  }

  async cachedTxt(fqdn: string): Promise<TxtLookupResult | undefined> {
    const now = this.now();
    const entry = this.core.stages.cache.store.get(makeQuestion(fqdn, RRType.TXT).key, now);
    if (!entry) return undefined;
    const age = Math.floor((now - entry.storedAt) / 1000);
    return { rcode: entry.resolution.rcode, records: txtRecordsOf({ ...entry.resolution, ttlAge: age, ttlOverride: undefined }, fqdn) };
  }

  async gatewayAnswer(raw: string): Promise<ApiAnswer> {
    const traced = await this.core.dnslink.resolveForGateway(requestedName(raw).name, { recursive: true }, 'cli');
    return gatewayAnswer(naming(raw, traced), traced);
  }

  async resolvedTxt(fqdn: string): Promise<TxtLookupResult> {
    const belowOverrides = this.core.stages.overrides.next;
    const res = await belowOverrides.resolve(makeQuestion(fqdn, RRType.TXT), { caller: 'cli' });
    return { rcode: res.rcode, records: txtRecordsOf(res, fqdn) };
  }
}
