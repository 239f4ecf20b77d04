-- sla.lua: the peers' first-response timer, armed once per conversation.
-- KEYS[1] pe:{t:<tenant>}:sla (sorted set member=conversation score=due ms)
-- ARGV[1] due (ms since the epoch)   ARGV[2] conversation
-- Invariant: ZADD NX, so a later message or a re-run never moves the timer.
return redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
