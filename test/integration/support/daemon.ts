// A DNS daemon from Debian (nsd, Unbound; the bench's peers too) started for a test: its config written to a temp dir,
// run in the foreground on a free 127.0.0.1 port, ready once a probe query answers NOERROR;
// retried on another port if it fails to come up. Always stopped (and its dir removed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './binaries.js';
import { dig } from './dig.js';
import { exitedWith, spawnManaged, startOnFreePort, waitFor } from './proc.js';
import type { Managed } from './proc.js';

export interface DaemonHandle {
  port: number;
  dir: string;
  proc: Managed;
  stop(): Promise<void>;
  logs(): string;
}

export interface DaemonSpec {
  /** Binary name, also used for the config file name (`<name>.conf`) unless `configFile` names it. */
  name: string;
  configFile?: string;
  /** Command-line arguments for the config file and working dir (default: `-d -c <conf>`, nsd's and Unbound's foreground mode). */
  args?(conf: string, dir: string): string[];
  /** The config file's text for this port and working dir. */
  config(port: number, dir: string): string;
  /** A question (name and type) that answers NOERROR once the daemon serves. */
  probe: [name: string, type: string];
  /** A fixed port (no retry on another); default: a free one. */
  port?: number;
}

export function startDaemon(spec: DaemonSpec): Promise<DaemonHandle> {
  return startOnFreePort(
    spec.port,
    (port): DaemonHandle => {
      const dir = mkdtempSync(join(tmpdir(), `dnslinkd-${spec.name}-`));
      const conf = join(dir, spec.configFile ?? `${spec.name}.conf`);
      writeFileSync(conf, spec.config(port, dir));
      const proc = spawnManaged(spec.name, binPath(spec.name), spec.args?.(conf, dir) ?? ['-d', '-c', conf]);
      return {
        port,
        dir,
        proc,
        logs: () => proc.output(),
        stop: async () => {
          await proc.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    async (handle, port) => {
      const [probeName, probeType] = spec.probe;
      await waitFor(
        `${spec.name} on 127.0.0.1:${port}`,
        async () => (await dig(['+time=1', '@127.0.0.1', '-p', String(port), probeName, probeType])).parsed?.status === 'NOERROR',
        10_000,
        { intervalMs: 100, abortIf: exitedWith(handle.proc) },
      );
    },
  );
}
