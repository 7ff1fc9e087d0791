// The operator commands, thin clients of the admin API: `flush`, `override set|pin|rm|ls|export|
// import`, `audit`, `cache show` and `reload`. Readable tables by default, the API's JSON with --json; the
// exit codes are ADMIN_EXIT (admin-client.ts).
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { errorMessage } from '../errors.js';
import { pinnedLine } from '../lifecycle/reload-keys.js';
import { MAX_TTL } from '../control/override-rules.js';
import { ADMIN_COMMON_HELP, AdminClient, AdminError, ADMIN_EXIT, adminTarget, reloadTarget, UsageError } from './admin-client.js';
import type { ControlStatus, HeldChangeResult, OverrideChangeResult } from '../control/control-plane.js';
import { heldChangeText, statusText } from './status-views.js';
import { didYouMean, helpText, parseFlags, wholeNumber, type CommandHelp } from './command-line.js';
import type { Override } from '../stages/overrides/override.js';
import { CACHE_HELP, runCacheCommand } from './cache-commands.js';

export { ADMIN_COMMON_HELP };
import { deny } from './deny-commands.js';
import { DENY_HELP } from './deny-usage.js';

const TIME_HELP = 'T is an ISO time (2026-12-01T12:00:00Z) or a duration (90s, 30m, 2h, 7d)';
const FORCE_HELP = `A change with a wide reach (an override of a one-label name, a special-use name, an IP address or
a public suffix; a flush of such a suffix or of more than admin.maxFlushEntries entries) is
refused with NEEDS_FORCE and its dry run unless given --force, which the audit log records.`;

const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Values = { [key: string]: string | boolean | undefined };

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: T) {
  return parseFlags(command, args, { ...ADMIN_OPTIONS, ...options });
}

const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);

export function clientFor(values: Values): AdminClient {
  return new AdminClient(adminTarget({ admin: str(values.admin), config: str(values.config), dataDir: str(values['data-dir']), tokenFile: str(values['token-file']) }));
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO time, or a duration from now (`future`, for --expires) or before now (for --since). */
export function parseTime(raw: string, flag: string, direction: 'future' | 'past', now = Date.now()): string {
  const d = /^(\d+)([smhd])$/.exec(raw);
  if (d) return new Date(now + (direction === 'future' ? 1 : -1) * Number(d[1]) * DURATION_UNITS[d[2]!]!).toISOString();
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw new UsageError(`${flag} takes an ISO time such as 2026-12-01T12:00:00Z or a duration such as 2h or 7d (got "${raw}")`);
  return new Date(at).toISOString();
}

function parseTtl(raw: string | undefined): number | undefined {
  return raw === undefined ? undefined : wholeNumber(raw, '--ttl', 0, MAX_TTL, 'seconds');
}

export function requireReason(values: Values, what: string): string {
  const reason = str(values.reason);
  if (reason === undefined || reason.trim() === '') throw new UsageError(`${what} needs --reason R: say why (it goes to the audit log and to the answers' Extended DNS Error)`);
  return reason;
}

export function positionals(args: string[], count: number, what: string, names: string): void {
  if (args.length !== count) throw new UsageError(`${what} takes ${names}, got ${args.length ? `"${args.join(' ')}"` : 'nothing'}`);
}

export const dryRunQuery = (values: Values) => ({ dryRun: values['dry-run'] === true ? 'true' : undefined });
/** `--force`: a change with a wide reach accepted on purpose (the API's "force": true). */
export const forceBody = (values: Values): { force?: true } => (values.force === true ? { force: true } : {});

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown, pretty = false): void {
  out(JSON.stringify(value, null, pretty ? 2 : undefined));
}

/** A cell: control characters escaped (a reason may hold a newline), empty as "-". */
function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const s = typeof value === 'string' ? value : String(value);
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Aligned columns, two spaces apart, headers upper-cased. */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...cells.map(line)].join('\n');
}

