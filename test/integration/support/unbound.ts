// An Unbound resolver on 127.0.0.1 (bench baseline; optionally a recursive upstream over nsd).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './binaries.js';
import { dig } from './dig.js';
import { freePort } from './ports.js';
import { spawnManaged, waitFor } from './proc.js';
import type { Managed } from './proc.js';

export interface UnboundHandle {
  port: number;
  dir: string;
  proc: Managed;
  stop(): Promise<void>;
  logs(): string;
}

export interface UnboundOptions {
  /** Zones forwarded to an authoritative server on 127.0.0.1 (stub-zone). */
  stubs?: { zone: string; port: number }[];
  /** local-data lines, e.g. `_dnslink.x.test. 60 IN TXT "dnslink=/ipfs/..."`. */
  localData?: string[];
  port?: number;
  threads?: number;
  /** A name that answers NOERROR once the server is up (default: a local-data probe). */
  readyName?: string;
}

export async function startUnbound(opts: UnboundOptions = {}): Promise<UnboundHandle> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-unbound-'));
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
      conf,
      [
        'server:',
        '  interface: 127.0.0.1',
        `  port: ${port}`,
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
        '',
      ].join('\n'),
    );
    const proc = spawnManaged('unbound', binPath('unbound'), ['-d', '-c', conf]);
    const handle: UnboundHandle = {
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
      await waitFor(
        `unbound on 127.0.0.1:${port}`,
        async () =>
          (await dig(['+time=1', '@127.0.0.1', '-p', String(port), opts.readyName ?? 'unbound-probe.invalid.', 'A'])).parsed
            ?.status === 'NOERROR',
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
