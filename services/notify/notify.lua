-- notify.lua: notify's commit. The durable hand-off (sb_handoff in
-- prelude.lua: clear the input lease, once per event) plus, in the same
-- script, one pending webhook delivery per endpoint that wants the event.
-- Extra args per item (sb_outbox_prepare): [1] endpoint ids, comma-
-- separated ("" for none) [2] the JSON body [3] expiry of a delivery
-- record, s; then (sb_feed_prepare) [4] the feed topic's kind [5] history
-- entries kept per topic.
-- Keys (prefix P = "sb:{t:<tenant>}:", see sb_keys.h):
--   hooks:due:<hook>        zset  member event key, score due ms
--   hooks:d:<hook>:<key>    hash  body, attempts, first_ms, claim, last_error
--   feed:seq                hash  kind -> last number given on that topic
--   feed:<kind>             stream entry "<seq>-0" {key, env}, capped
-- The event's number on its topic is returned as the suffix (Envelope
-- field 40, feed_seq), so the published bytes carry it; the history holds
-- exactly those bytes.
-- Invariant: a delivery exists iff the event's notify lease was cleared by
-- this same script, so an acknowledged envelope never loses a webhook and a
-- re-sent one (lease already cleared) never adds a second delivery.
local OUTBOX_NEXTRA = 3 -- SB_OUTBOX_NEXTRA: the feed's arguments follow

-- Numbers the event on its topic and keeps it in the topic's history (an
-- XADD failure, e.g. a history key reset by hand behind its counter, loses
-- that history entry only, never the commit).
local function feed(key, blob, kind, cap)
  if kind == nil or kind == '' then return '' end
  local seq = redis.call('HINCRBY', P .. 'feed:seq', kind, 1)
  local suffix = pb_uint(40, seq)
  if cap and cap > 0 then
    redis.pcall('XADD', P .. 'feed:' .. kind, 'MAXLEN', cap, seq .. '-0', 'key', key, 'env', blob .. suffix)
  end
  return suffix
end

local function enqueue(key, blob, a)
  local hooks, body, ttl = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  if hooks == nil or hooks == '' then return end
  local now = math.floor(tonumber(ARGV[1]) / 1000)
  for hook in string.gmatch(hooks, '[^,]+') do
    local d = P .. 'hooks:d:' .. hook .. ':' .. key
    redis.call('HSET', d, 'body', body, 'attempts', 0, 'first_ms', now)
    redis.call('EXPIRE', d, ttl)
    redis.call('ZADD', P .. 'hooks:due:' .. hook, 'NX', now, key)
    stat('hooks_enqueued')
  end
end

return sb_handoff(function(key, blob, a)
  enqueue(key, blob, a)
  return feed(key, blob, ARGV[a + OUTBOX_NEXTRA], tonumber(ARGV[a + OUTBOX_NEXTRA + 1]))
end)