/** An override as the admin API returns it. */
type OverrideView = Override;
/** A change to one override as the admin API reports it. */
type OverrideChange = OverrideChangeResult;

function overridesTable(overrides: OverrideView[]): string {
  if (overrides.length === 0) return 'no overrides in force';
  return table(
    ['name', 'value', 'ttl', 'expires', 'reason', 'by', 'updated'],
    overrides.map((o) => [o.name, o.pinned ? `${o.value} (pinned)` : o.value, o.ttl, o.expiresAt, o.reason, o.by, o.updatedAt]),
  );
}

function describeOverride(o: OverrideView | null): string {
  if (!o) return 'no override';
  return `${o.value} (ttl ${o.ttl}, ${o.expiresAt ? `expires ${o.expiresAt}` : 'no expiry'}${o.pinned ? ', pinned' : ''}, by ${o.by})`;
}

function printChange(verb: string, r: OverrideChange): void {
  const lines = [
    `${r.dryRun ? `dry run, nothing changed: would ${verb}` : verb} ${r.name}`,
    `  before:  ${describeOverride(r.before)}`,
    `  after:   ${describeOverride(r.after)}`,
    `  answer:  ${r.answers.before ?? '(nothing known)'} -> ${r.answers.after ?? '(nothing known)'}`,
    `  cache entries ${r.dryRun ? 'that would be ' : ''}removed: ${r.cache.removed}`,
  ];
  out(lines.join('\n'));
}

export const FLUSH_HELP: CommandHelp = {
  summary: 'remove cached answers of a name, of a zone, or all',
  usage: '  dnslinkd flush (--name NAME | --suffix ZONE | --all) [--negative-only] [--reason R] [--dry-run] [--force]',
  help: `Removes cached answers: of one name (and its _dnslink. name), of every name under ZONE, or all.
  --negative-only  only negative answers (NXDOMAIN, no data)
  --reason R       why, for the audit log
  --dry-run        say how many entries would go, remove nothing
  --force          accept a wide reach
${FORCE_HELP}

${ADMIN_COMMON_HELP}`,
};

