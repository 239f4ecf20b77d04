-- dlq.lua: keep a dead letter. KEYS[1] the tenant's stats key, or
-- "sb:{g}:stats" for messages of no known tenant. ARGV: [1] JSON entry
-- [2] most entries kept [3] input lease to clear ("" for none) [4] key.
-- Invariant: the list never grows past ARGV[2] (drops are counted), and a
-- dead-lettered hand-off loses its lease in the same step, so the sender
-- does not re-send it for ever.
local k = P .. 'dlq'
local n = redis.call('LPUSH', k, ARGV[1])
if n > tonumber(ARGV[2]) then
  redis.call('RPOP', k)
  stat('dlq_dropped')
end
if ARGV[3] ~= '' then redis.call('ZREM', P .. 'lease:' .. ARGV[3], ARGV[4]) end
stat('dead_letters')
stats_flush()
return n
