// Child processes for integration tests: each in its own process group, output kept, always stopped.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './ports.js';

export interface Managed {
  name: string;
  child: ChildProcess;
  /** stdout+stderr lines seen so far (last 5000). */
  lines: string[];
  exitCode: number | null | undefined;
  exited: Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Managed>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

// Safety net: never leave a server behind if a test file dies.
process.once('exit', () => {
  for (const m of running) if (m.exitCode === undefined) killGroup(m.child, 'SIGKILL');
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function spawnManaged(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Managed {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const push = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(l);
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  };
  child.stdout?.on('data', push);
  child.stderr?.on('data', push);
  let resolveExit!: () => void;
  const exited = new Promise<void>((resolve) => (resolveExit = resolve));
  const m: Managed = {
    name,
    child,
    lines,
    exitCode: undefined,
    exited,
    output: () => lines.join('\n'),
    stop: async () => {
      if (m.exitCode !== undefined) return;
      killGroup(child, 'SIGTERM');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      // children of the group (nsd forks workers) that outlived the leader
      killGroup(child, 'SIGKILL');
    },
  };
  child.on('error', (err) => {
    lines.push(`spawn error: ${err.message}`);
    if (m.exitCode === undefined) m.exitCode = null;
    running.delete(m);
    resolveExit();
  });
  child.on('exit', (code) => {
    m.exitCode = code;
    running.delete(m);
    resolveExit();
  });
  running.add(m);
  return m;
}

/** Stop every process still running that this module started (afterAll safety net). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((m) => m.stop()));
}

/** Poll `check` every `intervalMs` until it returns true, at most `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  opts: { intervalMs?: number; abortIf?: () => string | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const interval = opts.intervalMs ?? 100;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    const abort = opts.abortIf?.();
    if (abort) throw new Error(`${what}: ${abort}`);
    if (await check().catch(() => false)) return;
    await sleep(interval);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

/** Runs a command to completion; never throws: look at `code` (null when killed), stdout, stderr. */
export function runTool(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `waitFor`'s abortIf for a managed process: stop waiting, with its output, once it has exited. */
export function exitedWith(proc: Managed): () => string | undefined {
  return () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}: ${proc.output()}` : undefined);
}

/**
 * Starts a server on a free port (or on `fixed`) and waits until `ready`; when it does not come up
 * (another process took the port meanwhile), stops it and tries another port, 3 times at most.
 */
export async function startOnFreePort<H extends { stop(): Promise<void> }>(
  fixed: number | undefined,
  start: (port: number) => H,
  ready: (handle: H, port: number) => Promise<void>,
): Promise<H> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = fixed ?? (await freePort());
    const handle = start(port);
    try {
      await ready(handle, port);
      return handle;
    } catch (err) {
      lastErr = err;
      await handle.stop();
      if (fixed !== undefined) break;
    }
  }
  throw lastErr;
}

/** Resident set size of a process in kB (VmRSS in /proc/<pid>/status, Linux). */
export function residentKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}
