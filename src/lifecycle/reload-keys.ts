// Which configuration keys a reload (SIGHUP, POST /admin/v1/reload, `dnslinkd reload`) applies to
// the running process and which need a restart, declared once; and the comparison of two
// configurations that says which keys changed. docs/configuration.md lists the same table.
import type { Config } from '../config/schema.js';

export type ReloadKind = 'live' | 'restart';

/**
 * Every key of the configuration, by dotted path (a key stands for the keys under it). `live`:
 * swapped in place by src/lifecycle/reload.ts; `restart`: kept as it runs, named in the log line
 * that says `needs a restart`. test/unit/reload-keys.test.ts checks that every key of the schema
 * is declared here; a key missing is treated as `restart`.
 */
export const RELOAD_KEYS: Readonly<Record<string, ReloadKind>> = {
  // Sockets opened at start, and how many processes hold them.
  'dns.listen': 'restart',
  'dns.workers': 'restart',
  'dns.udpPayloadSize': 'restart',
  'dns.recvBufferSize': 'restart',
  'dns.udpBatching': 'restart',
  'dns.tcpIdleTimeoutMs': 'restart',
  'dns.tcpMaxConnections': 'restart',
  'dns.tcpQueryTimeoutMs': 'restart',
  'dns.tcpMaxConnectionsPerClient': 'restart',
  'dns.tcpMaxPipelined': 'restart',
  'dns.tcpClientIpv4PrefixLength': 'restart',
  'dns.tcpClientIpv6PrefixLength': 'restart',
  'dns.forward': 'restart',
  // Who is answered and how much: the client gate is swapped (rate accounts start afresh).
  'dns.allow': 'live',
  'dns.openResolver': 'live',
  'dns.rateLimit': 'live',
  http: 'restart',
  'admin.listen': 'restart',
  'admin.allowPlaintext': 'restart',
  'admin.tls': 'restart',
  // Tokens are read again (token files too): the old ones are refused from then on.
  'admin.tokens': 'live',
  // Read by the control plane at each flush from the configuration in force.
  'admin.maxFlushEntries': 'live',
  // The console's sampler is started once with the admin listener.
  'admin.consoleSampleSeconds': 'restart',
  // Where the state lives: the store is opened once.
  state: 'restart',
  dataDir: 'restart',
  memory: 'restart',
  // Read when a shutdown begins, from the configuration the process started with.
  shutdownGraceMs: 'restart',
  upstreams: 'live',
  upstreamTimeoutMs: 'live',
  // The bound is read by the upstream stage built at start.
  'upstream.maxOutstanding': 'restart',
  // The store's size is set at start; its policy (clamps, serve-stale, prefetch) is swapped.
  'cache.maxEntries': 'restart',
  'cache.maxBytes': 'restart',
  // The snapshot's schedule is set at start.
  'cache.persist': 'restart',
  'cache.persistIntervalMs': 'restart',
  'cache.minTtl': 'live',
  'cache.maxTtl': 'live',
  'cache.negativeMinTtl': 'live',
  'cache.negativeMaxTtl': 'live',
  'cache.serveStale': 'live',
  'cache.staleMaxAge': 'live',
  'cache.staleTtl': 'live',
  'cache.staleRefreshMs': 'live',
  'cache.clientDeadlineMs': 'live',
  'cache.prefetch': 'live',
  'cache.prefetchMinHits': 'live',
  'cache.prefetchThreshold': 'live',
  clientDeadlineMs: 'live',
  ens: 'live',
  // The sources are built at start (a reload reads each list again); the stage's answer and the
  // guard's share are read when the stage and the list manager are built.
  'denylist.sources': 'restart',
  'denylist.answer': 'restart',
  'denylist.maxNewlyBlockedPercent': 'restart',
  // The chain watch is rebuilt with the client, the names it followed kept.
  'ens.watchIntervalMs': 'live',
  'ens.watchMaxNames': 'live',
  'ens.watchMaxBlocks': 'live',
  // A new client asks again whether the Universal Resolver has code.
  'ens.universalResolver': 'live',
  // The file is read again on every reload, changed or not.
  localRecords: 'live',
  logLevel: 'live',
  // The query log's rate and the lines' form are switched in place.
  'log.queries': 'live',
  'log.format': 'live',
  // The change stream, its subscribers' bounds and webhooks are set up at start (src/changes/).
  'changes.historySize': 'restart',
  'changes.token': 'restart',
  'changes.maxSubscribers': 'restart',
  'changes.subscriberBufferBytes': 'restart',
  'changes.keepAliveMs': 'restart',
  'changes.webhooks': 'restart',
  'changes.webhookRetryMs': 'restart',
  'changes.webhookTimeoutMs': 'restart',
  'changes.webhookQueueSize': 'restart',
  'changes.refreshDedupeMs': 'restart',
};

