// Starts and stops one dnslinkd instance: the resolution core and its listeners (DNS over UDP and
// TCP on one address, HTTP on another, HTTPS when configured), turning an address that cannot be
// listened on into one coded error naming the setting to change. Used by `dnslinkd serve`, by each
// worker of `--workers N` and by tests.
import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { splitHostPort } from './config/units.js';
import { createResolverCore, type CoreOptions, type ResolverCore } from './core/resolver-core.js';
import { CodedError } from './errors.js';
import { startHttpListener } from './listeners/http/http-listener.js';
import type { RunningListener } from './listeners/running-listener.js';
import { startTcpListener } from './listeners/tcp-listener.js';
import { startUdpListener } from './listeners/udp-listener.js';
import { CHAIN_ORDER } from './stages/chain.js';

export interface RunningInstance {
  core: ResolverCore;
  dns: { host: string; port: number };
  http: { host: string; port: number };
  /** The HTTPS listener, when http.tls is configured. */
  https?: { host: string; port: number };
  close(): Promise<void>;
}

/** What a listener is for and what moves it, for the error when its address cannot be used. */
interface ListenerRole {
  what: string;
  /** The setting, then the flag and variable that set it. */
  setting: string;
}

const ROLES = {
  udp: { what: 'DNS over UDP', setting: 'dns.listen (--dns, DNSLINKD_DNS)' },
  tcp: { what: 'DNS over TCP', setting: 'dns.listen (--dns, DNSLINKD_DNS)' },
  http: { what: 'HTTP (DoH, /v1/dnslink, /metrics)', setting: 'http.listen (--http, DNSLINKD_HTTP)' },
  https: { what: 'HTTPS (DoH, /v1/dnslink)', setting: 'http.tls.listen (DNSLINKD_HTTP__TLS__LISTEN)' },
} as const satisfies Record<string, ListenerRole>;

/** System errors of binding an address, as the operator's problem: a code and what it means. */
const LISTEN_ERRORS: Record<string, { code: string; why: string }> = {
  EADDRINUSE: { code: 'ADDRESS_IN_USE', why: 'address already in use (EADDRINUSE: another process holds it)' },
  EACCES: { code: 'ADDRESS_NOT_PERMITTED', why: 'permission denied (EACCES: ports below 1024 need root or CAP_NET_BIND_SERVICE)' },
  EADDRNOTAVAIL: { code: 'ADDRESS_NOT_AVAILABLE', why: 'address not available (EADDRNOTAVAIL: no network interface of this host has it)' },
};

function listenErrorOf(err: unknown): { code: string; why: string } | undefined {
  const { code, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  return (syscall === 'bind' || syscall === 'listen') && code ? LISTEN_ERRORS[code] : undefined;
}

const shownAddress = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Starts a listener; an address it cannot use becomes one CodedError naming the setting to change. */
async function listenAs<T>(role: ListenerRole, host: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const known = listenErrorOf(err);
    if (!known) throw err;
    throw new CodedError(known.code, `cannot listen on ${shownAddress(host, port)} for ${role.what}: ${known.why}; choose another address with ${role.setting}`, { cause: err });
  }
}

export async function startInstance(config: Config, log: Logger, options: CoreOptions = {}): Promise<RunningInstance> {
  const core = createResolverCore(config, log, options);
  const dnsAddr = splitHostPort(config.dns.listen);
  const httpAddr = splitHostPort(config.http.listen);
  const started: RunningListener[] = [];
  try {
    const udp = await listenAs(ROLES.udp, dnsAddr.host, dnsAddr.port, () => startUdpListener(core, dnsAddr.host, dnsAddr.port));
    started.push(udp);
    // Port 0 picks a free UDP port; TCP follows it so both transports share one port.
    const tcpOptions = {
      idleTimeoutMs: config.dns.tcpIdleTimeoutMs,
      maxConnections: config.dns.tcpMaxConnections,
      maxPipelined: config.dns.tcpMaxPipelined,
    };
    const tcp = await listenAs(ROLES.tcp, dnsAddr.host, udp.address.port, () => startTcpListener(core, dnsAddr.host, udp.address.port, tcpOptions));
    started.push(tcp);
    const httpOptions = { h2c: config.http.h2c, bodyLimit: config.http.bodyLimit };
    const http = await listenAs(ROLES.http, httpAddr.host, httpAddr.port, () => startHttpListener(core, httpAddr.host, httpAddr.port, httpOptions));
    started.push(http);
    let https: { host: string; port: number } | undefined;
    if (config.http.tls) {
      const tlsAddr = splitHostPort(config.http.tls.listen);
      const tls = { cert: config.http.tls.cert, key: config.http.tls.key };
      const server = await listenAs(ROLES.https, tlsAddr.host, tlsAddr.port, () => startHttpListener(core, tlsAddr.host, tlsAddr.port, { ...httpOptions, tls }));
      started.push(server);
      https = server.address;
    }
    log.info(
      { dns: `${dnsAddr.host}:${udp.address.port}`, http: `${httpAddr.host}:${http.address.port}`, ...(https ? { https: `${https.host}:${https.port}` } : {}), upstreams: config.upstreams, forward: config.dns.forward, localRecords: core.stages['local-records'].size, chain: CHAIN_ORDER },
      'dnslinkd listening',
    );
    return {
      core,
      dns: { host: dnsAddr.host, port: udp.address.port },
      http: { host: httpAddr.host, port: http.address.port },
      ...(https ? { https } : {}),
      close: async () => {
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}

/**
 * Serves until SIGTERM or SIGINT, then closes the instance once (a signal may arrive twice: to the
 * process group and forwarded by a cluster primary). Resolves when the instance is closed.
 */
export function runUntilSignalled(instance: RunningInstance, log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      instance.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
