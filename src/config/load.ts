// Loads the configuration: built-in defaults, then one JSON file (--config or DNSLINKD_CONFIG),
// then DNSLINKD_* environment variables, then command-line flags; validated once, with errors that
// name the bad key. Default upstreams come from /etc/resolv.conf.
import { readFileSync } from 'node:fs';
import { CodedError } from '../errors.js';
import { localRecordsPath } from '../stages/local-records/config.js';
import { resolvConfUpstreams } from '../stages/upstream/config.js';
import { configSchema, type Config } from './schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const ENV_PREFIX = 'DNSLINKD_';
/** Short names for the settings operators set most. */
const ENV_ALIASES: Record<string, string[]> = {
  DNSLINKD_DNS: ['dns', 'listen'],
  DNSLINKD_HTTP: ['http', 'listen'],
  DNSLINKD_FORWARD: ['dns', 'forward'],
};
const ENV_IGNORED = new Set(['DNSLINKD_CONFIG']);

function camel(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseEnvValue(path: string[], raw: string): Json {
  if (path.length === 1 && path[0] === 'upstreams' && !raw.trim().startsWith('[')) {
    return raw.split(/[\s,]+/).filter(Boolean);
  }
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return raw;
  }
}

function setPath(target: JsonObject, path: string[], value: Json): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (child === undefined || child === null || typeof child !== 'object' || Array.isArray(child)) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[path[path.length - 1]!] = value;
}

/** DNSLINKD_CACHE__MAX_TTL=60 sets cache.maxTtl; `__` separates levels. */
export function envOverrides(env: NodeJS.ProcessEnv): JsonObject {
  const out: JsonObject = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined || ENV_IGNORED.has(name)) continue;
    const path = ENV_ALIASES[name] ?? name.slice(ENV_PREFIX.length).split('__').map(camel);
    setPath(out, path, parseEnvValue(path, raw));
  }
  return out;
}

function merge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)) {
      out[key] = merge(current, value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

export interface LoadOptions {
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, in the config's shape. */
  flags?: JsonObject;
  resolvConf?: string;
}

function readConfigFile(path: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CodedError('CONFIG_UNREADABLE', `cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CodedError('CONFIG_INVALID', `config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CodedError('CONFIG_INVALID', `config file ${path} must hold a JSON object`);
  }
  return parsed as JsonObject;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.configFile ?? env.DNSLINKD_CONFIG;
  let merged: JsonObject = file ? readConfigFile(file) : {};
  merged = merge(merged, envOverrides(env));
  merged = merge(merged, options.flags ?? {});
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(top level)';
      const unknown = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      return `${key}: ${unknown}`;
    });
    const where = [file ? `file ${file}` : '', 'environment', 'flags'].filter(Boolean).join(', ');
    throw new CodedError('CONFIG_INVALID', `invalid configuration (from ${where}):\n  ${problems.join('\n  ')}`);
  }
  const config = result.data;
  return {
    ...config,
    upstreams: config.upstreams ?? resolvConfUpstreams(options.resolvConf),
    localRecords: localRecordsPath(config.localRecords),
  };
}
