-- sla_stuck.lua: which of a tenant's queues are stuck, one Incident per
-- stuck spell. Runs after prelude.lua.
-- KEYS[1] stats key. ARGV: [1] now ms [2] lease deadline ms [3] tenant
-- [4] after ms [5] event ttl s [6] queue ids, ';'-separated.
-- A queue is stuck when the head of route's waiting line q:<queue>:wait
-- (the next conversation it would serve) started after_ms or more ago:
-- its score is route_lib.lua's (200 - prio) * 2^40 + (started - EPOCH).
-- incident:stuck:<queue> holds the open incident's id while the queue stays
-- stuck (refreshed on every check, so it outlives a replica's missed
-- check); the check that creates it stores the Incident envelope under
-- ev:<key> with its notify lease and returns it (sb_sla_stuck hands it
-- on). A check that finds the queue moving again ends the incident.
-- Returns {{envelope, ...}, {"<queue>|<waiting>|<head wait ms>", ...}}.
local now, after = tonumber(ARGV[1]), tonumber(ARGV[4])
local TWO40, EPOCH = 1099511627776, 1500000000000
local envs, states = {}, {}

local function incident(queue, waited, waiting, started)
  local id = 'queue_stuck:' .. queue .. ':' .. now
  local body = pb_bytes(1, 'queue_stuck') .. pb_bytes(2, queue) .. pb_bytes(3, id) .. pb_uint(4, started) ..
               pb_double(5, waited) .. pb_double(6, after) .. pb_bytes(7, queue) .. pb_uint(8, waiting) ..
               pb_bool(9, true)
  envs[#envs + 1] = sb_event_store('incident-' .. id, '/sla-timer', 'com.switchboard.incident.queue_stuck', now,
                                   pb_bytes(24, body), ARGV[5], 'notify', ARGV[2])
  return id
end

for queue in string.gmatch(ARGV[6], '[^;]+') do
  local wait = P .. 'q:' .. queue .. ':wait'
  local head = redis.call('ZRANGE', wait, 0, 0, 'WITHSCORES')
  local ik = P .. 'incident:stuck:' .. queue
  local waited, waiting = 0, 0
  if head[2] then
    local started = tonumber(head[2]) % TWO40 + EPOCH
    waited = math.max(0, now - started)
    waiting = redis.call('ZCARD', wait)
    if waited >= after then
      local open = redis.call('GET', ik)
      if not open then
        open = incident(queue, waited, waiting, started)
        stat('queue_stuck')
      end
      -- kept for two periods of after_ms past the last check that saw it
      redis.call('SET', ik, open, 'PX', 2 * after)
    else
      redis.call('DEL', ik)
    end
  else
    redis.call('DEL', ik)
  end
  states[#states + 1] = queue .. '|' .. waiting .. '|' .. waited
end
stats_flush()
return {envs, states}
