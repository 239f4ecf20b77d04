-- sla_level.lua: read one tenant's service-level samples for a period and
-- claim the right to publish it (sb_sla_level.c; figures in
-- sb_service_level.c).
-- KEYS[1] stats key. ARGV: [1] now ms [2] window ms [3] period number
-- (now / period, the same on every replica) [4] claim expiry s.
-- Keys (prefix P, see sb_keys.h): sl:fr zset (first responses, score =
-- reply ms), sl:open hash (conversations awaiting a first response), both
-- written by sla_arm.lua; sl:claim:<period> string.
-- Trims sl:fr to the window (the only place it shrinks). The claim is a
-- SET NX: with any number of sla-timer replicas exactly one gets 1 for a
-- period and publishes; every replica reads, to keep its gauges current.
-- Returns {claimed 0/1, {sl:fr members in the window}, {sl:open values}}.
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local claimed = redis.call('SET', P .. 'sl:claim:' .. ARGV[3], '1', 'NX', 'EX', ARGV[4])
redis.call('ZREMRANGEBYSCORE', P .. 'sl:fr', '-inf', '(' .. (now - window))
local fr = redis.call('ZRANGEBYSCORE', P .. 'sl:fr', now - window, '+inf')
local open = redis.call('HVALS', P .. 'sl:open')
return {claimed and 1 or 0, fr, open}