async function flush(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse('flush', args, {
    name: { type: 'string' },
    suffix: { type: 'string' },
    all: { type: 'boolean' },
    'negative-only': { type: 'boolean' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (values.help) return help('flush');
  positionals(rest, 0, 'flush', 'no arguments');
  const targets = (['name', 'suffix', 'all'] as const).filter((k) => values[k] !== undefined);
  if (targets.length !== 1) throw new UsageError(`flush needs exactly one of --name NAME, --suffix ZONE or --all (got ${targets.length ? targets.map((t) => `--${t}`).join(', ') : 'none'})`);
  const target = values.all ? { all: true } : values.name !== undefined ? { name: values.name } : { suffix: values.suffix };
  const body = { ...target, ...(values['negative-only'] ? { negativeOnly: true } : {}), ...(values.reason !== undefined ? { reason: values.reason } : {}), ...forceBody(values) };
  const r = await clientFor(values).request<{ dryRun: boolean; removed: number; generation: number }>('POST', '/admin/v1/cache/flush', { body, query: dryRunQuery(values) });
  if (values.json) {
    printJson(r);
    return ADMIN_EXIT.OK;
  }
  const what = `${values.all ? 'every name' : values.name !== undefined ? values.name : `every name under ${values.suffix}`}${values['negative-only'] ? ', negative answers only' : ''}`;
  out(r.dryRun ? `dry run, nothing changed: would remove ${r.removed} cache entries (${what})` : `removed ${r.removed} cache entries (${what}); flush generation ${r.generation}`);
  return ADMIN_EXIT.OK;
}

const OVERRIDE_SUBCOMMANDS = {
  set: {
    usage: '  dnslinkd override set NAME VALUE --reason R [--ttl S] [--expires T] [--dry-run] [--force]',
    help: `Answers NAME's DNSLink with VALUE (/ipfs/<cid>[/path] or /ipns/<name>[/path]) whatever its
records say, on every transport, until removed or expired. Prints the override before and after and
the answer a query gets before and after (its override, else the local records, the cache or the
upstreams).
  --reason R    why: required; in the audit log and the answers' Extended DNS Error
  --ttl S       TTL of the answers, 0 to ${MAX_TTL} seconds (default 60)
  --expires T   when it stops applying: ${TIME_HELP} from now
  --dry-run     say what would change, change nothing
  --force       accept a wide reach (a one-label name, a public suffix...)`,
  },
  pin: {
    usage: '  dnslinkd override pin NAME --reason R [--ttl S] [--expires T] [--dry-run] [--force]',
    help: `Freezes what the cache holds for NAME (stale included) as an override; exit 5 when nothing is
cached. Flags as for override set.`,
  },
  rm: {
    usage: '  dnslinkd override rm NAME --reason R [--dry-run]',
    help: `Removes NAME's override; prints the answer a query gets once it is gone. Exit 3 when NAME has none.`,
  },
  ls: { usage: '  dnslinkd override ls   (or: override list)', help: 'Lists the overrides in force (--json: the API\'s answer).' },
  export: { usage: '  dnslinkd override export > FILE', help: 'Prints the overrides in force as a JSON array that override import reads back.' },
  import: {
    usage: '  dnslinkd override import FILE --reason R [--dry-run] [--force]',
    help: 'Applies the overrides of FILE (an override export; - for stdin) in one transaction, keeping who made each and when; expired ones are skipped.',
  },
  restore: {
    usage: '  dnslinkd override restore [--reason R] [--dry-run]',
    help: 'After a store reset: publishes again the overrides this instance still holds (docs/fleet.md).',
  },
  'accept-reset': {
    usage: '  dnslinkd override accept-reset --reason R [--dry-run]',
    help: 'After a store reset: drops the overrides this instance still holds (docs/fleet.md).',
  },
};

export const OVERRIDE_HELP: CommandHelp = {
  summary: 'set, pin, remove, list, export and import overrides of DNSLink answers',
  usage: Object.values(OVERRIDE_SUBCOMMANDS)
    .map((c) => c.usage)
    .join('\n'),
  help: `An override answers a name's DNSLink with a value of the operator's, on every transport, before the
local records, the cache and the upstreams. Each subcommand has its own help: dnslinkd help override set.
${TIME_HELP}. --dry-run says what would change and changes nothing.
${FORCE_HELP}

${ADMIN_COMMON_HELP}`,
  subcommands: Object.fromEntries(Object.entries(OVERRIDE_SUBCOMMANDS).map(([name, c]) => [name, { usage: c.usage, help: `${c.help}\n\n${ADMIN_COMMON_HELP}` }])),
};

/** Other names an override subcommand is known by (docs/fleet.md wrote `override list`). */
const OVERRIDE_ALIASES: Record<string, string> = { list: 'ls' };

async function override(args: string[]): Promise<number> {
  const [given, ...rest] = args;
  const sub = given === undefined ? undefined : (OVERRIDE_ALIASES[given] ?? given);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    if (sub === undefined) throw new UsageError(`override needs a subcommand: ${Object.keys(OVERRIDE_SUBCOMMANDS).join(', ')}`, 'override');
    return help('override');
  }
  if (!(sub in OVERRIDE_SUBCOMMANDS)) throw new UsageError(`override has no subcommand "${sub}"${didYouMean(sub, Object.keys(OVERRIDE_SUBCOMMANDS))} (it takes ${Object.keys(OVERRIDE_SUBCOMMANDS).join(', ')})`, 'override');
  const what = `override ${sub}`;
  try {
    return await overrideSubcommand(sub as keyof typeof OVERRIDE_SUBCOMMANDS, rest);
  } catch (err) {
    // A usage error of a subcommand points at that subcommand's help.
    if (err instanceof UsageError && err.command === undefined) err.command = what;
    throw err;
  }
}

/** The flags of each override subcommand (besides the connection flags). */
const OVERRIDE_FLAGS = {
  reason: { type: 'string' },
  ttl: { type: 'string' },
  expires: { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];
const OVERRIDE_ALLOWED: Record<keyof typeof OVERRIDE_SUBCOMMANDS, Array<keyof typeof OVERRIDE_FLAGS>> = {
  set: ['reason', 'ttl', 'expires', 'dry-run', 'force'],
  pin: ['reason', 'ttl', 'expires', 'dry-run', 'force'],
  rm: ['reason', 'dry-run'],
  ls: [],
  export: [],
  import: ['reason', 'dry-run', 'force'],
  restore: ['reason', 'dry-run'],
  'accept-reset': ['reason', 'dry-run'],
};

async function overrideSubcommand(sub: keyof typeof OVERRIDE_SUBCOMMANDS, rest: string[]): Promise<number> {
  const flags = Object.fromEntries(OVERRIDE_ALLOWED[sub].map((f) => [f, OVERRIDE_FLAGS[f]]));
  const parsed = parse(`override ${sub}`, rest, flags);
  const values = parsed.values as Values;
  const pos = parsed.positionals;
  if (values.help) return help('override', sub);
  const client = () => clientFor(values);
  const path = (name: string) => `/admin/v1/overrides/${encodeURIComponent(name)}`;
  const ttl = str(values.ttl);
  const expires = str(values.expires);
  const timing = () => ({ ...(ttl !== undefined ? { ttl: parseTtl(ttl) } : {}), ...(expires !== undefined ? { expiresAt: parseTime(expires, '--expires', 'future') } : {}) });
  const change = async (verb: string, method: string, name: string, body: Record<string, unknown>) => {
    const r = await client().request<OverrideChange>(method, path(name), { body, query: dryRunQuery(values) });
    if (values.json) printJson(r);
    else printChange(verb, r);
    return ADMIN_EXIT.OK;
  };
  switch (sub) {
    case 'set': {
      positionals(pos, 2, 'override set', 'NAME VALUE');
      const reason = requireReason(values, 'override set');
      return change('set', 'PUT', pos[0]!, { value: pos[1], reason, ...timing(), ...forceBody(values) });
    }
    case 'pin': {
      positionals(pos, 1, 'override pin', 'one NAME');
      const reason = requireReason(values, 'override pin');
      return change('pin', 'PUT', pos[0]!, { pin: true, reason, ...timing(), ...forceBody(values) });
    }
    case 'rm': {
      positionals(pos, 1, 'override rm', 'one NAME');
      const reason = requireReason(values, 'override rm');
      return change('remove the override of', 'DELETE', pos[0]!, { reason });
    }
    case 'ls': {
      positionals(pos, 0, 'override ls', 'no arguments');
      const r = await client().request<{ overrides: OverrideView[] }>('GET', '/admin/v1/overrides');
      out(values.json ? JSON.stringify(r) : overridesTable(r.overrides));
      return ADMIN_EXIT.OK;
    }
    case 'restore':
    case 'accept-reset': {
      positionals(pos, 0, `override ${sub}`, 'no arguments');
      const reason = sub === 'accept-reset' ? requireReason(values, 'override accept-reset') : str(values.reason);
      const r = await client().request<HeldChangeResult>('POST', `/admin/v1/overrides/${sub}`, { body: reason === undefined ? {} : { reason }, query: dryRunQuery(values) });
      out(values.json ? JSON.stringify(r) : heldChangeText(r, sub === 'restore' ? 'restore' : 'drop'));
      return ADMIN_EXIT.OK;
    }
    case 'export': {
      positionals(pos, 0, 'override export', 'no arguments');
      const r = await client().request<{ overrides: OverrideView[] }>('GET', '/admin/v1/overrides');
      printJson(r.overrides, true);
      return ADMIN_EXIT.OK;
    }
    default: {
      positionals(pos, 1, 'override import', 'one FILE (an `override export`; - for stdin)');
      const reason = requireReason(values, 'override import');
      const overrides = readImport(pos[0]!);
      const r = await client().request<{ dryRun: boolean; changed: OverrideChange[]; skipped?: Array<{ name: string; why: string }> }>('POST', '/admin/v1/overrides/import', { body: { overrides, reason, ...forceBody(values) }, query: dryRunQuery(values) });
      if (values.json) {
        printJson(r);
        return ADMIN_EXIT.OK;
      }
      if (r.changed.length) out(table(['name', 'before', 'after', 'ttl', 'expires'], r.changed.map((c) => [c.name, c.before?.value, c.after?.value, c.after?.ttl, c.after?.expiresAt])));
      out(r.dryRun ? `dry run, nothing changed: would import ${r.changed.length} overrides` : `imported ${r.changed.length} overrides`);
      for (const s of r.skipped ?? []) process.stderr.write(`dnslinkd: skipped ${s.name}: ${s.why}\n`);
      return ADMIN_EXIT.OK;
    }
  }
}

/** The overrides of an export file: a JSON array (or {"overrides": [...]}, as `override ls --json` prints). */
function readImport(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new AdminError('IMPORT_UNREADABLE', `cannot read ${file}: ${errorMessage(err)}`, ADMIN_EXIT.INVALID_INPUT);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AdminError('INVALID_IMPORT', `${file} is not JSON (${errorMessage(err)}): give the output of \`dnslinkd override export\``, ADMIN_EXIT.INVALID_INPUT);
  }
  if (Array.isArray(parsed)) return parsed;
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { overrides?: unknown }).overrides)) return (parsed as { overrides: unknown[] }).overrides;
  throw new AdminError('INVALID_IMPORT', `${file} holds no array of overrides: give the output of \`dnslinkd override export\``, ADMIN_EXIT.INVALID_INPUT);
}

