// The control plane's replica with --workers N: the primary's ClusterReplica sends each call to
// every joined worker over IPC and combines the answers; joinPrimary is the worker side (a
// LocalReplica over the worker's core, joined with the overrides in force before it listens, and
// told the control plane's health for its /healthz). Overrides travel as changes, in messages of
// at most REPLICA_MESSAGE_UPDATES each: one change sends one message, never the whole set.
import cluster, { type Worker } from 'node:cluster';
import type { ResolverCore } from '../core/resolver-core.js';
import type { TxtLookupResult } from '../dnslink/resolve.js';
import type { ApiAnswer } from '../core/gateway-answer.js';
import { CodedError, errorMessage } from '../errors.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import type { EnsHealthView } from '../stages/ens/rpc-health.js';
import type { Override } from '../stages/overrides/override.js';
import { registerControlHealth, type ControlHealth } from './health.js';
import { LocalReplica, type CachedAnswerView, type EnsStatusView, type OverrideUpdate, type Replica } from './replica.js';
import { mergePages, type CacheListPage, type CacheListQuery } from './cache-listing.js';
import type { InstanceStatusView } from './instance-status.js';
import type { DenylistCall } from './denylist-replica.js';
import type { DenylistAuditEvent } from '../stages/denylist/denylist-manager.js';

/** A worker that does not answer a call within this fails the call (the admin request says so). */
const CALL_TIMEOUT_MS = 5_000;
/** A starting worker that gets no overrides from its primary within this fails its start. */
const JOIN_TIMEOUT_MS = 10_000;
/** Overrides (or changes of them) per IPC message: a large set travels in bounded messages. */
export const REPLICA_MESSAGE_UPDATES = 500;

function chunksOf<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += REPLICA_MESSAGE_UPDATES) chunks.push(items.slice(i, i + REPLICA_MESSAGE_UPDATES));
  return chunks;
}

export type ReplicaCall =
  /** Replaces the worker's set with these (the first part of a set; changeOverrides carries the rest). */
  | { op: 'applyOverrides'; overrides: Override[] }
  | { op: 'changeOverrides'; updates: OverrideUpdate[] }
  /** The whole set has been sent: the worker may listen. */
  | { op: 'joined' }
  | { op: 'flush'; target: FlushTarget; negativeOnly: boolean; dryRun: boolean }
  | { op: 'cached'; name: string }
  | { op: 'cachedTxt'; fqdn: string }
  | { op: 'resolvedTxt'; fqdn: string }
  | { op: 'gatewayAnswer'; name: string }
  | { op: 'ensHealth' }
  /** The primary's control health, for the worker's /healthz. */
  | { op: 'controlHealth'; health: ControlHealth }
  | { op: 'instanceStatus' }
  /** The worker's page of its cache entries, tagged with its id. */
  | { op: 'cacheList'; query: CacheListQuery; worker: number }
  /** A call to the worker's denylist stage (denylist-replica.ts). */
  | { op: 'denylist'; call: DenylistCall };

interface ReplicaResults {
  applyOverrides: null;
  changeOverrides: null;
  joined: null;
  flush: number;
  cached: CachedAnswerView[];
  cachedTxt: TxtLookupResult | null;
  resolvedTxt: TxtLookupResult;
  gatewayAnswer: ApiAnswer;
  ensHealth: EnsHealthView | null;
  controlHealth: null;
  instanceStatus: InstanceStatusView[];
  cacheList: CacheListPage;
  denylist: unknown;
}

export type ReplicaMessage =
  /** Worker to primary, before it listens: include me, and send me the overrides in force. */
  | { type: 'dnslinkd:replica-join' }
  | { type: 'dnslinkd:replica-call'; id: number; call: ReplicaCall }
  | { type: 'dnslinkd:replica-result'; id: number; result?: unknown; error?: string }
  /** Worker to primary: its denylist manager held a version (for the audit log). */
  | { type: 'dnslinkd:replica-denylist-event'; event: DenylistAuditEvent };

function isReplicaMessage(value: unknown): value is ReplicaMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('dnslinkd:replica-');
}

interface Pending {
  worker: Worker;
  settle(result: unknown, error?: Error): void;
}

/** In the primary: every worker that joined gets every call; a worker that dies counts as empty. */
export class ClusterReplica implements Replica {
  private readonly members = new Set<Worker>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** The overrides last applied: what a worker gets when it joins (or rejoins after a restart). */
  private current = new Map<string, Override>();
  /** The control health last published: what a worker gets when it joins. */
  private health: ControlHealth | undefined;
  /** Where a worker's held denylist version is reported (the control plane's audit). */
  private denylistEvents: ((event: DenylistAuditEvent) => Promise<void>) | undefined;
  /** The operator's denylist rules last put in force: what a worker gets when it joins. */
  private denylistRules: Extract<DenylistCall, { op: 'rules' }> | undefined;

