-- notify.lua: the peers' notification: one feed entry per event.
-- KEYS[1] sent mark pe:{t:<tenant>}:sent:<id>   KEYS[2] feed stream pe:{t:<tenant>}:feed
-- ARGV[1] id  ARGV[2] published_us  ARGV[3] decided_us  ARGV[4] agent  ARGV[5] ttl s
-- Invariant: one feed entry per event id, whatever the redeliveries. The
-- entry carries done_us (Redis TIME when the effect committed), which the
-- runner reads for latency and throughput.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return 0 end
local t = redis.call('TIME')
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'pub', ARGV[2], 'decided', ARGV[3],
           'agent', ARGV[4], 'done', t[1] .. string.format('%06d', tonumber(t[2])))
return 1
