-- sla_arm.lua: arm, re-arm and stop service-level timers, run through
-- sb_handoff (prelude.lua) so that the timer change and the hand-off to
-- notify are one atomic step. C (sb_sla.c) computed the due times from the
-- tenant's policy and calendar; this script applies them to the state.
-- Extra ARGV per item (6): op, conversation, at ms, spec, spec, group
--   spec = "<target>,<target ms>,<warn due ms>,<breach due ms>,<calendar>"
--          (target: first_response | next_response | resolution), or ""
--   op "arm"   (new conversation, at = when it started): arm both specs
--              (first response, resolution); group = "<channel>|<queue>"
--              for the published service level
--   op "next"  (customer message on an open conversation, at = its time):
--              re-arm next response (replacing the running one), unless the
--              first response is still pending
--   op "reply" (agent reply, at = now; spec 1 = "1" on the first reply):
--              stop first response (first reply) and next response, each
--              met if its breach was not yet due at `at`, else missed
--   op "close" (at = now): stop every timer; resolution met or missed
--   op ""      nothing
-- Keys (prefix P): timers zset, member "<w|b>|<conv>|<target>", score due
-- ms; timers:open hash, field "<conv>|<target>" ->
-- "<started ms>,<target ms>,<calendar>" while that target is open (armed,
-- fired or not, until the reply/close that stops it).
-- Service level (sb_service_level.h; O(1) per event): sl:open hash, field
-- <conv> -> "<breach due ms>|<started ms>|<channel>|<queue>" while its
-- first response is pending (set by arm, removed by the first reply or the
-- close); sl:fr zset, one member per first response,
-- "<duration ms>|<met 0/1>|<channel>|<conv>|<queue>", score = reply ms
-- (trimmed by sla_level.lua).
-- Invariants: a (conversation, target) has at most one warn and one breach
-- timer (members are unique); a stopped timer never fires; a target is in
-- timers:open exactly while it can still be met or missed.
-- Returns (as the suffix) SlaEvents: field 32 (sla_armed) for the first,
-- field 33 (sla_extra) for the others; a close puts its result in 33 only,
-- so the close keeps its routing topic (an agent's freed capacity may have
-- pulled an assignment).
local ARMED, BREACH, MET = 1, 3, 4
local OPEN = P .. 'timers:open'
local SL_OPEN, SL_FR = P .. 'sl:open', P .. 'sl:fr'

local function parse(spec)
  return string.match(spec, '^([%w_]+),(%d+),(%d+),(%d+),(.*)$')
end

local function sla_event(kind, conv, target, due, target_ms, elapsed, warn_due, calendar)
  return pb_uint(1, kind) .. pb_bytes(2, conv) .. pb_bytes(3, target) .. pb_uint(4, due) ..
         pb_uint(5, target_ms) .. pb_uint(6, elapsed) .. pb_uint(7, warn_due) .. pb_bytes(8, calendar)
end

-- arms the specs (one ZADD, one HSET); nx: keep due times already set
-- (a re-sent arm never moves them). Returns their SlaEvents.
local function arm(conv, at, specs, nx, group)
  local zargs, hargs, events = {}, {}, {}
  for _, spec in ipairs(specs) do
    local target, target_ms, wdue, bdue, cal = parse(spec)
    if target then
      local name = '|' .. conv .. '|' .. target
      zargs[#zargs + 1] = wdue
      zargs[#zargs + 1] = 'w' .. name
      zargs[#zargs + 1] = bdue
      zargs[#zargs + 1] = 'b' .. name
      hargs[#hargs + 1] = conv .. '|' .. target
      hargs[#hargs + 1] = at .. ',' .. target_ms .. ',' .. cal
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
    redis.call('ZADD', P .. 'timers', 'NX', unpack(zargs))
  else
    redis.call('ZADD', P .. 'timers', unpack(zargs))
  end
  redis.call('HSET', OPEN, unpack(hargs))
  return events
end

-- stops the open targets among `targets`; judge[target]: count and report
-- met or missed. Returns their SlaEvents (a list).
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
  local due = redis.call('ZMSCORE', P .. 'timers', unpack(members))
  local gone = {unpack(members)}
  if targets[1] == 'first_response' then -- timers armed before targets had names
    gone[#gone + 1] = 'w|' .. conv
    gone[#gone + 1] = 'b|' .. conv
  end
  redis.call('ZREM', P .. 'timers', unpack(gone))
  redis.call('HDEL', OPEN, unpack(fields))
  local sl = nil
  if targets[1] == 'first_response' then
    sl = redis.call('HGET', SL_OPEN, conv)
    if sl then redis.call('HDEL', SL_OPEN, conv) end
  end
  local events = {}
  for i, t in ipairs(targets) do
    if open[i] and judge[t] then
      local started, target_ms, cal = string.match(open[i], '^(%d+),(%d+),(.*)$')
      local bdue = due[2 * i] and tonumber(due[2 * i]) or nil
      local met = bdue ~= nil and at <= bdue
      local name = t == 'first_response' and '' or (t .. '_')
      stat('sla_' .. name .. (met and 'met' or 'missed'))
      if t == 'first_response' and sl then
        local begun, channel, queue = string.match(sl, '^%d+|(%d+)|([^|]*)|(.*)$')
        if begun then
          redis.call('ZADD', SL_FR, at, math.max(0, at - tonumber(begun)) .. '|' .. (met and 1 or 0) ..
                     '|' .. channel .. '|' .. conv .. '|' .. queue)
        end
      end
      events[#events + 1] = sla_event(met and MET or BREACH, conv, t, bdue or 0, tonumber(target_ms),
                                      math.max(0, at - tonumber(started)), 0, cal)
    end
  end
  return events
end

local function suffix(events, close)
  local out = ''
  for i, e in ipairs(events) do
    out = out .. pb_bytes((i == 1 and not close) and 32 or 33, e)
  end
  return out
end

return sb_handoff(function(key, blob, i)
  local op, conv, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if op == 'arm' then
    return suffix(arm(conv, at, {ARGV[i + 3], ARGV[i + 4]}, true, ARGV[i + 5]))
  elseif op == 'next' then
    if redis.call('HEXISTS', OPEN, conv .. '|first_response') == 1 then return '' end
    return suffix(arm(conv, at, {ARGV[i + 3]}, false))
  elseif op == 'reply' then
    local targets = {'next_response'}
    if ARGV[i + 3] == '1' then targets = {'first_response', 'next_response'} end
    return suffix(stop(conv, at, targets, {first_response = true, next_response = true}))
  elseif op == 'close' then
    return suffix(stop(conv, at, {'first_response', 'next_response', 'resolution'},
                       {resolution = true}), true)
  end
  return ''
end)
