// The fleet store's log of changed override names: `dnslinkd:changelog`, a sorted set of
// `<version> <name>` members scored by the override version that changed them, written by the
// change script in the same atomic step as the change and trimmed to LOG_KEEP members, with
// `logFloor` in the meta hash (every version above it is whole in the log). It lets a replica read
// only what changed since the version it applied; this module owns the Lua of both sides and the
// check that a log read covers every version asked (otherwise: a full read). No I/O of its own.

/** Members kept in the log (one per name changed per version): an import of up to this many names reads as a delta. */
export const LOG_KEEP = 200_000;
/** Names read in one delta at most: a replica further behind reads the whole set instead. */
export const DELTA_MAX = 50_000;

/**
 * Lua (inside the change script, after its checks): logs the names changed at `version` and trims
 * the log. A store written before the log existed has no `logFloor`: the first write sets it to the
 * version before its own (nothing older is in the log), so older stores are migrated by their first
 * change. A floor that is not a whole number (written by hand) is set the same way.
 * Expects `KEYS_META` and `KEYS_LOG` (Lua expressions naming the keys).
 */
export function logWriteLua(meta: string, log: string): string {
  return `
local function logChanges(version, names)
  local floor = redis.call('HGET', ${meta}, 'logFloor')
  if not (floor and string.match(floor, '^%d+$') and #floor <= 15) then redis.call('HSET', ${meta}, 'logFloor', version - 1) end
  for _, name in ipairs(names) do redis.call('ZADD', ${log}, version, version .. ' ' .. name) end
  local excess = redis.call('ZCARD', ${log}) - ${LOG_KEEP}
  if excess > 0 then
    local last = redis.call('ZRANGE', ${log}, excess - 1, excess - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', ${log}, 0, excess - 1)
    local cut = tonumber(last[2])
    local kept = tonumber(redis.call('HGET', ${meta}, 'logFloor'))
    if cut > kept then redis.call('HSET', ${meta}, 'logFloor', cut) end
  end
end
`;
}

/**
 * KEYS: meta, overrides, changelog. ARGV: the version the reader applied, DELTA_MAX.
 * Returns {'same', meta, count} when no override version is newer (count: the hash's fields, so a
 * field deleted by hand shows), {'delta', meta, members, names, values} with the log's members
 * above that version and each changed name's record now (false: removed), or {'full', why} when
 * the log cannot say (no epoch: a new store; no floor: never written with the log; trimmed past
 * that version; too many; a key of another type).
 */
export const CHANGES_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return {'full', 'no meta hash'} end
local ot = redis.call('TYPE', KEYS[2]).ok
if ot ~= 'hash' and ot ~= 'none' then return {'full', 'overrides is a ' .. ot} end
local meta = redis.call('HGETALL', KEYS[1])
local from = tonumber(ARGV[1])
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if not version then return {'full', 'version unreadable'} end
if not redis.call('HGET', KEYS[1], 'epoch') then return {'full', 'no epoch'} end
if version <= from then return {'same', meta, redis.call('HLEN', KEYS[2])} end
local floor = tonumber(redis.call('HGET', KEYS[1], 'logFloor') or '')
if not floor then return {'full', 'no change log'} end
if from < floor then return {'full', 'the change log was trimmed past version ' .. from} end
local lt = redis.call('TYPE', KEYS[3]).ok
if lt ~= 'zset' then return {'full', 'the change log is a ' .. lt} end
if redis.call('ZCOUNT', KEYS[3], '(' .. from, '+inf') > tonumber(ARGV[2]) then return {'full', 'too many changes'} end
local members = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. from, '+inf')
local seen, names = {}, {}
for _, m in ipairs(members) do
  local space = string.find(m, ' ')
  if space then
    local name = string.sub(m, space + 1)
    if not seen[name] then seen[name] = true; names[#names + 1] = name end
  end
end
local values = {}
if #names > 0 and ot == 'hash' then
  for i = 1, #names, 5000 do
    local part = redis.call('HMGET', KEYS[2], unpack(names, i, math.min(i + 4999, #names)))
    for _, v in ipairs(part) do values[#values + 1] = v end
  end
else
  for i = 1, #names do values[i] = false end
end
return {'delta', meta, members, names, values}
`;

/**
 * Whether log members (`<version> <name>`) cover every version in (from, to]: each change script
 * logs at least one name for the version it made, so a version with none was made by something
 * else (written by hand) and only a full read sees what it did. Returns undefined when covered,
 * else why not.
 */
export function logGap(members: readonly string[], from: number, to: number): string | undefined {
  if (to - from > members.length) return `${to - from} versions, ${members.length} log entries`;
  const seen = new Set<number>();
  for (const m of members) {
    const space = m.indexOf(' ');
    const version = space > 0 ? Number(m.slice(0, space)) : NaN;
    if (!Number.isInteger(version) || version <= from || version > to || space === m.length - 1) return `log entry ${JSON.stringify(m.slice(0, 60))} is not <version> <name> in (${from}, ${to}]`;
    seen.add(version);
  }
  for (let v = from + 1; v <= to; v++) if (!seen.has(v)) return `version ${v} is not in the change log (written by something else)`;
  return undefined;
}
