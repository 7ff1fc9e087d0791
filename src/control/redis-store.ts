// The fleet control store: the same data as the embedded store, in Redis, shared by every
// instance. Keys under `dnslinkd:` (overrides in a hash, counters and the epoch in a meta hash, the
// flush log in a sorted set by generation, trimmed, the audit log in a stream). Every change runs
// as one Lua script with its audit records (atomic, conditional changes included; every check,
// key types and counters too, before its first write, as Redis keeps a failed script's writes)
// and publishes a notice on `dnslinkd:changes`; replicas also reconcile on the counters (fleet-sync.ts), since
// pub/sub alone loses messages. While Redis is unreachable, every call fails at once with
// STORE_DEGRADED: nothing is queued to be replayed later. Every record read back is checked
// (overrides with the admin API's rules, flushes, audit records, counters): one that fails is
// skipped and reported (invalid-records.ts), never served, and never stops the others.
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { forEachInChunks, yieldToEventLoop } from '../runtime/event-loop-yield.js';
import type { Logger } from 'pino';
import { CodedError, errorMessage } from '../errors.js';
import type { FlushTarget } from '../stages/cache/flush.js';
import type { Override } from '../stages/overrides/override.js';
import { InvalidRecords } from './invalid-records.js';
import { CHANGES_SCRIPT, DELTA_MAX, logGap, logWriteLua } from './redis-change-log.js';
import { controlName, parseStoredOverride } from './override-rules.js';
import type { AuditQuery, AuditRecord, ControlDelta, ControlSnapshot, ControlStore, DenylistRuleChange, FlushRecord, NewAuditRecord, OverrideChange } from './store.js';
import { DENYLIST_RULES_KEY, parseStoredRule } from './denylist-rule-records.js';
import type { OperatorRuleRecord } from '../stages/denylist/operator-list.js';

const KEY_PREFIX = 'dnslinkd:';
const KEYS = {
  meta: `${KEY_PREFIX}meta`,
  overrides: `${KEY_PREFIX}overrides`,
  flushes: `${KEY_PREFIX}flushes`,
  audit: `${KEY_PREFIX}audit`,
  changelog: `${KEY_PREFIX}changelog`,
  channel: `${KEY_PREFIX}changes`,
} as const;

/** Flushes kept: the last FLUSH_KEEP generations, and any younger than a day. */
const FLUSH_KEEP = 1000;
const FLUSH_KEEP_MS = 86_400_000;
/** Audit entries read per round trip when a query filters. */
const AUDIT_BATCH = 500;
/** A query for records since T reads the stream back to T minus this (clocks of instances differ). */
const AUDIT_SKEW_MS = 300_000;

/** What a change publishes on the channel. */
export interface ChangeNotice {
  kind: 'overrides' | 'flush';
  version?: number;
  generation?: number;
  /** ISO time of the change. */
  time: string;
}

/** Starts an error reply of a write script refused by its checks (nothing written). */
const REFUSED = 'DNSLINKD_REFUSED';

// What every write script checks before its first write: Redis does not roll a script back when a
// command fails half way, so a key of another type or a counter HINCRBY cannot bump would leave the
// writes made before it (an override set and audited that no instance is told about).
const WRITE_CHECKS = `
local function wrongType(key, want)
  local t = redis.call('TYPE', key).ok
  if t ~= want and t ~= 'none' then return '${REFUSED} ' .. key .. ' is a Redis ' .. t .. ', not a ' .. want end
  return nil
end
local function notCounter(key, field)
  local v = redis.call('HGET', key, field)
  if v and not (string.match(v, '^%d+$') and #v <= 15) then
    return '${REFUSED} ' .. key .. ' ' .. field .. ' ' .. cjson.encode(string.sub(v, 1, 40)) .. ' is not a whole number'
  end
  return nil
end
`;

