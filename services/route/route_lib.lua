-- route_lib.lua: what route.lua and route_tick.lua share (prepended to
-- both after prelude.lua): queues and agents, the strategies' ranking,
-- picking an agent, assigning (or offering), waiting lines and pulling.
-- Keys and invariants: see route.lua. Expects ARGV[1] = now (us) and
-- ARGV[7] = ttl (s) in both scripts.
local ASSIGNED, QUEUED, EXISTING, AGENT_OK, REJECTED, DIVERTED = 1, 2, 3, 4, 5, 6
local TWO40, EPOCH = 1099511627776, 1500000000000
local CANDIDATES = 8 -- agents looked at per decision
local PULL_MAX = 64 -- conversations one agent event may pull
local now_us = tonumber(ARGV[1])
local now_ms = math.floor(now_us / 1000)
local ttl = tonumber(ARGV[7])

-- scores go to Redis as integer text: Lua 5.1 prints numbers with 14
-- digits. Redis's Lua formats %d as a C long (64 bits), exact below 2^53,
-- which every score is, and cheaper than %.0f.
local function int(n) return string.format('%d', n) end
-- now_ms as a field value: a number given to redis.call is formatted with
-- %.14g (printf's floating point, twice the cost of %d) on every call
local NOW_MS = int(now_ms)

-- "a|b||c" -> {"a", "b", "", "c"}; sep is one plain character ('|' or
-- ','). A plain find per field: a pattern match (gmatch) costs several
-- times more, and every decision splits its specs.
local sfind, ssub = string.find, string.sub
local function split(s, sep)
  local out, i, n = {}, 1, 0
  while true do
    local j = sfind(s, sep, i, true)
    n = n + 1
    if not j then
      out[n] = ssub(s, i)
      return out
    end
    out[n] = ssub(s, i, j - 1)
    i = j + 1
  end
end

-- a queue spec "id|strategy|fair_max|fair_period_s|offer_s|hops|away|fallback|
-- next_s|next|base|next_at_s|ring_all" (sb_route_config.h): next is where a
-- conversation waiting here goes next (its next ring, else max_wait's
-- target), next_at_s when (s after entering the configured queue), next_s
-- the same from entering this one; base is a ring's configured queue
local QSPECS = {} -- parsed once per script call (never modified)
local function queue_of(spec)
  local q = QSPECS[spec]
  if q then return q end
  local f = split(spec, '|')
  local next_s = tonumber(f[9]) or 0
  q = {id = f[1], strategy = f[2], fmax = tonumber(f[3]) or 0, fperiod = tonumber(f[4]) or 3600,
          offer_s = tonumber(f[5]) or 0, hops = tonumber(f[6]) or 3, away = f[7] == '1',
          fallback = f[8] or '', next_s = next_s, next = f[10] or '', base = f[11] or '',
          next_at = tonumber(f[12]) or next_s, ring_all = tonumber(f[13]) or 0, skill = 0}
  QSPECS[spec] = q
  return q
end

-- every queue of the tenant by id, from "spec;spec;..."
local function queue_map(specs)
  local out = {}
  for _, s in ipairs(split(specs, ';')) do
    if s ~= '' then
      local q = queue_of(s)
      out[q.id] = q
    end
  end
  return out
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
                     fmax = tonumber(f[4]) or 0, fperiod = tonumber(f[5]) or 3600,
                     offer_s = tonumber(f[6]) or 0}
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
  local v = redis.call('HMGET', P .. 'agent:' .. agent, 'cap', 'free', 'status', 'spec', 'last_ms',
                        'convs')
  if not v[1] then return nil end
  return {id = agent, cap = tonumber(v[1]), free = tonumber(v[2]), status = v[3], spec = v[4],
          last = tonumber(v[5] or now_ms), convs = v[6] or ''}
end

-- the rank key in a queue with this strategy (lower first) of an agent
-- with capacity cap, free units and its last assignment at last (ms)
local function rank(strategy, cap, free, last, skill)
  local idle = last - EPOCH
  if strategy == 'least_occupied' then
    return math.floor((cap - free) * 1000 / math.max(cap, 1)) * TWO40 + idle
  elseif strategy == 'best_skill' then
    return (1000 - math.min(skill, 1000)) * TWO40 + idle
  elseif strategy == 'round_robin' then
    return 0 -- ordered by id; the turn comes from q:<q>:rr
  end
  return idle -- longest_idle, sticky
end

