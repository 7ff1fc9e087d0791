// PowerDNS Recursor as a bench peer: one thread, 127.0.0.1 on a free port, `zone` forwarded
// (forward-zones) to an authoritative server on 127.0.0.1, packet cache and record cache on.
import { startDaemon } from '../../test/integration/support/daemon.js';

/** Starts pdns_recursor forwarding `zone` to 127.0.0.1:`upstreamPort`; ready once `readyName` (TXT) answers NOERROR. */
export function startPdnsRecursor({ zone, upstreamPort, readyName }) {
  return startDaemon({
    name: 'pdns_recursor',
    configFile: 'recursor.conf',
    probe: [readyName, 'TXT'],
    args: (_conf, dir) => [`--config-dir=${dir}`],
    config: (port, dir) =>
      [
        'local-address=127.0.0.1',
        `local-port=${port}`,
        `socket-dir=${dir}`,
        'daemon=no',
        'write-pid=no',
        'threads=1',
        'pdns-distributes-queries=no',
        'disable-syslog=yes',
        'loglevel=3',
        'quiet=yes',
        'dnssec=off',
        'dont-query=',
        'allow-from=127.0.0.0/8',
        'security-poll-suffix=',
        `forward-zones=${zone}=127.0.0.1:${upstreamPort}`,
        '',
      ].join('\n'),
  });
}
