-- replicas.lua: an ingest replica's heartbeat (sb_replicas.h).
-- KEYS[1] sb:{ingest}:replicas: zset, replica id -> when its heartbeat
-- expires (ms, Redis's clock: replicas' clocks may differ, this one is
-- shared). ARGV: [1] replica id [2] ttl ms (0: the replica leaves).
-- Returns how many replicas are alive (an expired one is removed first).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2]) or 0
if ttl > 0 then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
