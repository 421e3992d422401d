//! The Lua scripts that make a step atomic on the server: claiming due
//! retries and expired leases, parking a retry, keeping a lease, reading
//! the backlog's age. Times are the server's (`TIME`), so instances whose
//! clocks differ agree.

use std::sync::LazyLock;

/// Claims for `consumer`, at most `limit` entries: first the delayed
/// retries that are due (taken out of the delayed set), then entries
/// pending longer than the lease (`XAUTOCLAIM` from `cursor`) that are not
/// waiting for a delayed retry. Each claimed entry counts one more
/// delivery (`XCLAIM` without `JUSTID`).
///
/// `KEYS`: the stream, the group's delayed set. `ARGV`: group, consumer,
/// lease in ms, limit, cursor. Returns `{next cursor, {{id, fields,
/// delivery count}...}, ms until the next delayed retry is due or -1}`.
pub(crate) static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local stream, delayed = KEYS[1], KEYS[2]
local group, consumer = ARGV[1], ARGV[2]
local lease, limit, cursor = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local function claim(id)
  local got = redis.call('XCLAIM', stream, group, consumer, 0, id)
  local entry = got[1]
  if type(entry) ~= 'table' or type(entry[2]) ~= 'table' then
    -- acknowledged meanwhile, or the entry was deleted from the stream
    return
  end
  local pending = redis.call('XPENDING', stream, group, id, id, 1)
  local count = 1
  if #pending > 0 then count = pending[1][4] end
  out[#out + 1] = {entry[1], entry[2], count}
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', delayed, id)
  claim(id)
end
if #out < limit then
  local found = redis.call('XAUTOCLAIM', stream, group, consumer, lease, cursor,
    'COUNT', limit - #out, 'JUSTID')
  cursor = found[1]
  for _, id in ipairs(found[2]) do
    if not redis.call('ZSCORE', delayed, id) then claim(id) end
  end
end
local next_due = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
local wait = -1
if #next_due > 0 then wait = math.max(0, tonumber(next_due[2]) - now) end
return {cursor, out, wait}
",
    )
});

/// Parks a delivered entry for a delayed retry: it stays pending (so no
/// other group sees anything, and its delivery count goes on), and is
/// claimed again once due by [`CLAIM`].
///
/// `KEYS`: the group's delayed set. `ARGV`: entry id, delay in ms.
pub(crate) static PARK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
",
    )
});

/// Restarts the lease of an entry still pending for `consumer` (and does
/// nothing to one another consumer claimed meanwhile).
///
/// `KEYS`: the stream. `ARGV`: group, consumer, entry id. Returns 1 when
/// the lease was kept, 0 when the entry is no longer this consumer's.
pub(crate) static KEEP_ALIVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local mine = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #mine == 0 then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
",
    )
});

/// The age in ms of the oldest entry some consumer group of the stream has
/// not acknowledged: pending, or not yet delivered (the first entry after
/// the group's last delivered one); with no group, the first entry's.
///
/// `KEYS`: the stream. Returns -1 when the stream does not exist.
pub(crate) static OLDEST_UNACKED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local stream = KEYS[1]
if redis.call('EXISTS', stream) == 0 then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local oldest = nil
local function consider(id)
  local ms = tonumber(string.match(id, '^(%d+)'))
  if ms and (oldest == nil or ms < oldest) then oldest = ms end
end
local groups = redis.call('XINFO', 'GROUPS', stream)
for _, group in ipairs(groups) do
  local name, last
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then last = group[i + 1] end
  end
  local pending = redis.call('XPENDING', stream, name)
  if pending[1] > 0 then consider(pending[2]) end
  local after = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 1)
  if #after > 0 then consider(after[1][1]) end
end
if #groups == 0 then
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first > 0 then consider(first[1][1]) end
end
if oldest == nil then return 0 end
return math.max(0, now - oldest)
",
    )
});

/// Removes from the group the consumers of bisslog subscribers that are
/// gone: named `bisslog-...`, nothing pending, and idle (no read, no
/// claim) for longer than `forget after`. A subscriber that was only
/// partitioned away is added back by its next read.
///
/// `KEYS`: the stream. `ARGV`: group, forget after in ms, the calling
/// consumer. Returns how many were removed.
pub(crate) static SWEEP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local removed = 0
local after = tonumber(ARGV[2])
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #consumer, 2 do
    if consumer[i] == 'name' then name = consumer[i + 1] end
    if consumer[i] == 'pending' then pending = consumer[i + 1] end
    if consumer[i] == 'idle' then idle = consumer[i + 1] end
  end
  if name ~= ARGV[3] and string.sub(name, 1, 8) == 'bisslog-' and pending == 0
      and idle > after then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    removed = removed + 1
  end
end
return removed
",
    )
});
