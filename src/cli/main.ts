// The `dnslinkd` command: `serve` runs the service, `resolve` answers one DNSLink name through the
// same core and exits, the admin commands (admin-commands.ts) drive a running instance. Flags map
// onto configuration keys; errors go to stderr with an exit code that says what failed (EXIT).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { serveCluster } from '../cluster.js';
import { envVariableFor, loadConfig, type JsonObject, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createResolverCore, type ResolverCore } from '../core/resolver-core.js';
import type { DenylistBlock } from '../stages/denylist/block.js';
import { rcodeName } from '../dns/constants.js';
import type { LookupTrace } from '../core/dnslink-service.js';
import { isGatewayFailure, type GatewayErrorCode } from '../dnslink/gateway.js';
import { describeDnslinkResultError, isDnslinkFailure } from '../dnslink/resolve.js';
import { CodedError, errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { runUntilSignalled, startInstance } from '../instance.js';
import { handleReloads, ignoreSighupWhileStarting, type ConfigSource } from '../lifecycle/reload.js';
import { holdShutdownSignalsWhileStarting } from '../lifecycle/shutdown.js';
import { VERSION } from '../version.js';
import { AdminError, UsageError } from './admin-client.js';
import { ADMIN_COMMANDS, ADMIN_HELP, ADMIN_USAGE, runAdminCommand } from './admin-commands.js';

const USAGE = `Usage:
  dnslinkd serve [--config FILE] [--dns HOST:PORT] [--http HOST:PORT] [--upstream URL ...] [--ens-rpc URL ...]
                 [--no-forward] [--local-records FILE | --no-local-records] [--log-level LEVEL]
                 [--workers N] [--admin HOST:PORT] [--data-dir DIR]
  dnslinkd resolve NAME [--upstream URL ...] [--config FILE] [--json] [--gateway]
                   [--local-records FILE | --no-local-records] [--log-level LEVEL]
${ADMIN_USAGE}
  dnslinkd --version | --help

resolve exits 0 when a DNSLink is found, 2 for an invalid name, 3 when the name has no DNSLink,
4 when the upstreams failed, 5 when a denylist blocks the name or a value on the way (denylist.sources);
with --json it prints the result or error and exits 0.
Errors: 1 (configuration, port in use, internal), 2 (usage).

Upstream URLs: udp://HOST:PORT, tcp://HOST:PORT, https://HOST/dns-query (http:// for loopback).
Defaults: DNS on 127.0.0.1:10053 (UDP and TCP), HTTP on 127.0.0.1:8053, upstreams from
/etc/resolv.conf, demo records from fixtures/local-records.json. See docs/configuration.md.

${ADMIN_HELP}`;

const COMMON_OPTIONS = {
  config: { type: 'string' },
  upstream: { type: 'string', multiple: true },
  'ens-rpc': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'local-records': { type: 'string' },
  'no-local-records': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

type FlagValues = { [key: string]: string | boolean | string[] | undefined };

/** What loadConfig reads for these flags (serve keeps it: a reload reads the same file with the same flags). */
function loadOptionsFromFlags(values: FlagValues, defaultLogLevel?: string): LoadOptions {
  const flags: JsonObject = {};
  const dns: JsonObject = {};
  if (typeof values.dns === 'string') dns.listen = values.dns;
  if (values['no-forward'] === true) dns.forward = false;
  if (typeof values.workers === 'string') dns.workers = /^\d+$/.test(values.workers) ? Number(values.workers) : values.workers;
  if (values.forward === true) dns.forward = true;
  if (Object.keys(dns).length) flags.dns = dns;
  if (typeof values.http === 'string') flags.http = { listen: values.http };
  // serve's --admin HOST:PORT is where the admin API listens (the client commands' --admin is a URL).
  if (typeof values['admin-listen'] === 'string') flags.admin = { listen: values['admin-listen'] };
  if (typeof values['data-dir'] === 'string') flags.dataDir = values['data-dir'];
  if (Array.isArray(values.upstream)) flags.upstreams = values.upstream;
  if (Array.isArray(values['ens-rpc'])) flags.ens = { rpc: values['ens-rpc'] };
  const logLevel = values['log-level'] ?? (envVariableFor(process.env, 'logLevel') ? undefined : defaultLogLevel);
  if (typeof logLevel === 'string') flags.logLevel = logLevel;
  if (typeof values['local-records'] === 'string') flags.localRecords = values['local-records'];
  if (values['no-local-records'] === true) flags.localRecords = null;
  return { configFile: typeof values.config === 'string' ? values.config : undefined, flags };
}

/** The dotted paths a flags object sets (`dns.listen`, `upstreams`). */
function flagPathsOf(node: JsonObject, prefix = ''): string[] {
  return Object.entries(node).flatMap(([key, value]) =>
    value && typeof value === 'object' && !Array.isArray(value) ? flagPathsOf(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

function configFromFlags(values: FlagValues, defaultLogLevel?: string): Config {
  return loadConfig(loadOptionsFromFlags(values, defaultLogLevel));
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON_OPTIONS,
    dns: { type: 'string' },
    http: { type: 'string' },
    forward: { type: 'boolean' },
    'no-forward': { type: 'boolean' },
    workers: { type: 'string' },
    admin: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`serve takes no arguments, got "${positionals.join(' ')}"`);
  const loadOptions = loadOptionsFromFlags({ ...values, 'admin-listen': values.admin });
  // A reload also checks the file without the flags and names the file's edits a flag hides (reload.ts).
  const load: ConfigSource = Object.assign(() => loadConfig(loadOptions), {
    withoutFlags: () => loadConfig({ ...loadOptions, flags: {} }),
    flagPaths: flagPathsOf(loadOptions.flags ?? {}),
  });
  const config = load();
  const log = createLogger(config.logLevel);
  ignoreSighupWhileStarting(log);
  holdShutdownSignalsWhileStarting(log);
  if (config.upstreams.length === 0) log.warn('no upstreams configured (none in /etc/resolv.conf): only local records will answer');
  if (config.dns.workers > 1) {
    const code = await serveCluster(config, log, load);
    exitSoonIfHeld();
    return code;
  }
  const instance = await startInstance(config, log, { processMetrics: true });
  handleReloads(instance, load, log);
  await runUntilSignalled(instance, log);
  exitSoonIfHeld();
  log.flush();
  return 0;
}

/**
 * A stopped server exits once its last handle closes; one that something still holds (a socket a
 * peer keeps half-open, a library's timer) is made to, a moment later: a supervisor waits for the exit.
 */
function exitSoonIfHeld(): void {
  setTimeout(() => process.exit(), 1000).unref();
}

/** Exit codes of the command line (README, "Commands"). */
const EXIT = {
  /** `resolve`: a DNSLink was found. */
  FOUND: 0,
  /** Configuration or internal error (`serve` and `resolve`). */
  ERROR: 1,
  /** Usage error, or `resolve` of a name that is not a valid domain (INVALID_DOMAIN). */
  INVALID_INPUT: 2,
  /** `resolve`: the name has no DNSLink (NXDOMAIN, no or unusable dnslink= entries, a loop...). */
  NO_DNSLINK: 3,
  /** `resolve`: no answer because the upstreams failed (SERVFAIL, REFUSED, timeouts), nothing stale. */
  UPSTREAMS_FAILED: 4,
  /** `resolve`: the name, or a value resolved on the way, is blocked by a denylist. */
  BLOCKED: 5,
} as const;

/** The exit code of a `resolve` that found no DNSLink, by its error code. */
function resolveFailureExit(code: GatewayErrorCode, upstreamFailed: boolean): number {
  switch (code) {
    case 'INVALID_DOMAIN':
      return EXIT.INVALID_INPUT;
    case 'NO_DNSLINK':
    case 'MULTIPLE_DNSLINK':
    case 'INVALID_CID':
    case 'LOOP':
    case 'TOO_MANY_HOPS':
      return upstreamFailed ? EXIT.UPSTREAMS_FAILED : EXIT.NO_DNSLINK;
    default:
      // DNS_RCODE_<n>: NXDOMAIN means there is no such name; any other rcode, that DNS failed.
      return code === 'DNS_RCODE_3' && !upstreamFailed ? EXIT.NO_DNSLINK : EXIT.UPSTREAMS_FAILED;
  }
}

/**
 * One line for stderr saying why `resolve` found nothing: the code, then the reason in words
 * (`INVALID_DOMAIN: EMPTY_PART (invalid domain "a..b": empty label)`, `DNS_RCODE_2: SERVFAIL for
 * _dnslink.x from udp://... (EDE 22: ...)`).
 */
function failureLine(name: string, error: { code: GatewayErrorCode; domain: string; reason?: string }, explanation: string, lookups: readonly LookupTrace[]): string {
  const head = `dnslinkd: ${name}: ${error.code}`;
  if (error.code === 'INVALID_DOMAIN') return `${head}${error.reason ? `: ${error.reason}` : ''} (${explanation})`;
  const rcode = /^DNS_RCODE_(\d+)$/.exec(error.code);
  if (rcode) {
    const decided = lookups.findLast((l) => l.rcode === Number(rcode[1]));
    if (!decided) return `${head}: ${rcodeName(Number(rcode[1]))} (${explanation})`;
    const via = decided.upstream ? ` from ${decided.upstream}` : '';
    const why = decided.ede ? ` (EDE ${decided.ede.code}: ${decided.ede.text})` : '';
    return `${head}: ${rcodeName(decided.rcode)} for ${decided.name}${via}${why}`;
  }
  return `${head}: ${explanation}`;
}

/** A name a denylist blocks: one line saying which list and rule, exit 5. */
function blockedExit(block: DenylistBlock): number {
  process.stderr.write(`dnslinkd: ${block.code}: ${block.message}\n`);
  return EXIT.BLOCKED;
}

async function resolve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON_OPTIONS, json: { type: 'boolean' }, gateway: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`resolve takes exactly one NAME, got ${positionals.length}`);
  const name = positionals[0]!;
  // A one-shot command prints no JSON logs unless asked (--log-level or DNSLINKD_LOG_LEVEL).
  const config = configFromFlags(values, 'silent');
  const log = createLogger(config.logLevel, 2);
  const core = createResolverCore(config, log);
  // The lists of denylist.sources apply here too (read, fetched, or the data dir's copies).
  await core.denylist.start();
  try {
    return await resolveName(core, name, values);
  } finally {
    await core.denylist.stop();
  }
}

async function resolveName(core: ResolverCore, name: string, values: { json?: boolean; gateway?: boolean }): Promise<number> {

  // --json prints the result or the error object and exits 0 whatever it says: the dnslink.dev
  // harness (@dnslink/test) treats any other exit code as a crash of the implementation.
  if (values.gateway) {
    const { result, lookups, upstreamFailed, notes, blocked } = await core.dnslink.resolveForGateway(name, {}, 'cli');
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    if (blocked && !values.json) return blockedExit(blocked);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...result, lookups })}\n`);
      return EXIT.FOUND;
    }
    if (isGatewayFailure(result)) {
      process.stderr.write(`${failureLine(name, result.error, result.error.message, lookups)}\n`);
      return resolveFailureExit(result.error.code, upstreamFailed);
    }
    process.stdout.write(`${result.value}\tttl=${result.ttl}${result.cidV1 ? `\tcid=${result.cidV1}` : ''}\n`);
    return EXIT.FOUND;
  }

  const { result, lookups, upstreamFailed, notes, blocked } = await core.dnslink.resolve(name, 'cli', values.json ? 'dnslink.dev' : 'hostname');
  if (blocked && !values.json) return blockedExit(blocked);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return EXIT.FOUND;
  }
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  for (const l of lookups) {
    const via = l.upstream ? ` from ${l.upstream}` : '';
    const why = l.ede ? ` (EDE ${l.ede.code}: ${l.ede.text})` : '';
    process.stderr.write(`; ${l.name} TXT: ${rcodeName(l.rcode)}${via} [${l.source}]${why}\n`);
  }
  if (isDnslinkFailure(result)) {
    process.stderr.write(`${failureLine(name, result.error, describeDnslinkResultError(result.error), lookups)}\n`);
    return resolveFailureExit(result.error.code, upstreamFailed);
  }
  for (const entry of result.log) process.stderr.write(`log: ${JSON.stringify(entry)}\n`);
  const lines = Object.entries(result.links).flatMap(([ns, links]) => links.map((l) => `/${ns}/${l.identifier}\tttl=${l.ttl}`));
  if (!lines.length) {
    process.stderr.write(`dnslinkd: ${name}: NO_DNSLINK: no valid dnslink= TXT entry\n`);
    return upstreamFailed ? EXIT.UPSTREAMS_FAILED : EXIT.NO_DNSLINK;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.FOUND;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'resolve':
        return await resolve(rest);
      case '--version':
      case 'version':
        process.stdout.write(`dnslinkd ${VERSION}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        if (ADMIN_COMMANDS.has(command)) return await runAdminCommand(command, rest);
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dnslinkd: ${err.message}\n\n${USAGE}\n`);
      return EXIT.INVALID_INPUT;
    }
    if (err instanceof AdminError) {
      process.stderr.write(`dnslinkd: [${err.code}] ${err.message}\n`);
      return err.exit;
    }
    if (err instanceof CodedError) {
      process.stderr.write(`dnslinkd: [${err.code}] ${err.message}\n`);
      return EXIT.ERROR;
    }
    throw err;
  }
}
