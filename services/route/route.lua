-- route.lua: the routing decision, atomic per tenant (one script call per
-- tenant per batch, run through sb_handoff in prelude.lua).
--
-- Extra ARGV per item (10): kind, then
--   kind "m" (customer message): conversation, thread ("<channel>:<customer>"),
--     started ms, channel, queue spec, priority, units, rule, windows
--   kind "a" (agent event): action, agent, conversation, capacity, agent
--     spec, target queue spec, target agent, status, reason
-- Specs come compiled from sb_route_config.c:
--   queue spec  "id|strategy|fair_max|fair_period_s"
--   agent spec  "q|strategy|skill_score|fair_max|fair_period_s,..." (the
--               queues the agent's skills qualify for)
--   windows     "reopen_s|sticky_s"
-- Keys (prefix P = sb:{t:<tenant>}:, all in the tenant's slot):
--   conv:<id>        hash {state queued|assigned|closed, agent, queue, units,
--                    prio, started_ms, thread, channel, rule, assigned_ms,
--                    accepted_ms, first_reply_ms, closed_ms}
--   agent:<id>       hash {cap, free (units), status, reason, spec, last_ms}
--   q:<q>:agents     zset: the queue's available agents with free units,
--                    score = the strategy's rank key (lower is better)
--   q:<q>:wait       zset: waiting conversations, score = (200 - priority)
--                    * 2^40 + started ms since 2017: priority, then age
--   q:<q>:rr         string: the agent round_robin served last
--   q:<q>:fair:<w>   hash agent -> assignments in fairness window w
--   last:<thread>    string "agent|closed_ms": the customer's last agent
--
-- Invariants: a conversation has at most one agent ("assigned" is set only
-- from new/queued/transfer, here); an agent's free units never go below 0
-- (an agent is taken only if free >= the conversation's units); an agent is
-- in q:<q>:agents only while available with free > 0; an agent freeing
-- capacity pulls the best waiting conversation of its queues at once.
-- Every new assignment records its queue, rule, strategy and the agents
-- considered with each one's verdict (RoutingDecision fields 10..13).
local ASSIGNED, QUEUED, EXISTING, AGENT_OK, REJECTED = 1, 2, 3, 4, 5
local TWO40, EPOCH = 1099511627776, 1500000000000
local CANDIDATES = 8 -- agents looked at per decision
local PULL_MAX = 64 -- conversations one agent event may pull
local now_us = tonumber(ARGV[1])
local now_ms = math.floor(now_us / 1000)
local ttl = tonumber(ARGV[7])

-- scores go to Redis as integer text: Lua 5.1 prints numbers with 14 digits
local function int(n) return string.format('%.0f', n) end

-- sep is one character that is not magic in patterns ('|' or ',')
local function split(s, sep)
  local out = {}
  for part in string.gmatch(s .. sep, '(.-)' .. sep) do out[#out + 1] = part end
  return out
end

local function queue_of(spec)
  local f = split(spec, '|')
  return {id = f[1], strategy = f[2], fmax = tonumber(f[3]) or 0, fperiod = tonumber(f[4]) or 3600,
          skill = 0}
end

-- the agent's queues, from its spec (parsed once per script call)
local QUEUES = {}
local function queues_of(spec)
  if spec == nil or spec == '' then return {} end
  local out = QUEUES[spec]
  if out then return out end
  out = {}
  for _, e in ipairs(split(spec, ',')) do
    local f = split(e, '|')
    out[#out + 1] = {id = f[1], strategy = f[2], skill = tonumber(f[3]) or 0,
                     fmax = tonumber(f[4]) or 0, fperiod = tonumber(f[5]) or 3600}
  end
  QUEUES[spec] = out
  return out
end

local function qkey(q, what) return P .. 'q:' .. q .. ':' .. what end

local function fair_key(q)
  return qkey(q.id, 'fair:' .. math.floor(now_ms / 1000 / q.fperiod))
end

local function fair_ok(q, agent)
  if q.fmax <= 0 then return true end
  return tonumber(redis.call('HGET', fair_key(q), agent) or '0') < q.fmax
end

-- ---------------------------------------------------------------- agents

local function agent_get(agent)
  local v = redis.call('HMGET', P .. 'agent:' .. agent, 'cap', 'free', 'status', 'spec', 'last_ms')
  if not v[1] then return nil end
  return {id = agent, cap = tonumber(v[1]), free = tonumber(v[2]), status = v[3], spec = v[4],
          last = tonumber(v[5] or now_ms)}
end

-- the rank key of agent a in a queue with this strategy (lower first)
local function rank(strategy, a, skill)
  local idle = a.last - EPOCH
  if strategy == 'least_occupied' then
    return math.floor((a.cap - a.free) * 1000 / math.max(a.cap, 1)) * TWO40 + idle
  elseif strategy == 'best_skill' then
    return (1000 - math.min(skill, 1000)) * TWO40 + idle
  elseif strategy == 'round_robin' then
    return 0 -- ordered by id; the turn comes from q:<q>:rr
  end
  return idle -- longest_idle, sticky
end

-- puts the agent in (or out of) each of its queues' candidate sets
local function reindex(a)
  local avail = a.status == 'available' and a.free > 0
  for _, q in ipairs(queues_of(a.spec)) do
    if avail then
      redis.call('ZADD', qkey(q.id, 'agents'), int(rank(q.strategy, a, q.skill)), a.id)
    else
      redis.call('ZREM', qkey(q.id, 'agents'), a.id)
    end
  end
end

-- units taken (< 0) or given back (> 0); a was read in this call
local function add_units(a, units)
  a.free = a.free + units
  a.last = now_ms
  redis.call('HSET', P .. 'agent:' .. a.id, 'free', a.free, 'last_ms', now_ms)
  reindex(a)
end

-- ------------------------------------------------------------- decisions

local function candidate(agent, score, verdict)
  return pb_bytes(13, pb_bytes(1, agent) .. pb_uint(2, math.max(score, 0)) .. pb_bytes(3, verdict))
end

local function decision(outcome, conv, agent, reason, extra)
  local d = pb_uint(1, outcome) .. pb_bytes(2, conv) .. pb_bytes(3, agent) ..
            pb_bytes(4, reason) .. pb_uint(6, now_us) .. (extra or '')
  return pb_bytes(31, d)
end

local function why(q, rule, strategy, cands)
  return pb_bytes(10, q) .. pb_bytes(11, rule) .. pb_bytes(12, strategy) .. cands
end

local function assignment(conv, agent, strategy, started, q)
  return pb_bytes(7, pb_bytes(1, conv) .. pb_bytes(2, agent) .. pb_bytes(3, strategy) ..
                     pb_uint(4, now_us) .. pb_uint(5, started) .. pb_bytes(6, q))
end

local function assign(conv, a, q, units)
  redis.call('HSET', P .. 'conv:' .. conv, 'state', 'assigned', 'agent', a.id, 'queue', q.id,
             'assigned_ms', now_ms)
  add_units(a, -units)
  if q.strategy == 'round_robin' then redis.call('SET', qkey(q.id, 'rr'), a.id) end
  if q.fmax > 0 then
    local fk = fair_key(q)
    redis.call('HINCRBY', fk, a.id, 1)
    redis.call('EXPIRE', fk, 2 * q.fperiod)
  end
  stat('assigned')
end

-- up to CANDIDATES agents of q in the strategy's order: {agent, score}
local function ranked(q, skip)
  local z, out = qkey(q.id, 'agents'), {}
  if q.strategy == 'round_robin' then
    local last = redis.call('GET', qkey(q.id, 'rr'))
    local after = last and redis.call('ZRANGE', z, '(' .. last, '+', 'BYLEX', 'LIMIT', 0,
                                      CANDIDATES) or {}
    local from_top = redis.call('ZRANGE', z, '-', '+', 'BYLEX', 'LIMIT', 0, CANDIDATES)
    local seen = {}
    for _, list in ipairs({after, from_top}) do
      for _, a in ipairs(list) do
        if not seen[a] and #out < CANDIDATES then
          seen[a] = true
          out[#out + 1] = {a, #out + 1}
        end
      end
    end
  else
    local r = redis.call('ZRANGE', z, 0, CANDIDATES - 1, 'WITHSCORES')
    for i = 1, #r, 2 do out[#out + 1] = {r[i], tonumber(r[i + 1])} end
  end
  if skip then
    for i = #out, 1, -1 do if out[i][1] == skip then table.remove(out, i) end end
  end
  return out
end

-- The customer's last agent, when the window allows it: re-opened within
-- reopen_s (any strategy) or, for sticky queues, within sticky_s.
local function preferred(q, thread, windows)
  local w = split(windows, '|')
  local last = redis.call('GET', P .. 'last:' .. thread)
  if not last then return nil end
  local f = split(last, '|')
  local age = now_ms - (tonumber(f[2]) or 0)
  if age <= (tonumber(w[1]) or 0) * 1000 then return f[1], 'reopened_same_agent' end
  if q.strategy == 'sticky' and age <= (tonumber(w[2]) or 0) * 1000 then return f[1], 'sticky' end
  return nil
end

-- The agent for a new conversation in q, or nil; and the explanation.
local function pick(q, units, thread, windows, skip)
  local cands, chosen, reason = '', nil, q.strategy
  local want, why_pref = nil, nil
  if thread ~= '' then want, why_pref = preferred(q, thread, windows) end
  local list = ranked(q, skip)
  if want and want ~= skip then
    local s = redis.call('ZSCORE', qkey(q.id, 'agents'), want)
    if s then
      table.insert(list, 1, {want, tonumber(s), why_pref})
    else
      cands = cands .. candidate(want, 0, 'unavailable')
    end
  end
  local seen = {}
  for _, c in ipairs(list) do
    if not seen[c[1]] then
      seen[c[1]] = true
      local verdict
      local a = chosen == nil and agent_get(c[1]) or nil
      if chosen then
        verdict = 'ranked_lower'
      elseif not a or a.status ~= 'available' then
        verdict = 'unavailable'
      elseif a.free < units then
        verdict = 'no_capacity'
      elseif not fair_ok(q, a.id) then
        verdict = 'fairness_cap'
      else
        verdict, chosen = 'chosen', a
        if c[3] then reason = c[3] end
      end
      cands = cands .. candidate(c[1], c[2], verdict)
    end
  end
  return chosen, reason, cands
end

-- conversations waiting in the tenant's queues (stats field "waiting",
-- read once per call): pull looks at the waiting lines only when some wait
local WAITING = nil
local function waiting(delta)
  if WAITING == nil then WAITING = tonumber(redis.call('HGET', KEYS[1], 'waiting') or '0') end
  WAITING = WAITING + delta
  if delta ~= 0 then stat('waiting', delta) end
  return WAITING
end

local function enqueue(conv, q, prio, started)
  redis.call('HSET', P .. 'conv:' .. conv, 'state', 'queued', 'queue', q.id)
  redis.call('ZADD', qkey(q.id, 'wait'), int((200 - prio) * TWO40 + (started - EPOCH)), conv)
  stat('queued')
  waiting(1)
end

-- assigns waiting conversations of the agent's queues, best first, while
-- it has units for them
local function pull(a)
  if a.status ~= 'available' or waiting(0) <= 0 then return '' end
  local pulled, qs = '', queues_of(a.spec)
  for _ = 1, PULL_MAX do
    if a.free <= 0 then break end
    local best, bq, bs
    for _, q in ipairs(qs) do
      local h = redis.call('ZRANGE', qkey(q.id, 'wait'), 0, 0, 'WITHSCORES')
      if h[1] and (not bs or tonumber(h[2]) < bs) and fair_ok(q, a.id) then
        best, bq, bs = h[1], q, tonumber(h[2])
      end
    end
    if not best then break end
    local c = redis.call('HMGET', P .. 'conv:' .. best, 'units', 'started_ms')
    local units = tonumber(c[1] or '1')
    if units > a.free then break end
    redis.call('ZREM', qkey(bq.id, 'wait'), best)
    waiting(-1)
    assign(best, a, bq, units)
    pulled = pulled .. assignment(best, a.id, bq.strategy, tonumber(c[2] or '0'), bq.id)
  end
  return pulled
end

-- --------------------------------------------------------------- messages

local function on_message(conv, thread, started, channel, qspec, prio, units, rule, windows)
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
  local q = queue_of(qspec)
  redis.call('HSET', c, 'started_ms', started, 'thread', thread, 'channel', channel,
             'units', units, 'prio', prio, 'rule', rule)
  local extra = pb_bool(5, true) .. pb_uint(9, started)
  local a, reason, cands = pick(q, units, thread, windows, nil)
  if a then
    assign(conv, a, q, units)
    return decision(ASSIGNED, conv, a.id, reason, extra .. why(q.id, rule, q.strategy, cands))
  end
  enqueue(conv, q, prio, started)
  return decision(QUEUED, conv, '', 'no_agent_free', extra .. why(q.id, rule, q.strategy, cands))
end

-- ----------------------------------------------------------------- agents

local function reject(conv, agent, reason)
  stat('agent_rejected')
  return decision(REJECTED, conv, agent, reason)
end

local function login(agent, cap, spec)
  local k = P .. 'agent:' .. agent
  local cur = redis.call('HMGET', k, 'cap', 'free')
  local free = tonumber(cur[2] or '0') + cap - tonumber(cur[1] or '0')
  redis.call('HSET', k, 'cap', cap, 'free', free, 'status', 'available', 'spec', spec)
  redis.call('HSETNX', k, 'last_ms', now_ms)
  redis.call('HDEL', k, 'reason')
  local a = agent_get(agent)
  reindex(a)
  if free <= 0 then return decision(AGENT_OK, '', agent, 'logged_in_full') end
  return decision(AGENT_OK, '', agent, 'logged_in', pull(a))
end

local function set_status(agent, status, reason)
  local a = agent_get(agent)
  if not a or a.status == 'offline' then return reject('', agent, 'unknown_agent') end
  redis.call('HSET', P .. 'agent:' .. agent, 'status', status, 'reason', reason)
  a.status = status
  reindex(a)
  return decision(AGENT_OK, '', agent, 'status_' .. status, pull(a))
end

local function logout(agent)
  local a = agent_get(agent)
  if not a then return reject('', agent, 'unknown_agent') end
  redis.call('HSET', P .. 'agent:' .. agent, 'status', 'offline')
  a.status = 'offline'
  reindex(a)
  return decision(AGENT_OK, '', agent, 'logged_out')
end

-- the agent's own conversation's fields, or nil
local function owned(conv, agent)
  if conv == '' then return nil end
  local st = redis.call('HMGET', P .. 'conv:' .. conv, 'state', 'agent', 'started_ms',
                        'first_reply_ms', 'thread', 'units', 'prio', 'queue')
  if st[1] ~= 'assigned' or st[2] ~= agent then return nil end
  return st
end

local function close(agent, conv, st, windows)
  local c = P .. 'conv:' .. conv
  redis.call('HSET', c, 'state', 'closed', 'closed_ms', now_ms)
  redis.call('EXPIRE', c, ttl)
  if st[5] and st[5] ~= '' then
    redis.call('HDEL', P .. 'threads', st[5])
    redis.call('SET', P .. 'last:' .. st[5], agent .. '|' .. now_ms, 'EX', 86400 * 90)
  end
  local a = agent_get(agent)
  add_units(a, tonumber(st[6] or '1'))
  stat('closed')
  return decision(AGENT_OK, conv, agent, 'closed', pb_uint(9, tonumber(st[3])) .. pull(a))
end

-- to a queue (route it afresh, never back to the same agent) or an agent
local function transfer(agent, conv, st, tqspec, tagent)
  local units, started = tonumber(st[6] or '1'), tonumber(st[3])
  local target
  if tagent ~= '' then
    target = agent_get(tagent)
    if tagent == agent or not target or target.status ~= 'available' or target.free < units then
      return reject(conv, agent, 'target_agent_unavailable')
    end
  elseif tqspec == '' then
    return reject(conv, agent, 'unknown_queue')
  end
  local a = agent_get(agent)
  add_units(a, units)
  stat('transferred')
  local moved, reason = '', 'transferred'
  if target then
    local q = {id = st[8] or '', strategy = 'transfer', fmax = 0, fperiod = 3600}
    assign(conv, target, q, units)
    moved = assignment(conv, target.id, 'transfer', started, q.id)
  else
    local q = queue_of(tqspec)
    local t, _, _ = pick(q, units, '', '', agent)
    if t then
      assign(conv, t, q, units)
      moved = assignment(conv, t.id, q.strategy, started, q.id)
    else
      redis.call('HDEL', P .. 'conv:' .. conv, 'agent')
      enqueue(conv, q, tonumber(st[7] or '0'), started)
      reason = 'transferred_queued'
    end
  end
  return decision(AGENT_OK, conv, agent, reason, pb_uint(9, started) .. moved .. pull(a))
end

local function on_agent(action, agent, conv, cap, spec, tqspec, tagent, status, reason)
  if action == 'login' then return login(agent, tonumber(cap), spec) end
  if action == 'logout' then return logout(agent) end
  if action == 'status' then return set_status(agent, status, reason) end
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
    return close(agent, conv, st)
  elseif action == 'transfer' then
    return transfer(agent, conv, st, tqspec, tagent)
  end
  return reject(conv, agent, 'unknown_action')
end

return sb_handoff(function(key, blob, i)
  if ARGV[i] == 'm' then
    return on_message(ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5],
                      tonumber(ARGV[i + 6]), tonumber(ARGV[i + 7]), ARGV[i + 8], ARGV[i + 9])
  end
  return on_agent(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
                  ARGV[i + 7], ARGV[i + 8], ARGV[i + 9])
end)
