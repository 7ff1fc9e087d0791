// The `dnslinkd` command: `serve` runs the service, `resolve` answers one DNSLink name through the
// same core and exits. Flags map onto configuration keys; usage errors exit 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { serveCluster } from '../cluster.js';
import { loadConfig, type JsonObject } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createResolverCore } from '../core/resolver-core.js';
import { rcodeName } from '../dns/constants.js';
import { isGatewayFailure } from '../dnslink/gateway.js';
import { isDnslinkFailure } from '../dnslink/resolve.js';
import { CodedError, errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { runUntilSignalled, startInstance } from '../instance.js';
import { VERSION } from '../version.js';

const USAGE = `Usage:
  dnslinkd serve [--config FILE] [--dns HOST:PORT] [--http HOST:PORT] [--upstream URL ...]
                 [--no-forward] [--local-records FILE | --no-local-records] [--log-level LEVEL]
                 [--workers N]
  dnslinkd resolve NAME [--upstream URL ...] [--config FILE] [--json] [--gateway]
  dnslinkd --version | --help

Upstream URLs: udp://HOST:PORT, tcp://HOST:PORT, https://HOST/dns-query (http:// for loopback).
Defaults: DNS on 127.0.0.1:10053 (UDP and TCP), HTTP on 127.0.0.1:8053, upstreams from
/etc/resolv.conf, demo records from fixtures/local-records.json. See docs/configuration.md.`;

class UsageError extends Error {}

const COMMON_OPTIONS = {
  config: { type: 'string' },
  upstream: { type: 'string', multiple: true },
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

function configFromFlags(values: FlagValues, defaultLogLevel?: string): Config {
  const flags: JsonObject = {};
  const dns: JsonObject = {};
  if (typeof values.dns === 'string') dns.listen = values.dns;
  if (values['no-forward'] === true) dns.forward = false;
  if (typeof values.workers === 'string') dns.workers = /^\d+$/.test(values.workers) ? Number(values.workers) : values.workers;
  if (values.forward === true) dns.forward = true;
  if (Object.keys(dns).length) flags.dns = dns;
  if (typeof values.http === 'string') flags.http = { listen: values.http };
  if (Array.isArray(values.upstream)) flags.upstreams = values.upstream;
  const logLevel = values['log-level'] ?? (process.env.DNSLINKD_LOG_LEVEL ? undefined : defaultLogLevel);
  if (typeof logLevel === 'string') flags.logLevel = logLevel;
  if (typeof values['local-records'] === 'string') flags.localRecords = values['local-records'];
  if (values['no-local-records'] === true) flags.localRecords = null;
  return loadConfig({
    configFile: typeof values.config === 'string' ? values.config : undefined,
    flags,
  });
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    ...COMMON_OPTIONS,
    dns: { type: 'string' },
    http: { type: 'string' },
    forward: { type: 'boolean' },
    'no-forward': { type: 'boolean' },
    workers: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`serve takes no arguments, got "${positionals.join(' ')}"`);
  const config = configFromFlags(values);
  const log = createLogger(config.logLevel);
  if (config.upstreams.length === 0) log.warn('no upstreams configured (none in /etc/resolv.conf): only local records will answer');
  if (config.dns.workers > 1) return serveCluster(config, log);
  const instance = await startInstance(config, log, { processMetrics: true });
  await runUntilSignalled(instance, log);
  log.flush();
  return 0;
}

async function resolve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...COMMON_OPTIONS, json: { type: 'boolean' }, gateway: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`resolve takes exactly one NAME, got ${positionals.length}`);
  const name = positionals[0]!;
  const config = configFromFlags(values, 'warn');
  const log = createLogger(config.logLevel, 2);
  const core = createResolverCore(config, log);

  if (values.gateway) {
    const { result, lookups } = await core.dnslink.resolveForGateway(name, {}, 'cli');
    if (values.json) process.stdout.write(`${JSON.stringify({ ...result, lookups })}\n`);
    else if (isGatewayFailure(result)) process.stdout.write(`${name}: error ${result.error.code}: ${result.error.message}\n`);
    else process.stdout.write(`${result.value}\tttl=${result.ttl}${result.cidV1 ? `\tcid=${result.cidV1}` : ''}\n`);
    return 0;
  }

  const { result, lookups } = await core.dnslink.resolve(name, 'cli');
  if (!values.json) {
    for (const l of lookups) {
      const via = l.upstream ? ` from ${l.upstream}` : '';
      const why = l.ede ? ` (EDE ${l.ede.code}: ${l.ede.text})` : '';
      process.stderr.write(`; ${l.name} TXT: ${rcodeName(l.rcode)}${via} [${l.source}]${why}\n`);
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  if (isDnslinkFailure(result)) {
    const why = lookups.find((l) => l.ede)?.ede?.text;
    process.stdout.write(`${name}: error ${result.error.code}${why ? ` (${why})` : ''}\n`);
    return 0;
  }
  const lines = Object.entries(result.links).flatMap(([ns, links]) => links.map((l) => `/${ns}/${l.identifier}\tttl=${l.ttl}`));
  process.stdout.write(lines.length ? `${lines.join('\n')}\n` : `${name}: no DNSLink entries\n`);
  for (const entry of result.log) process.stderr.write(`log: ${JSON.stringify(entry)}\n`);
  return 0;
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
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dnslinkd: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof CodedError) {
      process.stderr.write(`dnslinkd: [${err.code}] ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
