-- dlq_replay.lua: `sbctl dlq replay|purge`, one tenant's dead letters.
-- KEYS[1] the tenant's stats key (or "sb:{g}:stats" for purging the list of
-- no tenant). ARGV: [1] mode "replay" or "purge" [2] now ms [3] event ttl
-- ms, then per entry: the entry's exact JSON text, the lease to restore
-- ("" when purging), the event key, the original envelope bytes.
-- Invariant: an entry leaves the dead-letter list in the same step that puts
-- its hand-off back (ev:<key> holds the envelope again and lease:<stage>
-- names the key with a deadline already past, so the previous stage's
-- sweeper re-sends it on its next pass); an entry that is no longer in the
-- list (replayed or purged by someone else meanwhile) changes nothing.
-- Every key derives from P: only this tenant's slot is touched.
local dlq, mode, now, ttl = P .. 'dlq', ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local done = 0
for i = 4, #ARGV, 4 do
  if redis.call('LREM', dlq, 1, ARGV[i]) == 1 then
    done = done + 1
    if mode == 'replay' then
      redis.call('SET', P .. 'ev:' .. ARGV[i + 2], ARGV[i + 3], 'PX', ttl)
      redis.call('ZADD', P .. 'lease:' .. ARGV[i + 1], now - 1, ARGV[i + 2])
    end
  end
end
if done > 0 then stat(mode == 'replay' and 'dlq_replayed' or 'dlq_purged', done) end
stats_flush()
return done