  constructor() {
    cluster.on('message', (worker: Worker, msg: unknown) => {
      if (!isReplicaMessage(msg)) return;
      if (msg.type === 'dnslinkd:replica-join') {
        // Sent in the same synchronous turn as membership starts: IPC keeps order, so a later
        // applyOverrides reaches this worker after this list, never before.
        this.members.add(worker);
        const [first = [], ...rest] = chunksOf([...this.current.values()]);
        this.call(worker, { op: 'applyOverrides', overrides: first }).catch(() => {});
        for (const overrides of rest) this.call(worker, { op: 'changeOverrides', updates: overrides.map((o) => ({ name: o.name, after: o })) }).catch(() => {});
        // The operator's denylist rules in force before the worker listens, like the overrides.
        if (this.denylistRules) this.call(worker, { op: 'denylist', call: this.denylistRules }).catch(() => {});
        this.call(worker, { op: 'joined' }).catch(() => {});
        if (this.health) this.call(worker, { op: 'controlHealth', health: this.health }).catch(() => {});
      } else if (msg.type === 'dnslinkd:replica-denylist-event') {
        void this.denylistEvents?.({ ...msg.event, token: `system (worker ${worker.id})` }).catch(() => {});
      } else if (msg.type === 'dnslinkd:replica-result') {
        const p = this.pending.get(msg.id);
        if (p) p.settle(msg.result, msg.error === undefined ? undefined : new CodedError('REPLICA_FAILED', `worker ${worker.id}: ${msg.error}`));
      }
    });
    const leave = (worker: Worker) => {
      this.members.delete(worker);
      for (const p of this.pending.values()) if (p.worker === worker) p.settle(undefined);
    };
    cluster.on('disconnect', leave);
    cluster.on('exit', leave);
  }

