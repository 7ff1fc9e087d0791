// The CLI's side of the admin API: where it is (--admin, else admin.listen from the configuration),
// which token to send (--token-file, DNSLINKD_ADMIN_TOKEN, admin.tokens of --config,
// <dataDir>/admin-token) and how its answers and failures map to exit codes and
// `dnslinkd: [CODE] message` lines that say what to do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type JsonObject } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ADMIN_TOKEN_FILE, defaultClientToken } from '../control/admin-auth.js';
import { ADMIN_API_HEADER } from '../control/admin-identity.js';
import { CodedError, errorMessage } from '../errors.js';
import { parseAdminAddress } from './command-line.js';

export { UsageError } from './command-line.js';

/** Exit codes of the admin commands (README, "Commands"). */
export const ADMIN_EXIT = {
  OK: 0,
  /** The service or its store failed (5xx), or the admin API could not be reached. */
  FAILED: 1,
  /** Usage error or input the API refused (400). */
  INVALID_INPUT: 2,
  /** Not found (404): no such override. */
  NOT_FOUND: 3,
  /** No valid token, or a read token for a change (401, 403). */
  UNAUTHORIZED: 4,
  /** Conflict (409): changed meanwhile, nothing cached to pin. */
  CONFLICT: 5,
  /** What answered at --admin (or admin.listen) is not a dnslinkd admin API: the HTTP port, another service. */
  NOT_ADMIN_API: 6,
} as const;

/** A failed admin command: a code, a message for the operator and the exit code it means. */
export class AdminError extends CodedError {
  constructor(
    code: string,
    message: string,
    readonly exit: number,
  ) {
    super(code, message);
    this.name = 'AdminError';
  }
}

export interface AdminTargetOptions {
  admin?: string;
  config?: string;
  dataDir?: string;
  tokenFile?: string;
}

export interface AdminTarget {
  /** Base URL, without a trailing slash: http://127.0.0.1:8054 */
  url: string;
  token: string | undefined;
  /** Where the token came from (or would have), for the error messages. */
  tokenSource: string;
}

/** The admin API's URL and token for these flags, the configuration and the environment. */
export function adminTarget(opts: AdminTargetOptions, env: NodeJS.ProcessEnv = process.env, base: JsonObject = {}): AdminTarget {
  const flags: JsonObject = { ...base };
  if (opts.dataDir !== undefined) flags.dataDir = opts.dataDir;
  const config = loadConfig({ configFile: opts.config, flags, env });
  let url: string;
  if (opts.admin !== undefined) {
    // HOST:PORT or a URL; HOST:PORT speaks TLS when the configuration's admin.tls says it does.
    const given = parseAdminAddress(opts.admin);
    url = `${given.scheme ?? (config.admin.tls ? 'https' : 'http')}://${given.listen}`;
  } else {
    url = `${config.admin.tls ? 'https' : 'http'}://${config.admin.listen}`;
  }
  if (opts.tokenFile !== undefined) {
    let token: string;
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new AdminError('TOKEN_UNREADABLE', `cannot read the token file ${opts.tokenFile}: ${errorMessage(err)}`, ADMIN_EXIT.UNAUTHORIZED);
    }
    return { url, token, tokenSource: `--token-file ${opts.tokenFile}` };
  }
  if (!env.DNSLINKD_ADMIN_TOKEN && config.admin.tokens?.length) return { url, ...configuredToken(config.admin.tokens) };
  const file = join(config.dataDir, ADMIN_TOKEN_FILE);
  const token = defaultClientToken(config.dataDir, env);
  return { url, token, tokenSource: env.DNSLINKD_ADMIN_TOKEN ? 'DNSLINKD_ADMIN_TOKEN' : file };
}

/**
 * A token of admin.tokens (the instance generates none when they are set): a write token first, so
 * that changes work too, then a read one; a secret given inline, or the first file this user can read.
 */
