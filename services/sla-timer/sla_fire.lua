-- sla_fire.lua: claim due timers of one tenant and hand their SLA events
-- to notify, atomically, with the breach actions of the policy.
-- KEYS[1] stats key. ARGV: [1] now ms [2] lease deadline ms [3] most to
-- claim [4] tenant [5] first-response target ms [6] warn percent [7] ttl s
-- ([5] and [6] only for timers armed before targets had names)
-- [8] supervisors' calendars now: "<name>:<open 0/1>:<next opening ms>;..."
-- (a calendar not listed, or "", is always open).
-- Due members of the timers zset (formats in sla_arm.lua):
--   "<w|b>|<conv>|<target>" (or "<w|b>|<conv>"): ZREM it (the claim: with
--     any number of sla-timer replicas each timer fires exactly once),
--     store an Envelope (protobuf, built here) under ev:<key> and record
--     lease:notify; mark the target warned or breached in timers:open (the
--     entry stays: the reply or close that stops the target still reports
--     it missed). A breach runs the on_breach actions kept in the
--     conversation's attrs:
--       raise_priority: a conversation still in route's waiting line
--         (conv:<id> state "queued", member of q:<queue>:wait) moves up by
--         the policy's points (at most 100): prio and its score, encoded as
--         route_lib.lua's enqueue does, change together here, in the
--         tenant's slot; the event carries the new priority (field 9);
--       alert_supervisor: one alert per incident, de-duplicated by SET NX:
--         alert:conv:<conv>:<target> (for the events' ttl) and, with an
--         alert window, alert:queue:<queue> (for the window: every breach
--         of the queue within it is the same incident). The event carries
--         the incident key (11) and, on the one that alerts, flag 10; when
--         the supervisors' calendar is closed the alert is deferred: field
--         12 says until when and a member "a|<conv>|<target>|<due>|<cal>|
--         <incident>" fires it then as an SLA_SUPERVISOR_ALERT envelope;
--       widen_routing: a conversation still in route's waiting line is put
--         due now in route's waitdue zset (same slot): route_tick.lua moves
--         it one step out at its next tick (the queue's next ring of lower
--         skill levels, else its max_wait action) and reports that as its
--         own routing decision; the event carries flag 15;
--       acknowledge_customer: flag 14 on the event; notify sends the
--         customer the tenant's "breach_ack" template (the event id is
--         per conversation and target, so once per breach).
--   "r|<conv>": a rearm (sla_arm.lua); not an event: returned as a task
--     for the firer (sb_sla_rearm.h) and put off to the lease deadline, so
--     that it is retried if the firer's sla_rearm.lua never comes.
-- Event ids: "sla-<warning|breach>-<conv>" for first response (one per
-- conversation), "sla-<warning|breach>-<target>-<conv>-<due ms>" for the
-- others (they may be re-armed and fire again), "sla-alert-<incident>".
-- Returns {next due ms or -1, {envelope, ...}, {task, ...}}.
local now = tonumber(ARGV[1])
local ttl = ARGV[7]
local legacy_target, legacy_warn = tonumber(ARGV[5]), tonumber(ARGV[6])
local TIMERS, OPEN = P .. 'timers', P .. 'timers:open'
local TWO40, EPOCH = 1099511627776, 1500000000000 -- route_lib.lua's waiting-line score
local WARNING, BREACH, ALERT = 2, 3, 8
local due = redis.call('ZRANGEBYSCORE', TIMERS, '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local envs, tasks, claimed = {}, {}, {}

local function split(s, sep)
  local out = {}
  for part in string.gmatch(s .. sep, '(.-)' .. sep) do out[#out + 1] = part end
  return out
end

local CALS = {}
for _, c in ipairs(split(ARGV[8] or '', ';')) do
  local name, open, nxt = string.match(c, '^([^:]+):([01]):(%d+)$')
  if name then CALS[name] = {open == '1', tonumber(nxt)} end
end
-- is the supervisors' calendar open now; else its next opening
local function cal_state(name)
  local c = CALS[name]
  if not c or c[1] then return true, now end
  return false, math.max(c[2], now + 1000)
end

local function emit(id, type_, conv, sla)
  envs[#envs + 1] = sb_event_store(id, '/sla-timer', 'com.switchboard.sla.' .. type_, now,
                                   pb_bytes(10, conv) .. pb_bytes(22, sla), ttl, 'notify', ARGV[2])
end

local function raise_priority(conv, by, st)
  if st[1] ~= 'queued' or not st[2] then return '' end
  local wait = P .. 'q:' .. st[2] .. ':wait'
  if not redis.call('ZMSCORE', wait, conv)[1] then return '' end -- (ZMSCORE: the ACL's command set)
  local prio = math.min(100, (tonumber(st[3]) or 0) + by)
  local score = string.format('%.0f', (200 - prio) * TWO40 + ((tonumber(st[4]) or 0) - EPOCH))
  redis.call('ZADD', wait, 'XX', score, conv)
  redis.call('HSET', P .. 'conv:' .. conv, 'prio', prio)
  stat('sla_raised_priority')
  return pb_uint(9, prio)
end

local function widen(conv, st)
  if st[1] ~= 'queued' or not st[2] then return '' end
  if not redis.call('ZMSCORE', P .. 'q:' .. st[2] .. ':wait', conv)[1] then return '' end
  redis.call('ZADD', P .. 'waitdue', now, conv)
  stat('sla_widen_requested')
  return pb_bool(15, true)
end

local function alert(conv, target, at, window, cal, queue)
  local incident = 'conv:' .. conv .. ':' .. target
  if not redis.call('SET', P .. 'alert:' .. incident, '1', 'NX', 'EX', ttl) then
    stat('sla_alert_duplicate')
    return pb_bytes(11, incident)
  end
  if window > 0 and queue and queue ~= '' then
    local qk = P .. 'alert:queue:' .. queue
    local mine = 'queue:' .. queue .. ':' .. now
    if not redis.call('SET', qk, mine, 'NX', 'PX', window) then
      stat('sla_alert_duplicate')
      return pb_bytes(11, redis.call('GET', qk) or mine)
    end
    incident = mine
  end
  local open, nxt = cal_state(cal)
  if open then
    stat('sla_alert')
    return pb_bool(10, true) .. pb_bytes(11, incident)
  end
  redis.call('ZADD', TIMERS, nxt, 'a|' .. conv .. '|' .. target .. '|' .. at .. '|' .. cal .. '|' .. incident)
  stat('sla_alert_deferred')
  return pb_bytes(11, incident) .. pb_uint(12, nxt)
end

-- the on_breach actions of conv's policy (attrs, see sla_arm.lua)
local function breach_actions(conv, target, at, attrs)
  if not attrs then return '' end
  local f = split(attrs, '|')
  local bits = tonumber(f[5]) or 0
  if bits == 0 then return '' end
  local st = redis.call('HMGET', P .. 'conv:' .. conv, 'state', 'queue', 'prio', 'started_ms')
  local out = ''
  if bits % 2 == 1 then out = raise_priority(conv, tonumber(f[6]) or 0, st) end
  if math.floor(bits / 2) % 2 == 1 then
    out = out .. alert(conv, target, at, tonumber(f[7]) or 0, f[8] or '', st[2])
  end
  if math.floor(bits / 4) % 2 == 1 then out = out .. widen(conv, st) end
  if math.floor(bits / 8) % 2 == 1 then
    stat('sla_acknowledge_customer')
    out = out .. pb_bool(14, true)
  end
  return out
end

local function fire(m, open, attrs, marks)
  local breach = string.sub(m.member, 1, 1) == 'b'
  local kind, name = WARNING, 'warning'
  if breach then kind, name = BREACH, 'breach' end
  local started, target_ms, cal
  if open then
    local f = split(open, ',')
    started, target_ms, cal = tonumber(f[1]), tonumber(f[2]), f[3]
    if #f >= 7 and (tonumber(f[7]) or 0) < (breach and 2 or 1) then
      f[7] = breach and 2 or 1
      marks[#marks + 1] = m.conv .. '|' .. m.target
      marks[#marks + 1] = table.concat(f, ',')
    end
  end
  if not started then -- armed before timers:open existed
    target_ms, cal = legacy_target, ''
    started = m.at - math.floor(target_ms * legacy_warn / 100)
    if breach then started = m.at - target_ms end
  end
  local id = 'sla-' .. name .. '-' .. m.conv
  if m.target ~= 'first_response' then
    id = 'sla-' .. name .. '-' .. m.target .. '-' .. m.conv .. '-' .. m.at
  end
  local sla = pb_uint(1, kind) .. pb_bytes(2, m.conv) .. pb_bytes(3, m.target) .. pb_uint(4, m.at) ..
              pb_uint(5, target_ms) .. pb_uint(6, math.max(0, now - started)) .. pb_bytes(8, cal)
  if breach then sla = sla .. breach_actions(m.conv, m.target, m.at, attrs) end
  emit(id, name, m.conv, sla)
  claimed[#claimed + 1] = m.member
  stat('sla_' .. name)
  if m.target ~= 'first_response' then stat('sla_' .. name .. '_' .. m.target) end
end

local function deferred_alert(member, at)
  local conv, target, bdue, cal, incident = string.match(member, '^a|([^|]+)|([^|]+)|(%d+)|([^|]*)|(.+)$')
  if not conv then
    claimed[#claimed + 1] = member
    return
  end
  local open, nxt = cal_state(cal)
  if not open then -- closed again (or still): wait for the next opening
    redis.call('ZADD', TIMERS, nxt, member)
    return
  end
  emit('sla-alert-' .. incident, 'supervisor_alert', conv,
       pb_uint(1, ALERT) .. pb_bytes(2, conv) .. pb_bytes(3, target) .. pb_uint(4, tonumber(bdue)) ..
       pb_uint(6, math.max(0, now - tonumber(bdue))) .. pb_bool(10, true) .. pb_bytes(11, incident))
  claimed[#claimed + 1] = member
  stat('sla_alert')
end

local function rearm_task(member)
  local conv = string.sub(member, 3)
  local f = {conv .. '|rearm', conv .. '|attrs', conv .. '|first_response', conv .. '|next_response',
             conv .. '|resolution', conv .. '|update'}
  local v = redis.call('HMGET', OPEN, unpack(f))
  if not v[1] or not v[2] then -- stale (closed, or kept no attributes)
    redis.call('HDEL', OPEN, f[1])
    claimed[#claimed + 1] = member
    return
  end
  tasks[#tasks + 1] = conv .. '\n' .. v[1] .. '\n' .. v[2] .. '\n' .. (v[3] or '') .. '\n' .. (v[4] or '') ..
                      '\n' .. (v[5] or '') .. '\n' .. (v[6] or '')
  redis.call('ZADD', TIMERS, ARGV[2], member)
end

local timers, fields = {}, {}
for i = 1, #due, 2 do
  local member, at = due[i], tonumber(due[i + 1])
  local tag = string.sub(member, 1, 2)
  if tag == 'r|' then
    rearm_task(member)
  elseif tag == 'a|' then
    deferred_alert(member, at)
  else
    local conv, target = string.match(member, '^[wb]|([^|]+)|(.+)$')
    if not conv then conv, target = string.sub(member, 3), 'first_response' end
    timers[#timers + 1] = {member = member, at = at, conv = conv, target = target}
    fields[#fields + 1] = conv .. '|' .. target
    fields[#fields + 1] = conv .. '|attrs'
  end
end
local open = {}
if #fields > 0 then open = call_chunked('HMGET', OPEN, fields, 2) end
local marks = {}
for i, m in ipairs(timers) do fire(m, open[2 * i - 1], open[2 * i], marks) end
if #marks > 0 then call_chunked('HSET', OPEN, marks, 2) end
call_chunked('ZREM', TIMERS, claimed, 1)
local out = {-1, envs, tasks}
local nxt = redis.call('ZRANGE', TIMERS, 0, 0, 'WITHSCORES')
if nxt[2] then out[1] = tonumber(nxt[2]) end
stats_flush()
return out
