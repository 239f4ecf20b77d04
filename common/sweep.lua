-- sweep.lua: find hand-offs whose lease expired and claim them for re-send.
-- KEYS[1] stats key. ARGV: [1] now ms [2] new deadline ms [3] lease name
-- [4] most to claim.
-- Invariant: a claimed lease gets the new deadline in the same step, so two
-- sweepers (replicas of the sending stage) never re-send the same lease in
-- the same period. A lease whose envelope expired is dropped and counted
-- ("lease_expired"): there is nothing left to re-send.
local lease = P .. 'lease:' .. ARGV[3]
local due = redis.call('ZRANGEBYSCORE', lease, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, key in ipairs(due) do
  local blob = redis.call('GET', P .. 'ev:' .. key)
  if blob then
    redis.call('ZADD', lease, ARGV[2], key)
    out[#out + 1] = blob
  else
    redis.call('ZREM', lease, key)
    stat('lease_expired')
  end
end
if #out > 0 then stat('resent_' .. ARGV[3], #out) end
stats_flush()
return out
