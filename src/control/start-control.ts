// Starts the control plane where it belongs (the single process, or a cluster's primary): takes
// the data directory's lock, opens the store, loads and applies its state to the replica, loads
// the admin tokens and starts the admin listener; says at start where the state and the token are.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { splitHostPort } from '../config/units.js';
import { startAdminListener } from '../listeners/admin-listener.js';
import { listenAs, LISTENER_ROLES } from '../listeners/listen-errors.js';
import { AdminAuth } from './admin-auth.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { prepareDataDir } from '../runtime/data-dir.js';
import { isLoopback } from './config.js';
import { ControlPlane } from './control-plane.js';
import { DenylistControl } from './denylist-control.js';
import { CounterSamples, sampleOf } from './counter-samples.js';
import { EmbeddedStore } from './embedded-store.js';
import { FleetSync } from './fleet-sync.js';
import { FleetPresence } from './fleet-presence.js';
import { InvalidRecords } from './invalid-records.js';
import { registerControlHealth, unregisterControlHealth, type ControlHealth } from './health.js';
import { ControlMetrics } from './metrics.js';
import { RedisStore } from './redis-store.js';
import type { Replica } from './replica.js';
import type { ControlStore } from './store.js';

/** How often the control health is compared and, changed, sent to cluster workers. */
const HEALTH_PUBLISH_MS = 500;

export interface RunningControl {
  control: ControlPlane;
  /** The admin tokens in force (a configuration reload replaces them). */
  auth: AdminAuth;
  admin: { host: string; port: number };
  /** Stops the admin listener taking requests; resolves once those it took are answered. */
  drain(): Promise<void>;
  /** Closes the admin listener (at once for what is left), the fleet sync and the store. */
  close(): Promise<void>;
}

export async function startControl(config: Config, log: Logger, replica: Replica, registry: Registry): Promise<RunningControl> {
  // One dnslinkd per data directory (its store, token, cache); taken before anything in it is touched.
  prepareDataDir(config.dataDir);
  const lock = acquireDataDirLock(config.dataDir, log);
  const metrics = new ControlMetrics(registry);
  const invalid = new InvalidRecords(
    (r) =>
      config.state.redis
        ? log.warn({ key: r.key, record: r.id, why: r.why }, `invalid record in the fleet store skipped (never served): ${r.key} ${r.id}: ${r.why}; set it again with the admin API or delete it in Redis`)
        : log.error({ key: r.key, record: r.id, why: r.why }, `invalid record in the control store skipped (never served): ${r.key} ${r.id}: ${r.why}; set it again with the admin API (a PUT replaces it)`),
    (key, count) => metrics.invalidRecords.set({ key }, count),
  );
  let store: ControlStore;
  let auth: AdminAuth;
  try {
    auth = AdminAuth.load(config.admin.tokens, config.dataDir);
    // A fleet shares Redis (state.redis / DNSLINKD_REDIS_URL); one machine keeps its state in dataDir.
    store = config.state.redis
      ? await RedisStore.open(config.state.redis, { invalid, log })
      : EmbeddedStore.open(config.dataDir, { log, invalid, onFault: (reason) => metrics.storeFaults.inc({ reason }) });
  } catch (err) {
    lock.release();
    throw err;
  }
  const control = new ControlPlane(store, replica, log, metrics);
  control.maxFlushEntries = () => config.admin.maxFlushEntries;
  // The operator's denylist rules travel like overrides; a held list version is audited here.
  const denylist = new DenylistControl(control, replica, log, () => config.denylist.maxNewlyBlockedPercent);
  control.denylist = denylist;
  replica.onDenylistEvent?.((event) => denylist.recordEvent(event));
  let fleet: FleetSync | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  try {
    await control.start();
    if (store instanceof RedisStore) {
      fleet = new FleetSync(store, control, log, config.state.syncIntervalMs);
      await fleet.start();
    }
    const health = (): ControlHealth => {
      const reason = control.degraded ?? store.problem;
      const held = control.storeReset()?.held ?? 0;
      const invalidRecords = store.invalid?.count ?? 0;
      return {
        store: store.kind,
        degraded: reason !== undefined || held > 0,
        ...(reason !== undefined ? { reason } : {}),
        ...(held > 0 ? { heldAfterReset: held } : {}),
        ...(invalidRecords > 0 ? { invalidRecords } : {}),
        ...(control.unbuildable.count > 0 ? { unbuildableOverrides: control.unbuildable.count } : {}),
      };
    };
    registerControlHealth(registry, health);
    // Cluster workers answer /healthz: they get the health when it changes.
    let published = '';
    const publish = () => {
      const now = health();
      if (JSON.stringify(now) !== published) replica.publishHealth?.(now);
      published = JSON.stringify(now);
    };
    if (replica.publishHealth) {
      publish();
      healthTimer = setInterval(publish, HEALTH_PUBLISH_MS);
      healthTimer.unref();
    }
    const { host, port } = splitHostPort(config.admin.listen);
    const tls = config.admin.tls;
    const listener = await listenAs(LISTENER_ROLES.admin, host, port, () => startAdminListener(log, control, auth, { host, port, limits: config.http, ...(tls ? { tls } : {}) }));
    // The console's live charts (GET /admin/v1/samples): counters sampled off the DNS path.
    control.samples = new CounterSamples(async () => sampleOf(await control.processes(), control.active().length, Date.now()), config.admin.consoleSampleSeconds);
    control.samples.start();
    if (store instanceof RedisStore) {
      control.fleet = new FleetPresence(store, `${host}:${listener.address.port}`, config.state.syncIntervalMs, () => control.status().version, log);
      control.fleet.start();
    }
    const plaintextOffLoopback = !tls && !isLoopback(host);
    log[plaintextOffLoopback ? 'warn' : 'info'](
      {
        admin: `${host}:${listener.address.port}`,
        tls: Boolean(tls),
        tokens: auth.labels,
        ...(auth.generatedFile ? { tokenFile: auth.generatedFile } : {}),
      },
      plaintextOffLoopback
        ? 'admin API listening WITHOUT TLS off loopback (admin.allowPlaintext): tokens cross the network in clear'
        : auth.generatedFile
          ? `admin API listening; no token configured, so the CLI uses the one in ${auth.generatedFile}`
          : 'admin API listening',
    );
    return {
      control,
      auth,
      admin: listener.address,
      drain: () => listener.drain(),
      close: async () => {
        clearInterval(healthTimer);
        control.samples?.stop();
        unregisterControlHealth(registry);
        await listener.close();
        await control.fleet?.stop();
        await fleet?.close();
        denylist.close();
        await control.close();
        lock.release();
      },
    };
  } catch (err) {
    clearInterval(healthTimer);
    unregisterControlHealth(registry);
    await fleet?.close();
    await control.close();
    lock.release();
    throw err;
  }
}
