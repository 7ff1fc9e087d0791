// The `dnslinkd` command: `serve` runs the service, `resolve` answers one DNSLink name through the
// same core and exits, the admin commands (admin-commands.ts) drive a running instance. Flags map
// onto configuration keys; errors go to stderr with an exit code that says what failed (EXIT).
// The server's code is loaded by the commands that run it (serve, resolve): the admin commands,
// help and usage errors start in a fraction of the time.
import type { ParseArgsConfig } from 'node:util';
import { envVariableFor, loadConfig, type JsonObject, type LoadOptions } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { ResolverCore } from '../core/resolver-core.js';
import type { DenylistBlock } from '../stages/denylist/block.js';
import { rcodeName } from '../dns/constants.js';
import type { LookupTrace } from '../core/dnslink-service.js';
import { isGatewayFailure, type GatewayErrorCode } from '../dnslink/gateway.js';
import { describeDnslinkResultError, isDnslinkFailure } from '../dnslink/resolve.js';
import { CodedError } from '../errors.js';
import type { ConfigSource } from '../lifecycle/reload.js';
import { VERSION } from '../version.js';
import { AdminError, UsageError } from './admin-client.js';
import { ADMIN_COMMAND_HELP, ADMIN_COMMANDS, runAdminCommand } from './admin-commands.js';
import { didYouMean, helpText, parseAdminAddress, parseFlags, wholeNumber, type CommandHelp } from './command-line.js';

export const SERVE_HELP: CommandHelp = {
  summary: 'run the resolver: DNS, DNS-over-HTTPS, the resolution API and the admin API',
  usage: `  dnslinkd serve [--config FILE] [--dns HOST:PORT] [--http HOST:PORT] [--upstream URL ...] [--ens-rpc URL ...]
                 [--no-forward] [--local-records FILE | --no-local-records] [--log-level LEVEL]
                 [--workers N] [--admin HOST:PORT] [--data-dir DIR]`,
  help: `Runs dnslinkd until SIGTERM or SIGINT; SIGHUP (or dnslinkd reload) reads the configuration again.
Flags set configuration keys and win over the file and the environment (docs/configuration.md):
  --config FILE          the configuration file (JSON)
  --dns HOST:PORT        dns.listen, UDP and TCP (default 127.0.0.1:10053)
  --http HOST:PORT       http.listen: DoH, /v1/dnslink, /openapi.json (default 127.0.0.1:8053)
  --upstream URL         upstreams, repeatable: udp://HOST:PORT, tcp://HOST:PORT, https://HOST/dns-query
                         (http:// for loopback); default: /etc/resolv.conf
  --ens-rpc URL          ens.rpc, repeatable: Ethereum JSON-RPC endpoints for ENS names
  --no-forward           dns.forward false: answer DNSLink TXT only, refuse other types
  --local-records FILE   localRecords (default: the demo records of fixtures/local-records.json)
  --no-local-records     no local records
  --log-level LEVEL      fatal, error, warn, info, debug, trace or silent
  --workers N            dns.workers: 1 to 256 processes sharing the ports
  --admin HOST:PORT      admin.listen: where the admin API listens (default 127.0.0.1:8054); a URL
                         (http://127.0.0.1:8054) is taken too, https:// only with admin.tls set
  --data-dir DIR         dataDir: overrides, audit log, the generated admin token
Exit codes: 0 stopped by a signal, 1 configuration error, port in use or internal error, 2 usage error.`,
};

export const RESOLVE_HELP: CommandHelp = {
  summary: 'resolve one DNSLink name through the same resolver and exit',
  usage: `  dnslinkd resolve NAME [--upstream URL ...] [--config FILE] [--json] [--gateway]
                   [--local-records FILE | --no-local-records] [--log-level LEVEL]`,
  help: `Prints the name's DNSLink values (/ipfs/..., /ipns/...) with their TTL on stdout and each lookup on
stderr. NAME may be a URL (its host is used) or a Unicode name (converted to punycode).
  --gateway              the value a gateway would serve (boxo rules: one value, recursion)
  --json                 the result or the error as JSON; exits 0 either way (dnslink.dev harness)
  --upstream, --config, --ens-rpc, --local-records, --no-local-records, --log-level: as for serve
Exit codes: 0 a DNSLink was found, 1 configuration or internal error, 2 usage error or a name that
is not a valid domain, 3 the name has no DNSLink, 4 the upstreams failed (nothing stale), 5 a denylist
blocks the name or a value on the way (denylist.sources).`,
};

/** Every command's help, by name, in the order `dnslinkd help` lists them. */
const COMMAND_HELP: Record<string, CommandHelp> = { serve: SERVE_HELP, resolve: RESOLVE_HELP, ...ADMIN_COMMAND_HELP };

function globalHelp(): string {
  const names = Object.keys(COMMAND_HELP);
  const width = Math.max(...names.map((n) => n.length));
  return `Usage: dnslinkd <command> [flags]

Commands:
${names.map((n) => `  ${n.padEnd(width)}  ${COMMAND_HELP[n]!.summary}`).join('\n')}

dnslinkd help <command> (or <command> --help) prints a command's flags and exit codes.
dnslinkd --version (-v) prints the version. README.md and docs/ say more.`;
}

