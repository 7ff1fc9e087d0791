// Finding the Debian binaries the integration suites drive (nsd, unbound, dig, kdig, ...).
// Missing binary: in CI (CI=true) that is an error (.ci/run must install it); on a developer
// machine the suite is skipped with a loud warning (use with `describe.skipIf(!ok)`).
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { builtMain } from './paths.js';

const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

export const inCI = /^(true|1|yes)$/i.test(process.env.CI ?? '');

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Absolute path of a binary; throws when missing (call only after requireBinary said true). */
export function binPath(name: string): string {
  const p = findBinary(name);
  if (!p) throw new Error(`binary not found: ${name}`);
  return p;
}

/** Reports a missing prerequisite: throws in CI (CI=true), warns loudly and returns false otherwise. */
export function missing(what: string): false {
  const msg = `\n!!!!!! integration suite SKIPPED: ${what} !!!!!!\n`;
  if (inCI) throw new Error(`${what} (CI=true: .ci/run must install it)`);
  console.warn(msg);
  return false;
}

/** True when `name` is on PATH (or in an sbin dir). Missing: throws in CI, warns and returns false otherwise. */
export function requireBinary(name: string): boolean {
  return findBinary(name) ? true : missing(`required binary "${name}" not found`);
}

export function requireBinaries(...names: string[]): boolean {
  const absent = names.filter((n) => !findBinary(n));
  return absent.length === 0 ? true : missing(`required binaries not found: ${absent.join(', ')}`);
}

/** True when dist/ is built (npm test's pretest builds it). Missing: throws in CI, warns otherwise. */
export function requireBuild(): boolean {
  return existsSync(builtMain) ? true : missing(`${builtMain} missing: run npm run build`);
}
