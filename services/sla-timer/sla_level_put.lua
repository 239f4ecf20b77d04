-- sla_level_put.lua: hand a published service level to notify (the
-- durable hand-off of sb_handoff.h for an envelope sla-timer made itself,
-- as sla_fire.lua does for timers).
-- KEYS[1] stats key. ARGV: [1] event key [2] Envelope bytes [3] ttl s
-- [4] notify lease deadline ms.
-- Invariant: the envelope is stored (ev:<key>) and its notify lease
-- recorded in one step, before C sends it, so the sweeper re-sends it if
-- the send is lost.
redis.call('SET', P .. 'ev:' .. ARGV[1], ARGV[2], 'EX', ARGV[3])
redis.call('ZADD', P .. 'lease:notify', ARGV[4], ARGV[1])
stat('service_level_published')
stats_flush()
return 1
