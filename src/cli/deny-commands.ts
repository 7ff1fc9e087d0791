// The `dnslinkd deny` commands, thin clients of the admin API's denylist routes: add, rm and ls of
// the operator's rules (fleet-wide), status of every list, check of a name or a content path (which
// list and rule decide, and why an allow rule wins), accept of a version the guard holds.
import type { DenylistRuleResult } from '../control/denylist-control.js';
import type { ListStatus } from '../stages/denylist/denylist-manager.js';
import type { OperatorRuleRecord } from '../stages/denylist/operator-list.js';
import type { SubjectExplanation } from '../stages/denylist/verdict.js';
import { ADMIN_EXIT, UsageError } from './admin-client.js';
import { didYouMean } from './command-line.js';
import { clientFor, dryRunQuery, forceBody, out, parse, parseTime, positionals, printJson, requireReason, table } from './admin-commands.js';


const SUBCOMMANDS: Record<string, string[]> = {
  add: ['reason', 'expires', 'dry-run', 'force'],
  rm: ['reason', 'dry-run'],
  ls: [],
  status: [],
  check: [],
  accept: [],
};

function rulesTable(rules: readonly OperatorRuleRecord[]): string {
  if (rules.length === 0) return 'no operator denylist rules';
  return table(['id', 'rule', 'reason', 'by', 'created', 'expires'], rules.map((r) => [r.id, r.rule, r.reason, r.by, r.createdAt, r.expiresAt]));
}

function statusTable(lists: readonly ListStatus[]): string {
  const rows = lists.map((l) => [
    l.name,
    l.kind,
    l.source,
    l.version ? l.version.slice(0, 16) : '(none in force)',
    l.entries ?? 0,
    l.lastFetch ? `${l.lastFetch.result} ${l.lastFetch.at}${l.lastFetch.error ? `: ${l.lastFetch.error}` : ''}` : '-',
    l.held ? `HELD ${l.held.version.slice(0, 16)}: newly blocks ${l.held.newlyBlocked}/${l.held.served} (${l.held.percent.toFixed(1)}%): dnslinkd deny accept ${l.name}` : '-',
  ]);
  return table(['list', 'kind', 'source', 'version', 'entries', 'last fetch', 'held'], rows);
}

/** One paragraph per subject: every list's match, and which decides. */
export function checkText(results: readonly SubjectExplanation[]): string {
  return results
    .map((r) => {
      if (r.matches.length === 0) return `${r.subject}: no list has a matching rule: not blocked`;
      const lines = r.matches.map((m) => `  ${m.list} (${m.kind}) line ${m.line}: ${m.rule}${m.allow ? ' (allow)' : ''}`);
      const d = r.decided!;
      const verdict = d.allow
        ? `ALLOWED: ${d.list}'s rule ${d.rule} is an allow rule (!), and the first list with a match decides${r.matches.length > 1 ? ': the later lists\' rules do not apply' : ''}`
        : `${d.kind.toUpperCase()} by ${d.list}, rule ${d.rule} (line ${d.line})`;
      return `${r.subject}: ${verdict}\n${lines.join('\n')}`;
    })
    .join('\n');
}

export async function deny(args: string[], help: (sub?: string) => number): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') return help();
  if (sub === undefined || !(sub in SUBCOMMANDS)) throw new UsageError(`deny takes add, rm, ls, status, check or accept${sub === undefined ? '' : ` (got "${sub}"${didYouMean(sub, Object.keys(SUBCOMMANDS))})`}`, 'deny');
  const { values, positionals: pos } = parse(`deny ${sub}`, rest, {
    reason: { type: 'string' },
    expires: { type: 'string' },
    'dry-run': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  if (values.help) return help(sub);
  for (const flag of ['reason', 'expires', 'dry-run', 'force'] as const) {
    if (values[flag] !== undefined && !SUBCOMMANDS[sub]!.includes(flag)) throw new UsageError(`deny ${sub} does not take --${flag}`, `deny ${sub}`);
  }
  const client = () => clientFor(values);
  switch (sub) {
    case 'add': {
      positionals(pos, 1, 'deny add', 'one RULE (/ipns/NAME, /ipfs/CID[/PATH][*], //HASH, or ! before one)');
      const reason = requireReason(values, 'deny add');
      const expiresAt = typeof values.expires === 'string' ? parseTime(values.expires, '--expires', 'future') : undefined;
      const r = await client().request<DenylistRuleResult>('POST', '/admin/v1/denylist/rules', { body: { rule: pos[0], reason, ...(expiresAt ? { expiresAt } : {}), ...forceBody(values) }, query: dryRunQuery(values) });
      if (values.json) printJson(r);
      else {
        const n = r.newlyBlocked;
        out(`${r.dryRun ? 'dry run: would add' : 'added'} ${r.rule.rule} (id ${r.rule.id})${r.rule.expiresAt ? ` until ${r.rule.expiresAt}` : ''}: newly blocks ${n.count} of the ${n.served} names served in the last 24 h${n.names.length ? `: ${n.names.join(', ')}` : ''}`);
      }
      return ADMIN_EXIT.OK;
    }
    case 'rm': {
      positionals(pos, 1, 'deny rm', 'one ID (deny ls shows them)');
      const reason = requireReason(values, 'deny rm');
      const r = await client().request<{ dryRun: boolean; removed: OperatorRuleRecord }>('DELETE', `/admin/v1/denylist/rules/${encodeURIComponent(pos[0]!)}`, { body: { reason }, query: dryRunQuery(values) });
      if (values.json) printJson(r);
      else out(`${r.dryRun ? 'dry run: would remove' : 'removed'} ${r.removed.rule} (id ${r.removed.id})`);
      return ADMIN_EXIT.OK;
    }
    case 'ls': {
      positionals(pos, 0, 'deny ls', 'no arguments');
      const r = await client().request<{ rules: OperatorRuleRecord[] }>('GET', '/admin/v1/denylist/rules');
      out(values.json ? JSON.stringify(r) : rulesTable(r.rules));
      return ADMIN_EXIT.OK;
    }
    case 'status': {
      positionals(pos, 0, 'deny status', 'no arguments');
      const r = await client().request<{ lists: ListStatus[]; maxNewlyBlockedPercent: number; answer: string }>('GET', '/admin/v1/denylist');
      out(values.json ? JSON.stringify(r) : `${statusTable(r.lists)}\nblocked DNS questions answer ${r.answer}; a new version newly blocking more than ${r.maxNewlyBlockedPercent}% of the names served is held`);
      return ADMIN_EXIT.OK;
    }
    case 'check': {
      positionals(pos, 1, 'deny check', 'one NAME or /ipfs/CID[/PATH]');
      const r = await client().request<{ subject: string; results: SubjectExplanation[] }>('GET', '/admin/v1/denylist/check', { query: { subject: pos[0] } });
      out(values.json ? JSON.stringify(r) : checkText(r.results));
      return ADMIN_EXIT.OK;
    }
    default: {
      positionals(pos, 1, 'deny accept', 'one LIST (deny status shows the held ones)');
      const r = await client().request<{ list: string; version: string; entries: number; newlyBlocked: number }>('POST', `/admin/v1/denylist/${encodeURIComponent(pos[0]!)}/accept`, { body: {} });
      out(values.json ? JSON.stringify(r) : `accepted: ${r.list} version ${r.version.slice(0, 16)} in force (${r.entries} rules, newly blocking ${r.newlyBlocked} served names)`);
      return ADMIN_EXIT.OK;
    }
  }
}
