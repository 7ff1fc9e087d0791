// An nsd authoritative server on 127.0.0.1 serving the fixture zones, run as the current user.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startDaemon, type DaemonHandle } from './daemon.js';
import { zonesDir as defaultZonesDir } from './paths.js';

export type NsdHandle = DaemonHandle;

export interface NsdOptions {
  /** Serve every `<name>.zone` in this folder (default: fixtures/zones). */
  zonesDir?: string;
  /** Serve these zones instead (the root zone cannot be named by a file name). */
  zones?: Array<{ name: string; file: string }>;
  port?: number;
  /** Answer `version.bind CH TXT` (nsd's CHAOS identity); hidden by default. */
  showVersion?: boolean;
  /**
   * Turn off response rate limiting (Debian's nsd has RRL on: 200 answers/s per source and name,
   * and every name a wildcard answers shares one bucket): for many distinct names at speed.
   */
  noRateLimit?: boolean;
}

export async function startNsd(opts: NsdOptions = {}): Promise<NsdHandle> {
  const zonesDir = opts.zonesDir ?? defaultZonesDir;
  const zones =
    opts.zones ??
    readdirSync(zonesDir)
      .filter((f) => f.endsWith('.zone'))
      .map((f) => ({ name: basename(f, '.zone'), file: join(zonesDir, f) }));
  if (zones.length === 0) throw new Error(`startNsd: no *.zone files in ${zonesDir}`);
  return startDaemon({
    name: 'nsd',
    port: opts.port,
    probe: [zones[0]!.name, 'SOA'],
    config: (port, dir) =>
      [
        'server:',
        `  ip-address: 127.0.0.1@${port}`,
        `  port: ${port}`,
        '  username: ""',
        '  chroot: ""',
        `  zonesdir: "${opts.zones ? '/' : zonesDir}"`,
        '  database: ""',
        `  pidfile: "${join(dir, 'nsd.pid')}"`,
        `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
        `  xfrdir: "${dir}"`,
        `  zonelistfile: "${join(dir, 'zone.list')}"`,
        `  logfile: "${join(dir, 'nsd.log')}"`,
        '  server-count: 1',
        '  verbosity: 1',
        `  hide-version: ${opts.showVersion ? 'no' : 'yes'}`,
        ...(opts.noRateLimit ? ['  rrl-ratelimit: 0', '  rrl-whitelist-ratelimit: 0'] : []),
        '  do-ip6: no',
        'remote-control:',
        '  control-enable: no',
        ...zones.flatMap((z) => ['zone:', `  name: "${z.name}"`, `  zonefile: "${z.file}"`]),
        '',
      ].join('\n'),
  });
}