// KEYS: overrides, meta, audit, changelog[, a staging list holding the ARGV]. ARGV: channel, time, n, then n x (name, after JSON or '', 'u:'<updatedAt> or ''), m, then m audit JSON.
// Every check runs before any write (Redis does not roll a script back when it fails half way):
// an unreadable stored record counts as changed meanwhile. The condition 'n:' applies only where
// the name has no record (a restore after a reset never overwrites a newer one).
const CHANGE_SCRIPT = `${WRITE_CHECKS}${logWriteLua('KEYS[2]', 'KEYS[4]')}
local refused = wrongType(KEYS[1], 'hash') or wrongType(KEYS[2], 'hash') or wrongType(KEYS[3], 'stream') or wrongType(KEYS[4], 'zset') or notCounter(KEYS[2], 'version')
if refused then return redis.error_reply(refused) end
-- A large change comes staged in a list (KEYS[5]) written in pieces, not as one huge command.
local A = ARGV
if KEYS[5] then
  A = redis.call('LRANGE', KEYS[5], 0, -1)
  redis.call('DEL', KEYS[5])
  if #A < 4 then return redis.error_reply('${REFUSED} the staged change ' .. KEYS[5] .. ' is gone (expired before it was applied?)') end
end
local n = tonumber(A[3])
local apply = {}
local applied = 0
for c = 0, n - 1 do
  local name, cond = A[4 + 3 * c], A[6 + 3 * c]
  local ok = true
  if cond == 'n:' then
    ok = redis.call('HEXISTS', KEYS[1], name) == 0
  elseif cond ~= '' then
    local cur = redis.call('HGET', KEYS[1], name)
    local decoded, rec = false, nil
    if cur then decoded, rec = pcall(cjson.decode, cur) end
    if not decoded or type(rec) ~= 'table' or rec.updatedAt ~= string.sub(cond, 3) then ok = false end
  end
  apply[c] = ok
  if ok then applied = applied + 1 end
end
if applied == 0 then return false end
local changed = {}
for c = 0, n - 1 do
  if apply[c] then
    local name, after = A[4 + 3 * c], A[5 + 3 * c]
    if after ~= '' then redis.call('HSET', KEYS[1], name, after) else redis.call('HDEL', KEYS[1], name) end
    changed[#changed + 1] = name
  end
end
local i = 4 + 3 * n
for a = 1, tonumber(A[i]) do redis.call('XADD', KEYS[3], '*', 'r', A[i + a]) end
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
logChanges(version, changed)
redis.call('HSET', KEYS[2], 'changedAt', A[2])
redis.call('PUBLISH', A[1], cjson.encode({kind = 'overrides', version = version, time = A[2]}))
return version
`;

// KEYS: denylist rules, audit. ARGV: channel, time, 'add' or 'remove', id, record JSON (add) or '', audit JSON.
// A key of its own and a notice of its own kind: the override scripts and counters are untouched;
// every instance reads the rules again on the notice (fleet-sync.ts reconciles on any notice).
const DENYLIST_RULE_SCRIPT = `${WRITE_CHECKS}
local refused = wrongType(KEYS[1], 'hash') or wrongType(KEYS[2], 'stream')
if refused then return redis.error_reply(refused) end
if ARGV[3] == 'remove' then
  if redis.call('HDEL', KEYS[1], ARGV[4]) == 0 then return 0 end
else
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
end
redis.call('XADD', KEYS[2], '*', 'r', ARGV[6])
redis.call('PUBLISH', ARGV[1], cjson.encode({kind = 'denylist', time = ARGV[2]}))
return 1
`;

// KEYS: meta, flushes, audit. ARGV: channel, time, flush JSON ({target, negativeOnly, time}), audit JSON, cutoff time.
// The trim reads members before the first write; one that cannot be read is trimmed like an old one.
const FLUSH_SCRIPT = `${WRITE_CHECKS}
local refused = wrongType(KEYS[1], 'hash') or wrongType(KEYS[2], 'zset') or wrongType(KEYS[3], 'stream') or notCounter(KEYS[1], 'generation')
if refused then return redis.error_reply(refused) end
local gen = tonumber(redis.call('HGET', KEYS[1], 'generation') or '0') + 1
local trim = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', gen - ${FLUSH_KEEP}, 'LIMIT', 0, 100)) do
  local space = string.find(member, ' ')
  local decoded, rec = false, nil
  if space then decoded, rec = pcall(cjson.decode, string.sub(member, space + 1)) end
  if not decoded or type(rec) ~= 'table' or type(rec.time) ~= 'string' or rec.time < ARGV[5] then trim[#trim + 1] = member end
end
redis.call('HINCRBY', KEYS[1], 'generation', 1)
redis.call('ZADD', KEYS[2], gen, gen .. ' ' .. ARGV[3])
for _, member in ipairs(trim) do redis.call('ZREM', KEYS[2], member) end
redis.call('XADD', KEYS[3], '*', 'r', ARGV[4])
redis.call('PUBLISH', ARGV[1], cjson.encode({kind = 'flush', generation = gen, time = ARGV[2]}))
return gen
`;

