// An Unbound resolver on 127.0.0.1 (bench baseline; optionally a recursive upstream over nsd).
import { join } from 'node:path';
import { startDaemon, type DaemonHandle } from './daemon.js';

export type UnboundHandle = DaemonHandle;

export interface UnboundOptions {
  /** Zones forwarded to an authoritative server on 127.0.0.1 (stub-zone). */
  stubs?: { zone: string; port: number }[];
  /** Zones forwarded to a resolver on 127.0.0.1 (forward-zone: Unbound as a caching forwarder). */
  forwards?: { zone: string; port: number }[];
  /** local-data lines, e.g. `_dnslink.x.test. 60 IN TXT "dnslink=/ipfs/..."`. */
  localData?: string[];
  port?: number;
  threads?: number;
  /** A name that answers NOERROR once the server is up (default: a local-data probe). */
  readyName?: string;
  /** Also serve DoH (Unbound >= 1.12: https-port, HTTP/2 over TLS, /dns-query) on this port. */
  https?: { port: number; cert: string; key: string };
}

export async function startUnbound(opts: UnboundOptions = {}): Promise<UnboundHandle> {
  return startDaemon({
    name: 'unbound',
    port: opts.port,
    probe: [opts.readyName ?? 'unbound-probe.invalid.', 'A'],
    config: (port, dir) =>
      [
        'server:',
        '  interface: 127.0.0.1',
        `  port: ${port}`,
        ...(opts.https
          ? [`  interface: 127.0.0.1@${opts.https.port}`, `  https-port: ${opts.https.port}`, `  tls-service-key: "${opts.https.key}"`, `  tls-service-pem: "${opts.https.cert}"`]
          : []),
        '  username: ""',
        '  chroot: ""',
        `  directory: "${dir}"`,
        `  pidfile: "${join(dir, 'unbound.pid')}"`,
        '  use-syslog: no',
        '  logfile: ""',
        '  verbosity: 0',
        `  num-threads: ${opts.threads ?? 1}`,
        '  do-ip6: no',
        '  do-daemonize: no',
        '  access-control: 127.0.0.0/8 allow',
        '  do-not-query-localhost: no',
        '  module-config: "iterator"',
        '  local-zone: "test." nodefault',
        '  local-zone: "unbound-probe.invalid." static',
        '  local-data: "unbound-probe.invalid. 60 IN A 127.0.0.1"',
        ...(opts.localData ?? []).map((d) => `  local-data: '${d}'`),
        'remote-control:',
        '  control-enable: no',
        ...(opts.stubs ?? []).flatMap((s) => ['stub-zone:', `  name: "${s.zone}"`, `  stub-addr: 127.0.0.1@${s.port}`]),
        ...(opts.forwards ?? []).flatMap((f) => ['forward-zone:', `  name: "${f.zone}"`, `  forward-addr: 127.0.0.1@${f.port}`]),
        '',
      ].join('\n'),
  });
}
