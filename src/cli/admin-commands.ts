// The operator commands, thin clients of the admin API: `flush`, `override set|pin|rm|ls|export|
// import`, `audit`, `cache show` and `reload`. Readable tables by default, the API's JSON with --json; the
// exit codes are ADMIN_EXIT (admin-client.ts).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RRType } from '../dns/constants.js';
import { errorMessage } from '../errors.js';
import { pinnedLine } from '../lifecycle/reload-keys.js';
import { AdminClient, AdminError, ADMIN_EXIT, adminTarget, reloadTarget, UsageError } from './admin-client.js';
import type { ControlStatus, HeldChangeResult, OverrideChangeResult } from '../control/control-plane.js';
import { heldChangeText, statusText } from './status-views.js';
import type { Override } from '../stages/overrides/override.js';
import { deny } from './deny-commands.js';
import { DENY_USAGE } from './deny-usage.js';

export const ADMIN_USAGE = `  dnslinkd flush (--name NAME | --suffix ZONE | --all) [--negative-only] [--reason R] [--dry-run] [--force]
  dnslinkd override set NAME VALUE --reason R [--ttl S] [--expires T] [--dry-run] [--force]
  dnslinkd override pin NAME --reason R [--ttl S] [--expires T] [--dry-run] [--force]
  dnslinkd override rm NAME --reason R [--dry-run]
  dnslinkd override ls
  dnslinkd override export > FILE
  dnslinkd override import FILE --reason R [--dry-run] [--force]
  dnslinkd override restore [--reason R] [--dry-run]
  dnslinkd override accept-reset --reason R [--dry-run]
  dnslinkd status
  dnslinkd audit [--name NAME] [--since T] [--limit N]
  dnslinkd cache show NAME
  dnslinkd reload [--dry-run]
${DENY_USAGE}
      each also takes [--json] [--admin URL] [--config FILE] [--data-dir DIR] [--token-file FILE]`;

export const ADMIN_HELP = `The admin commands talk to a running dnslinkd's admin API: --admin URL, else
http://<admin.listen> of the configuration (http://127.0.0.1:8054). Token: --token-file FILE, else
DNSLINKD_ADMIN_TOKEN, else <dataDir>/admin-token (the one dnslinkd generated; --data-dir DIR).
T is an ISO time (2026-12-01T12:00:00Z) or a duration (90s, 30m, 2h, 7d: from now for --expires,
ago for --since). --dry-run says what would change and changes nothing. A change with a wide reach
(an override of a one-label name, a special-use name, an IP address or a public suffix; a flush of
such a suffix or of more than admin.maxFlushEntries entries) is refused with NEEDS_FORCE and its dry
run unless given --force, which the audit log records. \`override export\` prints
a JSON array that \`override import\` reads back. \`reload\` has dnslinkd read its configuration
file again and apply it, as SIGHUP does (refused whole when it does not validate). Admin commands exit 0 on success, 1 when the
service or its store failed or is unreachable, 2 for invalid input, 3 when not found, 4 for a
missing or refused token, 5 on a conflict. \`status\` prints the control plane's state (store,
degraded or not, overrides held after a store reset, records skipped as invalid); after a store
reset, \`override restore\` publishes the overrides an instance still holds again and
\`override accept-reset\` drops them (docs/fleet.md).`;

