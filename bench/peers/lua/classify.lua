-- classify.lua: the peers' classify effect.
-- KEYS[1] pe:{t:<tenant>}:cls:<id>   ARGV[1] language  ARGV[2] intent  ARGV[3] priority
-- Invariant: idempotent (HSET of the same fields, same values).
redis.call('HSET', KEYS[1], 'lang', ARGV[1], 'intent', ARGV[2], 'prio', ARGV[3])
return 1
