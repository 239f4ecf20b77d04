-- delivery.lua: the latest delivery state of our outbound messages, from
-- the platforms' receipts (sb_door_webhook.c, SB_WH_STATUS items).
-- KEYS[1] stats key. ARGV: [1] ttl s, then per receipt: field
-- "<channel>:<platform message id>", status word, rank, time ms.
-- Per receipt: dlv:<field> hash {status, rank, time_ms} is replaced only by
-- a rank at least as high (sent 1 < delivered 2 < read 3 < failed 4 <
-- deleted 5; 0 for words with no order), so receipts that arrive out of
-- order or twice never move a message back; the key expires with events.
-- Returns the number of receipts that changed a state.
-- Invariant: a receipt never creates a conversation or an event.
local changed = 0
for i = 2, #ARGV, 4 do
  local k = P .. 'dlv:' .. ARGV[i]
  local status, rank, t = ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  local cur = tonumber(redis.call('HGET', k, 'rank') or '-1')
  if rank >= cur then
    if redis.call('HGET', k, 'status') ~= status then changed = changed + 1 end
    redis.call('HSET', k, 'status', status, 'rank', rank, 'time_ms', t)
    redis.call('EXPIRE', k, ARGV[1])
  end
  stat('receipts')
end
stat('receipts_changed', changed)
stats_flush()
return changed
