-- route.lua: the routing decision, atomic per tenant (one script call per
-- tenant per batch, run through sb_handoff in prelude.lua).
--
-- Extra ARGV per item (5): kind, then
--   kind "m" (customer message): conversation, thread field, started ms, channel
--   kind "a" (agent event):      action, agent, conversation, capacity
-- Keys (prefix P = sb:{t:<tenant>}:): conv:<id> hash {state, agent,
-- started_ms, thread, channel, assigned_ms, accepted_ms, first_reply_ms,
-- closed_ms}; agent:<id> hash {cap, free, status}; agents:free zset (agents
-- with free capacity, score = since when idle); queue zset (waiting
-- conversations, score = started ms).
--
-- Invariants: a conversation has at most one agent (state "assigned" is set
-- only from "queued"/new, in this script); an agent's free capacity never
-- goes below 0 (an agent is in agents:free only while free > 0); an agent
-- freeing capacity pulls the oldest waiting conversation at once.
-- Returns (as the suffix) field 31 of the envelope: a RoutingDecision.
local ASSIGNED, QUEUED, EXISTING, AGENT_OK, REJECTED = 1, 2, 3, 4, 5
local STRATEGY = 'longest_idle'
local now_us = tonumber(ARGV[1])
local now_ms = math.floor(now_us / 1000)
local ttl = tonumber(ARGV[7])

local function decision(outcome, conv, agent, reason, extra)
  local d = pb_uint(1, outcome) .. pb_bytes(2, conv) .. pb_bytes(3, agent) ..
            pb_bytes(4, reason) .. pb_uint(6, now_us) .. (extra or '')
  return pb_bytes(31, d)
end

local function assignment(conv, agent, started)
  return pb_bytes(7, pb_bytes(1, conv) .. pb_bytes(2, agent) .. pb_bytes(3, STRATEGY) ..
                     pb_uint(4, now_us) .. pb_uint(5, started))
end

-- takes one unit of the agent's capacity
local function take(agent)
  if redis.call('HINCRBY', P .. 'agent:' .. agent, 'free', -1) <= 0 then
    redis.call('ZREM', P .. 'agents:free', agent)
  end
end

local function assign(conv, agent)
  redis.call('HSET', P .. 'conv:' .. conv, 'state', 'assigned', 'agent', agent, 'assigned_ms', now_ms)
  take(agent)
  stat('assigned')
end

-- assigns the oldest waiting conversations to an agent with free capacity
local function pull(agent, free)
  local pulled = ''
  while free > 0 do
    local w = redis.call('ZPOPMIN', P .. 'queue')
    if #w == 0 then break end
    assign(w[1], agent)
    pulled = pulled .. assignment(w[1], agent, tonumber(w[2]))
    free = free - 1
  end
  return pulled
end

local function on_message(conv, thread, started, channel)
  stat('routed_messages')
  local c = P .. 'conv:' .. conv
  local st = redis.call('HMGET', c, 'state', 'agent', 'started_ms')
  if st[1] == 'assigned' then
    stat('routed_existing')
    return decision(EXISTING, conv, st[2], 'open_conversation', pb_uint(9, tonumber(st[3])))
  elseif st[1] == 'queued' then
    return decision(QUEUED, conv, '', 'already_waiting', pb_uint(9, tonumber(st[3])))
  end
  -- new (or re-opened after close): one agent or the queue
  local extra = pb_bool(5, true) .. pb_uint(9, started)
  local a = redis.call('ZRANGE', P .. 'agents:free', 0, 0)
  if a[1] then
    redis.call('HSET', c, 'state', 'assigned', 'agent', a[1], 'assigned_ms', now_ms,
               'started_ms', started, 'thread', thread, 'channel', channel)
    take(a[1])
    stat('assigned')
    return decision(ASSIGNED, conv, a[1], STRATEGY, extra)
  end
  redis.call('HSET', c, 'state', 'queued', 'started_ms', started, 'thread', thread, 'channel', channel)
  redis.call('ZADD', P .. 'queue', started, conv)
  stat('queued')
  return decision(QUEUED, conv, '', 'no_agent_free', extra)
end

local function reject(conv, agent, why)
  stat('agent_rejected')
  return decision(REJECTED, conv, agent, why)
end

local function login(agent, cap)
  local a = P .. 'agent:' .. agent
  local cur = redis.call('HMGET', a, 'cap', 'free')
  local free = tonumber(cur[2] or '0') + cap - tonumber(cur[1] or '0')
  redis.call('HSET', a, 'cap', cap, 'free', free, 'status', 'available')
  if free <= 0 then return decision(AGENT_OK, '', agent, 'logged_in_full') end
  redis.call('ZADD', P .. 'agents:free', 'NX', now_ms, agent)
  return decision(AGENT_OK, '', agent, 'logged_in', pull(agent, free))
end

local function logout(agent)
  local a = P .. 'agent:' .. agent
  if redis.call('HSET', a, 'status', 'offline') == 1 then
    redis.call('DEL', a) -- it did not exist: leave no trace
    return reject('', agent, 'unknown_agent')
  end
  redis.call('ZREM', P .. 'agents:free', agent)
  return decision(AGENT_OK, '', agent, 'logged_out')
end

-- the agent's own conversation, or nil
local function owned(conv, agent)
  if conv == '' then return nil end
  local st = redis.call('HMGET', P .. 'conv:' .. conv, 'state', 'agent', 'started_ms',
                        'first_reply_ms', 'thread')
  if st[1] ~= 'assigned' or st[2] ~= agent then return nil end
  return st
end

local function on_agent(action, agent, conv, cap)
  if action == 'login' then return login(agent, tonumber(cap)) end
  if action == 'logout' then return logout(agent) end
  local st = owned(conv, agent)
  if not st then return reject(conv, agent, 'not_owner') end
  local c = P .. 'conv:' .. conv
  local started = pb_uint(9, tonumber(st[3]))
  if action == 'accept' then
    redis.call('HSET', c, 'accepted_ms', now_ms)
    return decision(AGENT_OK, conv, agent, 'accepted', started)
  elseif action == 'reply' then
    if st[4] then return decision(AGENT_OK, conv, agent, 'replied', started) end
    redis.call('HSET', c, 'first_reply_ms', now_ms)
    return decision(AGENT_OK, conv, agent, 'first_reply', started .. pb_bool(8, true))
  elseif action == 'close' then
    redis.call('HSET', c, 'state', 'closed', 'closed_ms', now_ms)
    redis.call('EXPIRE', c, ttl)
    if st[5] and st[5] ~= '' then redis.call('HDEL', P .. 'threads', st[5]) end
    local a = P .. 'agent:' .. agent
    local free = redis.call('HINCRBY', a, 'free', 1)
    if free > 0 and redis.call('HGET', a, 'status') == 'available' then
      redis.call('ZADD', P .. 'agents:free', now_ms, agent)
      stat('closed')
      return decision(AGENT_OK, conv, agent, 'closed', started .. pull(agent, free))
    end
    stat('closed')
    return decision(AGENT_OK, conv, agent, 'closed', started)
  end
  return reject(conv, agent, 'unknown_action')
end

return sb_handoff(function(key, blob, i)
  if ARGV[i] == 'm' then
    return on_message(ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4])
  end
  return on_agent(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
end)
