-- delivery.lua: the latest delivery state of our outbound messages, from
-- the platforms' receipts (sb_door_webhook.c, SB_WH_STATUS items).
-- KEYS[1] stats key. ARGV: [1] ttl s [2] now ms, then per receipt: field
-- "<channel>:<platform message id>", status word, rank, time ms.
-- Per receipt: dlv:<field> hash {status, rank, time_ms} is replaced only by
-- a rank at least as high (sent 1 < delivered 2 < read 3 < failed 4 <
-- deleted 5; 0 for words with no order), so receipts that arrive out of
-- order or twice never move a message back; the key expires with events.
-- A change of state of a message notify sent (sent:<field>, written by
-- notify's hooks_done.lua: "<purpose>|<conversation>") becomes one
-- delivery event: a DeliveryStatus envelope (type
-- com.switchboard.delivery, source /delivery, id "<field>:<status>")
-- stored due at once in lease:notify, which sla-timer's sweeper hands to
-- notify for the feed (topic "<tenant>.delivery") and webhooks. Echoes of
-- our own messages are states too, but no event.
-- Returns the number of receipts that changed a state.
-- Invariant: a receipt never creates a conversation or a customer message.
local ttl, now = ARGV[1], tonumber(ARGV[2])
local changed = 0

local function delivery_event(field, status, t, sent)
  local purpose, conv = string.match(sent, '^([^|]*)|(.*)$')
  local channel, id = string.match(field, '^([^:]*):(.*)$')
  if not conv or not channel then return end
  local body = pb_bytes(1, channel) .. pb_bytes(2, id) .. pb_bytes(3, status) .. pb_bytes(4, purpose) ..
               pb_uint(5, t)
  sb_event_store(field .. ':' .. status, '/delivery', 'com.switchboard.delivery', now,
                 pb_bytes(10, conv) .. pb_bytes(25, body), ttl, 'notify', now)
  stat('delivery_events')
end

for i = 3, #ARGV, 4 do
  local field = ARGV[i]
  local k = P .. 'dlv:' .. field
  local status, rank, t = ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local cur = redis.call('HMGET', k, 'rank', 'status')
  if rank >= tonumber(cur[1] or '-1') then
    if cur[2] ~= status then
      changed = changed + 1
      local sent = status ~= 'echo' and redis.call('GET', P .. 'sent:' .. field)
      if sent then delivery_event(field, status, t, sent) end
    end
    redis.call('HSET', k, 'status', status, 'rank', rank, 'time_ms', t)
    redis.call('EXPIRE', k, ttl)
  end
  stat('receipts')
end
stat('receipts_changed', changed)
stats_flush()
return changed