/** `dnslinkd help [command [sub]]`. */
function help(args: string[]): number {
  const [name, sub] = args;
  if (name === undefined) {
    process.stdout.write(`${globalHelp()}\n`);
    return 0;
  }
  const command = COMMAND_HELP[name];
  if (!command) throw new UsageError(`no help for "${name}": not a command${didYouMean(name, Object.keys(COMMAND_HELP))}`, '');
  if (sub !== undefined && !command.subcommands?.[sub]) throw new UsageError(`${name} has no subcommand "${sub}"${didYouMean(sub, Object.keys(command.subcommands ?? {}))}`, name);
  process.stdout.write(`${helpText(name, command, sub)}\n`);
  return 0;
}

const COMMON_OPTIONS = {
  config: { type: 'string' },
  upstream: { type: 'string', multiple: true },
  'ens-rpc': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  'local-records': { type: 'string' },
  'no-local-records': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];


type FlagValues = { [key: string]: string | boolean | string[] | undefined };

/** What loadConfig reads for these flags (serve keeps it: a reload reads the same file with the same flags). */
function loadOptionsFromFlags(values: FlagValues, defaultLogLevel?: string): LoadOptions {
  const flags: JsonObject = {};
  const dns: JsonObject = {};
  if (typeof values.dns === 'string') dns.listen = values.dns;
  if (values['no-forward'] === true) dns.forward = false;
  if (typeof values.workers === 'string') dns.workers = wholeNumber(values.workers, '--workers', 1, 256, 'processes');
  if (values.forward === true) dns.forward = true;
  if (Object.keys(dns).length) flags.dns = dns;
  if (typeof values.http === 'string') flags.http = { listen: values.http };
  // serve's --admin is where the admin API listens (HOST:PORT, from HOST:PORT or a URL).
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
  const { values, positionals } = parseFlags('serve', args, {
    ...COMMON_OPTIONS,
    dns: { type: 'string' },
    http: { type: 'string' },
    forward: { type: 'boolean' },
    'no-forward': { type: 'boolean' },
    workers: { type: 'string' },
    admin: { type: 'string' },
    'data-dir': { type: 'string' },
  });
  if (values.help) return help(['serve']);
  if (positionals.length) throw new UsageError(`serve takes no arguments, got "${positionals.join(' ')}"`);
  const adminAddress = values.admin === undefined ? undefined : parseAdminAddress(values.admin);
  const loadOptions = loadOptionsFromFlags({ ...values, 'admin-listen': adminAddress?.listen });
  // A reload also checks the file without the flags and names the file's edits a flag hides (reload.ts).
  const load: ConfigSource = Object.assign(() => loadConfig(loadOptions), {
    withoutFlags: () => loadConfig({ ...loadOptions, flags: {} }),
    flagPaths: flagPathsOf(loadOptions.flags ?? {}),
  });
  const config = load();
  if (adminAddress?.scheme && (adminAddress.scheme === 'https') !== Boolean(config.admin.tls)) {
    throw new UsageError(`--admin ${values.admin}: the admin API speaks ${config.admin.tls ? 'https (admin.tls is set)' : 'plain http (admin.tls is not set)'}; give HOST:PORT or a URL with that scheme`);
  }
  const [{ serveCluster }, { runUntilSignalled, startInstance }, { handleReloads, ignoreSighupWhileStarting }, { holdShutdownSignalsWhileStarting }, { createLogger }] = await Promise.all([
    import('../cluster.js'),
    import('../instance.js'),
    import('../lifecycle/reload.js'),
    import('../lifecycle/shutdown.js'),
    import('../observability/logger.js'),
  ]);
  const log = createLogger(config.logLevel, 1, config.log.format);
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
  const { values, positionals } = parseFlags('resolve', args, { ...COMMON_OPTIONS, json: { type: 'boolean' }, gateway: { type: 'boolean' } });
  if (values.help) return help(['resolve']);
  if (positionals.length !== 1) throw new UsageError(`resolve takes exactly one NAME, got ${positionals.length}`);
  const name = positionals[0]!;
  // A one-shot command prints no JSON logs unless asked (--log-level or DNSLINKD_LOG_LEVEL).
  const config = configFromFlags(values, 'silent');
  const [{ createResolverCore }, { createLogger }] = await Promise.all([import('../core/resolver-core.js'), import('../observability/logger.js')]);
  const log = createLogger(config.logLevel, 2, config.log.format);
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
      case '-v':
      case 'version':
        process.stdout.write(`dnslinkd ${VERSION}\n`);
        return 0;
      case undefined:
        throw new UsageError('no command given', '');
      case '--help':
      case '-h':
      case 'help':
        return help(rest);
      default:
        if (ADMIN_COMMANDS.has(command)) return await runAdminCommand(command, rest);
        if (command.startsWith('-')) throw new UsageError(`a command comes first, not the flag "${command}"`, '');
        throw new UsageError(`unknown command "${command}"${didYouMean(command, [...Object.keys(COMMAND_HELP), 'help', 'version'])}`, '');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      // One line saying what is wrong, one saying where the command's help is.
      const topic = err.command ?? (command !== undefined && COMMAND_HELP[command] ? command : '');
      process.stderr.write(`dnslinkd: ${err.message}\nsee: dnslinkd help${topic ? ` ${topic}` : ''}\n`);
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
