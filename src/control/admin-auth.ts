// Who may use the admin API: bearer tokens from the configuration (a secret or a file holding it),
// from DNSLINKD_ADMIN_TOKEN (a write token labelled `env`), or, when none is configured, one
// generated in <dataDir>/admin-token (mode 0600) that the CLI reads. Compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError, errorMessage } from '../errors.js';
import type { AdminTokenConfig } from './config.js';
import { prepareDataDir, unusablePathError } from '../runtime/data-dir.js';

export type TokenScope = 'read' | 'write';

interface KnownToken {
  label: string;
  scope: TokenScope;
  digest: Buffer;
}

export type AuthOutcome = { ok: true; label: string; scope: TokenScope } | { ok: false; status: 401 | 403; code: string; message: string };

export const ADMIN_TOKEN_FILE = 'admin-token';
const MIN_SECRET = 16;

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/** The token the CLI uses by default: DNSLINKD_ADMIN_TOKEN, else the generated file; undefined when neither exists. */
export function defaultClientToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DNSLINKD_ADMIN_TOKEN) return env.DNSLINKD_ADMIN_TOKEN;
  try {
    return readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export class AdminAuth {
  private constructor(
    private tokens: KnownToken[],
    /** Set when the token was generated (or read back) from the data directory. */
    readonly generatedFile?: string,
  ) {}

  /** Whether `other` knows the same tokens (labels, scopes and secrets). */
  sameTokens(other: AdminAuth): boolean {
    const key = (t: KnownToken) => `${t.label}/${t.scope}/${t.digest.toString('hex')}`;
    return this.tokens.map(key).join() === other.tokens.map(key).join();
  }

  /** Takes the tokens of `other` (a configuration reload): requests from now on are checked against them. */
  replaceTokens(other: AdminAuth): void {
    this.tokens = other.tokens;
  }

  get labels(): Array<{ label: string; scope: TokenScope }> {
    return this.tokens.map(({ label, scope }) => ({ label, scope }));
  }

  static load(configured: readonly AdminTokenConfig[] | undefined, dataDir: string, env: NodeJS.ProcessEnv = process.env): AdminAuth {
    const tokens: KnownToken[] = [];
    for (const t of configured ?? []) {
      let secret = t.secret;
      if (t.file !== undefined) {
        try {
          secret = readFileSync(t.file, 'utf8').trimEnd();
        } catch (err) {
          throw new CodedError('ADMIN_TOKEN_UNREADABLE', `admin.tokens "${t.label}": cannot read ${t.file}: ${errorMessage(err)}`);
        }
        if (secret.length < MIN_SECRET) throw new CodedError('ADMIN_TOKEN_INVALID', `admin.tokens "${t.label}": ${t.file} holds ${secret.length} characters; a token needs at least ${MIN_SECRET}`);
      }
      tokens.push({ label: t.label, scope: t.scope, digest: digestOf(secret!) });
    }
    const fromEnv = env.DNSLINKD_ADMIN_TOKEN;
    if (fromEnv !== undefined) {
      if (fromEnv.length < MIN_SECRET) throw new CodedError('ADMIN_TOKEN_INVALID', `DNSLINKD_ADMIN_TOKEN: ${fromEnv.length} characters; a token needs at least ${MIN_SECRET}`);
      tokens.push({ label: 'env', scope: 'write', digest: digestOf(fromEnv) });
    }
    if (tokens.length > 0) return new AdminAuth(tokens);
    // Nothing configured: a write token of our own, kept in the data directory for the CLI.
    const file = join(dataDir, ADMIN_TOKEN_FILE);
    let secret: string;
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (readErr) {
      // A token that is there but cannot be read (files left owned by root): say so, naming the fix.
      if ((readErr as NodeJS.ErrnoException).code !== 'ENOENT') throw unusablePathError(file, 'the admin token', readErr, dataDir);
      secret = randomBytes(32).toString('base64url');
      try {
        prepareDataDir(dataDir);
        writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if (err instanceof CodedError) throw err;
        // Another process (a worker, a second instance) wrote it first: use that one.
        try {
          secret = readFileSync(file, 'utf8').trim();
        } catch {
          throw unusablePathError(file, 'the admin token', err, dataDir);
        }
      }
    }
    return new AdminAuth([{ label: 'local', scope: 'write', digest: digestOf(secret) }], file);
  }

  /** Checks an Authorization header; `write` asks for a token that may change things. */
  check(authorization: string | undefined, need: TokenScope): AuthOutcome {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'an admin token is required: Authorization: Bearer <token>' };
    const digest = digestOf(match[1]!);
    let found: KnownToken | undefined;
    // Every token is compared, in constant time each, so timing says nothing about the secret.
    for (const token of this.tokens) if (timingSafeEqual(token.digest, digest) && !found) found = token;
    if (!found) return { ok: false, status: 401, code: 'UNAUTHORIZED', message: 'the admin token is not valid' };
    if (need === 'write' && found.scope !== 'write') return { ok: false, status: 403, code: 'FORBIDDEN', message: `token "${found.label}" may read, not change: use a write token` };
    return { ok: true, label: found.label, scope: found.scope };
  }
}
