-- hooks_claim.lua: take up to n due deliveries of one endpoint, each under
-- a lease, so that any number of notify replicas never deliver one
-- delivery twice at once.
-- KEYS[1] the tenant's stats key. ARGV: [1] endpoint id [2] now ms
-- [3] lease end ms [4] n [5] claim token (unique per replica and claim).
-- Returns {{key, body, attempts, first_ms, token}..., next due ms or "",
-- deliveries pending}. A claimed delivery's score becomes the lease end:
-- if its replica dies, it is due again then and another one takes it.
-- Invariant: a delivery is handed out only while its score <= now, and the
-- same step moves its score past now, so two claims never overlap.
local q = P .. 'hooks:due:' .. ARGV[1]
local now, n = tonumber(ARGV[2]), tonumber(ARGV[4])
local out = {}
if n > 0 then
  local due = redis.call('ZRANGEBYSCORE', q, '-inf', now, 'LIMIT', 0, n)
  for _, key in ipairs(due) do
    local d = P .. 'hooks:d:' .. ARGV[1] .. ':' .. key
    local h = redis.call('HMGET', d, 'body', 'attempts', 'first_ms')
    if h[1] then
      redis.call('ZADD', q, 'XX', ARGV[3], key)
      redis.call('HSET', d, 'claim', ARGV[5])
      out[#out + 1] = {key, h[1], tonumber(h[2]) or 0, tonumber(h[3]) or now}
    else
      redis.call('ZREM', q, key) -- its record expired: nothing to send
      stat('hooks_expired')
    end
  end
end
local first = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
stats_flush()
return {out, first[2] or '', redis.call('ZCARD', q)}
