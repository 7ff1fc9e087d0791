// Loads the configuration: built-in defaults, then one JSON file (--config or DNSLINKD_CONFIG),
// then DNSLINKD_* environment variables (names derived from the schema), then command-line flags;
// validated once, with one error line per bad key or variable, named as the operator wrote it.
import { readFileSync } from 'node:fs';
import { CodedError } from '../errors.js';
import { defaultDataDir } from '../control/config.js';
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
  DNSLINKD_REDIS_URL: ['state', 'redis'],
  DNSLINKD_ENS_RPC: ['ens', 'rpc'],
  DNSLINKD_UDP_BATCHING: ['dns', 'udpBatching'],
};
/** Variables that are not settings: the config file's path, an admin token (read by the control plane), a cluster worker's index (set by its primary), the batched UDP addon's file (tests). */
const ENV_IGNORED = new Set(['DNSLINKD_CONFIG', 'DNSLINKD_ADMIN_TOKEN', 'DNSLINKD_WORKER_INDEX', 'DNSLINKD_UDP_BATCH_ADDON']);

/** A setting an environment variable can name: a leaf (scalar or array) or an object of settings. */
interface EnvSetting {
  path: string[];
  leaf: boolean;
  /** DNSLINKD_ + levels joined by `__`, camelCase as SNAKE_CASE: DNSLINKD_CACHE__MAX_TTL. */
  documented: string;
  /** DNSLINKD_ + levels joined by `_`, each key upper-cased as it is: DNSLINKD_CACHE_MAXTTL. */
  compact: string;
}

/** The parts of a zod schema's definition the walk reads (zod 4: `schema._zod.def`). */
interface SchemaNode {
  _zod: { def: { type: string; innerType?: SchemaNode; in?: SchemaNode; out?: SchemaNode; shape?: Record<string, SchemaNode> } };
}

/** The schema under defaults, optional/nullable wrappers and pipes (the input side of a transform). */
function unwrapSchema(node: SchemaNode): SchemaNode {
  for (let depth = 0; depth < 32; depth++) {
    const def = node._zod.def;
    if (def.innerType && ['default', 'prefault', 'optional', 'nullable', 'nonoptional', 'readonly', 'catch'].includes(def.type)) {
      node = def.innerType;
    } else if (def.type === 'pipe' && def.in && def.out) {
      node = def.in._zod.def.type === 'transform' ? def.out : def.in;
    } else {
      break;
    }
  }
  return node;
}

const snakeCase = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function collectSettings(node: SchemaNode, path: string[], out: EnvSetting[]): EnvSetting[] {
  const inner = unwrapSchema(node);
  const shape = inner._zod.def.type === 'object' ? inner._zod.def.shape : undefined;
  if (path.length) {
    out.push({
      path,
      leaf: !shape,
      documented: ENV_PREFIX + path.map(snakeCase).join('__'),
      compact: ENV_PREFIX + path.map((key) => key.toUpperCase()).join('_'),
    });
  }
  for (const [key, child] of Object.entries(shape ?? {})) collectSettings(child, [...path, key], out);
  return out;
}

let envNames: { byName: Map<string, EnvSetting>; settings: EnvSetting[] } | undefined;

/** Every setting of the schema by each name a variable may give it (both forms and the aliases). */
function envSettings(): { byName: Map<string, EnvSetting>; settings: EnvSetting[] } {
  if (envNames) return envNames;
  const settings = collectSettings(configSchema as unknown as SchemaNode, [], []);
  const byName = new Map<string, EnvSetting>();
  for (const setting of settings) {
    for (const name of [setting.documented, setting.compact]) {
      const other = byName.get(name);
      if (other && other !== setting) throw new Error(`${name} would name both ${other.path.join('.')} and ${setting.path.join('.')}`);
      byName.set(name, setting);
    }
  }
  for (const [name, path] of Object.entries(ENV_ALIASES)) {
    const setting = settings.find((s) => s.path.join('.') === path.join('.'));
    if (!setting) throw new Error(`${name} names ${path.join('.')}, which is no setting`);
    byName.set(name, setting);
  }
  envNames = { byName, settings };
  return envNames;
}

