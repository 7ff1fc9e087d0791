// `serve` with dns.workers > 1: a node:cluster primary forks the workers and supervises them
// (restart with back-off, signals forwarded, bounded shutdown) and sums their metrics for /metrics.
// Each worker runs an ordinary instance (src/instance.ts) with its own cache; the primary answers no
// queries but holds the control plane (store, admin API), applied to the workers by a ClusterReplica.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Config } from './config/schema.js';
import { splitHostPort } from './config/units.js';
import { assertNotAccidentallyOpen } from './listeners/access-control.js';
import { ClusterReplica, joinPrimary, type ReplicaMessage } from './control/cluster-replica.js';
import { startControl, type RunningControl } from './control/start-control.js';
import { startPrimaryChanges } from './changes/start-changes.js';
import { CodedError, errorMessage } from './errors.js';
import { runUntilSignalled, startInstance } from './instance.js';
import { acceptReloads, handlePrimaryReloads } from './lifecycle/reload-cluster.js';
import { exitCodeAtOnce, exitNow, onShutdownSignals } from './lifecycle/shutdown.js';

/** A worker died this soon after its start: the next restart waits twice as long (up to the cap). */
const QUICK_DEATH_MS = 10_000;
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 10_000;
/** After SIGTERM/SIGINT, workers still running this long past the grace period (shutdownGraceMs) are killed. */
const STOP_MARGIN_MS = 5_000;
const METRICS_TIMEOUT_MS = 10_000;
/** The worker's stable index 0..N-1, passed through the fork's environment (its cache snapshot's). */
const WORKER_INDEX_ENV = 'DNSLINKD_WORKER_INDEX';

type Message =
  | { type: 'dnslinkd:ready' }
  /** The worker could not start its instance (a port in use, ...): the primary reports it, once. */
  | { type: 'dnslinkd:start-failed'; code?: string; message: string }
  | { type: 'dnslinkd:metrics-request'; id: number }
  | { type: 'dnslinkd:metrics-reply'; id: number; text?: string; error?: string }
  /** The primary stops a worker: drain (answer what is in flight within shutdownGraceMs) or exit now. */
  | { type: 'dnslinkd:stop'; how: 'drain' | 'now' }
  /** The control plane's calls to the workers and their answers (src/control/cluster-replica.ts). */
  | ReplicaMessage;

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('dnslinkd:');
}

/** Runs `serve` in the primary (forks and supervises) or in a worker (one instance); resolves to the exit code. */
export function serveCluster(config: Config, log: Logger, load: () => Config = () => config): Promise<number> {
  return cluster.isPrimary ? runPrimary(config, log, load) : runWorker(config, log);
}

