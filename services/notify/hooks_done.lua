-- hooks_done.lua: record the outcome of one delivery attempt.
-- KEYS[1] the tenant's stats key. ARGV: [1] endpoint id [2] event key
-- [3] claim token [4] "ok", "retry" or "dead" [5] next due ms (retry)
-- [6] last error [7] dead-letter entry (JSON, for "dead") [8] most dead
-- letters kept; outbound sends only, for "ok" (optional): [9]
-- "<channel>:<platform message id>" of what was sent [10] "<purpose>|<conversation>"
-- [11] ttl s: kept as sent:<[9]> so that ingest's delivery.lua can tell
-- the conversation a receipt belongs to.
-- Invariant: only the holder of the current claim records an outcome (a
-- replica whose lease expired and was re-claimed changes nothing), and a
-- delivery leaves its queue in the same step that marks it delivered or
-- dead-lettered. Dead letters (list hooks:dlq) never grow past ARGV[8].
local hook, key = ARGV[1], ARGV[2]
local q, d = P .. 'hooks:due:' .. hook, P .. 'hooks:d:' .. hook .. ':' .. key
if redis.call('HGET', d, 'claim') ~= ARGV[3] then
  stat('hooks_stale')
  stats_flush()
  return 0
end
if ARGV[4] == 'retry' then
  redis.call('ZADD', q, 'XX', ARGV[5], key)
  redis.call('HINCRBY', d, 'attempts', 1)
  redis.call('HSET', d, 'last_error', ARGV[6], 'claim', '')
  stat('hooks_retried')
else
  redis.call('ZREM', q, key)
  redis.call('DEL', d)
  if ARGV[4] == 'dead' then
    local l = P .. 'hooks:dlq'
    if redis.call('LPUSH', l, ARGV[7]) > tonumber(ARGV[8]) then
      redis.call('RPOP', l)
      stat('hooks_dlq_dropped')
    end
    stat('hooks_dead')
  else
    stat('hooks_delivered')
    if (ARGV[9] or '') ~= '' then
      redis.call('SET', P .. 'sent:' .. ARGV[9], ARGV[10], 'EX', ARGV[11])
    end
  end
end
stats_flush()
return 1
