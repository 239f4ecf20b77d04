-- notify.lua: notify's commit. The durable hand-off (sb_handoff in
-- prelude.lua: clear the input lease, once per event) plus, in the same
-- script, one pending webhook delivery per endpoint that wants the event.
-- Extra args per item (sb_outbox_prepare): [1] endpoint ids, comma-
-- separated ("" for none) [2] the JSON body [3] expiry of a delivery
-- record, s.
-- Keys (prefix P = "sb:{t:<tenant>}:", see sb_keys.h):
--   hooks:due:<hook>        zset  member event key, score due ms
--   hooks:d:<hook>:<key>    hash  body, attempts, first_ms, claim, last_error
-- Invariant: a delivery exists iff the event's notify lease was cleared by
-- this same script, so an acknowledged envelope never loses a webhook and a
-- re-sent one (lease already cleared) never adds a second delivery.
local function enqueue(key, blob, a)
  local hooks, body, ttl = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  if hooks == nil or hooks == '' then return '' end
  local now = math.floor(tonumber(ARGV[1]) / 1000)
  for hook in string.gmatch(hooks, '[^,]+') do
    local d = P .. 'hooks:d:' .. hook .. ':' .. key
    redis.call('HSET', d, 'body', body, 'attempts', 0, 'first_ms', now)
    redis.call('EXPIRE', d, ttl)
    redis.call('ZADD', P .. 'hooks:due:' .. hook, 'NX', now, key)
    stat('hooks_enqueued')
  end
  return ''
end
return sb_handoff(enqueue)