async function runPrimary(config: Config, log: Logger, load: () => Config): Promise<number> {
  const count = config.dns.workers;
  assertNotAccidentallyOpen(config);
  if (splitHostPort(config.dns.listen).port === 0) {
    throw new CodedError('CONFIG_INVALID', `dns.listen: port 0 (any free port) is not supported with dns.workers=${count}; give a fixed port`);
  }
  const aggregator = new AggregatorRegistry();
  // The primary's own metrics: the control plane's (flushes, overrides, audit, store), appended to the workers' sums.
  const registry = new Registry();
  // The control plane first: a worker joining gets the overrides in force before it listens.
  const control: RunningControl = await startControl(config, log, new ClusterReplica(), registry);
  handlePrimaryReloads(control, config, load, log, registry);
  // With Redis, the control plane's changes go to the fleet change stream the workers serve.
  const primaryChanges = await startPrimaryChanges(config, log, registry, control.control);
  const live = new Set<Worker>();
  const bornAt = new Map<Worker, number>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let state: 'starting' | 'running' | 'stopping' = 'starting';
  let ready = 0;
  let quickDeaths = 0;
  let exitCode = 0;
  /** Why the first worker that failed to start failed: the one error the command prints. */
  let startFailure: Error | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let finish!: (code: number) => void;
  let fail!: (err: Error) => void;
  const finished = new Promise<number>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  // Workers listen through node:cluster's shared handles: one UDP socket read by all (measured as
  // fast as SO_REUSEPORT and evenly spread however few clients), TCP/HTTP connections handed out in turn.
  // Each worker keeps its cache snapshot by a stable index 0..N-1 (worker ids grow on restart): a restarted worker gets its predecessor's.
  const snapshotIndex = new Map<Worker, number>();
  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    live.add(worker);
    bornAt.set(worker, Date.now());
    snapshotIndex.set(worker, index);
  };

  const tell = (worker: Worker, msg: Message): void => {
    try {
      if (worker.isConnected()) worker.send(msg);
    } catch {
      // a worker exiting as we speak: its exit is handled below
    }
  };
  /** Workers drain (each answers what it took within shutdownGraceMs); the store closes once they are gone. */
  const stop = (reason: string, quiet = false) => {
    if (state === 'stopping') return;
    state = 'stopping';
    if (!quiet) log.info({ reason, workers: live.size, graceMs: config.shutdownGraceMs }, 'shutting down workers: no new queries taken, answering those in flight');
    for (const t of restartTimers) clearTimeout(t);
    for (const worker of live) tell(worker, { type: 'dnslinkd:stop', how: 'drain' });
    const killAfterMs = config.shutdownGraceMs + STOP_MARGIN_MS;
    killTimer = setTimeout(() => {
      log.warn({ workers: [...live].map((w) => w.process.pid) }, `workers still running ${killAfterMs} ms after the stop: killing them`);
      for (const worker of live) worker.process.kill('SIGKILL');
    }, killAfterMs);
    if (live.size === 0) done();
  };
  const done = () => {
    clearTimeout(killTimer);
    void primaryChanges?.close();
    control.close().then(settle, (err: unknown) => {
      log.error({ err }, 'error closing the control plane');
      settle();
    });
  };
  const settle = () => {
    if (startFailure) {
      fail(startFailure);
      return;
    }
    log.info('all workers stopped');
    finish(exitCode);
  };

  cluster.on('message', (worker: Worker, msg: unknown) => {
    if (!isMessage(msg)) return;
    if (msg.type === 'dnslinkd:ready') {
      // A worker that finished starting after the stop began drains at once (it may have missed the word).
      if (state === 'stopping') tell(worker, { type: 'dnslinkd:stop', how: 'drain' });
      else if (state === 'starting' && ++ready === count) {
        state = 'running';
        log.info({ workers: count, pids: [...live].map((w) => w.process.pid) }, 'dnslinkd workers ready');
      } else if (state === 'running') {
        log.info({ worker: worker.id, pid: worker.process.pid }, 'restarted worker ready');
      }
    } else if (msg.type === 'dnslinkd:start-failed') {
      if (state === 'starting' && !startFailure) {
        startFailure = msg.code ? new CodedError(msg.code, msg.message) : new Error(msg.message);
      }
    } else if (msg.type === 'dnslinkd:metrics-request') {
      const id = msg.id;
      const reply = (m: Message) => {
        if (worker.isConnected()) worker.send(m);
      };
      Promise.all([aggregator.clusterMetrics(), registry.metrics()]).then(
        ([workers, primary]) => reply({ type: 'dnslinkd:metrics-reply', id, text: `${workers.replace(/\n*$/, '\n')}${primary}` }),
        (err: unknown) => reply({ type: 'dnslinkd:metrics-reply', id, error: errorMessage(err) }),
      );
    }
  });

  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    live.delete(worker);
    const index = snapshotIndex.get(worker) ?? 0;
    snapshotIndex.delete(worker);
    const age = Date.now() - (bornAt.get(worker) ?? 0);
    bornAt.delete(worker);
    if (state === 'stopping') {
      if (live.size === 0) done();
      return;
    }
    if (state === 'starting') {
      // With the reason known, the command prints it once (every worker fails alike on a port in use).
      if (!startFailure) log.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'a worker failed to start: stopping the others');
      exitCode = 1;
      stop('a worker failed to start', startFailure !== undefined);
      return;
    }
    quickDeaths = age < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delayMs = Math.min(RESTART_MIN_MS * 2 ** Math.max(quickDeaths - 1, 0), RESTART_MAX_MS);
    log.warn({ worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker exited unexpectedly: restarting it');
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (state !== 'stopping') fork(index);
    }, delayMs);
    restartTimers.add(timer);
  });

  void onShutdownSignals(
    log,
    (signal) => {
      stop(signal);
      return finished.then(() => undefined, () => undefined);
    },
    (signal) => {
      for (const worker of live) tell(worker, { type: 'dnslinkd:stop', how: 'now' });
      exitNow(log, exitCodeAtOnce(signal));
    },
  );
  log.info({ workers: count, pid: process.pid }, 'starting workers');
  for (let i = 0; i < count; i++) fork(i);
  return finished;
}

