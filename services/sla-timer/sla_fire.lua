-- sla_fire.lua: claim due timers of one tenant and hand their SLA events
-- to notify, atomically.
-- KEYS[1] stats key. ARGV: [1] now ms [2] lease deadline ms [3] most to
-- claim [4] tenant [5] first-response target ms [6] warn percent [7] ttl s.
-- For each due member "<w|b>|<conv>": ZREM it (the claim: with any number
-- of sla-timer replicas each timer fires exactly once), store an Envelope
-- (protobuf, built here) under ev:<key> and record lease:notify.
-- Returns {next due ms or -1, envelope, envelope, ...}.
local now = tonumber(ARGV[1])
local target, warn = tonumber(ARGV[5]), tonumber(ARGV[6])
local due = redis.call('ZRANGEBYSCORE', P .. 'timers', '-inf', now, 'WITHSCORES', 'LIMIT', 0,
                       tonumber(ARGV[3]))
local out = {-1}
local claimed = {}
for i = 1, #due, 2 do
  local member, at = due[i], tonumber(due[i + 1])
  local breach = string.sub(member, 1, 1) == 'b'
  local conv = string.sub(member, 3)
  local kind, name = 2, 'warning'
  local started = at - math.floor(target * warn / 100)
  if breach then kind, name, started = 3, 'breach', at - target end
  local id = 'sla-' .. name .. '-' .. conv
  local key = string.sub(redis.sha1hex('/sla-timer\n' .. id), 1, 32)
  local sla = pb_uint(1, kind) .. pb_bytes(2, conv) .. pb_bytes(3, 'first_response') ..
              pb_uint(4, at) .. pb_uint(5, target) .. pb_uint(6, now - started)
  local env = pb_bytes(1, id) .. pb_bytes(2, '/sla-timer') ..
              pb_bytes(3, 'com.switchboard.sla.' .. name) .. pb_bytes(4, '1.0') ..
              pb_uint(5, now) .. pb_bytes(6, ARGV[4]) .. pb_bytes(9, key) ..
              pb_bytes(10, conv) .. pb_bytes(22, sla)
  redis.call('SET', P .. 'ev:' .. key, env, 'EX', ARGV[7])
  redis.call('ZADD', P .. 'lease:notify', ARGV[2], key)
  claimed[#claimed + 1] = member
  out[#out + 1] = env
  stat('sla_' .. name)
end
call_chunked('ZREM', P .. 'timers', claimed, 1)
local nxt = redis.call('ZRANGE', P .. 'timers', 0, 0, 'WITHSCORES')
if nxt[2] then out[1] = tonumber(nxt[2]) end
stats_flush()
return out
