-- route.lua: the routing decision, atomic per tenant (one script call per
-- tenant per batch, run through sb_handoff in prelude.lua). Runs after
-- prelude.lua and route_lib.lua (the functions it shares with
-- route_tick.lua).
--
-- Extra ARGV per item (10): kind, then
--   kind "m" (customer message): conversation, thread ("<channel>:<customer>"),
--     started ms, channel, queue spec, priority, units, rule, windows
--   kind "a" (agent event): action ("abandon": a voice call's caller hung
--     up; agent may be empty), agent, conversation, capacity, agent
--     spec (logout: the windows), target queue spec (reject: every queue's
--     spec, ';'-separated),
--     target agent, status, reason
-- Specs come compiled from sb_route_config.c:
--   queue spec  "id|strategy|fair_max|fair_period_s|...": see queue_of in
--               route_lib.lua and sb_route_config.h; rings "<queue>~<k>"
--   agent spec  "q|strategy|skill_score|fair_max|fair_period_s,..." (the
--               queues the agent's skills qualify for)
--   windows     "reopen_s|sticky_s|grace_s"
-- Keys (prefix P = sb:{t:<tenant>}:, all in the tenant's slot):
--   conv:<id>        hash {state queued|offered|assigned|closed, agent, queue,
--                    units, prio, started_ms, thread, channel, rule,
--                    assigned_ms, offer_until, tried, hops, accepted_ms,
--                    first_reply_ms, closed_ms, hold (the agent's last
--                    conversation status: pending_customer, on_hold, open),
--                    rung (a ring-all offer's agents, comma-separated;
--                    "agent" is empty until one of them takes it),
--                    qin_ms (when it began waiting in its configured
--                    queue: its rings' times count from there),
--                    abandoned (the caller hung up while it was
--                    "queued", "offered" or "diverted")}
--   waitdue          zset: waiting conversations with a next step (a ring,
--                    max_wait's target), score = when it is due;
--                    sla-timer's widen_routing sets it to now
--                    (route_tick.lua advances them)
--   offers           zset: conversations offered and not yet accepted,
--                    score = offer deadline ms (route_tick.lua expires them)
--   agent:<id>       hash {cap, free (units), status, reason, spec, last_ms,
--                    convs (its open conversations, comma-separated)}
--   gone             zset: logged-out agents holding conversations, score =
--                    end of their grace period (route_tick.lua)
--   q:<q>:agents     zset: the queue's available agents with free units,
--                    score = the strategy's rank key (lower is better)
--   q:<q>:wait       zset: waiting conversations, score = (200 - priority)
--                    * 2^40 + started ms since 2017: priority, then age
--   q:<q>:rr         string: the agent round_robin served last
--   q:<q>:fair:<w>   hash agent -> assignments in fairness window w
--   last:<thread>    string "agent|closed_ms": the customer's last agent
--   sugfb            hash "a:<answer>"/"r:<answer>" -> accepts/rejects of a
--                    suggested answer (services/classify/sb_feedback.h;
--                    classify reads it back)
--   sug:<conv>       set (classify.lua's): answers suggested on conv
--
-- Invariants: a conversation has at most one agent ("assigned"/"offered"
-- is set only from new/queued/transfer/re-offer, and an offer holds the
-- agent's units like an assignment); an offer is in `offers` exactly while
-- its state is "offered"; an agent's free units never go below 0
-- (an agent is taken only if free >= the conversation's units); an agent is
-- in q:<q>:agents only while available with free > 0; an agent freeing
-- capacity pulls the best waiting conversation of its queues at once.
-- Within one call, changes to q:<q>:agents wait in route_lib's ZPEND and
-- reach Redis before anything reads that set and at the call's end (one
-- variadic ZADD/ZREM per queue); closed threads leave ingest's threads
-- hash in one HDEL at the end; a last:<thread> read or written once is
-- remembered for the call. Nothing else reads those keys meanwhile (the
-- script is atomic), so the result is as if written one by one.
-- Every new assignment records its queue, rule, strategy and the agents
-- considered with each one's verdict (RoutingDecision fields 10..13).
-- Suggestion feedback (AgentEvent 11..13, passed by sb_route.c in the
-- transfer-target slots, which replies never use): a reply naming the
-- answer it used, or a "suggestion" event, from the conversation's owner,
-- counts once in sugfb
-- (this effect runs once per event) if classify suggested that answer on
-- the conversation; AgentEvent.suggestion_result says what became of it.
-- --------------------------------------------------------------- messages

-- threads whose conversation closed in this call: one variadic HDEL of
-- ingest's threads hash at the end (no route script reads it)
local THREADS_DONE = {}

-- (started, prio and units arrive as text: written to the conversation as
-- they came, used as numbers)
local function on_message(conv, thread, started_s, channel, qspec, prio_s, units_s, rule, windows)
  local started, prio, units = tonumber(started_s), tonumber(prio_s), tonumber(units_s)
  stat('routed_messages')
  local c = P .. 'conv:' .. conv
  local st = redis.call('HMGET', c, 'state', 'agent', 'started_ms')
  if st[1] == 'assigned' or st[1] == 'offered' then
    stat('routed_existing')
    return decision(EXISTING, conv, st[2], 'open_conversation', pb_uint(9, tonumber(st[3])))
  elseif st[1] == 'queued' then
    return decision(QUEUED, conv, '', 'already_waiting', pb_uint(9, tonumber(st[3])))
  end
  -- new (or re-opened after close): one agent or the queue
  local q = queue_of(qspec)
  local fields = {'started_ms', started_s, 'thread', thread, 'channel', channel, 'units', units_s,
                  'prio', prio_s, 'rule', rule}
  local extra = pb_bool(5, true) .. pb_uint(9, started)
  local a, reason, cands, all = pick(q, units, thread, windows, nil, q.ring_all)
  if a then
    local offer_until = place(conv, q, units, all, fields)
    return decision(ASSIGNED, conv, a.id, reason,
                    extra .. why(q.id, rule, q.strategy, cands) .. pb_uint(14, offer_until))
  end
  enqueue(conv, q, prio, started, fields)
  return decision(QUEUED, conv, '', 'no_agent_free', extra .. why(q.id, rule, q.strategy, cands))
end

-- ----------------------------------------------------- suggestion feedback

-- Counts the feedback of an owner's event on answer (accepted: "1"/"0";
-- verdict: classify's, "" or why it cannot count): returns AgentEvent.
-- suggestion_result ("accepted", "rejected", or why not counted) and
-- whether it counted; nil when the event names no answer.
local function feedback(conv, answer, accepted, verdict)
  if answer == '' then return nil, false end
  if verdict == '' and redis.call('SISMEMBER', P .. 'sug:' .. conv, answer) == 0 then
    verdict = 'not_suggested'
  end
  if verdict ~= '' then
    stat('suggestion_refused')
    return verdict, false
  end
  local r = accepted == '1' and 'accepted' or 'rejected'
  redis.call('HINCRBY', P .. 'sugfb', string.sub(r, 1, 1) .. ':' .. answer, 1)
  stat('suggestion_' .. r)
  return r, true
end

-- The feedback's result in the agent's event (AgentEvent.suggestion_result,
-- Envelope.body's oneof member 21: pb_extend_member) of the blob being
-- committed (BLOB).
local BLOB = ''
local function feedback_mark(result)
  return pb_extend_member(BLOB, 21, pb_bytes(13, result))
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
  redis.call('HSETNX', k, 'last_ms', NOW_MS)
  redis.call('HDEL', k, 'reason')
  redis.call('ZREM', P .. 'gone', agent) -- back within the grace period
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
  reindex(a) -- a status event re-ranks from the hash as it stands
  return decision(AGENT_OK, '', agent, 'status_' .. status, pull(a))
end

-- windows: "reopen_s|sticky_s|grace_s"; with a grace period the agent's
-- open conversations are re-routed if it is not back by then
-- (route_tick.lua), else they stay with it until closed
local function logout(agent, windows)
  local a = agent_get(agent)
  if not a then return reject('', agent, 'unknown_agent') end
  redis.call('HSET', P .. 'agent:' .. agent, 'status', 'offline')
  a.status = 'offline'
  reindex(a)
  local grace = tonumber(split(windows or '', '|')[3] or '0') or 0
  if grace > 0 and a.convs ~= '' then
    redis.call('ZADD', P .. 'gone', now_ms + grace * 1000, agent)
  end
  return decision(AGENT_OK, '', agent, 'logged_out')
end

local function listed(list, item)
  for _, v in ipairs(split(list or '', ',')) do if v == item then return true end end
  return false
end

-- the agent's own conversation's fields (a ring-all offer is every rung
-- agent's until one takes it), or nil and why not
local function owned(conv, agent)
  if conv == '' then return nil, 'not_owner' end
  local st = redis.call('HMGET', P .. 'conv:' .. conv, 'state', 'agent', 'started_ms',
                        'first_reply_ms', 'thread', 'units', 'prio', 'queue', 'rung')
  if (st[1] == 'assigned' or st[1] == 'offered') and st[2] == agent then return st end
  if st[1] == 'offered' and (st[2] or '') == '' and listed(st[9], agent) then return st end
  -- a ring-all offer another agent took first
  if st[1] == 'assigned' and listed(st[9], agent) then return nil, 'offer_taken' end
  return nil, 'not_owner'
end

-- An offer taken up: by accept, or implicitly by a reply, close or
-- transfer. A ring-all offer goes to the agent who took it: the other
-- agents rung get their units back (and pull what waits). Returns those
-- pulls (Assignment bytes).
local function take_offer(conv, st, agent)
  if st[1] ~= 'offered' then return '' end
  redis.call('ZREM', P .. 'offers', conv)
  local pulled = ''
  if (st[2] or '') == '' then
    for _, o in ipairs(split(st[9] or '', ',')) do
      local a = (o ~= '' and o ~= agent) and agent_get(o) or nil
      if a then
        add_units(a, tonumber(st[6] or '1'), conv)
        pulled = pulled .. pull(a)
        stat('offer_withdrawn')
      end
    end
  end
  redis.call('HSET', P .. 'conv:' .. conv, 'state', 'assigned', 'agent', agent)
  st[1], st[2] = 'assigned', agent
  stat('offer_accepted')
  return pulled
end

local function close(agent, conv, st)
  local c = P .. 'conv:' .. conv
  local withdrawn = take_offer(conv, st, agent)
  redis.call('HSET', c, 'state', 'closed', 'closed_ms', NOW_MS)
  redis.call('EXPIRE', c, ttl)
  if st[5] and st[5] ~= '' then
    THREADS_DONE[#THREADS_DONE + 1] = st[5]
    LAST[st[5]] = agent .. '|' .. NOW_MS
    redis.call('SET', P .. 'last:' .. st[5], LAST[st[5]], 'EX', 86400 * 90)
  end
  local a = agent_get(agent)
  add_units(a, tonumber(st[6] or '1'), conv)
  stat('closed')
  return decision(AGENT_OK, conv, agent, 'closed', pb_uint(9, tonumber(st[3])) .. withdrawn .. pull(a))
end

-- The caller hung up (voice.abandoned): the call ends whatever its state
-- and whichever agent the ACD names (it may name none). Assigned: closed
-- by its owner, as the owner's close. Offered: the offer's holders get
-- their units back and pull what waits. Queued: it leaves its waiting line
-- and its next step (waitdue). Diverted (max_wait's alternate action): just
-- closed. The last three close with reason "abandoned" and no agent, so no
-- customer's last agent is recorded.
local function abandon(agent, conv)
  if conv == '' then return reject(conv, agent, 'not_owner') end
  local c = P .. 'conv:' .. conv
  local st = redis.call('HMGET', c, 'state', 'agent', 'started_ms', 'first_reply_ms', 'thread',
                        'units', 'prio', 'queue', 'rung')
  if st[1] == 'assigned' then return close(st[2], conv, st) end
  if st[1] ~= 'queued' and st[1] ~= 'offered' and st[1] ~= 'diverted' then
    return reject(conv, agent, 'not_open')
  end
  local holders = {}
  if st[1] == 'offered' then
    redis.call('ZREM', P .. 'offers', conv)
    holders = release_holders(conv, st[2], st[9], tonumber(st[6] or '1'))
  elseif st[1] == 'queued' then
    redis.call('ZREM', qkey(st[8] or '', 'wait'), conv)
    redis.call('ZREM', P .. 'waitdue', conv)
    waiting(-1)
  end
  redis.call('HSET', c, 'state', 'closed', 'closed_ms', NOW_MS, 'agent', '', 'rung', '',
             'abandoned', st[1])
  redis.call('EXPIRE', c, ttl)
  if st[5] and st[5] ~= '' then THREADS_DONE[#THREADS_DONE + 1] = st[5] end
  local pulled = pull_holders(holders)
  stat('abandoned_' .. st[1])
  return decision(AGENT_OK, conv, '', 'abandoned', pb_uint(9, tonumber(st[3])) .. pulled)
end

-- to a queue (route it afresh, never back to the same agent) or an agent
local function transfer(agent, conv, st, tqspec, tagent)
  local units, started = tonumber(st[6] or '1'), tonumber(st[3])
  local withdrawn = take_offer(conv, st, agent)
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
  add_units(a, units, conv)
  stat('transferred')
  local moved, reason = '', 'transferred'
  if target then
    local q = {id = st[8] or '', strategy = 'transfer', fmax = 0, fperiod = 3600}
    assign(conv, target, q, units)
    moved = assignment(conv, target.id, 'transfer', started, q.id, 0)
  else
    local q = queue_of(tqspec)
    local t, _, _ = pick(q, units, '', '', {[agent] = true})
    if t then
      local offer_until = assign(conv, t, q, units)
      moved = assignment(conv, t.id, q.strategy, started, q.id, offer_until)
    else
      redis.call('HDEL', P .. 'conv:' .. conv, 'agent')
      enqueue(conv, q, tonumber(st[7] or '0'), started)
      reason = 'transferred_queued'
    end
  end
  return decision(AGENT_OK, conv, agent, reason, pb_uint(9, started) .. moved .. withdrawn .. pull(a))
end

-- A conversation's state as its agent sets it (a status with a
-- conversation): "pending_customer" and "on_hold" pause its SLA clocks in
-- sla-timer, "open" runs them again. Only the owner may; the agent's own
-- presence does not change.
local CONVERSATION_STATES = {pending_customer = true, on_hold = true, open = true}

-- For reply and suggestion events tqspec, tagent and reason carry the
-- suggestion feedback instead (answer, accepted, classify's verdict; see
-- sb_route.c prepare_agent).
local function on_agent(action, agent, conv, cap, spec, tqspec, tagent, status, reason)
  if action == 'login' then return login(agent, tonumber(cap), spec) end
  if action == 'logout' then return logout(agent, spec) end
  if action == 'status' and not CONVERSATION_STATES[status] then
    return set_status(agent, status, reason)
  end
  if action == 'abandon' then return abandon(agent, conv) end
  local st, not_mine = owned(conv, agent)
  if not st then return reject(conv, agent, not_mine) end
  local c = P .. 'conv:' .. conv
  local started = pb_uint(9, tonumber(st[3]))
  if action == 'status' then
    redis.call('HSET', c, 'hold', status)
    return decision(AGENT_OK, conv, agent, 'conversation_' .. status, started)
  end
  if action == 'accept' then
    local withdrawn = take_offer(conv, st, agent)
    redis.call('HSET', c, 'accepted_ms', NOW_MS)
    return decision(AGENT_OK, conv, agent, 'accepted', started .. withdrawn)
  elseif action == 'reject' then
    if st[1] ~= 'offered' then return reject(conv, agent, 'not_an_offer') end
    -- one of several agents rung: only its own offer is withdrawn
    local rest = {}
    for _, o in ipairs(split(st[9] or '', ',')) do
      if o ~= '' and o ~= agent then rest[#rest + 1] = o end
    end
    if (st[2] or '') == '' and #rest > 0 then
      redis.call('HSET', c, 'rung', table.concat(rest, ','))
      local a = agent_get(agent)
      add_units(a, tonumber(st[6] or '1'), conv)
      stat('offer_rejected')
      return decision(AGENT_OK, conv, agent, 'offer_withdrawn', started .. pull(a))
    end
    -- the decision says where the conversation went next
    return reoffer(conv, 'rejected', queue_map(tqspec)) or
           decision(AGENT_OK, conv, agent, 'rejected', started)
  elseif action == 'reply' then
    local withdrawn = take_offer(conv, st, agent)
    -- the reply stands whatever became of its suggestion (the customer gets it)
    local mark = feedback_mark(feedback(conv, tqspec, tagent, reason))
    if st[4] then return decision(AGENT_OK, conv, agent, 'replied', started .. withdrawn) .. mark end
    redis.call('HSET', c, 'first_reply_ms', NOW_MS)
    return decision(AGENT_OK, conv, agent, 'first_reply', started .. withdrawn .. pb_bool(8, true)) .. mark
  elseif action == 'suggestion' then
    local result, counted = feedback(conv, tqspec, tagent, reason)
    if not result then return reject(conv, agent, 'no_suggestion') end
    if not counted then return reject(conv, agent, result) .. feedback_mark(result) end
    return decision(AGENT_OK, conv, agent, 'suggestion_' .. result, started) .. feedback_mark(result)
  elseif action == 'close' then
    return close(agent, conv, st)
  elseif action == 'transfer' then
    return transfer(agent, conv, st, tqspec, tagent)
  end
  return reject(conv, agent, 'unknown_action')
end

local out = sb_handoff(function(key, blob, i)
  BLOB = blob
  if ARGV[i] == 'm' then
    return on_message(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
                      ARGV[i + 7], ARGV[i + 8], ARGV[i + 9])
  end
  return on_agent(ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
                  ARGV[i + 7], ARGV[i + 8], ARGV[i + 9])
end)
zflush_all()
if #THREADS_DONE > 0 then call_chunked('HDEL', P .. 'threads', THREADS_DONE, 1) end
return out

