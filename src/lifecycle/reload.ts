// Reloading the configuration without a restart (SIGHUP, POST /admin/v1/reload, `dnslinkd reload`):
// the file and environment read again through the same loadConfig and flags as at start, checked
// whole (refused whole when anything fails), then the live keys (reload-keys.ts) swapped into the
// running parts in place: upstream pool, client gate, cache policy, local records, ENS, log level,
// admin tokens. The cache and its entries are kept. With --workers, see reload-cluster.ts.
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { AdminAuth } from '../control/admin-auth.js';
import type { ControlPlane } from '../control/control-plane.js';
import type { ResolverCore } from '../core/resolver-core.js';
import { CodedError, errorMessage } from '../errors.js';
import type { RunningInstance } from '../instance.js';
import { assertNotAccidentallyOpen } from '../listeners/access-control.js';
import { cacheStageOptions } from '../stages/cache/config.js';
import type { LocalRecord } from '../stages/local-records/local-records-stage.js';
import { readLocalRecords } from '../stages/local-records/records-file.js';
import { setLogFormat } from '../observability/logger.js';
import { changedKeys, declaredKey, pinnedLine, planReload } from './reload-keys.js';

/** What a reload did (or, for a dry run, would do): the answer of POST /admin/v1/reload. */
export interface ReloadReport {
  dryRun: boolean;
  /** Keys applied live (declared in reload-keys.ts); `localRecords` and `admin.tokens` also when only their files changed. */
  changed: string[];
  /** Keys changed in the configuration that only a restart applies: kept as they run. */
  needsRestart: string[];
  /** With --workers: how many workers applied it. */
  workers?: number;
  /** Keys changed in the file but pinned by a flag given at start (the flag wins): present when any. */
  pinnedByFlags?: string[];
}

/**
 * loadConfig with the flags the process started with. `serve` attaches the same load without the
 * flags and the dotted paths the flags set: a reload then checks the file's own values (a restart
 * without the flag would read them) and names the file's edits a flag hides.
 */
export type ConfigSource = (() => Config) & { withoutFlags?: () => Config; flagPaths?: readonly string[] };

/** Changed paths that a flag path covers (or sits under), as their declared keys, each once. */
function pinnedOf(changed: readonly string[], flagPaths: readonly string[]): string[] {
  const covers = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
  return [...new Set(changed.filter((p) => flagPaths.some((f) => covers(p, f))).map((p) => declaredKey(p) ?? p))];
}

/** A checked new configuration: everything read, nothing applied yet. */
interface CheckedReload {
  config: Config;
  records: LocalRecord[];
  changed: string[];
  needsRestart: string[];
  auth?: AdminAuth;
  /** The file and environment alone (no flags), when flags were given at start. */
  fileOnly?: Config;
  pinnedByFlags: string[];
}

/** Where a checked configuration is applied: this process's core, or every worker of a cluster. */
export interface ReloadTarget {
  apply(config: Config, records: LocalRecord[], changed: readonly string[]): Promise<{ workers?: number }>;
}

export interface ReloaderOptions {
  /** loadConfig with the flags the process started with (flags still win over the file). */
  load: ConfigSource;
  /** The configuration the process runs now. */
  running: Config;
  /** This process's root logger: its level follows logLevel. */
  log: Logger;
  /** Where dnslinkd_config_reloads_total is registered. */
  registry: Registry;
  /** The admin tokens in force, where this process holds the admin API. */
  auth?: AdminAuth;
  target: ReloadTarget;
}

const recordsOf = (config: Config): LocalRecord[] => (config.localRecords ? readLocalRecords(config.localRecords) : []);

/** One line naming the key and why (loadConfig's errors list one key per line). */
function oneLine(message: string): string {
  return message.replace(/:\n\s+/, ': ').replace(/\n\s*/g, '; ');
}