/** The names a variable can give each setting (an alias may take both names of an object, as DNSLINKD_DNS does). */
export function envVariableNames(): { path: string; names: string[]; leaf: boolean }[] {
  const { byName, settings } = envSettings();
  return settings.map((s) => ({
    path: s.path.join('.'),
    names: [...byName].filter(([, setting]) => setting === s).map(([name]) => name),
    leaf: s.leaf,
  }));
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The valid variable closest to `name` by edit distance: a leaf setting (first in schema order on
 * a tie) or an alias. When both forms of that setting are as close, the compact one comes first.
 */
function closestVariable(name: string): string {
  const { settings } = envSettings();
  const candidates: string[][] = [
    ...settings.filter((s) => s.leaf).map((s) => (s.compact === s.documented ? [s.compact] : [s.compact, s.documented])),
    ...Object.keys(ENV_ALIASES).map((alias) => [alias]),
  ];
  let best: { names: string[]; distance: number } | undefined;
  for (const names of candidates) {
    const distances = names.map((n) => editDistance(name, n));
    const distance = Math.min(...distances);
    if (!best || distance < best.distance) best = { names: names.filter((_, i) => distances[i] === distance), distance };
  }
  const [first, second] = best!.names;
  return second ? `${first} (or ${second})` : first!;
}

function parseEnvValue(path: string[], raw: string): Json {
  // Lists of URLs may be written comma- or space-separated.
  if (((path.length === 1 && path[0] === 'upstreams') || path.join('.') === 'ens.rpc') && !raw.trim().startsWith('[')) {
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

/** Where a value read from the environment came from, to name it in errors. */
interface EnvSource {
  variable: string;
  raw: string;
}

interface EnvReading {
  values: JsonObject;
  /** By dotted path of the setting. */
  sources: Map<string, EnvSource>;
  /** One line per variable that names no setting, or a setting another variable sets already. */
  problems: string[];
}

function readEnv(env: NodeJS.ProcessEnv): EnvReading {
  const { byName } = envSettings();
  const sources = new Map<string, EnvSource>();
  const problems: string[] = [];
  const found: { setting: EnvSetting; raw: string }[] = [];
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined || ENV_IGNORED.has(variable)) continue;
    const name = variable.toUpperCase();
    const setting = byName.get(name);
    if (!setting) {
      problems.push(`${variable}: no such setting; did you mean ${closestVariable(name)}?`);
      continue;
    }
    const key = setting.path.join('.');
    const earlier = sources.get(key);
    if (earlier) {
      problems.push(`${variable}: sets ${key}, which ${earlier.variable} sets too; keep one of them`);
      continue;
    }
    sources.set(key, { variable, raw });
    found.push({ setting, raw });
  }
  // An object (DNSLINKD_HTTP__TLS='{...}') first, so that variables for keys inside it add to it.
  found.sort((a, b) => a.setting.path.length - b.setting.path.length);
  let values: JsonObject = {};
  for (const { setting, raw } of found) {
    const over: JsonObject = {};
    setPath(over, setting.path, parseEnvValue(setting.path, raw));
    values = merge(values, over);
  }
  return { values, sources, problems };
}

/**
 * The settings given by DNSLINKD_* variables, in the config's shape. Two forms name a setting:
 * DNSLINKD_CACHE__MAX_TTL (levels joined by `__`, camelCase as SNAKE_CASE, documented) and
 * DNSLINKD_CACHE_MAXTTL (levels joined by `_`, keys upper-cased); plus the aliases. Variables that
 * name no setting are left out here; loadConfig reports them.
 */
export function envOverrides(env: NodeJS.ProcessEnv): JsonObject {
  return readEnv(env).values;
}

/** The DNSLINKD_* variable that sets a setting (dotted path), if one does. */
export function envVariableFor(env: NodeJS.ProcessEnv, key: string): string | undefined {
  return readEnv(env).sources.get(key)?.variable;
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

/** Dotted paths of the values a layer sets (arrays and scalars are values; objects are walked). */
function valuePaths(node: JsonObject, prefix: string[] = [], out = new Set<string>()): Set<string> {
  for (const [key, value] of Object.entries(node)) {
    const path = [...prefix, key];
    if (value && typeof value === 'object' && !Array.isArray(value)) valuePaths(value, path, out);
    else out.add(path.join('.'));
  }
  return out;
}

/** A variable's value as shown in an error: as given, quoted when it has spaces or is empty. */
function shownValue(raw: string): string {
  return raw === '' || /[\s"'\\]/.test(raw) ? JSON.stringify(raw) : raw;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.configFile ?? env.DNSLINKD_CONFIG;
  const fromEnv = readEnv(env);
  const flags = options.flags ?? {};
  let merged: JsonObject = file ? readConfigFile(file) : {};
  merged = merge(merged, fromEnv.values);
  merged = merge(merged, flags);
  const result = configSchema.safeParse(merged);
  if (!result.success || fromEnv.problems.length) {
    const flagPaths = valuePaths(flags);
    /** The variable a bad value came from, unless a flag replaced it (file values have none). */
    const envSourceOf = (path: PropertyKey[]): EnvSource | undefined => {
      for (let k = path.length; k > 0; k--) {
        const key = path.slice(0, k).map(String).join('.');
        if (flagPaths.has(key)) return undefined;
        const source = fromEnv.sources.get(key);
        if (source) return source;
      }
      return undefined;
    };
    // One line per bad variable (all its problems), and per bad key of a file or flag.
    const issues = result.error?.issues ?? [];
    // A cross-field check (a custom issue on an object's key, e.g. cache.minTtl <= cache.maxTtl)
    // beside a bad value in the same object follows from that value: only the value is reported.
    const parentOf = (path: PropertyKey[]) => path.slice(0, -1).map(String).join('.');
    const objectsWithBadValues = new Set(issues.filter((i) => i.code !== 'custom').map((i) => parentOf(i.path)));
    const followsFromBadValue = (issue: (typeof issues)[number]) =>
      issue.code === 'custom' && typeof issue.path.at(-1) === 'string' && objectsWithBadValues.has(parentOf(issue.path));
    const lines = new Map<string, string[]>();
    for (const issue of issues.filter((i) => !followsFromBadValue(i))) {
      const key = issue.path.map(String).join('.') || '(top level)';
      const what = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
      const source = envSourceOf(issue.path);
      const head = source ? `${source.variable}=${shownValue(source.raw)}` : key;
      const text = source ? `${key}: ${what}` : what;
      const texts = lines.get(head) ?? [];
      if (!texts.includes(text)) texts.push(text);
      lines.set(head, texts);
    }
    const problems = [...fromEnv.problems, ...[...lines].map(([head, texts]) => `${head}: ${texts.join('; ')}`)];
    const where = [file ? `file ${file}` : '', 'environment', 'flags'].filter(Boolean).join(', ');
    throw new CodedError('CONFIG_INVALID', `invalid configuration (from ${where}):\n  ${problems.join('\n  ')}`);
  }
  const config = result.data;
  return {
    ...config,
    upstreams: config.upstreams ?? resolvConfUpstreams(options.resolvConf),
    localRecords: localRecordsPath(config.localRecords),
    dataDir: config.dataDir ?? defaultDataDir(env),
  };
}
