-- route_tick.lua: offers that were not accepted in time, for one tenant.
-- Runs after prelude.lua and route_lib.lua; called every --offer-tick-ms
-- by every route replica (sb_route_tick.c).
-- KEYS[1] the tenant's stats key. ARGV: [1] now us [2] lease deadline ms
-- [3] most offers to expire [4] tenant [5] every queue's spec,
-- ';'-separated [6] next stage's lease ("sla") [7] ttl s.
-- For each offer due (offers zset, score <= now): ZREM it (the claim: with
-- any number of replicas each expiry is handled once), re-offer the
-- conversation (route_lib reoffer), and hand the decision on like any
-- routing decision: an Envelope built here, stored under ev:<key> with its
-- lease for sla-timer, so that a crash before the send loses nothing (the
-- sweeper re-sends it). Returns {next due ms or 0, envelope, ...}.
local due = redis.call('ZRANGEBYSCORE', P .. 'offers', '-inf', now_ms, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {0}
if #due > 0 then
  local queues = queue_map(ARGV[5])
  for _, conv in ipairs(due) do
    local hops = redis.call('HGET', P .. 'conv:' .. conv, 'hops') or '0'
    local d = reoffer(conv, 'timeout', queues)
    if d then
      local id = 'offer-timeout-' .. conv .. '-' .. hops .. '-' .. now_ms
      local key = string.sub(redis.sha1hex('/route\n' .. id), 1, 32)
      local env = pb_bytes(1, id) .. pb_bytes(2, '/route') ..
                  pb_bytes(3, 'com.switchboard.route.offer_timeout') .. pb_bytes(4, '1.0') ..
                  pb_uint(5, now_ms) .. pb_bytes(6, ARGV[4]) .. pb_bytes(9, key) ..
                  pb_bytes(10, conv) .. d
      redis.call('SET', P .. 'ev:' .. key, env, 'EX', ARGV[7])
      redis.call('ZADD', P .. 'lease:' .. ARGV[6], ARGV[2], key)
      out[#out + 1] = env
    end
  end
end
local nxt = redis.call('ZRANGE', P .. 'offers', 0, 0, 'WITHSCORES')
if nxt[2] then out[1] = tonumber(nxt[2]) end
stats_flush()
return out
