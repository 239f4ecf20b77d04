-- ingest.lua: the peers' ingest effect (bench/peers, issue 7).
-- KEYS[1] dedupe mark pe:{t:<tenant>}:seen:<id>   KEYS[2] event pe:{t:<tenant>}:ev:<id>
-- ARGV[1] the event (JSON)   ARGV[2] time to live, seconds
-- Invariant: an event id is stored once; a redelivery changes nothing.
-- Returns 1 when new, 0 for a duplicate (the caller forwards either way: a
-- re-run after a crash between this effect and the hand-off must not lose it).
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