async function runWorker(config: Config, log: Logger): Promise<number> {
  const worker = cluster.worker!;
  const wlog = log.child({ worker: worker.id });
  // Answer the primary's requests for this worker's metrics (prom-client's cluster protocol).
  new AggregatorRegistry();

  const pending = new Map<number, (reply: Extract<Message, { type: 'dnslinkd:metrics-reply' }>) => void>();
  let nextId = 0;
  process.on('message', (msg: unknown) => {
    if (isMessage(msg) && msg.type === 'dnslinkd:metrics-reply') pending.get(msg.id)?.(msg);
  });
  /** The metrics of all workers, summed by the primary. */
  const clusterMetrics = () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new CodedError('METRICS_UNAVAILABLE', `no metrics from the primary process within ${METRICS_TIMEOUT_MS} ms`));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text !== undefined) resolve(reply.text);
        else reject(new CodedError('METRICS_UNAVAILABLE', `metrics of all workers unavailable: ${reply.error ?? 'unknown error'}`));
      });
      process.send!({ type: 'dnslinkd:metrics-request', id } satisfies Message);
    });

  // The primary says when to stop, possibly while this worker is still starting (heard from now on);
  // a primary that is gone (killed) leaves nobody to serve for.
  let stopAsked!: (how: 'drain' | 'now') => void;
  const stopRequested = new Promise<'drain' | 'now'>((resolve) => (stopAsked = resolve));
  process.on('message', (msg: unknown) => {
    if (isMessage(msg) && msg.type === 'dnslinkd:stop') stopAsked(msg.how);
  });

  let instance;
  try {
    const cacheSnapshotIndex = Number(process.env[WORKER_INDEX_ENV] ?? 0);
    instance = await startInstance(config, wlog, { processMetrics: true, control: false, beforeListen: joinPrimary, cacheSnapshotIndex });
  } catch (err) {
    // The primary prints the reason once for all workers; this one exits quietly with code 1.
    const failed: Message = { type: 'dnslinkd:start-failed', message: errorMessage(err), ...(err instanceof CodedError ? { code: err.code } : {}) };
    await new Promise<void>((resolve) => process.send!(failed, undefined, {}, () => resolve()));
    worker.disconnect(); // let this process exit; the primary sees a failed start
    return 1;
  }
  acceptReloads(instance.core, log);
  AggregatorRegistry.setRegistries(instance.core.metrics.registry);
  instance.core.metrics.renderAll = clusterMetrics;
  process.once('disconnect', () => stopAsked('now'));
  process.send!({ type: 'dnslinkd:ready' } satisfies Message);

  await runUntilSignalled(instance, wlog, stopRequested);
  wlog.flush();
  if (worker.isConnected()) worker.disconnect();
  return 0;
}
