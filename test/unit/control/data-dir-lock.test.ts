// The data directory lock: taken when free, refused while its holder runs (naming its pid), taken
// over when its holder is gone, rebooted away or its pid reused by another process (start time),
// an unparseable lock taken over, released only when still ours, and the lock file's format.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, formatLock, LOCK_FILE, ownerAlive, parseLock, systemProbe, type ProcessProbe } from '../../../src/control/data-dir-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslinkd-lock-'));
  dirs.push(dir);
  return dir;
};

/** A log that keeps its lines. */
function memoryLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** A system where the processes in `running` (pid → start time) run, in boot `boot`. */
function fakeProbe(running: Record<number, string>, boot = 'boot-a'): ProcessProbe {
  return { exists: (pid) => pid in running, startOf: (pid) => running[pid], bootId: () => boot };
}

const OTHER_PID = 4_000_001; // above the default pid_max: no real process has it

describe('data directory lock', () => {
  it('writes the pid first, then the start time and boot, and reads them back', () => {
    const text = formatLock({ pid: 123, start: '456', boot: 'b-1' });
    expect(text.split('\n')[0]).toBe('123');
    expect(parseLock(text)).toEqual({ pid: 123, start: '456', boot: 'b-1' });
    expect(parseLock('77\n')).toEqual({ pid: 77 });
    expect(parseLock('')).toBeUndefined();
    expect(parseLock('not a pid\n')).toBeUndefined();
    expect(parseLock('0\n')).toBeUndefined();
  });

  it('is taken when free and released at the end; a released lock is taken again', () => {
    const dir = dataDir();
    const { log } = memoryLog();
    const lock = acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' }));
    expect(parseLock(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual({ pid: process.pid, start: 's0', boot: 'boot-a' });
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' })).release();
    // Nothing else is left in the directory (no temporary or takeover file).
    expect(existsSync(join(dir, `${LOCK_FILE}.takeover`))).toBe(false);
  });

  it('is refused while its holder runs, naming its pid and the data directory', () => {
    const dir = dataDir();
    writeFileSync(join(dir, LOCK_FILE), formatLock({ pid: OTHER_PID, start: 's1', boot: 'boot-a' }));
    const { log } = memoryLog();
    expect(() => acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0', [OTHER_PID]: 's1' }))).toThrow(
      expect.objectContaining({ code: 'DATA_DIR_LOCKED', message: `another dnslinkd (pid ${OTHER_PID}) uses ${dir}` }),
    );
    // Left as it was.
    expect(parseLock(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(OTHER_PID);
  });

  it('is taken over, with a log line, when its holder is gone, its pid reused, or the machine rebooted', () => {
    const cases: Array<{ why: string; running: Record<number, string>; boot?: string }> = [
      { why: 'no process has the pid', running: { [process.pid]: 's0' } },
      { why: 'another process has the pid (another start time)', running: { [process.pid]: 's0', [OTHER_PID]: 's-later' } },
      { why: 'the lock is from an earlier boot', running: { [process.pid]: 's0', [OTHER_PID]: 's1' }, boot: 'boot-b' },
    ];
    for (const c of cases) {
      const dir = dataDir();
      writeFileSync(join(dir, LOCK_FILE), formatLock({ pid: OTHER_PID, start: 's1', boot: 'boot-a' }));
      const { log, lines } = memoryLog();
      const lock = acquireDataDirLock(dir, log, fakeProbe(c.running, c.boot));
      expect({ why: c.why, pid: parseLock(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid }).toEqual({ why: c.why, pid: process.pid });
      expect({ why: c.why, msg: lines.map((l) => l.msg) }).toEqual({ why: c.why, msg: [`took over the data directory lock left by pid ${OTHER_PID}, which is no longer running (that pid is gone, or is now another process: its start time differs)`] });
      lock.release();
    }
  });

  it('takes over a lock file that names no process (empty, garbage)', () => {
    for (const text of ['', 'garbage\n']) {
      const dir = dataDir();
      writeFileSync(join(dir, LOCK_FILE), text);
      const { log, lines } = memoryLog();
      acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' })).release();
      expect(lines.map((l) => l.msg)).toEqual(['took over a data directory lock that names no process']);
    }
  });

  it('a takeover guard left by a process that died taking the lock over does not block the next start', () => {
    const dir = dataDir();
    writeFileSync(join(dir, LOCK_FILE), formatLock({ pid: OTHER_PID, start: 's1', boot: 'boot-a' }));
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), `${OTHER_PID + 1}\n`);
    const { log } = memoryLog();
    const lock = acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' }));
    expect(parseLock(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(process.pid);
    expect(existsSync(join(dir, `${LOCK_FILE}.takeover`))).toBe(false);
    lock.release();
  });

  it('does not remove a lock that another process took meanwhile', () => {
    const dir = dataDir();
    const { log } = memoryLog();
    const lock = acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' }));
    writeFileSync(join(dir, LOCK_FILE), formatLock({ pid: OTHER_PID, start: 's1', boot: 'boot-a' }));
    lock.release();
    expect(parseLock(readFileSync(join(dir, LOCK_FILE), 'utf8'))?.pid).toBe(OTHER_PID);
  });

  it('tells a live process from a dead one on this system', () => {
    const self = { pid: process.pid, start: systemProbe.startOf(process.pid), boot: systemProbe.bootId() };
    // This very process holds a lock it wrote: alive (a second instance in one process is refused too).
    expect(ownerAlive({ pid: self.pid, ...(self.start ? { start: self.start } : {}), ...(self.boot ? { boot: self.boot } : {}) })).toBe(true);
    expect(ownerAlive({ pid: OTHER_PID })).toBe(false);
    if (self.start !== undefined) {
      // Our pid with another start time: an earlier process whose pid this one reuses.
      expect(ownerAlive({ pid: self.pid, start: `${self.start}1` })).toBe(false);
    }
  });

  it('two takers of one stale lock: exactly one gets it', () => {
    const dir = dataDir();
    writeFileSync(join(dir, LOCK_FILE), formatLock({ pid: OTHER_PID, start: 's1', boot: 'boot-a' }));
    const { log } = memoryLog();
    // The first taker runs as pid process.pid; the second sees it alive.
    const first = acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' }));
    expect(() => acquireDataDirLock(dir, log, fakeProbe({ [process.pid]: 's0' }))).toThrow(/another dnslinkd \(pid \d+\) uses/);
    first.release();
  });
});
