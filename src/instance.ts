// Starts and stops one dnslinkd instance: the resolution core and its listeners (DNS over UDP and
// TCP on one address, HTTP on another, HTTPS when configured), turning an address that cannot be
// listened on into one coded error naming the setting to change. Used by `dnslinkd serve`, by each
// worker of `--workers N` and by tests.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { splitHostPort } from './config/units.js';
import { createResolverCore, type CoreOptions, type ResolverCore } from './core/resolver-core.js';
import { startHttpListener } from './listeners/http/http-listener.js';
import { assertNotAccidentallyOpen, unreachableClientsWarning } from './listeners/access-control.js';
import { listenAs, LISTENER_ROLES as ROLES } from './listeners/listen-errors.js';
import type { RunningListener } from './listeners/running-listener.js';
import { startTcpListener } from './listeners/tcp-listener.js';
import { startUdpTransport } from './listeners/udp-transport.js';
import type { AdminAuth } from './control/admin-auth.js';
import type { ControlPlane } from './control/control-plane.js';
import { LocalReplica } from './control/replica.js';
import { startControl, type RunningControl } from './control/start-control.js';
import { recordListeners } from './control/instance-status.js';
import { cacheSnapshots } from './stages/cache/snapshot.js';
import { CHAIN_ORDER } from './stages/chain.js';
import { checkEnsAtStart } from './stages/ens/start-check.js';
import { applyHeapLimits } from './runtime/heap-limits.js';
import { recordControlChanges, startChanges, type RunningChanges } from './changes/start-changes.js';
import { exitCodeAtOnce, exitNow, onShutdownSignals, SHUTTING_DOWN_TEXT, upstreamAbortDelayMs, withinGrace } from './lifecycle/shutdown.js';

export interface RunningInstance {
  core: ResolverCore;
  dns: { host: string; port: number };
  http: { host: string; port: number };
  /** The HTTPS listener, when http.tls is configured. */
  https?: { host: string; port: number };
  /** The admin listener, when this process holds the control plane. */
  admin?: { host: string; port: number };
  control?: ControlPlane;
  /** The admin tokens, when this process holds the control plane (a reload replaces them). */
  auth?: AdminAuth;
  /**
   * Stops the instance: every listener stops accepting and answers what it took for at most
   * `graceMs` (0: nothing waits), then whatever is left is closed, the state is closed cleanly and the last cache
   * snapshot is written.
   * Resolves to whether everything in flight was answered in time.
   */
  close(graceMs?: number): Promise<boolean>;
  /** Writes the cache snapshot now (cache.persist; nothing when off) and stops the periodic ones: `close` calls it after the listeners closed. */
  persistCache(): Promise<void>;
}

export interface InstanceOptions extends CoreOptions {
  /** Hold the control plane and the admin listener here (default). A cluster worker does not: its primary does. */
  control?: boolean;
  /** Runs after the core is made and before any listener opens (a cluster worker joins its primary's control plane here). */
  beforeListen?: (core: ResolverCore) => Promise<void>;
  /** Which cache snapshot this instance keeps in the data dir: a cluster worker's stable index (default 0). */
  cacheSnapshotIndex?: number;
}