interface AuditView {
  time: string;
  token: string;
  action: string;
  name?: string;
  reason?: string;
  dryRun: boolean;
  force?: boolean;
}

/** The admin API's largest audit page (admin-routes.ts). */
const AUDIT_LIMIT_MAX = 1000;

export const AUDIT_HELP: CommandHelp = {
  summary: 'read the audit log of changes',
  usage: '  dnslinkd audit [--name NAME] [--since T] [--limit N]',
  help: `Prints the audit log, newest first: who changed what, when, why, dry runs included.
  --name NAME   only the records of NAME
  --since T     only records from T on: ${TIME_HELP} ago
  --limit N     at most N records, 1 to ${AUDIT_LIMIT_MAX} (default 100)

${ADMIN_COMMON_HELP}`,
};


async function audit(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse('audit', args, { name: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return help('audit');
  positionals(pos, 0, 'audit', 'no arguments');
  const limit = values.limit === undefined ? undefined : String(wholeNumber(values.limit, '--limit', 1, AUDIT_LIMIT_MAX, 'records'));
  const query = { name: values.name, since: values.since === undefined ? undefined : parseTime(values.since, '--since', 'past'), limit };
  const r = await clientFor(values).request<{ records: AuditView[] }>('GET', '/admin/v1/audit', { query });
  if (values.json) printJson(r);
  else out(r.records.length ? table(['time', 'token', 'action', 'name', 'reason', 'dry-run'], r.records.map((a) => [a.time, a.token, a.force ? `${a.action} (forced)` : a.action, a.name, a.reason, a.dryRun ? 'yes' : 'no'])) : 'no audit records');
  return ADMIN_EXIT.OK;
}

interface ReloadView {
  dryRun: boolean;
  changed: string[];
  needsRestart: string[];
  workers?: number;
  pinnedByFlags?: string[];
}

export const RELOAD_HELP: CommandHelp = {
  summary: 'have a running instance read its configuration file again',
  usage: '  dnslinkd reload [--dry-run]',
  help: `Has dnslinkd read its configuration file again and apply what applies live, as SIGHUP does; a
file that does not validate is refused whole (exit 2, the key and why on stderr) and the instance
keeps running as it was. --dry-run checks the file and says what would apply.

${ADMIN_COMMON_HELP}`,
};

async function reload(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse('reload', args, { 'dry-run': { type: 'boolean' } });
  if (values.help) return help('reload');
  positionals(pos, 0, 'reload', 'no arguments');
  // Refused (the file does not validate): the API's 422 RELOAD_REFUSED, printed on stderr, exit 2.
  // The admin API is found from admin.listen and dataDir alone when the rest of the file is invalid.
  const target = reloadTarget({ admin: str(values.admin), config: str(values.config), dataDir: str(values['data-dir']), tokenFile: str(values['token-file']) });
  const r = await new AdminClient(target).request<ReloadView>('POST', '/admin/v1/reload', { query: dryRunQuery(values) });
  if (values.json) {
    printJson(r);
    return ADMIN_EXIT.OK;
  }
  const keys = r.changed.length ? r.changed.join(', ') : 'nothing (no key that applies live changed)';
  const lines = [r.dryRun ? `dry run, nothing changed: the configuration is valid; would apply ${keys}` : `reloaded: applied ${keys}${r.workers !== undefined ? ` in ${r.workers} workers` : ''}`];
  if (r.needsRestart.length) lines.push(`changed but kept as running (needs a restart): ${r.needsRestart.join(', ')}`);
  if (r.pinnedByFlags?.length) lines.push(pinnedLine(r.pinnedByFlags));
  out(lines.join('\n'));
  return ADMIN_EXIT.OK;
}

/** Prints one admin command's help (`override set --help`). */
export function help(command: string, sub?: string): number {
  out(helpText(command, ADMIN_COMMAND_HELP[command]!, sub));
  return ADMIN_EXIT.OK;
}

export const STATUS_HELP: CommandHelp = {
  summary: 'one screen on the instance: listeners, workers, cache, upstreams, ENS, control store',
  usage: '  dnslinkd status',
  help: `Prints how the instance is doing: version, uptime, chain, listeners and workers; the cache
(entries, bytes, hit ratio, stale answers served); each upstream and ENS RPC endpoint (state, last
error); the control store (kind, degraded, version; its fleet with a shared store), the overrides in
force, overrides held after a store reset (then override restore or override accept-reset:
docs/fleet.md) and records skipped as invalid. --json prints GET /admin/v1/status as it answers.

${ADMIN_COMMON_HELP}`,
};

async function status(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse('status', args, {});
  if (values.help) return help('status');
  positionals(pos, 0, 'status', 'no arguments');
  const r = await clientFor(values).request<ControlStatus>('GET', '/admin/v1/status');
  out(values.json ? JSON.stringify(r) : statusText(r));
  return ADMIN_EXIT.OK;
}

export const ADMIN_COMMANDS = new Set(['flush', 'override', 'audit', 'cache', 'status', 'reload', 'deny']);

/** Each admin command's help, by name: a new command adds its { summary, usage, help } here. */
export const ADMIN_COMMAND_HELP: Record<string, CommandHelp> = {
  status: STATUS_HELP,
  flush: FLUSH_HELP,
  override: OVERRIDE_HELP,
  cache: CACHE_HELP,
  deny: DENY_HELP,
  audit: AUDIT_HELP,
  reload: RELOAD_HELP,
};

/** Runs one admin command (`flush`, `override`, `audit`, `cache`, `reload`); resolves to its exit code. */
export function runAdminCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'flush':
      return flush(args);
    case 'override':
      return override(args);
    case 'audit':
      return audit(args);
    case 'reload':
      return reload(args);
    case 'status':
      return status(args);
    case 'deny':
      return deny(args, (sub) => help('deny', sub));
    default:
      return runCacheCommand(args, (sub) => help('cache', sub));
  }
}

