// Starts the control plane where it belongs (the single process, or a cluster's primary): opens
// the store, loads and applies its state to the replica, loads the admin tokens and starts the
// admin listener; says at start where the state and the token are.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { splitHostPort } from '../config/units.js';
import { startAdminListener } from '../listeners/admin-listener.js';
import { listenAs, LISTENER_ROLES } from '../listeners/listen-errors.js';
import { AdminAuth } from './admin-auth.js';
import { isLoopback } from './config.js';
import { ControlPlane } from './control-plane.js';
import { EmbeddedStore } from './embedded-store.js';
import { ControlMetrics } from './metrics.js';
import type { Replica } from './replica.js';

export interface RunningControl {
  control: ControlPlane;
  admin: { host: string; port: number };
  close(): Promise<void>;
}

export async function startControl(config: Config, log: Logger, replica: Replica, registry: Registry): Promise<RunningControl> {
  const auth = AdminAuth.load(config.admin.tokens, config.dataDir);
  const store = EmbeddedStore.open(config.dataDir);
  const control = new ControlPlane(store, replica, log, new ControlMetrics(registry));
  try {
    await control.start();
    const { host, port } = splitHostPort(config.admin.listen);
    const tls = config.admin.tls;
    const listener = await listenAs(LISTENER_ROLES.admin, host, port, () => startAdminListener(log, control, auth, { host, port, ...(tls ? { tls } : {}) }));
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
      admin: listener.address,
      close: async () => {
        await listener.close();
        await control.close();
      },
    };
  } catch (err) {
    await control.close();
    throw err;
  }
}