export async function startInstance(config: Config, log: Logger, options: InstanceOptions = {}): Promise<RunningInstance> {
  assertNotAccidentallyOpen(config);
  const accessWarning = unreachableClientsWarning(config);
  if (accessWarning) log.warn(accessWarning);
  applyHeapLimits(config.memory);
  // A cluster worker keeps its own copies of the denylists (no two processes write one file).
  const denylistDataDir = options.control === false ? join(config.dataDir, `denylist-worker-${options.cacheSnapshotIndex ?? 0}`) : undefined;
  // A restart that changes dns.workers reads the copies the other layout kept (no network needed to block).
  const denylistFallbackDirs = denylistDataDir ? [config.dataDir] : [join(config.dataDir, 'denylist-worker-0')];
  const core = createResolverCore(config, log, { ...options, ...(denylistDataDir ? { denylistDataDir } : {}), denylistFallbackDirs });
  await checkEnsAtStart(core.stages.ens, config.ens.registry, log);
  const snapshots = cacheSnapshots(config.cache, core.stages.cache.store, config.dataDir, options.cacheSnapshotIndex ?? 0, core.metrics.registry, log, options.now);
  const dnsAddr = splitHostPort(config.dns.listen);
  const httpAddr = splitHostPort(config.http.listen);
  const started: RunningListener[] = [];
  /** What each started listener is, for the shutdown's log. */
  const roles: string[] = [];
  let control: RunningControl | undefined;
  let changes: RunningChanges | undefined;
  try {
    // The change stream before the control plane, so the first change made there is recorded.
    changes = await startChanges(config, log, core.metrics.registry, core.stages.cache, options.now);
    core.changes = changes.stream;
    // The control plane first: the overrides in force apply before the first query is answered.
    if (options.control !== false) control = await startControl(config, log, new LocalReplica(core, options.now), core.metrics.registry);
    if (control) recordControlChanges(control.control, changes.stream);
    await options.beforeListen?.(core);
    // The cache kept across restarts: loaded once the data directory is this process's (its lock,
    // taken by the control plane or a cluster's primary) and before any listener answers.
    await snapshots?.load();
    // The denylists in force before the first answer (a version applied before is applied again;
    // a new one is weighed against the names of the cache just loaded). A list that cannot be read
    // does not stop the start: /healthz says so.
    await core.denylist.start();
    const udpOptions = { recvBufferSize: config.dns.recvBufferSize, batching: config.dns.udpBatching };
    const udp = await listenAs(ROLES.udp, dnsAddr.host, dnsAddr.port, () => startUdpTransport(core, dnsAddr.host, dnsAddr.port, udpOptions));
    started.push(udp);
    roles.push('udp');
    // Port 0 picks a free UDP port; TCP follows it so both transports share one port.
    const tcpOptions = {
      idleTimeoutMs: config.dns.tcpIdleTimeoutMs,
      queryTimeoutMs: config.dns.tcpQueryTimeoutMs,
      maxConnections: config.dns.tcpMaxConnections,
      maxConnectionsPerClient: config.dns.tcpMaxConnectionsPerClient,
      clientIpv4PrefixLength: config.dns.tcpClientIpv4PrefixLength,
      clientIpv6PrefixLength: config.dns.tcpClientIpv6PrefixLength,
      maxPipelined: config.dns.tcpMaxPipelined,
    };
    const tcp = await listenAs(ROLES.tcp, dnsAddr.host, udp.address.port, () => startTcpListener(core, dnsAddr.host, udp.address.port, tcpOptions));
    started.push(tcp);
    roles.push('tcp');
    const httpOptions = { h2c: config.http.h2c, bodyLimit: config.http.bodyLimit, limits: config.http };
    const http = await listenAs(ROLES.http, httpAddr.host, httpAddr.port, () => startHttpListener(core, httpAddr.host, httpAddr.port, httpOptions));
    started.push(http);
    roles.push('http');
    let https: { host: string; port: number } | undefined;
    if (config.http.tls) {
      const tlsAddr = splitHostPort(config.http.tls.listen);
      const tls = { cert: config.http.tls.cert, key: config.http.tls.key };
      const server = await listenAs(ROLES.https, tlsAddr.host, tlsAddr.port, () => startHttpListener(core, tlsAddr.host, tlsAddr.port, { ...httpOptions, tls }));
      started.push(server);
      roles.push('https');
      https = server.address;
    }
    log.info(
      { dns: `${dnsAddr.host}:${udp.address.port}`, udpPath: udp.path(), http: `${httpAddr.host}:${http.address.port}`, ...(https ? { https: `${https.host}:${https.port}` } : {}), upstreams: config.upstreams, forward: config.dns.forward, clients: core.clientGate.access.description, rateLimit: core.clientGate.rateLimiter.description, localRecords: core.stages['local-records'].size, chain: CHAIN_ORDER, ens: core.stages.ens.enabled ? { rpc: config.ens.rpc.length, suffixes: config.ens.suffixes } : 'off: no ens.rpc configured' },
      'dnslinkd listening',
    );
    recordListeners(core, { dns: `${dnsAddr.host}:${udp.address.port}`, http: `${httpAddr.host}:${http.address.port}`, ...(https ? { https: `${https.host}:${https.port}` } : {}) });
    snapshots?.startPeriodic();
    const persistCache = async () => snapshots?.close();
    return {
      core,
      dns: { host: dnsAddr.host, port: udp.address.port },
      http: { host: httpAddr.host, port: http.address.port },
      ...(https ? { https } : {}),
      ...(control ? { admin: control.admin, control: control.control, auth: control.auth } : {}),
      close: async (graceMs = 0) => {
        const since = Date.now();
        const drainOne = (role: string, listener: { drain(): Promise<void> }) => listener.drain().then(() => log.debug({ listener: role, ms: Date.now() - since }, 'listener drained'));
        const drains = started.map((s, i) => drainOne(roles[i]!, s));
        if (control) drains.push(drainOne('admin', control));
        // Shortly before the grace ends, questions still waiting for upstreams are answered (stale or SERVFAIL).
        const endUpstreamWaits = () => core.stages.upstream.abortOutstanding(SHUTTING_DOWN_TEXT);
        const abortTimer = setTimeout(() => {
          const waiting = endUpstreamWaits();
          if (waiting > 0) log.info({ waiting, ms: Date.now() - since }, 'shutting down: questions still waiting for upstreams answered now (stale or SERVFAIL)');
        }, upstreamAbortDelayMs(graceMs));
        const drained = graceMs > 0 && (await withinGrace(Promise.all(drains), graceMs));
        clearTimeout(abortTimer);
        endUpstreamWaits();
        await Promise.allSettled(started.map((s) => s.close()));
        await control?.close();
        await core.denylist.stop();
        await changes?.close();
        await persistCache();
        return drained;
      },
      persistCache,
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    await control?.close();
    await core.denylist.stop();
    await changes?.close();
    throw err;
  }
}

/**
 * Serves until SIGTERM or SIGINT (or `stopRequested`, a cluster primary's word), then drains the
 * instance within `shutdownGraceMs` and closes it; a second signal exits at once. Resolves when
 * the instance is closed.
 */
export function runUntilSignalled(instance: RunningInstance, log: Logger, stopRequested?: Promise<'drain' | 'now'>): Promise<void> {
  const graceMs = instance.core.config.shutdownGraceMs;
  let draining: Promise<void> | undefined;
  const drain = (reason: string): Promise<void> =>
    (draining ??= (async () => {
      const started = Date.now();
      log.info({ reason, graceMs }, 'shutting down: no new queries taken, answering those in flight');
      const drained = await instance.close(graceMs);
      const ms = Date.now() - started;
      if (drained) log.info({ ms }, 'shut down: everything in flight was answered');
      else log.warn({ ms, graceMs }, 'shut down: the grace period (shutdownGraceMs) ran out; what was still in flight was dropped');
    })());
  const signalled = onShutdownSignals(log, (signal) => drain(signal), (signal) => exitNow(log, exitCodeAtOnce(signal)));
  const asked = stopRequested?.then((how) => (how === 'now' ? exitNow(log, 0) : drain('asked by the primary process')));
  return Promise.race(asked ? [signalled, asked] : [signalled]);
}
