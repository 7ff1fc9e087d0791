// dnslinkd itself, spawned from bin/dnslinkd.js (needs `npm run build`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchMetrics, metricSum } from './metrics.js';
import { cliEntry, repoRoot } from './paths.js';
import { freePort } from './ports.js';
import { spawnManaged, waitFor } from './proc.js';
import type { Managed } from './proc.js';

/**
 * Config for suites that stop the upstream mid-test: entries expire after 1 s so the next query
 * needs the upstream, stale answers are served (TTL 30) for a day, no prefetch, short timeouts.
 */
export const UPSTREAM_DOWN_CONFIG = {
  cache: { minTtl: 0, maxTtl: 1, negativeMaxTtl: 1, serveStale: true, staleMaxAge: 86_400, staleTtl: 30, prefetch: false, clientDeadlineMs: 1000 },
  upstreamTimeoutMs: 500,
} as const;

export interface DnslinkdOptions {
  /** e.g. ['udp://127.0.0.1:5300', 'tcp://127.0.0.1:5300'] */
  upstreams: string[];
  /** Written to a JSON file passed with --config. `localRecords` defaults to null (no local records). */
  config?: Record<string, unknown>;
  /** Extra CLI args, e.g. ['--no-forward']. */
  args?: string[];
  /** Data directory (control store, admin token) kept across restarts; default: a fresh one removed at stop. */
  dataDir?: string;
  /** Extra environment variables (e.g. DNSLINKD_ADMIN_TOKEN). */
  env?: NodeJS.ProcessEnv;
  /** Called with the process as soon as it is spawned, before it is ready (e.g. to signal it while it starts). */
  onSpawn?: (proc: Managed) => void;
}

export interface AdminAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface DnslinkdHandle {
  dnsPort: number;
  httpPort: number;
  proc: Managed;
  /** stdout+stderr lines (pino JSON). */
  logs(): string;
  metrics(): Promise<string>;
  /** Sum of one metric over all label sets, read from /metrics now. */
  metric(name: string): Promise<number>;
  adminPort: number;
  dataDir: string;
  /** The JSON file passed with --config (a test may rewrite it and reload). */
  configFile: string;
  /** One admin API request with the instance's own token (or `token`, or none with null). */
  admin(method: string, path: string, body?: unknown, token?: string | null): Promise<AdminAnswer>;
  stop(): Promise<void>;
}

/** The token an instance generated in its data directory. */
export function generatedAdminToken(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
}

export async function adminRequest(port: number, method: string, path: string, body: unknown, token: string | null): Promise<AdminAnswer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function startDnslinkd(opts: DnslinkdOptions): Promise<DnslinkdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-'));
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ localRecords: null, dataDir, ...opts.config }, null, 2));
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dnsPort = await freePort();
    const httpPort = await freePort();
    const adminPort = await freePort();
    const args = [
      cliEntry,
      'serve',
      '--dns',
      `127.0.0.1:${dnsPort}`,
      '--http',
      `127.0.0.1:${httpPort}`,
      ...opts.upstreams.flatMap((u) => ['--upstream', u]),
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--config',
      configFile,
      ...(opts.args ?? []),
    ];
    const proc = spawnManaged('dnslinkd', process.execPath, args, { cwd: repoRoot, ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) });
    opts.onSpawn?.(proc);
    const handle: DnslinkdHandle = {
      dnsPort,
      httpPort,
      adminPort,
      dataDir,
      configFile,
      admin: (method, path, body, token) => adminRequest(adminPort, method, path, body, token === undefined ? (opts.env?.DNSLINKD_ADMIN_TOKEN ?? generatedAdminToken(dataDir)) : token),
      proc,
      logs: () => proc.output(),
      metrics: () => fetchMetrics(httpPort),
      metric: async (name) => metricSum(await fetchMetrics(httpPort), name),
      stop: async () => {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    try {
      await waitFor(
        `dnslinkd (dns ${dnsPort}, http ${httpPort})`,
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          return res.status === 200;
        },
        20_000,
        { intervalMs: 100, abortIf: () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}:\n${proc.output()}` : undefined) },
      );
      return handle;
    } catch (err) {
      await proc.stop();
      lastErr = err;
      // Retry only for a port race; anything else is a real failure.
      if (!/EADDRINUSE/.test(proc.output())) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/dnslinkd.js <args>`, bounded by timeoutMs; `env`, when given, is its whole environment. */
export function runCli(args: string[], timeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliEntry, ...args],
      { cwd: repoRoot, timeout: timeoutMs, killSignal: 'SIGKILL', ...(env ? { env } : {}) },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
