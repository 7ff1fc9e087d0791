// `dnslinkd cache ls` and `dnslinkd cache show NAME`, thin clients of the admin API: the entries
// cached (name, type, TTL left, stale, hits, origin; a worker column with --workers), filtered
// (--suffix, --stale), the busiest first (--top N) or paged (--limit, --cursor); and one name's
// entries with since when they are stale, until when they may be served and the override in force.
import type { CacheListEntry, CacheListPage } from '../control/cache-listing.js';
import type { CachedAnswerView } from '../control/replica.js';
import { typeName } from '../observability/query-log.js';
import type { Override } from '../stages/overrides/override.js';
import { ADMIN_COMMON_HELP, ADMIN_EXIT, UsageError } from './admin-client.js';
import { didYouMean, wholeNumber, type CommandHelp } from './command-line.js';
import { clientFor, out, parse, positionals, printJson, table } from './admin-commands.js';

const LS_USAGE = '  dnslinkd cache ls [--suffix ZONE] [--stale] [--top N | --limit N [--cursor C]]';
const SHOW_USAGE = '  dnslinkd cache show NAME';
const LS_HELP = `Lists what is cached: name, type, TTL left, stale (until when it may be served), hits, origin
(where the answer came from); with --workers, each worker's entries in a worker column.
  --suffix ZONE   names at or under ZONE only
  --stale         expired entries only (served stale while upstreams fail)
  --top N         the N busiest entries (most hits first), 1 to 1000
  --limit N       entries per page, 1 to 1000 (default 100); the next page with --cursor C`;
const SHOW_HELP = `Prints every cached answer of NAME and _dnslink.NAME, stale ones included: type, rcode, TTL left,
since when it is stale and until when it may be served, source and upstream; and the override in
force for the name, if any. To remove entries, use dnslinkd flush.`;

export const CACHE_HELP: CommandHelp = {
  summary: 'list the cache, or show what it holds for a name',
  usage: `${LS_USAGE}\n${SHOW_USAGE}`,
  help: `cache ls: ${LS_HELP}\n\ncache show: ${SHOW_HELP}\n\n${ADMIN_COMMON_HELP}`,
  subcommands: {
    ls: { usage: LS_USAGE, help: `${LS_HELP}\n\n${ADMIN_COMMON_HELP}` },
    show: { usage: SHOW_USAGE, help: `${SHOW_HELP}\n\n${ADMIN_COMMON_HELP}` },
  },
};

type Help = (sub?: string) => number;

const whole = (raw: string | undefined, flag: string): string | undefined => (raw === undefined ? undefined : String(wholeNumber(raw, flag, 1, 1000, 'entries', 'cache ls')));

/** The worker column: only when some entry has a worker (--workers N). */
function withWorker<T extends { worker?: number }>(entries: T[], headers: string[], row: (e: T) => unknown[]): string {
  const workers = entries.some((e) => e.worker !== undefined);
  return table(workers ? ['worker', ...headers] : headers, entries.map((e) => (workers ? [e.worker, ...row(e)] : row(e))));
}

async function list(args: string[], help: Help): Promise<number> {
  const { values, positionals: pos } = parse('cache ls', args, { suffix: { type: 'string' }, stale: { type: 'boolean' }, top: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } });
  if (values.help) return help('ls');
  positionals(pos, 0, 'cache ls', 'no arguments');
  const top = whole(values.top as string | undefined, '--top');
  const limit = whole(values.limit as string | undefined, '--limit');
  if (top !== undefined && (limit !== undefined || values.cursor !== undefined)) throw new UsageError('cache ls --top N lists the N busiest entries at once: it takes no --limit or --cursor', 'cache ls');
  const query = { suffix: values.suffix as string | undefined, stale: values.stale ? 'true' : undefined, top, limit, cursor: values.cursor as string | undefined };
  const r = await clientFor(values).request<CacheListPage>('GET', '/admin/v1/cache', { query });
  if (values.json) {
    printJson(r);
    return ADMIN_EXIT.OK;
  }
  if (r.entries.length === 0) {
    out(values.cursor ? 'no more entries' : 'no cache entries match');
    return ADMIN_EXIT.OK;
  }
  out(
    withWorker(r.entries, ['name', 'type', 'rcode', 'ttl left', 'stale', 'hits', 'origin'], (e: CacheListEntry) => [
      e.name,
      typeName(e.type),
      e.negative ? `${e.rcode} (negative)` : e.rcode,
      e.ttlLeft,
      e.stale ? `yes, until ${e.serveUntil}` : 'no',
      e.hits,
      e.source,
    ]),
  );
  const what = top !== undefined ? `the ${r.entries.length} busiest of ${r.matched} entries` : `${r.entries.length} of ${r.matched} entries`;
  const again = ['dnslinkd cache ls', ...(values.suffix ? [`--suffix ${values.suffix}`] : []), ...(values.stale ? ['--stale'] : []), ...(limit ? [`--limit ${limit}`] : []), `--cursor ${r.next}`];
  out(r.next ? `${what}; next page: ${again.join(' ')}` : what);
  return ADMIN_EXIT.OK;
}

interface ShowAnswer {
  name: string;
  entries: CachedAnswerView[];
  /** Absent from an older dnslinkd. */
  override?: Override | null;
}

async function show(args: string[], help: Help): Promise<number> {
  const { values, positionals: pos } = parse('cache show', args, {});
  if (values.help) return help('show');
  positionals(pos, 1, 'cache show', 'one NAME');
  const r = await clientFor(values).request<ShowAnswer>('GET', `/admin/v1/cache/${encodeURIComponent(pos[0]!)}`);
  if (values.json) {
    printJson(r);
    return ADMIN_EXIT.OK;
  }
  const o = r.override;
  const overrideLine = o ? `override in force: ${o.value} (ttl ${o.ttl}, ${o.expiresAt ? `expires ${o.expiresAt}` : 'no expiry'}${o.pinned ? ', pinned' : ''}, by ${o.by}: ${o.reason}): answers come from it, not from these entries` : undefined;
  if (!r.entries.length) out(`nothing is cached for ${pos[0]}`);
  else {
    out(
      withWorker(r.entries, ['name', 'type', 'rcode', 'ttl left', 'stale', 'source', 'upstream', 'data'], (e) => [
        e.name,
        typeName(e.type),
        e.rcode,
        e.ttlLeft,
        e.stale ? `since ${e.staleSince ?? e.expiresAt}, served until ${e.serveUntil ?? '?'}` : 'no',
        e.source,
        e.upstream,
        e.negative ? '(negative)' : e.answers.map((a) => a.data).join(' | '),
      ]),
    );
  }
  if (overrideLine) out(overrideLine);
  return ADMIN_EXIT.OK;
}

/** `dnslinkd cache ls|show ...`; resolves to the exit code. */
export async function runCacheCommand(args: string[], help: Help): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'ls') return list(rest, help);
  if (sub === 'show') return show(rest, help);
  if (sub === '--help' || sub === '-h') return help();
  const guess = sub === undefined ? '' : didYouMean(sub, ['ls', 'show']);
  throw new UsageError(`cache takes ls or show NAME${sub === undefined ? '' : ` (got "${sub}"${guess})`}; to remove entries, use flush`, 'cache');
}
