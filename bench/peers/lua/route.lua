-- route.lua: the peers' routing decision (least occupied agent).
-- KEYS[1] conversation pe:{t:<tenant>}:conv:<customer>
-- KEYS[2] agents, a sorted set member=agent score=conversations held
-- KEYS[3] the event's decision pe:{t:<tenant>}:rt:<id>
-- ARGV[1] capacity per agent
-- Invariants: a conversation is assigned once (later messages of it go to the
-- same agent); an event is decided once (a re-run returns the first decision).
-- Returns "agent decided_us", or false when no agent has room.
local done = redis.call('GET', KEYS[3])
if done then return done end
local agent = redis.call('GET', KEYS[1])
if not agent then
  local a = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  if #a == 0 or tonumber(a[2]) >= tonumber(ARGV[1]) then return false end
  agent = a[1]
  redis.call('ZINCRBY', KEYS[2], 1, agent)
  redis.call('SET', KEYS[1], agent)
end
local t = redis.call('TIME')
local d = agent .. ' ' .. t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('SET', KEYS[3], d)
return d