-- Candidate-set changes wait here, per queue (agent -> score text, or
-- false to remove), and go to Redis as one variadic ZADD and one ZREM per
-- queue: before anything reads that queue's set (zflush) and at the end of
-- the script call (zflush_all). So an agent re-ranked twice in one call,
-- or several agents of one queue, cost one command per queue.
local ZPEND, ZPEND_N = {}, 0

local function zflush(qid)
  local p = ZPEND[qid]
  if not p then return end
  ZPEND[qid] = nil
  ZPEND_N = ZPEND_N - 1
  local adds, rems = {}, {}
  for agent, score in pairs(p) do
    if score then
      adds[#adds + 1], adds[#adds + 2] = score, agent
    else
      rems[#rems + 1] = agent
    end
  end
  local z = qkey(qid, 'agents')
  if #adds > 0 then call_chunked('ZADD', z, adds, 2) end
  if #rems > 0 then call_chunked('ZREM', z, rems, 1) end
end

local function zflush_all()
  if ZPEND_N == 0 then return end
  for qid in pairs(ZPEND) do zflush(qid) end
end

local function zpend(qid, agent, score)
  local p = ZPEND[qid]
  if not p then
    p = {}
    ZPEND[qid], ZPEND_N = p, ZPEND_N + 1
  end
  p[agent] = score
end

-- puts the agent in (or out of) each of its queues' candidate sets.
-- prev: the agent's {status, free, last} this call last indexed it with
-- (its state as read), or nil: a queue whose rank key and membership did
-- not change is left alone.
local function reindex(a, prev)
  local avail = a.status == 'available' and a.free > 0
  local was = prev and prev.status == 'available' and prev.free > 0
  for _, q in ipairs(queues_of(a.spec)) do
    if avail then
      local r = rank(q.strategy, a.cap, a.free, a.last, q.skill)
      if not (was and rank(q.strategy, a.cap, prev.free, prev.last, q.skill) == r) then
        zpend(q.id, a.id, int(r))
      end
    elseif was ~= false then -- nil (unknown) or true: it may be in the set
      zpend(q.id, a.id, false)
    end
  end
end

-- units taken (< 0, for conv) or given back (> 0, by conv); a was read in
-- this call. The agent's open conversations ride along in its hash
-- ("convs", comma-separated: at most its capacity), so a presence timeout
-- finds them without another key or call.
local function add_units(a, units, conv)
  local prev = {status = a.status, free = a.free, last = a.last}
  a.free = a.free + units
  a.last = now_ms
  if units < 0 then
    a.convs = a.convs == '' and conv or (a.convs .. ',' .. conv)
  else -- conv cut out of the list (plain finds: no table)
    local list, cut = ',' .. a.convs .. ',', ',' .. conv .. ','
    local i, j = sfind(list, cut, 1, true)
    while i do
      list = ssub(list, 1, i) .. ssub(list, j + 1)
      i, j = sfind(list, cut, i, true)
    end
    a.convs = ssub(list, 2, -2)
  end
  redis.call('HSET', P .. 'agent:' .. a.id, 'free', int(a.free), 'last_ms', NOW_MS, 'convs', a.convs)
  reindex(a, prev)
end

-- ------------------------------------------------------------- decisions

-- (every decision explains up to CANDIDATES of these: the tags are
-- constants: Candidate fields 1..3, in RoutingDecision field 13; the few
-- verdicts are encoded once per call, and so is now_us, which every
-- decision and assignment carries)
local VERDICT = {}
local NOW6, NOW4 = pb_uint(6, now_us), pb_uint(4, now_us)
-- (the Candidate's length is added up rather than measured on a string
-- built for it: one string per candidate instead of four)
local function candidate(agent, score, verdict)
  local v = VERDICT[verdict]
  if not v then
    v = '\26' .. pb_varint(#verdict) .. verdict
    VERDICT[verdict] = v
  end
  local la = pb_varint(#agent)
  if score > 0 then
    local s = pb_varint(score)
    return '\106' .. pb_varint(2 + #la + #agent + #s + #v) .. '\10' .. la .. agent .. '\16' .. s .. v
  end
  return '\106' .. pb_varint(1 + #la + #agent + #v) .. '\10' .. la .. agent .. v
end

local function decision(outcome, conv, agent, reason, extra)
  local d = pb_uint(1, outcome) .. pb_bytes(2, conv) .. pb_bytes(3, agent) ..
            pb_bytes(4, reason) .. NOW6 .. (extra or '')
  return pb_bytes(31, d)
end

local function why(q, rule, strategy, cands)
  return pb_bytes(10, q) .. pb_bytes(11, rule) .. pb_bytes(12, strategy) .. cands
end

local function assignment(conv, agent, strategy, started, q, offer_until)
  return pb_bytes(7, pb_bytes(1, conv) .. pb_bytes(2, agent) .. pb_bytes(3, strategy) ..
                     NOW4 .. pb_uint(5, started) .. pb_bytes(6, q) ..
                     pb_uint(7, offer_until))
end

-- HSET conv's hash with fields, then the pairs in more (a list, or nil):
-- a new conversation's own fields ride along with its first state write
local function conv_set(conv, fields, more)
  for _, v in ipairs(more or {}) do fields[#fields + 1] = v end
  redis.call('HSET', P .. 'conv:' .. conv, unpack(fields))
end

-- Assigns conv to agent a from queue q; in a queue that offers, the
-- assignment is an offer until accepted: returns its deadline (ms), or 0.
-- more: further conversation fields to write (see conv_set).
local function assign(conv, a, q, units, more)
  local until_ms = 0
  if (q.offer_s or 0) > 0 then
    until_ms = now_ms + q.offer_s * 1000
    local o = redis.call('HMGET', P .. 'conv:' .. conv, 'tried', 'hops')
    local tried = (o[1] and o[1] ~= '') and (o[1] .. ',' .. a.id) or a.id
    conv_set(conv, {'state', 'offered', 'agent', a.id, 'rung', '', 'queue', q.id, 'assigned_ms',
                    NOW_MS, 'offer_until', until_ms, 'tried', tried, 'hops', (tonumber(o[2]) or 0) + 1},
             more)
    redis.call('ZADD', P .. 'offers', until_ms, conv)
    stat('offered')
  else
    conv_set(conv, {'state', 'assigned', 'agent', a.id, 'rung', '', 'queue', q.id, 'assigned_ms',
                    NOW_MS}, more)
  end
  add_units(a, -units, conv)
  if q.strategy == 'round_robin' then redis.call('SET', qkey(q.id, 'rr'), a.id) end
  if q.fmax > 0 then
    local fk = fair_key(q)
    redis.call('HINCRBY', fk, a.id, 1)
    redis.call('EXPIRE', fk, 2 * q.fperiod)
  end
  stat('assigned')
  return until_ms
end

-- Ring-all: conv offered to every agent of list at once, each holding the
-- units until one takes it (take_offer in route.lua withdraws the others)
-- or it times out. The conversation has no agent meanwhile; "rung" names
-- the holders. Fairness counts every offer, as for single offers.
-- Returns the offer's deadline (ms).
local function offer_all(conv, list, q, units, more)
  local until_ms = now_ms + q.offer_s * 1000
  local o = redis.call('HMGET', P .. 'conv:' .. conv, 'tried', 'hops')
  local ids = {}
  for _, a in ipairs(list) do ids[#ids + 1] = a.id end
  local rung = table.concat(ids, ',')
  local tried = (o[1] and o[1] ~= '') and (o[1] .. ',' .. rung) or rung
  conv_set(conv, {'state', 'offered', 'agent', '', 'rung', rung, 'queue', q.id, 'assigned_ms', NOW_MS,
                  'offer_until', until_ms, 'tried', tried, 'hops', (tonumber(o[2]) or 0) + 1}, more)
  redis.call('ZADD', P .. 'offers', until_ms, conv)
  for _, a in ipairs(list) do
    add_units(a, -units, conv)
    if q.fmax > 0 then
      local fk = fair_key(q)
      redis.call('HINCRBY', fk, a.id, 1)
      redis.call('EXPIRE', fk, 2 * q.fperiod)
    end
  end
  stat('offered')
  stat('rung', #list)
  return until_ms
end

-- up to CANDIDATES agents of q in the strategy's order: their ids and
-- scores (two lists: no table per agent)
local function ranked(q, skip)
  zflush(q.id)
  local z, ids, scores = qkey(q.id, 'agents'), {}, {}
  if q.strategy == 'round_robin' then
    local last = redis.call('GET', qkey(q.id, 'rr'))
    local after = last and redis.call('ZRANGE', z, '(' .. last, '+', 'BYLEX', 'LIMIT', 0,
                                      CANDIDATES) or {}
    local from_top = redis.call('ZRANGE', z, '-', '+', 'BYLEX', 'LIMIT', 0, CANDIDATES)
    local seen = {}
    for _, list in ipairs({after, from_top}) do
      for _, a in ipairs(list) do
        if not seen[a] and #ids < CANDIDATES and not (skip and skip[a]) then
          seen[a] = true
          ids[#ids + 1] = a
          scores[#ids] = #ids
        end
      end
    end
    return ids, scores
  end
  local r = redis.call('ZRANGE', z, 0, CANDIDATES - 1, 'WITHSCORES')
  for i = 1, #r, 2 do
    if not (skip and skip[r[i]]) then
      ids[#ids + 1] = r[i]
      scores[#ids] = tonumber(r[i + 1])
    end
  end
  return ids, scores
end

-- The customer's last agent, when the window allows it: re-opened within
-- reopen_s (any strategy) or, for sticky queues, within sticky_s.
-- last:<thread> as this call knows it (route.lua's closes record what
-- they write): value, false (none), or nil (not known: read it)
local LAST = {}
local function last_of(thread)
  local v = LAST[thread]
  if v == nil then
    v = redis.call('GET', P .. 'last:' .. thread)
    LAST[thread] = v
  end
  return v
end

local WINDOWS = {} -- windows strings, split once per call
local function preferred(q, thread, windows)
  local w = WINDOWS[windows]
  if not w then
    w = split(windows, '|')
    WINDOWS[windows] = w
  end
  local last = last_of(thread)
  if not last then return nil end
  local f = split(last, '|')
  local age = now_ms - (tonumber(f[2]) or 0)
  if age <= (tonumber(w[1]) or 0) * 1000 then return f[1], 'reopened_same_agent' end
  if q.strategy == 'sticky' and age <= (tonumber(w[2]) or 0) * 1000 then return f[1], 'sticky' end
  return nil
end

-- The agent for a new conversation in q, or nil; and the explanation.
-- With n > 1 (ring-all), up to n agents (verdict "rung"): the 4th value.
local function pick(q, units, thread, windows, skip, n)
  local cands, chosen, reason = {}, nil, q.strategy
  local want, why_pref = nil, nil
  if thread ~= '' then want, why_pref = preferred(q, thread, windows) end
  local ids, scores = ranked(q, skip)
  local first = 1 -- ids[1] is the preferred agent when it is available
  if want and not (skip and skip[want]) then
    local s = redis.call('ZSCORE', qkey(q.id, 'agents'), want)
    if s then
      table.insert(ids, 1, want)
      table.insert(scores, 1, tonumber(s))
      first = 2
    else
      cands[1] = candidate(want, 0, 'unavailable')
      want = nil
    end
  end
  local all, need = {}, math.max(n or 1, 1)
  for i, id in ipairs(ids) do
    if i < first or id ~= want then -- the preferred agent once, as preferred
      local verdict
      local a = #all < need and agent_get(id) or nil
      if #all >= need then
        verdict = 'ranked_lower'
      elseif not a or a.status ~= 'available' then
        verdict = 'unavailable'
      elseif a.free < units then
        verdict = 'no_capacity'
      elseif not fair_ok(q, a.id) then
        verdict = 'fairness_cap'
      else
        verdict = need > 1 and 'rung' or 'chosen'
        all[#all + 1] = a
        if not chosen then
          chosen = a
          if i < first then reason = why_pref end
        end
      end
      cands[#cands + 1] = candidate(id, scores[i], verdict)
    end
  end
  if need > 1 and chosen and reason == q.strategy then reason = 'ring_all' end
  return chosen, reason, table.concat(cands), all
end

-- The agents pick found become conv's agent: one offer or assignment, or
-- with ring-all (q.ring_all > 1 in a queue that offers) one offer to all.
-- Returns the offer's deadline (0: assigned).
local function place(conv, q, units, all, more)
  if (q.ring_all or 0) > 1 and (q.offer_s or 0) > 0 then return offer_all(conv, all, q, units, more) end
  return assign(conv, all[1], q, units, more)
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

-- Waiting in a configured queue starts its clock (conv field qin_ms); in a
-- ring it goes on: the next step is due at qin_ms + next_at_s, whenever
-- the conversation came into the ring (on time, or early by sla-timer).
local function enqueue(conv, q, prio, started, more)
  local due, fields = 0, {'state', 'queued', 'queue', q.id}
  if (q.base or '') == '' then
    fields[#fields + 1], fields[#fields + 2] = 'qin_ms', NOW_MS
    if (q.next_s or 0) > 0 then due = now_ms + q.next_s * 1000 end
  elseif (q.next_at or 0) > 0 then
    due = tonumber(redis.call('HGET', P .. 'conv:' .. conv, 'qin_ms') or now_ms) + q.next_at * 1000
  end
  conv_set(conv, fields, more)
  redis.call('ZADD', qkey(q.id, 'wait'), int((200 - prio) * TWO40 + (started - EPOCH)), conv)
  if due > 0 then -- route_tick.lua moves it on when it is due
    redis.call('ZADD', P .. 'waitdue', due, conv)
  end
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
    redis.call('ZREM', P .. 'waitdue', best)
    waiting(-1)
    local offer_until = assign(best, a, bq, units)
    pulled = pulled .. assignment(best, a.id, bq.strategy, tonumber(c[2] or '0'), bq.id, offer_until)
  end
  return pulled
end


-- An offer ends without being taken (timeout, reject, the caller hung
-- up): its holders (its agent, or with ring-all every agent rung; agent
-- and rung are the conversation's fields) get their units back. Returns
-- them, read in this call, to pull what waits once conv is placed.
local function release_holders(conv, agent, rung, units)
  local holders = {}
  local names = (agent or '') ~= '' and {agent} or split(rung or '', ',')
  for _, h in ipairs(names) do
    local a = h ~= '' and agent_get(h) or nil
    if a then
      add_units(a, units, conv)
      holders[#holders + 1] = a
    end
  end
  return holders
end

local function pull_holders(holders)
  local out = ''
  for _, a in ipairs(holders) do out = out .. pull(a) end
  return out
end

-- An offer that timed out (why "timeout") or was rejected ("rejected"):
-- the agent gets its units back (and is set away after a timeout when the
-- queue says so), the conversation is offered to the next candidate it was
-- not offered to yet, after `hops` offers to the fallback queue, else it
-- waits. Returns the decision (field 31 bytes), or nil when conv is no
-- longer an offer.
local function reoffer(conv, why_, queues)
  local c = P .. 'conv:' .. conv
  redis.call('ZREM', P .. 'offers', conv)
  local st = redis.call('HMGET', c, 'state', 'agent', 'units', 'prio', 'started_ms', 'queue', 'tried',
                        'hops', 'rung')
  if st[1] ~= 'offered' then return nil end
  local units, started = tonumber(st[3] or '1'), tonumber(st[5] or '0')
  local q = queues[st[6] or ''] or queue_of((st[6] or 'default') .. '|longest_idle|0|3600|0|3|0|')
  local holders = release_holders(conv, st[2], st[9], units)
  if why_ == 'timeout' and q.away then
    for _, a in ipairs(holders) do
      if a.status == 'available' then
        redis.call('HSET', P .. 'agent:' .. a.id, 'status', 'away', 'reason', 'offer_timeout')
        local prev = {status = a.status, free = a.free, last = a.last}
        a.status = 'away'
        reindex(a, prev)
      end
    end
  end
  -- once the conversation is placed, the holders may pull what waits
  local function pull_all() return pull_holders(holders) end
  local pulled = ''
  redis.call('HSET', c, 'rung', '')
  stat('offer_' .. why_)
  local skip = {}
  for _, t in ipairs(split(st[7] or '', ',')) do skip[t] = true end
  local reason = 'reoffer_after_' .. why_
  if tonumber(st[8] or '0') >= q.hops then
    local fb = queues[q.fallback]
    if not fb then
      redis.call('HSET', c, 'state', 'queued', 'agent', '')
      enqueue(conv, q, tonumber(st[4] or '0'), started)
      pulled = pull_all()
      return decision(QUEUED, conv, '', 'waiting_after_' .. why_,
                      pb_uint(9, started) .. pulled .. why(q.id, 'offer', q.strategy, ''))
    end
    q, reason, skip = fb, 'fallback_after_' .. why_, {}
    redis.call('HSET', c, 'hops', 0, 'tried', '')
  end
  redis.call('HSET', c, 'state', 'queued', 'agent', '')
  local t, _, cands, all = pick(q, units, '', '', skip, q.ring_all)
  if t then
    local offer_until = place(conv, q, units, all)
    pulled = pull_all()
    return decision(ASSIGNED, conv, t.id, reason, pb_uint(9, started) .. pulled ..
                    why(q.id, 'offer', q.strategy, cands) .. pb_uint(14, offer_until))
  end
  enqueue(conv, q, tonumber(st[4] or '0'), started)
  pulled = pull_all()
  return decision(QUEUED, conv, '', reason, pb_uint(9, started) .. pulled ..
                  why(q.id, 'offer', q.strategy, cands))
end