/** Applies a checked configuration's live parts to one process's core, in place (the cache is kept). */
export function applyToCore(core: ResolverCore, config: Config, records: LocalRecord[], changed: readonly string[]): void {
  const touched = (...keys: string[]) => keys.some((k) => changed.includes(k));
  if (touched('upstreams', 'upstreamTimeoutMs')) {
    core.stages.upstream.pool.reconfigure(config.upstreams, config.upstreamTimeoutMs);
    // Stale answers held because the old upstreams failed are refreshed from the new ones at once.
    core.stages.cache.forgetRefreshFailures();
  }
  if (touched('dns.allow', 'dns.openResolver', 'dns.rateLimit')) core.clientGate.reconfigure(config.dns);
  core.stages.cache.reconfigure(cacheStageOptions(config.cache, config.clientDeadlineMs));
  core.stages['local-records'].replaceRecords(records);
  if (touched('ens')) core.stages.ens.reconfigureFrom(config.ens);
  core.wireHandler.queryLog.reconfigure(config.log.queries);
  // Every denylist read again (a file re-read, a URL fetched, conditionally): a new version is weighed as usual.
  void core.denylist.refresh();
  core.config = config;
}

export class Reloader {
  private running: Config;
  /** The local records last read, to tell a changed file. */
  private recordsSeen: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The file and environment alone as last applied, to tell edits a start flag hides. */
  private fileSeen: Config | undefined;
  private readonly counter: Counter<'result'>;

  constructor(private readonly options: ReloaderOptions) {
    this.running = options.running;
    try {
      this.recordsSeen = JSON.stringify(recordsOf(options.running));
    } catch {
      this.recordsSeen = undefined;
    }
    try {
      this.fileSeen = options.load.withoutFlags?.();
    } catch {
      this.fileSeen = undefined;
    }
    this.counter = new Counter({
      name: 'dnslinkd_config_reloads_total',
      help: 'Configuration reloads (SIGHUP, POST /admin/v1/reload), by result: applied, or refused (the running configuration stays)',
      labelNames: ['result'] as const,
      registers: [options.registry],
    });
    for (const result of ['applied', 'refused']) this.counter.inc({ result }, 0);
  }

  /** The configuration in force. */
  get config(): Config {
    return this.running;
  }

  /** Reads and checks the configuration and, unless a dry run, applies it; one at a time. Refused: a CodedError RELOAD_REFUSED. */
  reload(dryRun: boolean, by: string): Promise<ReloadReport> {
    const next = this.queue.then(() => this.reloadNow(dryRun, by));
    this.queue = next.catch(() => {});
    return next;
  }

  /** Everything a reload reads, checked; throws the reason it is refused. */
  private check(): CheckedReload {
    const { effective, changed, needsRestart } = planReload(this.running, this.options.load());
    const { withoutFlags, flagPaths = [] } = this.options.load;
    let fileOnly: Config | undefined;
    let pinnedByFlags: string[] = [];
    if (withoutFlags && flagPaths.length) {
      try {
        fileOnly = withoutFlags();
      } catch (err) {
        // A flag replaces the bad value now; a restart without the flag would fail on it.
        throw new CodedError('CONFIG_INVALID', `${errorMessage(err)} (a flag given at start replaces it now, a restart without the flag would fail)`);
      }
      if (this.fileSeen) pinnedByFlags = pinnedOf(changedKeys(this.fileSeen, fileOnly), flagPaths);
    }
    assertNotAccidentallyOpen(effective);
    const records = recordsOf(effective);
    if (JSON.stringify(records) !== this.recordsSeen && !changed.includes('localRecords')) changed.push('localRecords');
    let auth: AdminAuth | undefined;
    if (this.options.auth) {
      auth = AdminAuth.load(effective.admin.tokens, effective.dataDir);
      if (!this.options.auth.sameTokens(auth) && !changed.includes('admin.tokens')) changed.push('admin.tokens');
    }
    return { config: effective, records, changed, needsRestart, pinnedByFlags, ...(auth ? { auth } : {}), ...(fileOnly ? { fileOnly } : {}) };
  }

