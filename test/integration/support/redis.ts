// A redis-server on 127.0.0.1 for the fleet store's tests: no persistence (a restart starts it
// empty, like a Redis that lost its data), in the foreground on a free port (or a given one, to
// restart it where the instances expect it), ready once it answers PING. Always stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath } from './binaries.js';
import { exitedWith, spawnManaged, startOnFreePort, waitFor } from './proc.js';
import type { Managed } from './proc.js';

export interface RedisHandle {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  proc: Managed;
  logs(): string;
  stop(): Promise<void>;
}

/** One PING over a fresh connection: true on +PONG within timeoutMs. */
export function pingRedis(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

export function startRedis(opts: { port?: number } = {}): Promise<RedisHandle> {
  return startOnFreePort(
    opts.port,
    (port): RedisHandle => {
      const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-redis-'));
      const proc = spawnManaged('redis-server', binPath('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        proc,
        logs: () => proc.output(),
        stop: async () => {
          await proc.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    (handle, port) => waitFor(`redis-server on 127.0.0.1:${port}`, () => pingRedis(port), 10_000, { intervalMs: 50, abortIf: exitedWith(handle.proc) }),
  );
}
