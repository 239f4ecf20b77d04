-- sla_fire.lua: claim due timers of one tenant and hand their SLA events
-- to notify, atomically.
-- KEYS[1] stats key. ARGV: [1] now ms [2] lease deadline ms [3] most to
-- claim [4] tenant [5] first-response target ms [6] warn percent [7] ttl s
-- ([5] and [6] only for timers armed before targets had names).
-- For each due member "<w|b>|<conv>|<target>" (or "<w|b>|<conv>"): ZREM it
-- (the claim: with any number of sla-timer replicas each timer fires
-- exactly once), store an Envelope (protobuf, built here) under ev:<key>
-- and record lease:notify. The target's timers:open entry ("<started ms>,
-- <target ms>,<calendar>", see sla_arm.lua) stays: the reply or close that
-- stops the target still reports it missed.
-- Event ids: "sla-<warning|breach>-<conv>" for first response (one per
-- conversation), "sla-<warning|breach>-<target>-<conv>-<due ms>" for the
-- others (next response may be re-armed and fire again).
-- Returns {next due ms or -1, envelope, envelope, ...}.
local now = tonumber(ARGV[1])
local legacy_target, legacy_warn = tonumber(ARGV[5]), tonumber(ARGV[6])
local due = redis.call('ZRANGEBYSCORE', P .. 'timers', '-inf', now, 'WITHSCORES', 'LIMIT', 0,
                       tonumber(ARGV[3]))
local out = {-1}
local claimed, members, fields = {}, {}, {}
for i = 1, #due, 2 do
  local member = due[i]
  local conv, target = string.match(member, '^[wb]|([^|]+)|(.+)$')
  if not conv then conv, target = string.sub(member, 3), 'first_response' end
  members[#members + 1] = {member = member, at = tonumber(due[i + 1]), conv = conv, target = target}
  fields[#fields + 1] = conv .. '|' .. target
end
local open = {}
if #fields > 0 then open = call_chunked('HMGET', P .. 'timers:open', fields, 1) end
for i, m in ipairs(members) do
  local breach = string.sub(m.member, 1, 1) == 'b'
  local kind, name = 2, 'warning'
  if breach then kind, name = 3, 'breach' end
  local started, target_ms, cal
  if open[i] then
    started, target_ms, cal = string.match(open[i], '^(%d+),(%d+),(.*)$')
    started, target_ms = tonumber(started), tonumber(target_ms)
  end
  if not started then -- armed before timers:open existed
    target_ms, cal = legacy_target, ''
    started = m.at - math.floor(target_ms * legacy_warn / 100)
    if breach then started = m.at - target_ms end
  end
  local id = 'sla-' .. name .. '-' .. m.conv
  if m.target ~= 'first_response' then
    id = 'sla-' .. name .. '-' .. m.target .. '-' .. m.conv .. '-' .. m.at
  end
  local key = string.sub(redis.sha1hex('/sla-timer\n' .. id), 1, 32)
  local sla = pb_uint(1, kind) .. pb_bytes(2, m.conv) .. pb_bytes(3, m.target) ..
              pb_uint(4, m.at) .. pb_uint(5, target_ms) .. pb_uint(6, math.max(0, now - started)) ..
              pb_bytes(8, cal)
  local env = pb_bytes(1, id) .. pb_bytes(2, '/sla-timer') ..
              pb_bytes(3, 'com.switchboard.sla.' .. name) .. pb_bytes(4, '1.0') ..
              pb_uint(5, now) .. pb_bytes(6, ARGV[4]) .. pb_bytes(9, key) ..
              pb_bytes(10, m.conv) .. pb_bytes(22, sla)
  redis.call('SET', P .. 'ev:' .. key, env, 'EX', ARGV[7])
  redis.call('ZADD', P .. 'lease:notify', ARGV[2], key)
  claimed[#claimed + 1] = m.member
  out[#out + 1] = env
  stat('sla_' .. name)
  if m.target ~= 'first_response' then stat('sla_' .. name .. '_' .. m.target) end
end
call_chunked('ZREM', P .. 'timers', claimed, 1)
local nxt = redis.call('ZRANGE', P .. 'timers', 0, 0, 'WITHSCORES')
if nxt[2] then out[1] = tonumber(nxt[2]) end
stats_flush()
return out