function configuredToken(tokens: NonNullable<Config['admin']['tokens']>): { token: string | undefined; tokenSource: string } {
  const ordered = [...tokens.filter((t) => t.scope === 'write'), ...tokens.filter((t) => t.scope !== 'write')];
  const unreadable: string[] = [];
  for (const t of ordered) {
    if (t.secret !== undefined) return { token: t.secret, tokenSource: `admin.tokens "${t.label}" of --config` };
    try {
      return { token: readFileSync(t.file!, 'utf8').trim(), tokenSource: `admin.tokens "${t.label}" (file ${t.file}) of --config` };
    } catch (err) {
      unreadable.push(`${t.file} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    }
  }
  throw new AdminError('TOKEN_UNREADABLE', `cannot read the token file of any of admin.tokens in --config: ${unreadable.join(', ')}; give --token-file FILE or DNSLINKD_ADMIN_TOKEN`, ADMIN_EXIT.UNAUTHORIZED);
}

/** The keys that find a running instance's admin API: read alone when the rest of the file does not validate. */
function adminKeysOf(file: string): JsonObject {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { admin?: { listen?: unknown; tls?: unknown }; dataDir?: unknown } | null;
  const picked: JsonObject = {};
  if (parsed?.admin && typeof parsed.admin === 'object') {
    const admin: JsonObject = {};
    if (parsed.admin.listen !== undefined) admin.listen = parsed.admin.listen as string;
    if (parsed.admin.tls !== undefined) admin.tls = parsed.admin.tls as JsonObject;
    picked.admin = admin;
  }
  if (parsed?.dataDir !== undefined) picked.dataDir = parsed.dataDir as string;
  return picked;
}

/**
 * For `reload`: the admin API even when the configuration file does not validate, so that the
 * daemon refuses it (logged and counted there): only admin.listen, admin.tls and dataDir are read
 * from the file (flags win). When even those cannot be read, exit 2 RELOAD_REFUSED: the daemon was not asked.
 */
export function reloadTarget(opts: AdminTargetOptions, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  try {
    return adminTarget(opts, env);
  } catch (err) {
    if (!(err instanceof CodedError) || err.code !== 'CONFIG_INVALID' || opts.config === undefined) throw err;
    const why = errorMessage(err).replace(/:\n\s+/, ': ').replace(/\n\s*/g, '; ');
    try {
      const flags = adminKeysOf(opts.config);
      if (opts.dataDir !== undefined) flags.dataDir = opts.dataDir;
      return adminTarget({ ...opts, config: undefined }, env, flags);
    } catch {
      throw new AdminError(
        'RELOAD_REFUSED',
        `reload refused: ${why}; the daemon was not asked (its admin address could not be read from ${opts.config}: fix the file, or give --admin URL and --data-dir or --token-file)`,
        ADMIN_EXIT.INVALID_INPUT,
      );
    }
  }
}

const TOKEN_HELP = "give the instance's token with --token-file FILE or DNSLINKD_ADMIN_TOKEN, or point --data-dir (or --config) at the instance's data directory, which holds the admin-token it generated";

/** The exit code for an HTTP status of the admin API. */
export function exitForStatus(status: number): number {
  if (status === 401 || status === 403) return ADMIN_EXIT.UNAUTHORIZED;
  if (status === 404) return ADMIN_EXIT.NOT_FOUND;
  if (status === 409) return ADMIN_EXIT.CONFLICT;
  if (status >= 400 && status < 500) return ADMIN_EXIT.INVALID_INPUT;
  return ADMIN_EXIT.FAILED;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  timeoutMs?: number;
}

export class AdminClient {
  constructor(readonly target: AdminTarget) {}

  /** One request; the parsed JSON answer, or an AdminError naming what failed and what to do. */
  async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { url, token, tokenSource } = this.target;
    if (!token) {
      throw new AdminError('NO_TOKEN', `no admin token: DNSLINKD_ADMIN_TOKEN is not set and ${tokenSource} does not exist; ${TOKEN_HELP}`, ADMIN_EXIT.UNAUTHORIZED);
    }
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) query.set(k, v);
    const qs = query.size ? `?${query}` : '';
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${url}${path}${qs}`, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? errorMessage(err);
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(why)) {
        throw new AdminError('ADMIN_TLS', `the admin API at ${url} presented a certificate this client does not trust (${why}): give its CA with NODE_EXTRA_CA_CERTS=FILE`, ADMIN_EXIT.FAILED);
      }
      if (err instanceof Error && err.name === 'TimeoutError') {
        throw new AdminError('ADMIN_TIMEOUT', `the admin API at ${url} did not answer ${method} ${path} in time: is dnslinkd overloaded or stuck? (its logs say more)`, ADMIN_EXIT.FAILED);
      }
      // Something listens there but does not speak HTTP: closed the connection without an answer
      // (dnslinkd's DNS-over-TCP port does), or answered with bytes that are not HTTP.
      if (cause?.code === 'UND_ERR_SOCKET' || cause?.code?.startsWith('HPE_') || /does not match the HTTP/.test(cause?.message ?? '')) {
        throw new AdminError(
          'NOT_ADMIN_API',
          `${url} is not a dnslinkd admin API (${cause?.code === 'UND_ERR_SOCKET' ? `it closed the connection without answering ${method} ${path}` : `its answer to ${method} ${path} is not HTTP`}; ${why}): give --admin the address of admin.listen (127.0.0.1:8054 by default), not the HTTP or DNS port${cause?.code === 'UND_ERR_SOCKET' ? ' (or dnslinkd stopped while answering: see its logs)' : ''}`,
          ADMIN_EXIT.NOT_ADMIN_API,
        );
      }
      throw new AdminError('ADMIN_UNREACHABLE', `cannot reach the admin API (${why}): is dnslinkd running? admin API at ${url} (give --admin HOST:PORT, or --config with its admin.listen)`, ADMIN_EXIT.FAILED);
    }
    const text = await res.text();
    // Every answer of the admin API carries its header, 401s and 404s included: one without it
    // comes from something else (the HTTP port, another service on that port).
    if (res.headers.get(ADMIN_API_HEADER) === null) {
      throw new AdminError(
        'NOT_ADMIN_API',
        `${url} is not a dnslinkd admin API (it answered ${method} ${path} with ${res.status} and no ${ADMIN_API_HEADER} header): give --admin the address of admin.listen (127.0.0.1:8054 by default), not the HTTP or DNS port`,
        ADMIN_EXIT.NOT_ADMIN_API,
      );
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      throw new AdminError('BAD_RESPONSE', `${method} ${url}${path} answered ${res.status} with something that is not JSON: is ${url} dnslinkd's admin API?`, ADMIN_EXIT.FAILED);
    }
    if (res.ok) return parsed as T;
    const answer = (parsed ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof answer.code === 'string' ? answer.code : `HTTP_${res.status}`;
    let message = typeof answer.message === 'string' ? answer.message : `${method} ${path} answered ${res.status}`;
    if (res.status === 401) message += ` (token from ${tokenSource}; ${TOKEN_HELP})`;
    else if (res.status === 403) message += ` (token from ${tokenSource})`;
    else if (res.status >= 500) message += ` (admin API at ${url}; see dnslinkd's logs)`;
    throw new AdminError(code, message, exitForStatus(res.status));
  }
}

/** The flags every admin command takes, and the exit codes: the end of each admin command's help. */
export const ADMIN_COMMON_HELP = `Connection (every admin command):
  --admin HOST:PORT|URL  the admin API: 127.0.0.1:8054, [::1]:8054 or http://127.0.0.1:8054
                         (default: admin.listen of --config; HOST:PORT uses https when admin.tls is set)
  --config FILE          read admin.listen, admin.tls, admin.tokens and dataDir from it
  --data-dir DIR         the instance's data directory, which holds the admin-token it generated
  --token-file FILE      the token; else DNSLINKD_ADMIN_TOKEN, else admin.tokens of --config (a write
                         token first, a secret or a file it names), else <dataDir>/admin-token
  --json                 print the API's JSON answer
Exit codes: 0 done, 1 the service or its store failed or is unreachable, 2 usage error or input
refused, 3 not found, 4 no valid token (or a read token for a change), 5 conflict,
6 what answered is not a dnslinkd admin API (the HTTP port given as --admin?).`;