const ADMIN_OPTIONS = {
  admin: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Values = { [key: string]: string | boolean | undefined };

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...ADMIN_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

const str = (v: Values[string]): string | undefined => (typeof v === 'string' ? v : undefined);

function clientFor(values: Values): AdminClient {
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
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--ttl takes a whole number of seconds, such as 60 (got "${raw}")`);
  return Number(raw);
}

function requireReason(values: Values, what: string): string {
  const reason = str(values.reason);
  if (reason === undefined || reason.trim() === '') throw new UsageError(`${what} needs --reason R: say why (it goes to the audit log and to the answers' Extended DNS Error)`);
  return reason;
}

function positionals(args: string[], count: number, what: string, names: string): void {
  if (args.length !== count) throw new UsageError(`${what} takes ${names}, got ${args.length ? `"${args.join(' ')}"` : 'nothing'}`);
}

const dryRunQuery = (values: Values) => ({ dryRun: values['dry-run'] === true ? 'true' : undefined });
/** `--force`: a change with a wide reach accepted on purpose (the API's "force": true). */
const forceBody = (values: Values): { force?: true } => (values.force === true ? { force: true } : {});

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(value: unknown, pretty = false): void {
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

async function flush(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, {
    name: { type: 'string' },
    suffix: { type: 'string' },
    all: { type: 'boolean' },
    'negative-only': { type: 'boolean' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (values.help) return help();
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

async function override(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals: pos } = parse(rest, {
    reason: { type: 'string' },
    ttl: { type: 'string' },
    expires: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (values.help || sub === '--help' || sub === '-h') return help();
  const allowed: Record<string, string[]> = {
    set: ['reason', 'ttl', 'expires', 'dry-run', 'force'],
    pin: ['reason', 'ttl', 'expires', 'dry-run', 'force'],
    rm: ['reason', 'dry-run'],
    ls: [],
    export: [],
    import: ['reason', 'dry-run', 'force'],
    restore: ['reason', 'dry-run'],
    'accept-reset': ['reason', 'dry-run'],
  };
  if (sub === undefined || !(sub in allowed)) throw new UsageError(`override takes set, pin, rm, ls, export, import, restore or accept-reset${sub === undefined ? '' : ` (got "${sub}")`}`);
  for (const flag of ['reason', 'ttl', 'expires', 'dry-run', 'force'] as const) {
    if (values[flag] !== undefined && !allowed[sub]!.includes(flag)) throw new UsageError(`override ${sub} does not take --${flag}`);
  }
  const client = () => clientFor(values);
  const path = (name: string) => `/admin/v1/overrides/${encodeURIComponent(name)}`;
  const timing = () => ({ ...(values.ttl !== undefined ? { ttl: parseTtl(values.ttl) } : {}), ...(values.expires !== undefined ? { expiresAt: parseTime(values.expires, '--expires', 'future') } : {}) });
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

async function audit(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse(args, { name: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return help();
  positionals(pos, 0, 'audit', 'no arguments');
  if (values.limit !== undefined && !/^\d+$/.test(values.limit)) throw new UsageError(`--limit takes a whole number, such as 100 (got "${values.limit}")`);
  const query = { name: values.name, since: values.since === undefined ? undefined : parseTime(values.since, '--since', 'past'), limit: values.limit };
  const r = await clientFor(values).request<{ records: AuditView[] }>('GET', '/admin/v1/audit', { query });
  if (values.json) printJson(r);
  else out(r.records.length ? table(['time', 'token', 'action', 'name', 'reason', 'dry-run'], r.records.map((a) => [a.time, a.token, a.force ? `${a.action} (forced)` : a.action, a.name, a.reason, a.dryRun ? 'yes' : 'no'])) : 'no audit records');
  return ADMIN_EXIT.OK;
}

interface CachedView {
  name: string;
  type: number;
  rcode: string;
  negative: boolean;
  stale: boolean;
  ttlLeft: number;
  source: string;
  upstream?: string;
  answers: Array<{ data: string }>;
}

const TYPE_NAMES = new Map<number, string>(Object.entries(RRType).map(([name, n]) => [n, name]));

async function cache(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals: pos } = parse(rest, {});
  if (values.help || sub === '--help' || sub === '-h') return help();
  if (sub !== 'show') throw new UsageError(`cache takes show NAME${sub === undefined ? '' : ` (got "${sub}")`}; to remove entries, use flush`);
  positionals(pos, 1, 'cache show', 'one NAME');
  const r = await clientFor(values).request<{ name: string; entries: CachedView[] }>('GET', `/admin/v1/cache/${encodeURIComponent(pos[0]!)}`);
  if (values.json) printJson(r);
  else if (!r.entries.length) out(`nothing is cached for ${pos[0]}`);
  else {
    const rows = r.entries.map((e) => [
      e.name,
      TYPE_NAMES.get(e.type) ?? `TYPE${e.type}`,
      e.rcode,
      e.ttlLeft,
      e.stale ? 'yes' : 'no',
      e.source,
      e.upstream,
      e.negative ? '(negative)' : e.answers.map((a) => a.data).join(' | '),
    ]);
    out(table(['name', 'type', 'rcode', 'ttl left', 'stale', 'source', 'upstream', 'data'], rows));
  }
  return ADMIN_EXIT.OK;
}

interface ReloadView {
  dryRun: boolean;
  changed: string[];
  needsRestart: string[];
  workers?: number;
  pinnedByFlags?: string[];
}

async function reload(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse(args, { 'dry-run': { type: 'boolean' } });
  if (values.help) return help();
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

function help(): number {
  out(`Usage:\n${ADMIN_USAGE}\n\n${ADMIN_HELP}`);
  return ADMIN_EXIT.OK;
}

async function status(args: string[]): Promise<number> {
  const { values, positionals: pos } = parse(args, {});
  if (values.help) return help();
  positionals(pos, 0, 'status', 'no arguments');
  const r = await clientFor(values).request<ControlStatus>('GET', '/admin/v1/status');
  out(values.json ? JSON.stringify(r) : statusText(r));
  return ADMIN_EXIT.OK;
}

export const ADMIN_COMMANDS = new Set(['flush', 'override', 'audit', 'cache', 'status', 'reload', 'deny']);

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
      return deny(args);
    default:
      return cache(args);
  }
}

/** The helpers the other command modules (deny-commands.ts) share. */
export { parse as parseAdminArgs, clientFor, requireReason, positionals, out, printJson, dryRunQuery, forceBody };
