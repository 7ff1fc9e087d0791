// An nsd authoritative server on 127.0.0.1 serving the fixture zones, run as the current user.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { binPath } from './binaries.js';
import { dig } from './dig.js';
import { freePort } from './ports.js';
import { spawnManaged, waitFor } from './proc.js';
import type { Managed } from './proc.js';
import { zonesDir as defaultZonesDir } from './paths.js';

export interface NsdHandle {
  port: number;
  dir: string;
  proc: Managed;
  stop(): Promise<void>;
  logs(): string;
}

export async function startNsd(opts: { zonesDir?: string; port?: number } = {}): Promise<NsdHandle> {
  const zonesDir = opts.zonesDir ?? defaultZonesDir;
  const zones = readdirSync(zonesDir)
    .filter((f) => f.endsWith('.zone'))
    .map((f) => ({ name: basename(f, '.zone'), file: join(zonesDir, f) }));
  if (zones.length === 0) throw new Error(`startNsd: no *.zone files in ${zonesDir}`);
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-nsd-'));
    const conf = join(dir, 'nsd.conf');
    writeFileSync(
      conf,
      [
        'server:',
        `  ip-address: 127.0.0.1@${port}`,
        `  port: ${port}`,
        '  username: ""',
        '  chroot: ""',
        `  zonesdir: "${zonesDir}"`,
        '  database: ""',
        `  pidfile: "${join(dir, 'nsd.pid')}"`,
        `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
        `  xfrdir: "${dir}"`,
        `  zonelistfile: "${join(dir, 'zone.list')}"`,
        `  logfile: "${join(dir, 'nsd.log')}"`,
        '  server-count: 1',
        '  verbosity: 1',
        '  hide-version: yes',
        '  do-ip6: no',
        'remote-control:',
        '  control-enable: no',
        ...zones.flatMap((z) => ['zone:', `  name: "${z.name}"`, `  zonefile: "${z.file}"`]),
        '',
      ].join('\n'),
    );
    const proc = spawnManaged('nsd', binPath('nsd'), ['-d', '-c', conf]);
    const handle: NsdHandle = {
      port,
      dir,
      proc,
      logs: () => proc.output(),
      stop: async () => {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    try {
      const zoneName = zones[0]?.name ?? '.';
      await waitFor(
        `nsd on 127.0.0.1:${port}`,
        async () => (await dig(['+time=1', '@127.0.0.1', '-p', String(port), zoneName, 'SOA'])).parsed?.status === 'NOERROR',
        10_000,
        { intervalMs: 100, abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}: ${proc.output()}` : undefined) },
      );
      return handle;
    } catch (err) {
      lastErr = err;
      await handle.stop();
      if (opts.port !== undefined) break;
    }
  }
  throw lastErr;
}