  private async reloadNow(dryRun: boolean, by: string): Promise<ReloadReport> {
    const { log } = this.options;
    let checked: CheckedReload;
    try {
      checked = this.check();
    } catch (err) {
      const reason = oneLine(errorMessage(err));
      if (!dryRun) {
        this.counter.inc({ result: 'refused' });
        log.error({ by, code: err instanceof CodedError ? err.code : undefined }, `reload refused: ${reason}`);
      }
      throw new CodedError('RELOAD_REFUSED', `reload refused: ${reason}; the running configuration stays`);
    }
    const { config, records, changed, needsRestart, auth, fileOnly, pinnedByFlags } = checked;
    const pinned = pinnedByFlags.length ? { pinnedByFlags } : {};
    if (dryRun) return { dryRun, changed, needsRestart, ...pinned };
    let workers: number | undefined;
    try {
      ({ workers } = await this.options.target.apply(config, records, changed));
    } catch (err) {
      // Every part was built and checked above: this is a bug, not the operator's file.
      log.error({ by, err: errorMessage(err) }, 'reload failed while applying the checked configuration');
      throw new CodedError('RELOAD_FAILED', `reload failed while applying: ${errorMessage(err)} (see the logs)`);
    }
    if (auth) this.options.auth?.replaceTokens(auth);
    log.level = config.logLevel;
    setLogFormat(log, config.log.format);
    this.running = config;
    this.recordsSeen = JSON.stringify(records);
    if (fileOnly) this.fileSeen = fileOnly;
    this.counter.inc({ result: 'applied' });
    log.info({ by, changed, ...(workers !== undefined ? { workers } : {}) }, changed.length ? 'configuration reloaded' : 'configuration reloaded: nothing changed');
    if (needsRestart.length) {
      log.warn({ by, keys: needsRestart }, `${needsRestart.join(', ')} changed in the configuration and kept as running: needs a restart`);
    }
    if (pinnedByFlags.length) log.warn({ by, pinnedByFlags }, pinnedLine(pinnedByFlags));
    return { dryRun, changed, needsRestart, ...pinned, ...(workers !== undefined ? { workers } : {}) };
  }
}

let duringStart: (() => void) | undefined;

/** From the start of `serve` until reloads are served: SIGHUP is ignored, with a warning, rather than fatal (Node's default). */
export function ignoreSighupWhileStarting(log: Logger): void {
  duringStart = () => log.warn('SIGHUP while starting: ignored; send it again once dnslinkd is listening');
  process.on('SIGHUP', duringStart);
}

/** This process serves SIGHUP itself from now on. */
export function sighupServed(): void {
  if (duringStart) process.off('SIGHUP', duringStart);
  duringStart = undefined;
}

/** Answers SIGHUP with a reload (instead of dying, Node's default), for as long as the process runs. */
export function reloadOnSighup(reloader: Reloader): void {
  sighupServed();
  process.on('SIGHUP', () => {
    // Refusals are logged and counted by the reloader; nothing else to do here.
    reloader.reload(false, 'SIGHUP').catch(() => {});
  });
}

/** Makes POST /admin/v1/reload answer with this reloader, and flushes read admin.maxFlushEntries from the configuration it keeps. */
export function serveReloads(control: ControlPlane | undefined, reloader: Reloader): void {
  if (!control) return;
  control.reload = (dryRun, by) => reloader.reload(dryRun, by);
  control.maxFlushEntries = () => reloader.config.admin.maxFlushEntries;
}

/** `serve` in one process: SIGHUP and POST /admin/v1/reload reload this instance (called next to runUntilSignalled). */
export function handleReloads(instance: RunningInstance, load: () => Config, log: Logger): void {
  const { core } = instance;
  const reloader = new Reloader({
    load,
    running: core.config,
    log,
    registry: core.metrics.registry,
    ...(instance.auth ? { auth: instance.auth } : {}),
    target: {
      apply: async (config, records, changed) => {
        applyToCore(core, config, records, changed);
        return {};
      },
    },
  });
  serveReloads(instance.control, reloader);
  reloadOnSighup(reloader);
}