// KEYS: meta, overrides. ARGV: a new epoch and the time (kept only if the store has none). A key
// of another type (written by something else) is not read: its type is returned instead.
const SNAPSHOT_SCRIPT = `
local metaType, overridesType = redis.call('TYPE', KEYS[1]).ok, redis.call('TYPE', KEYS[2]).ok
local meta, overrides = {}, {}
if metaType == 'hash' or metaType == 'none' then
  if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then redis.call('HSET', KEYS[1], 'epochAt', ARGV[2]) end
  meta = redis.call('HGETALL', KEYS[1])
end
if overridesType == 'hash' then overrides = redis.call('HGETALL', KEYS[2]) end
return {meta, overrides, metaType, overridesType}
`;

// KEYS: meta, overrides. ARGV: as SNAPSHOT_SCRIPT. The meta hash (the epoch made if none) and both keys' types: what a scan of the hash starts from.
const META_SCRIPT = `
local metaType, overridesType = redis.call('TYPE', KEYS[1]).ok, redis.call('TYPE', KEYS[2]).ok
local meta = {}
if metaType == 'hash' or metaType == 'none' then
  if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then redis.call('HSET', KEYS[1], 'epochAt', ARGV[2]) end
  meta = redis.call('HGETALL', KEYS[1])
  metaType = 'hash'
end
return {meta, metaType, overridesType}
`;
/** A change of more records than this (changes and audit records) is staged in pieces. */
const STAGE_OVER = 1000;
/** Arguments per staging command. */
const STAGE_PIECE = 3000;
/** A staging list left by a change that never ran is gone after this (s). */
const STAGE_TTL_S = 600;
/** Fields asked per HSCAN page. */
const SCAN_COUNT = 2000;
/** Scans tried before one atomic read of the whole hash. */
const SCAN_ATTEMPTS = 2;

/** The record of a key that is not the hash it should be. */
const wrongType = (type: string) => [{ id: '(the whole key)', why: `a Redis ${type}, not a hash: nothing in it is read (delete it: it is not dnslinkd's)` }];

/** The URL as shown in logs and /healthz: without its password. */
export function redisLocation(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}

/** A counter of the meta hash: a whole number, or why not. */
function counter(meta: Map<string, string>, field: string): number | { error: string } {
  const raw = meta.get(field);
  if (raw === undefined) return 0;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : { error: `${field} ${JSON.stringify(raw.slice(0, 40))} is not a whole number` };
}

function flushTargetOf(t: unknown): FlushTarget {
  const target = (t ?? {}) as Record<string, unknown>;
  if (target.all === true) return { all: true };
  if (typeof target.name === 'string') return { name: controlName(target.name) };
  if (typeof target.suffix === 'string') return { suffix: controlName(target.suffix, 'suffix') };
  throw new Error('target is none of {name}, {suffix} or {all: true}');
}

