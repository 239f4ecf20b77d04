-- hooks_replay.lua: put webhook dead letters back in their endpoint's queue
-- (sbctl dlq --webhooks --replay). KEYS[1] the tenant's stats key.
-- ARGV: [1] now ms [2] "all" or one event key [3] delivery record expiry s.
-- Returns how many were re-queued. A replayed delivery starts afresh
-- (attempts 0, give-up clock from now) and leaves the dead-letter list in
-- the same step, so a replay never delivers it twice from here.
-- Invariant: only entries that decode and name an endpoint and key move.
local l = P .. 'hooks:dlq'
local now, which, ttl = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local entries = redis.call('LRANGE', l, 0, -1)
local n = 0
for _, e in ipairs(entries) do
  local ok, v = pcall(cjson.decode, e)
  if ok and type(v) == 'table' and v.hook and v.key and v.body and
      (which == 'all' or which == v.key) then
    local d = P .. 'hooks:d:' .. v.hook .. ':' .. v.key
    redis.call('HSET', d, 'body', v.body, 'attempts', 0, 'first_ms', now, 'claim', '')
    redis.call('EXPIRE', d, ttl)
    redis.call('ZADD', P .. 'hooks:due:' .. v.hook, now, v.key)
    redis.call('LREM', l, 1, e)
    n = n + 1
  end
end
stat('hooks_replayed', n)
stats_flush()
return n
