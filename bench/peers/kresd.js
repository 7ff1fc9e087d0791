// Knot Resolver (kresd) as a bench peer: one process, 127.0.0.1 on a free port, `zone` sent to an
// authoritative server on 127.0.0.1 with policy.STUB (no validation), its LMDB cache in the temp dir.
import { startDaemon } from '../../test/integration/support/daemon.js';

/** Starts kresd stubbing `zone` to 127.0.0.1:`upstreamPort`; ready once `readyName` (TXT) answers NOERROR. */
export function startKresd({ zone, upstreamPort, readyName }) {
  return startDaemon({
    name: 'kresd',
    probe: [readyName, 'TXT'],
    args: (conf, dir) => ['-n', '-q', '-c', conf, dir],
    config: (port, dir) =>
      [
        `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
        `cache.open(100 * MB, 'lmdb://${dir}/cache')`,
        "modules.unload('ta_update')",
        'trust_anchors.remove(\'.\')',
        `policy.add(policy.suffix(policy.STUB({'127.0.0.1@${upstreamPort}'}), {todname('${zone}.')}))`,
        '',
      ].join('\n'),
  });
}
