// dnsdist as a bench peer: a load balancer in front of one backend (the authoritative server on
// 127.0.0.1) with a packet cache on the default pool, so repeated questions are answered from it.
import { startDaemon } from '../../test/integration/support/daemon.js';

/** Starts dnsdist with newServer(127.0.0.1:`upstreamPort`) and a packet cache; ready once `readyName` (TXT) answers NOERROR. */
export function startDnsdist({ upstreamPort, readyName }) {
  return startDaemon({
    name: 'dnsdist',
    probe: [readyName, 'TXT'],
    args: (conf) => ['--supervised', '--disable-syslog', '-C', conf],
    config: (port) =>
      [
        `setLocal('127.0.0.1:${port}')`,
        "setSecurityPollSuffix('')",
        `newServer({address='127.0.0.1:${upstreamPort}', checkName='${readyName}.', checkType='TXT'})`,
        "getPool(''):setCache(newPacketCache(10000, {maxTTL=86400, minTTL=0}))",
        '',
      ].join('\n'),
  });
}