/** A flush log member (`<generation> <JSON>`, scored by its generation), or why it cannot be read. */
function parseFlush(member: string, score: number): FlushRecord | { error: string } {
  try {
    const rec = JSON.parse(member.slice(member.indexOf(' ') + 1)) as Record<string, unknown>;
    if (typeof rec !== 'object' || rec === null) throw new Error('not a JSON object');
    if (typeof rec.negativeOnly !== 'boolean') throw new Error('negativeOnly is not true or false');
    if (typeof rec.time !== 'string' || Number.isNaN(Date.parse(rec.time))) throw new Error('time is not an ISO time');
    return { generation: score, target: flushTargetOf(rec.target), negativeOnly: rec.negativeOnly, time: rec.time };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** An audit action as dnslinkd writes them (`override.set`, `cache.flush`, ...). */
const AUDIT_ACTION = /^[a-z]+(\.[a-z-]+)+$/;

/** An audit stream entry's record, or why it cannot be read. */
function parseAudit(raw: string | undefined): Omit<AuditRecord, 'id'> | { error: string } {
  if (raw === undefined) return { error: 'no "r" field' };
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return { error: 'not a JSON object' };
  if (typeof r.time !== 'string' || typeof r.token !== 'string' || typeof r.dryRun !== 'boolean') return { error: 'time, token or dryRun is missing' };
  if (typeof r.action !== 'string' || !AUDIT_ACTION.test(r.action)) return { error: `action ${JSON.stringify(r.action)} is not one dnslinkd writes` };
  if ((r.name !== undefined && typeof r.name !== 'string') || (r.reason !== undefined && typeof r.reason !== 'string')) return { error: 'name or reason is not a string' };
  return r as unknown as Omit<AuditRecord, 'id'>;
}

const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export interface RedisStoreOptions {
  /** How long the first connection may take before the start fails (ms). */
  connectTimeoutMs?: number;
  /** A command without an answer after this long fails (ms): a hung Redis counts as unreachable. */
  commandTimeoutMs?: number;
  /** Where records that fail their checks are reported. */
  invalid?: InvalidRecords;
  /** Where a refused write is logged. */
  log?: Logger;
}

export class RedisStore implements ControlStore {
  readonly kind = 'redis';
  readonly location: string;
  /** Records read back that failed their checks (skipped). */
  readonly invalid: InvalidRecords;
  /** Commands: reads and the change scripts. */
  readonly client: Redis;
  /** Pub/sub: the change notices (a subscribed connection can do nothing else). */
  readonly subscriber: Redis;
  private closed = false;
  private readonly log: Logger | undefined;
  /** Why the last write was refused (until one succeeds), a counter aside. */
  private writeFault: string | undefined;
  /** Why writes are refused whatever they change: a counter that is not a whole number (until a read finds it repaired). */
  private counterFault: string | undefined;
  /** The counters last read valid (or written): what one that is not a whole number reads as, and the value to repair it with. */
  private readonly lastCounters = { version: 0, generation: 0 };
  /** Records of the overrides hash skipped as invalid (field, why), as last read: a delta updates them. */
  private badOverrides = new Map<string, string>();

  private constructor(url: string, opts: RedisStoreOptions) {
    this.location = redisLocation(url);
    this.invalid = opts.invalid ?? new InvalidRecords();
    this.log = opts.log;
    const options: RedisOptions = {
      lazyConnect: true,
      // Nothing waits for a reconnect: a change this instance cannot share now is refused now.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      commandTimeout: opts.commandTimeoutMs ?? 3000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
      connectionName: 'dnslinkd',
    };
    this.client = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, commandTimeout: undefined, connectionName: 'dnslinkd-sub' });
    // Errors are reported as connection state (fleet-sync.ts); without a listener ioredis prints them.
    this.client.on('error', () => {});
    this.subscriber.on('error', () => {});
  }

  /** Connects both connections; throws STORE_UNAVAILABLE saying why when Redis does not answer. */
  static async open(url: string, opts: RedisStoreOptions = {}): Promise<RedisStore> {
    const store = new RedisStore(url, opts);
    try {
      await store.client.connect();
      await store.client.ping();
      await store.subscriber.connect();
    } catch (err) {
      await store.close();
      throw new CodedError('STORE_UNAVAILABLE', `cannot reach the fleet store ${store.location}: ${errorMessage(err)} (is Redis running there? state.redis / DNSLINKD_REDIS_URL)`);
    }
    return store;
  }

  /** Why changes are refused now (a counter that is not a whole number, the last write refused), or undefined. */
  get problem(): string | undefined {
    return this.counterFault ?? this.writeFault;
  }

  /** The command that repairs a counter of the meta hash. */
  private repairCommand(field: 'version' | 'generation'): string {
    return `redis-cli -u ${this.location} HSET ${KEYS.meta} ${field} ${this.lastCounters[field]}`;
  }

  /** Runs a write script: one its checks refuse (nothing written) becomes STORE_UNAVAILABLE, remembered until a write succeeds. */
  private async write<T>(what: string, work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.call(what, work);
    } catch (err) {
      if (!(err instanceof Error) || err.name !== 'ReplyError') throw err;
      const refused = err.message.startsWith(`${REFUSED} `);
      const why = refused ? err.message.slice(REFUSED.length + 1) : `Redis answered ${errorMessage(err).slice(0, 200)}`;
      const field = /^dnslinkd:meta (version|generation) /.exec(why)?.[1] as 'version' | 'generation' | undefined;
      const repair = field ? `; repair it: ${this.repairCommand(field)}` : refused ? ' (not written by dnslinkd: rename or delete it in Redis)' : '';
      const message = `the fleet store ${this.location} refused ${what}: ${why}${refused ? '; nothing was changed' : ''}${repair}`;
      // A counter's fault lasts until a read finds it repaired; any other until a write succeeds.
      if (field) this.counterFault = message;
      else this.writeFault = message;
      this.log?.error({ store: this.location, why }, message);
      throw new CodedError('STORE_UNAVAILABLE', message, { cause: err });
    }
    if (this.writeFault !== undefined) this.log?.info({ store: this.location }, 'fleet store writes succeed again');
    this.writeFault = undefined;
    return result;
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /** Runs a command; a lost connection becomes STORE_DEGRADED (a Redis error answer stays as it is). */
  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new CodedError('STORE_UNAVAILABLE', 'the control store is closed');
    if (!this.connected) throw this.degradedError(what, `not connected (${this.client.status})`);
    try {
      return await work();
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError') throw err;
      throw this.degradedError(what, errorMessage(err), true);
    }
  }

  private degradedError(what: string, why: string, inFlight = false): CodedError {
    return new CodedError(
      'STORE_DEGRADED',
      `the fleet store ${this.location} is unreachable (${why}): ${what} ${inFlight ? 'could not be confirmed; read the state again once it is back' : 'was not made'}; this instance serves the last state it had`,
    );
  }

  /**
   * The whole state: the overrides hash read in HSCAN pages (Redis is never blocked by one large
   * reply, and each page is checked as it comes, yielding), then the changes the log recorded
   * meanwhile laid over it, so the set is the store's at one version. When the log cannot say what
   * changed during the scan (twice), one atomic script reads it all.
   */
  async snapshot(): Promise<ControlSnapshot> {
    for (let attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
      const scanned = await this.scanSnapshot();
      if (scanned) return scanned;
    }
    return this.atomicSnapshot();
  }

  private async scanSnapshot(): Promise<ControlSnapshot | undefined> {
    const [metaFlat, metaType, overridesType] = (await this.call('reading the state', () =>
      this.client.eval(META_SCRIPT, 2, KEYS.meta, KEYS.overrides, randomUUID(), new Date().toISOString()),
    )) as [string[], string, string];
    if (metaType !== 'hash' || (overridesType !== 'hash' && overridesType !== 'none')) return undefined;
    const start = this.readMeta(metaFlat, metaType);
    const overrides = new Map<string, Override>();
    const bad = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.call('reading the state', () => this.client.hscan(KEYS.overrides, cursor, 'COUNT', SCAN_COUNT));
      // Each record is checked (a CID parsed...): in chunks that yield, so a large set does not stall the DNS port.
      await forEachInChunks(pairs(flat), ([field, raw]) => {
        const parsed = parseStoredOverride(field, raw);
        if ('override' in parsed) {
          overrides.set(field, parsed.override);
          bad.delete(field);
        } else {
          bad.set(field, parsed.error);
          overrides.delete(field);
        }
      });
      cursor = next;
    } while (cursor !== '0');
    this.badOverrides = bad;
    const delta = await this.changesSince(start.version);
    if (!delta || delta.epoch !== start.epoch) return undefined;
    if (delta.kind === 'delta') {
      for (const c of delta.changes) {
        if (c.after) overrides.set(c.name, c.after);
        else overrides.delete(c.name);
      }
    }
    this.invalid.replace(KEYS.overrides, this.badList());
    const { kind: _kind, ...meta } = delta;
    const list = [...overrides.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { version: meta.version, generation: meta.generation, ...(meta.epoch ? { epoch: meta.epoch } : {}), ...(start.epochAt ? { epochAt: start.epochAt } : {}), ...(meta.changedAt ? { changedAt: meta.changedAt } : {}), overrides: list };
  }

  /** The whole state in one script (a key of the wrong type, or a log that cannot say what changed during a scan). */
  private async atomicSnapshot(): Promise<ControlSnapshot> {
    const [metaFlat, overridesFlat, metaType, overridesType] = (await this.call('reading the state', () =>
      this.client.eval(SNAPSHOT_SCRIPT, 2, KEYS.meta, KEYS.overrides, randomUUID(), new Date().toISOString()),
    )) as [string[], string[], string, string];
    const overrides: Override[] = [];
    const bad = new Map<string, string>();
    await forEachInChunks(pairs(overridesFlat), ([field, raw]) => {
      const parsed = parseStoredOverride(field, raw);
      if ('override' in parsed) overrides.push(parsed.override);
      else bad.set(field, parsed.error);
    });
    this.badOverrides = bad;
    this.invalid.replace(KEYS.overrides, overridesType === 'hash' || overridesType === 'none' ? this.badList() : wrongType(overridesType));
    return { ...this.readMeta(metaFlat, metaType), overrides: overrides.sort((a, b) => (a.name < b.name ? -1 : 1)) };
  }

  /** The records of the overrides hash skipped as invalid, as InvalidRecords lists them. */
  private badList(): Array<{ id: string; why: string }> {
    return [...this.badOverrides].map(([id, why]) => ({ id, why }));
  }

  /** The meta hash's counters (checked: a bad one refuses changes until repaired), epoch and times. */
  private readMeta(metaFlat: string[], metaType: string): Omit<ControlSnapshot, 'overrides'> {
    const meta = pairs(metaFlat);
    const badMeta: Array<{ id: string; why: string }> = [];
    const [version, generation] = (['version', 'generation'] as const).map((field) => {
      const n = counter(meta, field);
      if (typeof n === 'number') return (this.lastCounters[field] = n);
      badMeta.push({ id: field, why: `${n.error}: read as ${this.lastCounters[field]}; changes are refused until it is repaired: ${this.repairCommand(field)}` });
      return this.lastCounters[field];
    }) as [number, number];
    const repaired = badMeta.length === 0 && this.counterFault !== undefined;
    this.counterFault = badMeta.length > 0 ? `the fleet store ${this.location} refuses changes: ${KEYS.meta} ${badMeta.map((b) => b.why).join('; ')}` : undefined;
    if (repaired) this.log?.info({ store: this.location }, `the counters of ${KEYS.meta} are whole numbers again: changes are accepted`);
    this.invalid.replace(KEYS.meta, metaType === 'hash' || metaType === 'none' ? badMeta : wrongType(metaType));
    const changedAt = meta.get('changedAt');
    const epochAt = meta.get('epochAt');
    return {
      version,
      generation,
      ...(meta.has('epoch') ? { epoch: meta.get('epoch')! } : {}),
      ...(epochAt ? { epochAt } : {}),
      ...(changedAt ? { changedAt } : {}),
    };
  }

  /**
   * What changed since override version `version`, from the change log (redis-change-log.ts): the
   * changed names' records only, checked as a full read checks them; undefined when only a full
   * read can say (a new store, a log trimmed past it or missing a version, too far behind).
   */
  async changesSince(version: number): Promise<ControlDelta | undefined> {
    const reply = (await this.call('reading the changes', () => this.client.eval(CHANGES_SCRIPT, 3, KEYS.meta, KEYS.overrides, KEYS.changelog, String(version), String(DELTA_MAX)))) as unknown[];
    if (reply[0] === 'full') {
      this.log?.debug({ store: this.location, from: version, why: reply[1] }, 'change log not usable: reading the whole set');
      return undefined;
    }
    if (reply[0] === 'same') {
      return { kind: 'same', ...this.readMeta(reply[1] as string[], 'hash'), fields: Number(reply[2]), invalid: this.badOverrides.size };
    }
    const [, metaFlat, members, names, values] = reply as [string, string[], string[], string[], Array<string | null>];
    const meta = this.readMeta(metaFlat, 'hash');
    const gap = logGap(members, version, meta.version);
    if (gap !== undefined) {
      this.log?.debug({ store: this.location, from: version, why: gap }, 'change log not usable: reading the whole set');
      return undefined;
    }
    const changes: Array<{ name: string; after: Override | null }> = [];
    let badChanged = false;
    await forEachInChunks(names.keys(), (i) => {
      const name = names[i]!;
      const raw = values[i];
      if (raw === null || raw === undefined) {
        badChanged = this.badOverrides.delete(name) || badChanged;
        changes.push({ name, after: null });
        return;
      }
      const parsed = parseStoredOverride(name, raw);
      if ('override' in parsed) {
        badChanged = this.badOverrides.delete(name) || badChanged;
        changes.push({ name, after: parsed.override });
      } else {
        this.badOverrides.set(name, parsed.error);
        badChanged = true;
        changes.push({ name, after: null });
      }
    });
    if (badChanged) this.invalid.replace(KEYS.overrides, this.badList());
    return { kind: 'delta', ...meta, changes };
  }

  async flushesAfter(generation: number): Promise<FlushRecord[]> {
    const flat = await this.call('reading the flush log', () => this.client.zrangebyscore(KEYS.flushes, `(${generation}`, '+inf', 'WITHSCORES'));
    const out: FlushRecord[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const member = flat[i]!;
      const score = Number(flat[i + 1]);
      const flush = parseFlush(member, score);
      if (!('error' in flush)) {
        out.push(flush);
        continue;
      }
      // What an unreadable flush removed is unknown: the whole cache goes, which is never wrong.
      this.invalid.add(KEYS.flushes, { id: `generation ${score}`, why: `${flush.error}: applied as a flush of the whole cache` });
      out.push({ generation: score, target: { all: true }, negativeOnly: false, time: new Date().toISOString() });
    }
    return out;
  }

  private auditJson(record: NewAuditRecord, time: string): string {
    return JSON.stringify(defined({ time, ...record }));
  }

  async changeOverrides(changes: OverrideChange[], audit: NewAuditRecord[]): Promise<number | undefined> {
    const time = new Date().toISOString();
    const staged = changes.length + audit.length > STAGE_OVER;
    const args: string[] = [KEYS.channel, time, String(changes.length)];
    // Serialised in chunks that yield (an import's tens of thousands of records and their audit records).
    await forEachInChunks(changes, (c) => void args.push(c.name, c.after ? JSON.stringify(c.after) : '', c.ifAbsent ? 'n:' : c.ifUpdatedAt !== undefined ? `u:${c.ifUpdatedAt}` : ''));
    args.push(String(audit.length));
    await forEachInChunks(audit, (r) => void args.push(this.auditJson(r, time)));
    const keys = [KEYS.overrides, KEYS.meta, KEYS.audit, KEYS.changelog];
    let version: number | null;
    if (!staged) version = (await this.write('the change', () => this.client.eval(CHANGE_SCRIPT, keys.length, ...keys, ...args))) as number | null;
    else {
      // A large change goes to a staging list in pieces (no single command of megabytes to encode
      // while the DNS port waits), then one script applies it all or nothing; the list expires if it is left.
      const staging = `${KEY_PREFIX}staging:${randomUUID()}`;
      try {
        for (let i = 0; i < args.length; i += STAGE_PIECE) {
          const piece = args.slice(i, i + STAGE_PIECE);
          await this.call('staging the change', () => this.client.multi().rpush(staging, ...piece).expire(staging, STAGE_TTL_S).exec());
          await yieldToEventLoop();
        }
        version = (await this.write('the change', () => this.client.eval(CHANGE_SCRIPT, keys.length + 1, ...keys, staging))) as number | null;
      } finally {
        if (this.connected) await this.client.del(staging).catch(() => {});
      }
    }
    if (version === null) return undefined;
    this.lastCounters.version = Number(version);
    return Number(version);
  }

  async recordFlush(flush: Omit<FlushRecord, 'generation' | 'time'>, audit: NewAuditRecord): Promise<FlushRecord> {
    const time = new Date().toISOString();
    const cutoff = new Date(Date.now() - FLUSH_KEEP_MS).toISOString();
    const member = JSON.stringify({ target: flush.target, negativeOnly: flush.negativeOnly, time });
    const generation = (await this.write('the flush', () =>
      this.client.eval(FLUSH_SCRIPT, 3, KEYS.meta, KEYS.flushes, KEYS.audit, KEYS.channel, time, member, this.auditJson(audit, time), cutoff),
    )) as number;
    this.lastCounters.generation = Number(generation);
    return { ...flush, generation: Number(generation), time };
  }

  async denylistRules(): Promise<OperatorRuleRecord[]> {
    const [type, flat] = (await this.call('reading the denylist rules', async () => {
      const results = await this.client.multi().type(DENYLIST_RULES_KEY).hgetall(DENYLIST_RULES_KEY).exec();
      return [results?.[0]?.[1] ?? 'none', results?.[1]?.[0] ? {} : (results?.[1]?.[1] ?? {})] as const;
    })) as readonly [string, Record<string, string>];
    if (type !== 'hash' && type !== 'none') {
      this.invalid.replace(DENYLIST_RULES_KEY, wrongType(type));
      return [];
    }
    const records: OperatorRuleRecord[] = [];
    const bad: Array<{ id: string; why: string }> = [];
    for (const [id, raw] of Object.entries(flat)) {
      const parsed = parseStoredRule(id, raw);
      if ('record' in parsed) records.push(parsed.record);
      else bad.push({ id, why: parsed.error });
    }
    this.invalid.replace(DENYLIST_RULES_KEY, bad);
    return records;
  }

  async changeDenylistRule(change: DenylistRuleChange, audit: NewAuditRecord): Promise<boolean> {
    const time = new Date().toISOString();
    const [op, id, record] = 'remove' in change ? ['remove', change.remove, ''] : ['add', change.add.id, JSON.stringify(change.add)];
    const done = (await this.write('the denylist rule', () =>
      this.client.eval(DENYLIST_RULE_SCRIPT, 2, DENYLIST_RULES_KEY, KEYS.audit, KEYS.channel, time, op, id, record, this.auditJson(audit, time)),
    )) as number;
    return done === 1;
  }

  async appendAudit(records: NewAuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const time = new Date().toISOString();
    await this.write('the audit record', async () => {
      const multi = this.client.multi();
      for (const r of records) multi.xadd(KEYS.audit, '*', 'r', this.auditJson(r, time));
      const results = await multi.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
    });
  }

  async audit(query: AuditQuery): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    const sinceMs = query.since !== undefined ? Date.parse(query.since) : undefined;
    const floor = sinceMs !== undefined && !Number.isNaN(sinceMs) ? `${Math.max(0, sinceMs - AUDIT_SKEW_MS)}-0` : '-';
    let end = query.before !== undefined ? `(${query.before}` : '+';
    while (out.length < query.limit) {
      const batch = await this.call('reading the audit log', () => this.client.xrevrange(KEYS.audit, end, floor, 'COUNT', AUDIT_BATCH));
      for (const [id, fields] of batch) {
        const r = parseAudit(pairs(fields).get('r'));
        if ('error' in r) {
          this.invalid.add(KEYS.audit, { id, why: `${r.error}: left out of the audit log's answers` });
          continue;
        }
        if (query.name !== undefined && r.name !== query.name) continue;
        if (query.since !== undefined && r.time < query.since) continue;
        if (query.until !== undefined && r.time > query.until) continue;
        if (query.token !== undefined && r.token !== query.token) continue;
        if (query.action !== undefined && r.action !== query.action) continue;
        out.push({ id, ...r });
        if (out.length >= query.limit) break;
      }
      if (batch.length < AUDIT_BATCH) break;
      end = `(${batch[batch.length - 1]![0]}`;
    }
    return out;
  }

  /** Calls `onNotice` for each change notice (any instance's, this one's included). */
  async subscribe(onNotice: (notice: ChangeNotice | undefined) => void): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      let notice: ChangeNotice | undefined;
      try {
        notice = JSON.parse(message) as ChangeNotice;
      } catch {
        notice = undefined;
      }
      onNotice(notice);
    });
    await this.subscriber.subscribe(KEYS.channel);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const conn of [this.subscriber, this.client]) {
      if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      else conn.disconnect();
    }
  }
}
