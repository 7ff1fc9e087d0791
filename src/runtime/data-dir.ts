// The data directory as a place on disk: created one level at a time (mode 0700), checked to be a
// directory this process can write, and every failure to use it (or a file in it) told as one
// start error naming the path, the user this process runs as and what to change.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { CodedError, errorMessage } from '../errors.js';

/** Who this process runs as, for messages: `dnslinkd (uid 998)`. */
export function processUser(): string {
  const uid = process.getuid?.();
  try {
    const { username } = userInfo();
    return uid === undefined ? username : `${username} (uid ${uid})`;
  } catch {
    // A uid with no passwd entry (containers): userInfo() throws.
    return uid === undefined ? 'this user' : `uid ${uid}`;
  }
}

/** The owner of `path` when it is not this process's user (for "owned by uid N"), else undefined. */
function foreignOwner(path: string): number | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  try {
    const owner = statSync(path).uid;
    return owner !== uid ? owner : undefined;
  } catch {
    return undefined;
  }
}

const VIRTUAL_FS = /^\/(proc|sys|dev)(\/|$)/;

/**
 * The start error for a data directory (or a file in it) that cannot be used: the path, what went
 * wrong, the user, and what to fix. `err` is the failure (an errno error, or a message).
 */
export function unusablePathError(path: string, what: string, err: unknown, dataDir: string): CodedError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const user = processUser();
  const owner = foreignOwner(path) ?? foreignOwner(dataDir);
  let fix: string;
  if (VIRTUAL_FS.test(resolve(dataDir))) {
    fix = `${dataDir} is on a kernel file system where files cannot be kept: set dataDir (or --data-dir, DNSLINKD_DATA_DIR) to a directory on disk`;
  } else if (code === 'EROFS') {
    fix = `the file system is mounted read-only: set dataDir (or --data-dir) to a writable directory, or mount it read-write`;
  } else if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') {
    fix =
      owner !== undefined
        ? `it is owned by uid ${owner}: run dnslinkd as that user, or give it to this one (chown -R ${user.replace(/ \(uid (\d+)\)$/, '')} ${dataDir}; chmod 0700 ${dataDir})`
        : `give this user read and write access (chmod u+rw on the files, u+rwx on ${dataDir}), or set dataDir (or --data-dir) elsewhere`;
  } else if (code === 'ENOTDIR' || code === 'EEXIST') {
    fix = `something that is not a directory is in the way: set dataDir (or --data-dir) to a directory`;
  } else if (code === 'ENOSPC' || code === 'SQLITE_FULL') {
    fix = `the disk is full: free space on the file system of ${dataDir}`;
  } else {
    fix = `set dataDir (or --data-dir) to a writable directory on a local disk`;
  }
  const reason = code && !errorMessage(err).includes(code) ? `${code}: ${errorMessage(err)}` : errorMessage(err);
  return new CodedError('DATA_DIR_UNUSABLE', `cannot use ${path} (${what}) as ${user}: ${reason}; ${fix}`);
}

/**
 * Makes `dataDir` if missing (each missing level with mode 0700; not mkdir's recursive mode,
 * which loops for ever under /proc) and checks this process may write in it. Throws DATA_DIR_UNUSABLE.
 */
export function prepareDataDir(dataDir: string): void {
  const missing: string[] = [];
  for (let dir = resolve(dataDir); ; dir = dirname(dir)) {
    const what = missing.length === 0 ? 'the data directory' : 'a parent of the data directory';
    let isDirectory: boolean;
    try {
      isDirectory = statSync(dir).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusablePathError(dir, what, err, dataDir);
      missing.push(dir);
      if (dirname(dir) === dir) break;
      continue;
    }
    if (!isDirectory) throw unusablePathError(dir, what, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), dataDir);
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusablePathError(dir, 'creating the data directory', err, dataDir);
    }
  }
  try {
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw unusablePathError(dataDir, 'the data directory', err, dataDir);
  }
}

/** Checks that an existing file in the data directory can be read and written (a missing one is fine). */
export function checkWritableFile(path: string, what: string, dataDir: string): void {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusablePathError(path, what, err, dataDir);
  }
}
