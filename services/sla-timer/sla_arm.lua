-- sla_arm.lua: arm, re-arm, pause and stop service-level timers, run
-- through sb_handoff (prelude.lua) so that the timer change and the
-- hand-off to notify are one atomic step. C (sb_sla.c) computed the due
-- times from the tenant's policy and calendar; this script applies them.
-- What needs business time it cannot compute here (a resume, a policy that
-- changed, an update target) it leaves to the firer: a rearm marker plus a
-- member "r|<conv>" due at once (sla_fire.lua, sb_sla_rearm.c,
-- sla_rearm.lua).
-- Extra ARGV per item (8): op, conversation, at ms, a1, a2, a3, group, attrs
--   spec = "<target>,<target ms>,<warn due ms>,<breach due ms>,<calendar>,
--          <warn pct>" or "" (nothing promised) or "defer" (the firer
--          computes it: the policy depends on the conversation's queue)
--   attrs = "<channel>|<band>|<queue>|<started ms>|<on_breach bits>|
--           <raise by>|<alert window ms>|<supervisor calendar>|<update ms>"
--           (sb_sla_rearm.h); "" parts: unknown
--   op "arm"    (new conversation, at = when it started): a1 first
--               response, a2 resolution; group = "<channel>|<queue>" for
--               the published service level; attrs kept for the firer
--   op "next"   (customer message on an open conversation, at = its
--               time): attrs merged (a new channel or queue, or a more
--               urgent band, re-arms every target from its start); a
--               conversation paused "pending_customer" resumes; a1 re-arms
--               next response (replacing the running one) unless the first
--               response is still pending
--   op "reply"  (agent reply, at = now; a1 = "1" on the first reply):
--               stops first response (first reply), next response and
--               update, each met if its breach was not yet due at `at`,
--               else missed; arms update from `at` when the policy has one
--   op "close"  (at = now): stops every timer; resolution met or missed
--   op "abandon" (voice.abandoned: the caller hung up): stops every timer
--               and judges none (no met, no missed: counted
--               sla_abandoned; the first response leaves the service
--               level's sample, as answered-call service levels do)
--   op "pause"  (a1 = "pending_customer" | "on_hold"): every running
--               target stops its clock (timers removed, paused at `at`)
--   op "resume": the paused targets run again with the time they had left
--   op "attrs"  (transfer): attrs merged as for "next"
--   op ""       nothing
-- Keys (prefix P): timers zset, members "<w|b>|<conv>|<target>" (score
-- due ms), "r|<conv>" (a rearm for the firer), "a|..." (a deferred
-- supervisor alert, sla_fire.lua); timers:open hash, fields:
--   "<conv>|<target>" -> "<started ms>,<target ms>,<calendar>,<warn pct>,
--      <paused business ms>,<paused at ms or 0>,<stage 0|1 warned|2 breached>"
--      while the target is open (armed, fired or not, until the reply or
--      close that stops it; older entries have only the first three);
--   "<conv>|attrs" -> attrs; "<conv>|paused" -> why, while paused;
--   "<conv>|rearm" -> "<at>|<resume 0/1>|<op>" while a rearm is pending.
-- Service level (sb_service_level.h; O(1) per event): sl:open hash, field
-- <conv> -> "<breach due ms>|<started ms>|<channel>|<queue>" while its
-- first response is pending (set by arm, removed by the first reply or the
-- close); sl:fr zset, one member per first response,
-- "<duration ms>|<met 0/1>|<channel>|<conv>|<queue>", score = reply ms
-- (trimmed by sla_level.lua).
-- Invariants: a (conversation, target) has at most one warn and one breach
-- timer (members are unique); a stopped or paused timer never fires; a
-- target is in timers:open exactly while it can still be met or missed.
-- Returns (as the suffix) SlaEvents: field 32 (sla_armed) for the first,
-- field 33 (sla_extra) for the others; a close puts its result in 33 only,
-- so the close keeps its routing topic (an agent's freed capacity may have
-- pulled an assignment).
local ARMED, BREACH, MET, PAUSED, RESUMED = 1, 3, 4, 6, 7
local TIMERS, OPEN = P .. 'timers', P .. 'timers:open'
local SL_OPEN, SL_FR = P .. 'sl:open', P .. 'sl:fr'
local TARGETS = {'first_response', 'next_response', 'resolution', 'update'}

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s .. sep, '(.-)' .. sep) do out[#out + 1] = part end
  return out
end

local function parse(spec)
  return string.match(spec, '^([%w_]+),(%d+),(%d+),(%d+),([^,]*),?(%d*)$')
end

-- a timers:open value as a table (older three-field values: not paused)
local function open_of(v)
  local f = split(v, ',')
  return {started = tonumber(f[1]) or 0, target = f[2] or '0', cal = f[3] or '', warn = f[4] or '0',
          pbms = f[5] or '0', pat = tonumber(f[6]) or 0, stage = tonumber(f[7]) or 0, n = #f}
end

local function open_str(o)
  return o.started .. ',' .. o.target .. ',' .. o.cal .. ',' .. o.warn .. ',' .. o.pbms .. ',' ..
         o.pat .. ',' .. o.stage
end

local function sla_event(kind, conv, target, due, target_ms, elapsed, warn_due, calendar)
  return pb_uint(1, kind) .. pb_bytes(2, conv) .. pb_bytes(3, target) .. pb_uint(4, due) ..
         pb_uint(5, target_ms) .. pb_uint(6, elapsed) .. pb_uint(7, warn_due) .. pb_bytes(8, calendar)
end

-- records that the firer must compute conv's due times again (a pending
-- resume stays a resume)
local function mark_rearm(conv, at, resume, op)
  local f = conv .. '|rearm'
  local cur = redis.call('HGET', OPEN, f)
  if cur and resume == 0 and string.match(cur, '^%d+|1|') then resume = 1 end
  redis.call('HSET', OPEN, f, at .. '|' .. resume .. '|' .. op)
  redis.call('ZADD', TIMERS, at, 'r|' .. conv)
end

-- a target whose due times the firer fills in (target 0 until then)
local function defer(conv, target, at, paused)
  redis.call('HSET', OPEN, conv .. '|' .. target, at .. ',0,,0,0,' .. (paused and at or 0) .. ',0')
  redis.call('ZREM', TIMERS, 'w|' .. conv .. '|' .. target, 'b|' .. conv .. '|' .. target)
  mark_rearm(conv, at, 0, target)
end

-- arms the specs (one ZADD, one HSET); nx: keep due times already set
-- (a re-sent arm never moves them). Returns their SlaEvents.
local function arm(conv, at, specs, nx, group)
  local zargs, hargs, events = {}, {}, {}
  for _, spec in ipairs(specs) do
    local target, target_ms, wdue, bdue, cal, warn = parse(spec)
    if target then
      local name = '|' .. conv .. '|' .. target
      zargs[#zargs + 1] = wdue
      zargs[#zargs + 1] = 'w' .. name
      zargs[#zargs + 1] = bdue
      zargs[#zargs + 1] = 'b' .. name
      hargs[#hargs + 1] = conv .. '|' .. target
      hargs[#hargs + 1] = at .. ',' .. target_ms .. ',' .. cal .. ',' .. (warn ~= '' and warn or '0') ..
                          ',0,0,0'
      if target == 'first_response' and group and group ~= '' then
        redis.call('HSETNX', SL_OPEN, conv, bdue .. '|' .. at .. '|' .. group)
      end
      stat(target == 'first_response' and 'sla_armed' or ('sla_armed_' .. target))
      events[#events + 1] = sla_event(ARMED, conv, target, tonumber(bdue), tonumber(target_ms), 0,
                                      tonumber(wdue), cal)
    end
  end
  if #zargs == 0 then return events end
  if nx then
    redis.call('ZADD', TIMERS, 'NX', unpack(zargs))
  else
    redis.call('ZADD', TIMERS, unpack(zargs))
  end
  redis.call('HSET', OPEN, unpack(hargs))
  return events
end

-- met: before the breach was due; a target without a breach timer (paused,
-- or waiting for the firer) is met unless its breach already fired
local function was_met(o, bdue, at)
  if bdue then return at <= tonumber(bdue) end
  return o.n >= 7 and o.stage < 2
end

-- stops the open targets among `targets`; judge[target]: true = count and
-- report met or missed, 'count' = count only. Returns their SlaEvents.
local function stop(conv, at, targets, judge)
  local fields, members = {}, {}
  for i, t in ipairs(targets) do
    fields[i] = conv .. '|' .. t
    members[#members + 1] = 'w|' .. conv .. '|' .. t
    members[#members + 1] = 'b|' .. conv .. '|' .. t
  end
  local open = redis.call('HMGET', OPEN, unpack(fields))
  local any = false
  for i = 1, #targets do any = any or open[i] ~= false end
  if not any and targets[1] ~= 'first_response' then return {} end
  local due = redis.call('ZMSCORE', TIMERS, unpack(members))
  local gone = {unpack(members)}
  if targets[1] == 'first_response' then -- timers armed before targets had names
    gone[#gone + 1] = 'w|' .. conv
    gone[#gone + 1] = 'b|' .. conv
  end
  redis.call('ZREM', TIMERS, unpack(gone))
  redis.call('HDEL', OPEN, unpack(fields))
  local sl = nil
  if targets[1] == 'first_response' then
    sl = redis.call('HGET', SL_OPEN, conv)
    if sl then redis.call('HDEL', SL_OPEN, conv) end
  end
  local events = {}
  for i, t in ipairs(targets) do
    if open[i] and judge[t] then
      local o = open_of(open[i])
      local bdue = due[2 * i] and tonumber(due[2 * i]) or nil
      local met = was_met(o, bdue, at)
      local name = t == 'first_response' and '' or (t .. '_')
      stat('sla_' .. name .. (met and 'met' or 'missed'))
      if t == 'first_response' and sl then
        local begun, channel, queue = string.match(sl, '^%d+|(%d+)|([^|]*)|(.*)$')
        if begun then
          redis.call('ZADD', SL_FR, at, math.max(0, at - tonumber(begun)) .. '|' .. (met and 1 or 0) ..
                     '|' .. channel .. '|' .. conv .. '|' .. queue)
        end
      end
      if judge[t] == true then
        events[#events + 1] = sla_event(met and MET or BREACH, conv, t, bdue or 0, tonumber(o.target),
                                        math.max(0, at - o.started), 0, o.cal)
      end
    end
  end
  return events
end

-- every running target stops its clock at `at`
local function pause(conv, at, why)
  if redis.call('HEXISTS', OPEN, conv .. '|paused') == 1 then return {} end
  local fields = {}
  for i, t in ipairs(TARGETS) do fields[i] = conv .. '|' .. t end
  local open = redis.call('HMGET', OPEN, unpack(fields))
  local hargs, gone, events, any = {}, {}, {}, false
  for i, t in ipairs(TARGETS) do
    if open[i] then
      any = true
      local o = open_of(open[i])
      if o.pat == 0 and o.stage < 2 then
        o.pat = at
        hargs[#hargs + 1] = fields[i]
        hargs[#hargs + 1] = open_str(o)
        gone[#gone + 1] = 'w|' .. conv .. '|' .. t
        gone[#gone + 1] = 'b|' .. conv .. '|' .. t
        events[#events + 1] = sla_event(PAUSED, conv, t, 0, tonumber(o.target),
                                        math.max(0, at - o.started), 0, o.cal) .. pb_bytes(13, why)
      end
    end
  end
  if not any then return {} end
  hargs[#hargs + 1] = conv .. '|paused'
  hargs[#hargs + 1] = why
  redis.call('HSET', OPEN, unpack(hargs))
  if #gone > 0 then redis.call('ZREM', TIMERS, unpack(gone)) end
  local m = redis.call('HGET', OPEN, conv .. '|rearm') -- a resume not yet applied is undone
  if m then redis.call('HSET', OPEN, conv .. '|rearm', (string.gsub(m, '^(%d+)|1|', '%1|0|'))) end
  stat('sla_paused')
  return events
end

local function resume(conv, at)
  local why = redis.call('HGET', OPEN, conv .. '|paused')
  if not why then return {} end
  redis.call('HDEL', OPEN, conv .. '|paused')
  mark_rearm(conv, at, 1, 'resume')
  stat('sla_resumed')
  return {sla_event(RESUMED, conv, '', 0, 0, 0, 0, '') .. pb_bytes(13, why)}
end

-- merges reported attributes into the kept ones: a new channel or queue,
-- or a more urgent band (never a less urgent one), re-arms from the start
-- (cur: the kept attrs, read by the caller; false when there are none).
-- Only the first three fields matter here, and they rarely change (a next
-- message names no queue: route knows it): they are compared before
-- anything is split.
local function first3(attrs)
  return string.match(attrs, '^([^|]*)|?([^|]*)|?([^|]*)')
end

local function merge_attrs(conv, at, given, cur)
  if given == cur then return end
  local f = conv .. '|attrs'
  local g1, g2, g3 = first3(given)
  if not cur then
    if g1 ~= '' then redis.call('HSET', OPEN, f, given) end
    return
  end
  local c1, c2, c3 = first3(cur)
  local channel = g1 ~= '' and g1 ~= c1
  local band = g2 ~= '' and (c2 == '' or tonumber(g2) < tonumber(c2))
  local queue = g3 ~= '' and g3 ~= c3
  if not (channel or band or queue) then return end
  local c = split(cur, '|')
  for k = #c + 1, 3 do c[k] = '' end -- a shorter kept value: no hole for concat
  if channel then c[1] = g1 end
  if band then c[2] = g2 end
  if queue then c[3] = g3 end
  redis.call('HSET', OPEN, f, table.concat(c, '|'))
  mark_rearm(conv, at, 0, 'policy')
  stat('sla_recomputed')
end

local function suffix(events, close)
  local out = ''
  for i, e in ipairs(events) do
    out = out .. pb_bytes((i == 1 and not close) and 32 or 33, e)
  end
  return out
end

local function append(list, more)
  for _, e in ipairs(more) do list[#list + 1] = e end
  return list
end

local function on_next(conv, at, spec, attrs)
  local v = redis.call('HMGET', OPEN, conv .. '|attrs', conv .. '|paused', conv .. '|first_response')
  merge_attrs(conv, at, attrs, v[1])
  local events, paused = {}, v[2]
  if paused == 'pending_customer' then
    events, paused = resume(conv, at), false
  end
  if v[3] then return events end
  if spec == 'defer' then
    defer(conv, 'next_response', at, paused ~= false)
    return events
  end
  return append(events, arm(conv, at, {spec}, false))
end

local function on_reply(conv, at, first)
  local targets = {'next_response', 'update'}
  if first then targets = {'first_response', 'next_response', 'update'} end
  local events = stop(conv, at, targets, {first_response = true, next_response = true, update = 'count'})
  local a = redis.call('HGET', OPEN, conv .. '|attrs')
  if a and (tonumber(split(a, '|')[9] or '0') or 0) > 0 then
    defer(conv, 'update', at, redis.call('HEXISTS', OPEN, conv .. '|paused') == 1)
  end
  return events
end

-- judge: {resolution = true} for a close, {} for an abandoned call
local function on_close(conv, at, judge)
  local events = stop(conv, at, TARGETS, judge)
  redis.call('HDEL', OPEN, conv .. '|attrs', conv .. '|paused', conv .. '|rearm')
  redis.call('ZREM', TIMERS, 'r|' .. conv)
  return events
end

return sb_handoff(function(key, blob, i)
  local op, conv, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local a1 = ARGV[i + 3]
  if op == 'arm' then
    local events = arm(conv, at, {a1, ARGV[i + 4]}, true, ARGV[i + 6])
    if ARGV[i + 7] ~= '' then redis.call('HSETNX', OPEN, conv .. '|attrs', ARGV[i + 7]) end
    return suffix(events)
  elseif op == 'next' then
    return suffix(on_next(conv, at, a1, ARGV[i + 7]))
  elseif op == 'reply' then
    return suffix(on_reply(conv, at, a1 == '1'))
  elseif op == 'close' then
    return suffix(on_close(conv, at, {resolution = true}), true)
  elseif op == 'abandon' then
    stat('sla_abandoned')
    on_close(conv, at, {})
  elseif op == 'pause' then
    return suffix(pause(conv, at, a1))
  elseif op == 'resume' then
    return suffix(resume(conv, at))
  elseif op == 'attrs' then
    merge_attrs(conv, at, ARGV[i + 7], redis.call('HGET', OPEN, conv .. '|attrs'))
  end
  return ''
end)