/** The declaration that covers a key: its own, or the nearest key above it. */
export function declaredKey(path: string): string | undefined {
  for (let key = path; key; key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '') {
    if (Object.hasOwn(RELOAD_KEYS, key)) return key;
  }
  return undefined;
}

export function reloadKind(path: string): ReloadKind {
  const key = declaredKey(path);
  return key === undefined ? 'restart' : RELOAD_KEYS[key]!;
}

type Tree = { [key: string]: unknown };
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dotted paths whose values differ (objects are walked; arrays and scalars are values). */
export function changedKeys(before: unknown, after: unknown, prefix = '', out: string[] = []): string[] {
  if (isTree(before) && isTree(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      changedKeys(before[key], after[key], prefix ? `${prefix}.${key}` : key, out);
    }
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push(prefix || '(top level)');
  }
  return out;
}

/** The declared keys (or unknown ones, as found) a list of changed paths falls under, each once. */
function declaredOf(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => declaredKey(p) ?? p))];
}

export interface ReloadPlan {
  /** The configuration to run: the new one, with every restart-only key as it runs now. */
  effective: Config;
  /** Keys applied live (declared keys, in the order of RELOAD_KEYS). */
  changed: string[];
  /** Keys changed in the new configuration that only a restart applies: kept as they run. */
  needsRestart: string[];
}

function getPath(tree: unknown, path: string[]): unknown {
  let node = tree;
  for (const key of path) node = isTree(node) ? node[key] : undefined;
  return node;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

/** Compares the running configuration with a new one and says what a reload would do. */
export function planReload(running: Config, next: Config): ReloadPlan {
  const paths = changedKeys(running, next);
  const live = paths.filter((p) => reloadKind(p) === 'live');
  const restart = paths.filter((p) => reloadKind(p) === 'restart');
  const needsRestart = declaredOf(restart);
  const effective = structuredClone(next) as Config;
  // A declared key is kept whole (all of `http`, say), never a mix of the old and the new.
  for (const key of needsRestart) {
    const keys = key.split('.');
    setPath(effective as unknown as Tree, keys, structuredClone(getPath(running, keys)));
  }
  const order = Object.keys(RELOAD_KEYS);
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  const byDeclaration = (a: string, b: string) => rank(a) - rank(b);
  return { effective, changed: declaredOf(live).sort(byDeclaration), needsRestart: needsRestart.sort(byDeclaration) };
}

/** The serve flag that sets a key, for the line naming a file edit it hides. */
const FLAG_OF: Readonly<Record<string, string>> = {
  upstreams: '--upstream',
  'dns.listen': '--dns',
  'dns.forward': '--forward/--no-forward',
  'dns.workers': '--workers',
  'http.listen': '--http',
  'admin.listen': '--admin',
  dataDir: '--data-dir',
  'ens.rpc': '--ens-rpc',
  ens: '--ens-rpc',
  logLevel: '--log-level',
  localRecords: '--local-records',
};
const flagOf = (key: string) => FLAG_OF[key] ?? 'a flag';

/** One line per pinned key: `upstreams changed in the file but --upstream given at start wins`. */
export function pinnedLine(keys: readonly string[]): string {
  return keys.map((key) => `${key} changed in the file but ${flagOf(key)} given at start wins`).join('; ');
}
