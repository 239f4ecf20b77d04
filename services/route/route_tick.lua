-- route_tick.lua: offers that were not accepted in time, and conversations
-- due to widen or that waited past their queue's maximum, for one tenant.
-- Runs after prelude.lua and route_lib.lua; called every --offer-tick-ms
-- by every route replica (sb_route_tick.c).
-- KEYS[1] the tenant's stats key. ARGV: [1] now us [2] lease deadline ms
-- [3] most offers to expire [4] tenant [5] every queue's spec,
-- ';'-separated [6] next stage's lease ("sla") [7] ttl s.
-- For each offer due (offers zset, score <= now): ZREM it (the claim: with
-- any number of replicas each expiry is handled once) and re-offer the
-- conversation (route_lib reoffer). For each wait due (waitdue zset, score
-- = when its next step is due; sla-timer's widen_routing sets it to now):
-- ZREM it (the claim), then move the conversation one step out (advance):
-- its queue's next ring (event kind "widen"), else max_wait's overflow
-- queue or diversion (ROUTE_DIVERTED, reason = the action: callback,
-- email, offline_form; kind "max_wait"). Each decision is handed on
-- like any routing decision: an Envelope built here, stored under ev:<key>
-- with its lease for sla-timer, so that a crash before the send loses
-- nothing (the sweeper re-sends it). For each agent whose grace period
-- after a logout ended (gone zset): its open conversations are re-routed
-- ("requeued_after_logout"). Returns {next due ms or 0, envelope, ...}.
local out = {0}
local queues = nil

-- stores the decision as an envelope with its lease (prelude's
-- sb_event_store) and returns it
local function emit(conv, what, d)
  out[#out + 1] = sb_event_store(what .. '-' .. conv .. '-' .. now_ms, '/route', 'com.switchboard.route.' .. what,
                                 now_ms, pb_bytes(10, conv) .. d, ARGV[7], ARGV[6], ARGV[2])
end

-- A waiting conversation due to move one step out (its time came, or
-- sla-timer asked for it early): to its queue's next ring ("widened"),
-- else max_wait's overflow queue or action. A queue with neither leaves it
-- waiting (counted: widen_nothing). The ring's own next step is scheduled
-- by enqueue, from when the conversation entered its queue. Returns the
-- decision and the event's kind, or nil.
local function advance(conv)
  local c = P .. 'conv:' .. conv
  local st = redis.call('HMGET', c, 'state', 'queue', 'prio', 'started_ms', 'units')
  local q = queues[st[2] or '']
  if st[1] ~= 'queued' or not q then return nil end
  if q.next == '' then
    stat('widen_nothing')
    return nil
  end
  redis.call('ZREM', qkey(q.id, 'wait'), conv)
  waiting(-1)
  local started, prio, units = tonumber(st[4] or '0'), tonumber(st[3] or '0'), tonumber(st[5] or '1')
  local oq = queues[q.next]
  if not oq then -- an alternate action: integrations take it from here
    redis.call('HSET', c, 'state', 'diverted', 'diverted_to', q.next)
    stat('diverted')
    return decision(DIVERTED, conv, '', q.next, pb_uint(9, started) ..
                    why(q.id, 'max_wait', q.strategy, '')), 'max_wait'
  end
  local ring = oq.base ~= ''
  local reason, rule = 'overflow_after_max_wait', 'max_wait'
  if ring then reason, rule = 'widened', 'widen' end
  stat(ring and 'widened' or 'overflowed')
  local t, _, cands, all = pick(oq, units, '', '', nil, oq.ring_all)
  if t then
    local offer_until = place(conv, oq, units, all)
    return decision(ASSIGNED, conv, t.id, reason, pb_uint(9, started) ..
                    why(oq.id, rule, oq.strategy, cands) .. pb_uint(14, offer_until)), rule
  end
  enqueue(conv, oq, prio, started)
  return decision(QUEUED, conv, '', reason, pb_uint(9, started) ..
                  why(oq.id, rule, oq.strategy, cands)), rule
end

-- an agent logged out past its grace period: its conversations go back to
-- their queues (offered at once to another agent who is free)
local function gone_for_good(agent)
  local a = agent_get(agent)
  if not a or a.status ~= 'offline' then return end
  for _, conv in ipairs(split(a.convs, ',')) do
    local c = P .. 'conv:' .. conv
    local st = redis.call('HMGET', c, 'state', 'agent', 'queue', 'prio', 'started_ms', 'units')
    if conv ~= '' and (st[1] == 'assigned' or st[1] == 'offered') and st[2] == agent then
      local units, started = tonumber(st[6] or '1'), tonumber(st[5] or '0')
      redis.call('ZREM', P .. 'offers', conv)
      add_units(a, units, conv)
      redis.call('HSET', c, 'state', 'queued', 'agent', '', 'tried', agent, 'hops', 0)
      stat('requeued_after_logout')
      local q = queues[st[3] or ''] or queue_of((st[3] or 'default') .. '|longest_idle|0|3600|0|3|0||0|')
      local t, _, cands = pick(q, units, '', '', {[agent] = true})
      local d
      if t then
        local offer_until = assign(conv, t, q, units)
        d = decision(ASSIGNED, conv, t.id, 'requeued_after_logout', pb_uint(9, started) ..
                     why(q.id, 'presence', q.strategy, cands) .. pb_uint(14, offer_until))
      else
        enqueue(conv, q, tonumber(st[4] or '0'), started)
        d = decision(QUEUED, conv, '', 'requeued_after_logout', pb_uint(9, started) ..
                     why(q.id, 'presence', q.strategy, cands))
      end
      emit(conv, 'presence_timeout', d)
    end
  end
end

local budget = tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', P .. 'offers', '-inf', now_ms, 'LIMIT', 0, budget)
if #due > 0 then
  queues = queue_map(ARGV[5])
  for _, conv in ipairs(due) do
    local d = reoffer(conv, 'timeout', queues)
    if d then emit(conv, 'offer_timeout', d) end
  end
end
due = redis.call('ZRANGEBYSCORE', P .. 'waitdue', '-inf', now_ms, 'LIMIT', 0, budget)
if #due > 0 then
  queues = queues or queue_map(ARGV[5])
  for _, conv in ipairs(due) do
    redis.call('ZREM', P .. 'waitdue', conv)
    local d, kind = advance(conv)
    if d then emit(conv, kind, d) end
  end
end
due = redis.call('ZRANGEBYSCORE', P .. 'gone', '-inf', now_ms, 'LIMIT', 0, budget)
if #due > 0 then
  queues = queues or queue_map(ARGV[5])
  for _, agent in ipairs(due) do
    redis.call('ZREM', P .. 'gone', agent)
    gone_for_good(agent)
  end
end
for _, z in ipairs({'offers', 'waitdue', 'gone'}) do
  local nxt = redis.call('ZRANGE', P .. z, 0, 0, 'WITHSCORES')
  if nxt[2] and (out[1] == 0 or tonumber(nxt[2]) < out[1]) then out[1] = tonumber(nxt[2]) end
end
zflush_all()
stats_flush()
return out
