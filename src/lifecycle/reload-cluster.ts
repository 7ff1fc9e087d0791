// Reloads with --workers N: the primary reads and checks the configuration once (SIGHUP, POST
// /admin/v1/reload) and hands the checked configuration and local records to every worker over
// IPC; each worker applies them to its own core (reload.ts). A worker started later gets the last.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { RunningControl } from '../control/start-control.js';
import type { ResolverCore } from '../core/resolver-core.js';
import { CodedError, errorMessage } from '../errors.js';
import type { LocalRecord } from '../stages/local-records/local-records-stage.js';
import { setLogFormat } from '../observability/logger.js';
import { RELOAD_KEYS } from './reload-keys.js';
import { applyToCore, reloadOnSighup, Reloader, serveReloads, sighupServed } from './reload.js';

/** A worker that has not applied a reload within this is reported as failing it. */
const APPLY_TIMEOUT_MS = 5_000;

interface Checked {
  config: Config;
  records: LocalRecord[];
  changed: string[];
}

type ReloadMessage =
  | ({ type: 'dnslinkd:reload-apply'; id: number } & Checked)
  | { type: 'dnslinkd:reload-applied'; id: number; error?: string };

function isReloadMessage(value: unknown): value is ReloadMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === 'dnslinkd:reload-apply' || type === 'dnslinkd:reload-applied';
}

/** Every live key: what a worker that started before the last reload must take. */
const ALL_LIVE_KEYS = Object.keys(RELOAD_KEYS).filter((key) => RELOAD_KEYS[key] === 'live');

/** In the primary: SIGHUP and POST /admin/v1/reload check the configuration here and apply it in every worker. */
export function handlePrimaryReloads(control: RunningControl, running: Config, load: () => Config, log: Logger, registry: Registry): void {
  const pending = new Map<number, (error?: string) => void>();
  let nextId = 0;
  /** The last configuration applied, for workers that start (or restart) after it. */
  let last: Checked | undefined;
  /** Workers that said they are ready: only those are asked; one still starting takes `last` when it joins. */
  const ready = new Set<Worker>();
  cluster.on('exit', (worker: Worker) => ready.delete(worker));

  const send = (worker: Worker, checked: Checked): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const settle = (error?: string) => {
        clearTimeout(timer);
        pending.delete(id);
        if (error === undefined) resolve();
        else reject(new CodedError('RELOAD_WORKER_FAILED', `worker ${worker.id} (pid ${worker.process.pid}): ${error}`));
      };
      const timer = setTimeout(() => settle(`did not apply the reload within ${APPLY_TIMEOUT_MS} ms`), APPLY_TIMEOUT_MS);
      pending.set(id, settle);
      worker.send({ type: 'dnslinkd:reload-apply', id, ...checked } satisfies ReloadMessage, (err: Error | null) => {
        if (err) settle(errorMessage(err));
      });
    });

  cluster.on('message', (worker: Worker, msg: unknown) => {
    if (isReloadMessage(msg) && msg.type === 'dnslinkd:reload-applied') pending.get(msg.id)?.(msg.error);
    else if ((msg as { type?: unknown } | null)?.type === 'dnslinkd:ready') {
      ready.add(worker);
      if (!last) return;
      send(worker, { ...last, changed: ALL_LIVE_KEYS }).catch((err: unknown) => log.error({ err: errorMessage(err) }, 'a started worker did not take the reloaded configuration'));
    }
  });

  const reloader = new Reloader({
    load,
    running,
    log,
    registry,
    auth: control.auth,
    target: {
      apply: async (config, records, changed) => {
        last = { config, records, changed: [...changed] };
        const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
        const workers = all.filter((w) => ready.has(w));
        const starting = all.length - workers.length;
        if (starting > 0) log.info({ starting }, 'workers still starting are not asked: each takes the reloaded configuration when it is ready');
        const results = await Promise.allSettled(workers.map((w) => send(w, last!)));
        for (const r of results) if (r.status === 'rejected') log.error({ err: errorMessage(r.reason) }, 'a worker did not apply the reload');
        return { workers: results.filter((r) => r.status === 'fulfilled').length };
      },
    },
  });
  serveReloads(control.control, reloader);
  reloadOnSighup(reloader);
}

/** In a worker: applies what the primary hands over; `log` is the process's root logger. */
export function acceptReloads(core: ResolverCore, log: Logger): void {
  process.on('message', (msg: unknown) => {
    if (!isReloadMessage(msg) || msg.type !== 'dnslinkd:reload-apply') return;
    let error: string | undefined;
    try {
      applyToCore(core, msg.config, msg.records, msg.changed);
      log.level = msg.config.logLevel;
      setLogFormat(log, msg.config.log.format);
      core.log.info({ changed: msg.changed }, 'applied the configuration the primary reloaded');
    } catch (err) {
      error = errorMessage(err);
    }
    if (process.connected) process.send!({ type: 'dnslinkd:reload-applied', id: msg.id, ...(error !== undefined ? { error } : {}) } satisfies ReloadMessage);
  });
  // SIGHUP sent to the whole process group reaches the workers too: the primary reloads them all.
  sighupServed();
  process.on('SIGHUP', () => {});
}
