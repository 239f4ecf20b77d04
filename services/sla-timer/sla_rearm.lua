-- sla_rearm.lua: apply the due times the firer computed for a rearm task
-- (sb_sla_rearm.h) of one conversation.
-- KEYS[1] stats key. ARGV: [1] conversation [2] the rearm marker the task
-- was made from [3] its new attrs, then per target (first_response,
-- next_response, resolution, update): the timers:open value the task read
-- ("" absent), its new value ("" drops it), warn due ms, breach due ms
-- ("" none).
-- Invariant (compare-and-set): nothing changes unless the marker is still
-- the one the task was made from, and a target changes only if its value
-- is still the one the task read, so a reply, pause, close or re-arm that
-- came in between wins; a stale task leaves the "r|<conv>" member for the
-- next claim. A first response's new breach due time also goes to its
-- sl:open entry (sb_service_level.h). Returns 1 if applied, 0 if stale.
local conv = ARGV[1]
local TIMERS, OPEN = P .. 'timers', P .. 'timers:open'
local TARGETS = {'first_response', 'next_response', 'resolution', 'update'}
if redis.call('HGET', OPEN, conv .. '|rearm') ~= ARGV[2] then return 0 end
redis.call('HSET', OPEN, conv .. '|attrs', ARGV[3])
for k, t in ipairs(TARGETS) do
  local i = 4 + (k - 1) * 4
  local old, new, wdue, bdue = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local f, w, b = conv .. '|' .. t, 'w|' .. conv .. '|' .. t, 'b|' .. conv .. '|' .. t
  if old ~= '' and redis.call('HGET', OPEN, f) == old then
    if new == '' then
      redis.call('HDEL', OPEN, f)
    else
      redis.call('HSET', OPEN, f, new)
    end
    if new ~= '' and wdue ~= '' then redis.call('ZADD', TIMERS, wdue, w) else redis.call('ZREM', TIMERS, w) end
    if new ~= '' and bdue ~= '' then redis.call('ZADD', TIMERS, bdue, b) else redis.call('ZREM', TIMERS, b) end
    if t == 'first_response' and bdue ~= '' then -- the published service level judges by it
      local sl = redis.call('HGET', P .. 'sl:open', conv)
      local bar = sl and string.find(sl, '|', 1, true)
      if bar then redis.call('HSET', P .. 'sl:open', conv, bdue .. string.sub(sl, bar)) end
    end
  end
end
redis.call('HDEL', OPEN, conv .. '|rearm')
redis.call('ZREM', TIMERS, 'r|' .. conv)
stat('sla_rearmed')
stats_flush()
return 1