  /** One call to one worker; undefined when the worker went away before answering. */
  private call<K extends ReplicaCall['op']>(worker: Worker, call: Extract<ReplicaCall, { op: K }>): Promise<ReplicaResults[K] | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(undefined, new CodedError('REPLICA_TIMEOUT', `worker ${worker.id} (pid ${worker.process.pid}) did not answer ${call.op} within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      const settle = (result: unknown, error?: Error) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (error) reject(error);
        else resolve(result as ReplicaResults[K] | undefined);
      };
      this.pending.set(id, { worker, settle });
      if (!worker.isConnected()) return settle(undefined);
      worker.send({ type: 'dnslinkd:replica-call', id, call } satisfies ReplicaMessage, (err: Error | null) => {
        if (err) settle(undefined);
      });
    });
  }

  private all<K extends ReplicaCall['op']>(call: Extract<ReplicaCall, { op: K }>) {
    return Promise.all([...this.members].map(async (worker) => ({ worker, result: await this.call(worker, call) })));
  }

  async applyOverrides(overrides: readonly Override[]): Promise<void> {
    this.current = new Map(overrides.map((o) => [o.name, o]));
    const [first = [], ...rest] = chunksOf(overrides);
    await this.all({ op: 'applyOverrides', overrides: first });
    for (const part of rest) await this.all({ op: 'changeOverrides', updates: part.map((o) => ({ name: o.name, after: o })) });
  }

  async changeOverrides(updates: readonly OverrideUpdate[]): Promise<void> {
    for (const u of updates) {
      if (u.after) this.current.set(u.name, u.after);
      else this.current.delete(u.name);
    }
    for (const part of chunksOf(updates)) await this.all({ op: 'changeOverrides', updates: part });
  }

  publishHealth(health: ControlHealth): void {
    this.health = health;
    this.all({ op: 'controlHealth', health }).catch(() => {});
  }

  async flush(target: FlushTarget, negativeOnly: boolean, dryRun: boolean): Promise<number> {
    const counts = await this.all({ op: 'flush', target, negativeOnly, dryRun });
    return counts.reduce((sum, { result }) => sum + (result ?? 0), 0);
  }

  async cached(name: string): Promise<CachedAnswerView[]> {
    const each = await this.all({ op: 'cached', name });
    return each.flatMap(({ worker, result }) => (result ?? []).map((view) => ({ ...view, worker: worker.id })));
  }

  async instanceStatus(): Promise<InstanceStatusView[]> {
    const each = await this.all({ op: 'instanceStatus' });
    return each.flatMap(({ worker, result }) => (result ?? []).map((view) => ({ ...view, worker: worker.id }))).sort((a, b) => (a.worker ?? 0) - (b.worker ?? 0));
  }

  async cacheList(query: CacheListQuery): Promise<CacheListPage> {
    const pages = await Promise.all([...this.members].map((worker) => this.call(worker, { op: 'cacheList', query, worker: worker.id })));
    return mergePages(pages.filter((p): p is CacheListPage => p !== undefined), query);
  }

  onDenylistEvent(listener: (event: DenylistAuditEvent) => Promise<void>): void {
    this.denylistEvents = listener;
  }

  async denylist(call: DenylistCall): Promise<unknown[]> {
    if (call.op === 'rules') this.denylistRules = call;
    const each = await this.all({ op: 'denylist', call });
    return each.map(({ result }) => result).filter((result) => result !== undefined);
  }

  async cachedTxt(fqdn: string): Promise<TxtLookupResult | undefined> {
    const each = await this.all({ op: 'cachedTxt', fqdn });
    return each.find(({ result }) => result)?.result ?? undefined;
  }

  /** Asked of one worker, as a query lands on one; SERVFAIL when none is there to ask. */
  async resolvedTxt(fqdn: string): Promise<TxtLookupResult> {
    for (const worker of this.members) {
      const result = await this.call(worker, { op: 'resolvedTxt', fqdn });
      if (result) return result;
    }
    return { rcode: 2, records: [] };
  }

  /** Asked of one worker, as a gateway's request lands on one. */
  async gatewayAnswer(name: string): Promise<ApiAnswer> {
    for (const worker of this.members) {
      const result = await this.call(worker, { op: 'gatewayAnswer', name });
      if (result) return result;
    }
    return { status: 502, body: { code: 'UPSTREAM_FAILED', message: 'no worker is there to look the name up', name } };
  }

  /** Each worker has its own ENS client: the first worker's view on top, every worker's in `workers`. */
  async ensHealth(): Promise<EnsStatusView | undefined> {
    const each = (await this.all({ op: 'ensHealth' })).flatMap(({ worker, result }) => (result ? [{ worker: worker.id, view: result }] : []));
    const first = each[0];
    if (!first) return undefined;
    return { ...first.view, workers: each.map(({ worker, view }) => ({ worker, ...view })) };
  }
}

/**
 * In a worker, before it listens: answers the primary's calls with a LocalReplica over `core`,
 * joins, and resolves once the overrides in force are applied.
 */
export function joinPrimary(core: ResolverCore): Promise<void> {
  const local = new LocalReplica(core);
  let joined!: () => void;
  const ready = new Promise<void>((resolve) => (joined = resolve));
  const run = async (call: ReplicaCall): Promise<unknown> => {
    switch (call.op) {
      case 'applyOverrides':
        await local.applyOverrides(call.overrides);
        return null;
      case 'changeOverrides':
        await local.changeOverrides(call.updates);
        return null;
      case 'joined':
        joined();
        return null;
      case 'flush':
        return local.flush(call.target, call.negativeOnly, call.dryRun);
      case 'cached':
        return local.cached(call.name);
      case 'cachedTxt':
        return (await local.cachedTxt(call.fqdn)) ?? null;
      case 'resolvedTxt':
        return local.resolvedTxt(call.fqdn);
      case 'gatewayAnswer':
        return local.gatewayAnswer(call.name);
      case 'ensHealth':
        return (await local.ensHealth()) ?? null;
      case 'instanceStatus':
        return local.instanceStatus();
      case 'cacheList':
        return local.cacheList(call.query, call.worker);
      case 'denylist':
        return local.denylist(call.call).then(([result]) => result);
      case 'controlHealth': {
        const health = call.health;
        registerControlHealth(core.metrics.registry, () => health);
        return null;
      }
    }
  };
  process.on('message', (msg: unknown) => {
    if (!isReplicaMessage(msg) || msg.type !== 'dnslinkd:replica-call') return;
    const reply = (m: ReplicaMessage) => {
      if (process.connected) process.send!(m);
    };
    run(msg.call).then(
      (result) => reply({ type: 'dnslinkd:replica-result', id: msg.id, result }),
      (err: unknown) => reply({ type: 'dnslinkd:replica-result', id: msg.id, error: errorMessage(err) }),
    );
  });
  // A version this worker's guard holds goes to the primary's audit log.
  core.denylist.audit = async (event) => {
    if (process.connected) process.send!({ type: 'dnslinkd:replica-denylist-event', event } satisfies ReplicaMessage);
  };
  process.send!({ type: 'dnslinkd:replica-join' } satisfies ReplicaMessage);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CodedError('CONTROL_UNAVAILABLE', `no overrides from the primary process within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
  });
  return Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
}
