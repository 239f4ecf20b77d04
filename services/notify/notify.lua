-- notify.lua: notify's commit. The durable hand-off (sb_handoff in
-- prelude.lua: clear the input lease, once per event) plus, in the same
-- script, one pending webhook delivery per endpoint that wants the event.
-- Extra args per item (sb_outbox_prepare): [1] endpoint ids, comma-
-- separated ("" for none) [2] the JSON body [3] expiry of a delivery
-- record, s; then (sb_feed_prepare) [4] the feed topic's kind [5] history
-- entries kept per topic; then (sb_channel_send_prepare) [6] conversation
-- [7] its reply address to keep (JSON, "" none) [8] purpose of a customer
-- message to send ("reply", "ack", "redirect"; "" none) [9] its text
-- [10] most dead letters kept [11] expiry of address and send records, s.
-- Keys (prefix P = "sb:{t:<tenant>}:", see sb_keys.h):
--   hooks:due:<hook>        zset  member event key, score due ms
--   hooks:d:<hook>:<key>    hash  body, attempts, first_ms, claim, last_error
--   feed:seq                hash  kind -> last number given on that topic
--   feed:<kind>             stream entry "<seq>-0" {key, env}, capped
--   out:addr:<conv>         string the conversation's reply address (JSON)
--   out:once:<key>:<purp>   string mark: this event's send was queued
--   hooks:due:out:<platform>:<account>, hooks:d:<that>:<key>:<purpose>:
--                           the customer message's queue and record
--                           (sb_channel_send, same machinery as webhooks)
-- The event's number on its topic is returned as the suffix (Envelope
-- field 40, feed_seq), so the published bytes carry it; the history holds
-- exactly those bytes.
-- Invariant: a delivery exists iff the event's notify lease was cleared by
-- this same script, so an acknowledged envelope never loses a webhook and a
-- re-sent one (lease already cleared) never adds a second delivery.
local OUTBOX_NEXTRA = 3 -- SB_OUTBOX_NEXTRA: the feed's arguments follow
local FEED_NEXTRA = 2   -- SB_FEED_NEXTRA: the outbound arguments follow

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

-- A customer message: queued once per (event, purpose) on the queue of the
-- conversation's platform account; a reply with no known address (the
-- customer wrote on an account with no outbound credentials, or it
-- expired) is a dead letter at once; a breach acknowledgement without one
-- is only counted.
local function outbound(key, a)
  local conv, addr, purpose, text = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local dlq_max, ttl = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  if conv == nil or conv == '' then return end
  local ak = P .. 'out:addr:' .. conv
  if addr ~= '' then redis.call('SET', ak, addr, 'EX', ttl) end
  if purpose == '' then return end
  local member = key .. ':' .. purpose
  if not redis.call('SET', P .. 'out:once:' .. member, '1', 'NX', 'EX', ttl) then
    stat('out_duplicate')
    return
  end
  local now = math.floor(tonumber(ARGV[1]) / 1000)
  local stored = addr ~= '' and addr or redis.call('GET', ak)
  local ok, rec = pcall(cjson.decode, stored or '')
  if not ok or type(rec) ~= 'table' or not rec.p or not rec.a then
    if purpose == 'breach_ack' then -- a courtesy, not a reply: counted, no dead letter
      stat('out_breach_ack_no_address')
      return
    end
    local l = P .. 'hooks:dlq'
    redis.call('LPUSH', l, cjson.encode({ts_ms = now, stage = 'outbound', key = member,
      reason = 'no reply address for conversation ' .. conv, attempts = 0, first_ms = now}))
    redis.call('LTRIM', l, 0, dlq_max - 1)
    stat('out_no_address')
    return
  end
  rec.purpose, rec.text, rec.conv = purpose, text, conv
  local q = 'out:' .. rec.p .. ':' .. rec.a
  local d = P .. 'hooks:d:' .. q .. ':' .. member
  redis.call('HSET', d, 'body', cjson.encode(rec), 'attempts', 0, 'first_ms', now)
  redis.call('EXPIRE', d, ttl)
  redis.call('ZADD', P .. 'hooks:due:' .. q, 'NX', now, member)
  stat('out_enqueued')
end

return sb_handoff(function(key, blob, a)
  enqueue(key, blob, a)
  outbound(key, a + OUTBOX_NEXTRA + FEED_NEXTRA)
  return feed(key, blob, ARGV[a + OUTBOX_NEXTRA], tonumber(ARGV[a + OUTBOX_NEXTRA + 1]))
end)
