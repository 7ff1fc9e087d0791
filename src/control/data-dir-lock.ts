// One dnslinkd per data directory: the process that holds the control plane (`serve`, or a
// cluster's primary) holds <dataDir>/dnslinkd.lock, created atomically and holding its pid. A
// second one is refused; a lock left by a dead process (or a pid reused since) is taken over.
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CodedError } from '../errors.js';
import { unusablePathError } from '../runtime/data-dir.js';

export const LOCK_FILE = 'dnslinkd.lock';
/** A takeover guard older than this was left by a process that died taking a lock over. */
const GUARD_STALE_MS = 10_000;
const ATTEMPTS = 50;
const RETRY_MS = 20;

/** Who holds (or held) a lock: its pid and, where /proc tells, its start time and the boot it ran in. */
export interface LockOwner {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): tells a reused pid from the holder. */
  start?: string;
  /** /proc/sys/kernel/random/boot_id: a lock from an earlier boot is stale whatever its pid. */
  boot?: string;
}

/** What the system says about process identities; replaced in tests. */
export interface ProcessProbe {
  /** True when a process with this pid exists (signal 0 delivered, or refused for permission). */
  exists(pid: number): boolean;
  /** The start time of `pid`, or undefined where /proc does not tell. */
  startOf(pid: number): string | undefined;
  bootId(): string | undefined;
}

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export const systemProbe: ProcessProbe = {
  exists(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  startOf(pid) {
    const stat = readTrimmed(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields?.[19];
  },
  bootId: () => readTrimmed('/proc/sys/kernel/random/boot_id'),
};

export function formatLock(owner: LockOwner): string {
  return `${owner.pid}\n${owner.start !== undefined ? `start=${owner.start}\n` : ''}${owner.boot !== undefined ? `boot=${owner.boot}\n` : ''}`;
}

/** The owner a lock file names, or undefined for a file that names none (empty, garbage). */
export function parseLock(text: string): LockOwner | undefined {
  const [first, ...rest] = text.split('\n');
  if (!first || !/^[1-9]\d{0,9}$/.test(first.trim())) return undefined;
  const owner: LockOwner = { pid: Number(first.trim()) };
  for (const line of rest) {
    const m = /^(start|boot)=(\S+)$/.exec(line.trim());
    if (m) owner[m[1] as 'start' | 'boot'] = m[2]!;
  }
  return owner;
}

/** This process as a lock owner. */
export function selfOwner(probe: ProcessProbe = systemProbe): LockOwner {
  const start = probe.startOf(process.pid);
  const boot = probe.bootId();
  return { pid: process.pid, ...(start !== undefined ? { start } : {}), ...(boot !== undefined ? { boot } : {}) };
}

/**
 * Whether the process a lock names still runs: not after a reboot, not when no process has its
 * pid, and not when the process with that pid started at another time (the pid was reused).
 */
export function ownerAlive(owner: LockOwner, probe: ProcessProbe = systemProbe): boolean {
  const boot = probe.bootId();
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return false;
  if (!probe.exists(owner.pid)) return false;
  const start = probe.startOf(owner.pid);
  if (owner.start !== undefined && start !== undefined) return start === owner.start;
  // No start time to compare: our own pid in the file was written by an earlier life of this pid.
  return owner.pid !== process.pid;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Creates `path` holding `content`, atomically (whole or not at all); false when it exists. */
function createExclusive(path: string, content: string): boolean {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    // Inside the try: a write that fails half way (a full disk) leaves no temporary file behind.
    writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
    linkSync(temporary, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: O_EXCL create (a reader may briefly see it empty).
    try {
      writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (err2) {
      if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err2;
    }
  } finally {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
  }
}

/**
 * Replaces the stale lock whose text was `staleText` by ours, under a guard file so that two
 * starting processes cannot both take it over. False when another process got there first.
 */
function takeOver(path: string, staleText: string, content: string, probe: ProcessProbe): boolean {
  const guard = `${path}.takeover`;
  try {
    writeFileSync(guard, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process is taking it over now, or died doing so (its pid gone, or long ago).
    try {
      const holder = parseLock(readTrimmed(guard) ?? '');
      if ((holder !== undefined && !probe.exists(holder.pid)) || Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) unlinkSync(guard);
    } catch {
      // gone meanwhile
    }
    return false;
  }
  try {
    if (readTrimmed(path) !== staleText) return false;
    unlinkSync(path);
    return createExclusive(path, content);
  } finally {
    try {
      unlinkSync(guard);
    } catch {
      // gone meanwhile
    }
  }
}

export class DataDirLock {
  private released = false;
  private readonly onExit = () => this.release();

  constructor(
    readonly path: string,
    private readonly content: string,
  ) {
    // process.exit() (a second signal, a fatal error) skips the orderly close: release it then too.
    process.once('exit', this.onExit);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      if (readFileSync(this.path, 'utf8') === this.content) unlinkSync(this.path);
    } catch {
      // gone already (the data directory removed): nothing to release
    }
  }
}

/**
 * Takes <dataDir>/dnslinkd.lock for this process; throws DATA_DIR_LOCKED (`another dnslinkd (pid N)
 * uses <dataDir>`) while its holder runs, DATA_DIR_UNUSABLE when the directory takes no file.
 */
export function acquireDataDirLock(dataDir: string, log: Logger, probe: ProcessProbe = systemProbe): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const content = formatLock(selfOwner(probe));
  try {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (createExclusive(path, content)) return new DataDirLock(path, content);
      const text = readTrimmed(path);
      if (text === undefined) continue; // released meanwhile: try again at once
      const owner = parseLock(text);
      if (owner !== undefined && ownerAlive(owner, probe)) throw new CodedError('DATA_DIR_LOCKED', `another dnslinkd (pid ${owner.pid}) uses ${dataDir}`);
      if (takeOver(path, text, content, probe)) {
        log.warn(
          { lock: path, previous: owner ?? { text: text.slice(0, 100) } },
          owner ? `took over the data directory lock left by pid ${owner.pid}, which is no longer running (that pid is gone, or is now another process: its start time differs)` : 'took over a data directory lock that names no process',
        );
        return new DataDirLock(path, content);
      }
      sleep(RETRY_MS);
    }
  } catch (err) {
    if (err instanceof CodedError) throw err;
    throw unusablePathError(path, 'the data directory lock', err, dataDir);
  }
  throw new CodedError('DATA_DIR_LOCKED', `could not take the lock ${path}: other processes kept taking it (${ATTEMPTS} attempts); is another dnslinkd starting on ${dataDir}?`);
}
