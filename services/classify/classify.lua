-- classify.lua: classify's commit. The durable hand-off (sb_handoff in
-- prelude.lua: clear the input lease, store the envelope, record route's
-- lease, once per event) plus, in the same script, the customer's repeat
-- contacts and the spike incidents.
-- Extra args per item (services/classify/main.c, CLASSIFY_NEXTRA):
--   [1] thread "<channel>:<customer>" ("" : not counted)
--   [2] the event's conversation id ("" : not counted)
--   [3] repeat window, ms (0 or "" : not counted)
--   [4] repeat_min: earlier contacts that make a repeat contact
--   [5] the priority classify computed in C (0..100)
--   [6] points a repeat contact adds (the tenant's "repeat" weight)
--   [7] incident records (sb_incident.h), ';'-joined, "" for none:
--       "<kind>|<key>|<bucket start ms>|<observed>|<baseline>|<due ms>",
--       kind v: spike_volume, n: spike_negative, upper case (V, N) for the
--       message's own incident (Classification.spike, set in C); the
--       others are incidents it opened. due: when the notice may go out,
--       0 for now, else the next opening of spike.supervisor_calendar
--   [8] how long an incident is de-duplicated, ms
--   [9] the message's conversation, [10] the answer suggested on it
--       (Classification.suggested_reply); "" for none
-- Keys (prefix P = "sb:{t:<tenant>}:", see sb_keys.h):
--   rc:<thread>  string "<contacts>|<last conversation>", expires one window
--                after the start of the customer's latest conversation
-- A contact is a conversation: messages of one conversation count once; a
-- new conversation id means the earlier one was closed (ingest threads a
-- message into the open one). Earlier contacts still in the window are
-- appended to the envelope as Classification.repeat_contacts (field 17 of
-- field 30); at repeat_min or more the priority (field 11) is raised by the
-- weight, capped at 100.
-- Cost, O(1): one command per interaction with a customer (GET), two when
-- it opens a new conversation (GET, SET); other events none. So the window
-- runs from the start of the latest conversation, not from its last message
-- (refreshing it would cost a write per message). A re-sent event (lease cleared) is not counted twice:
-- sb_handoff runs the effect only for a lease it clears.
--   incident:<kind>:<key>  string: the id of the tenant's incident of that
--                kind and key, expires [8] ms after it opened
-- Spikes: every replica derives the same id for the same burst (kind, key,
-- wall-clock bucket), but a replica that saw less may open it a bucket
-- later, under a later id. One SET NX GET per record settles it: the first
-- writer's id is THE incident; the winner stores its Incident envelope
-- (ev:<key>, key = sha1("/classify\n" .. id)) and records lease:notify due
-- now (or at the supervisors' next opening: Incident.alert_deferred_ms, the
-- envelope kept that much longer), so the sweeper hands it to notify
-- within one --sweep-ms of then (no socket of its own); a message whose own id lost carries the winner's id
-- (Classification.spike appended: the last value wins). So one event per
-- incident whatever the number of replicas, at one command per message in
-- an incident (none otherwise).
--   sug:<conv>   set: the answers suggested on the conversation, expires
--                ttl (ARGV[7]) after the latest; route.lua counts an
--                agent's accept/reject of an answer only if it is here
--                (services/classify/sb_feedback.h). Two commands per
--                message with a suggestion (SADD, EXPIRE), none otherwise.
local NEXTRA_THREAD, NEXTRA_CONV, NEXTRA_WINDOW, NEXTRA_MIN, NEXTRA_PRIO, NEXTRA_WEIGHT = 0, 1, 2, 3, 4, 5
local NEXTRA_INCIDENTS, NEXTRA_INCIDENT_TTL = 6, 7
local NEXTRA_SUG_CONV, NEXTRA_SUG_ANSWER = 8, 9
local INCIDENT_KINDS = {v = 'spike_volume', n = 'spike_negative'}

local function repeat_contacts(key, blob, i)
  local thread, conv = ARGV[i + NEXTRA_THREAD], ARGV[i + NEXTRA_CONV]
  local window = tonumber(ARGV[i + NEXTRA_WINDOW]) or 0
  if thread == nil or thread == '' or conv == nil or conv == '' or window <= 0 then return '' end
  local rk = P .. 'rc:' .. thread
  local n, last = 0, ''
  local cur = redis.call('GET', rk)
  if cur then
    local a, b = string.match(cur, '^(%d+)|(.*)$')
    n, last = tonumber(a) or 0, b or ''
  end
  if last ~= conv then
    n = n + 1
    redis.call('SET', rk, n .. '|' .. conv, 'PX', window)
  end
  local earlier = n - 1
  if earlier <= 0 then return '' end
  local prio = tonumber(ARGV[i + NEXTRA_PRIO]) or 0
  if earlier >= (tonumber(ARGV[i + NEXTRA_MIN]) or 1) then
    prio = math.min(100, prio + (tonumber(ARGV[i + NEXTRA_WEIGHT]) or 0))
    if last ~= conv then stat('repeat_contacts') end
  end
  return pb_bytes(30, pb_uint(17, earlier) .. pb_uint(11, prio))
end

-- The Incident event of a record this script won, stored and due for notify
-- now, or at due (ms) when the supervisors' calendar is closed.
local function incident_event(id, kind, key, started, observed, baseline, due)
  local now = math.floor(tonumber(ARGV[1]) / 1000)
  local body = pb_bytes(1, kind) .. pb_bytes(2, key) .. pb_bytes(3, id) .. pb_uint(4, started) ..
               pb_double(5, observed) .. pb_double(6, baseline) .. pb_bool(9, true)
  local ttl = tonumber(ARGV[7])
  if due > now then
    body = body .. pb_uint(10, due)
    ttl = ttl + math.ceil((due - now) / 1000) -- kept until delivered
    stat('spike_incidents_deferred')
  else
    due = now
  end
  sb_event_store(id, '/classify', 'com.switchboard.incident.' .. kind, now, pb_bytes(24, body), ttl,
                 'notify', due)
  stat('spike_incidents')
  stat('spike_incidents_' .. kind)
end

-- One record: the incident's id as the tenant knows it, and the record's.
local function incident(rec, ttl)
  local k, key, started, observed, baseline, due =
    string.match(rec, '^([VNvn])|([^|]+)|(%d+)|([^|]+)|([^|]+)|(%d+)$')
  if not k or not tonumber(observed) or not tonumber(baseline) then return nil end
  local kind = INCIDENT_KINDS[string.lower(k)]
  local id = kind .. ':' .. key .. ':' .. started
  local known = redis.call('SET', P .. 'incident:' .. kind .. ':' .. key, id, 'NX', 'GET', 'PX', ttl)
  if known then return known, id end
  incident_event(id, kind, key, tonumber(started), tonumber(observed), tonumber(baseline), tonumber(due))
  return id, id
end

local function spikes(i)
  local recs, ttl = ARGV[i + NEXTRA_INCIDENTS], tonumber(ARGV[i + NEXTRA_INCIDENT_TTL]) or 0
  if recs == nil or recs == '' or ttl <= 0 then return '' end
  local out = ''
  for rec in string.gmatch(recs, '[^;]+') do
    local known, mine = incident(rec, ttl)
    local own = string.match(rec, '^[VN]') ~= nil
    if own and known and known ~= mine then out = pb_bytes(30, pb_bytes(18, known)) end
  end
  return out
end

local function suggested(i)
  local conv, answer = ARGV[i + NEXTRA_SUG_CONV], ARGV[i + NEXTRA_SUG_ANSWER]
  if conv == nil or conv == '' or answer == nil or answer == '' then return end
  local k = P .. 'sug:' .. conv
  redis.call('SADD', k, answer)
  redis.call('EXPIRE', k, ARGV[7])
end

return sb_handoff(function(key, blob, i)
  suggested(i)
  return repeat_contacts(key, blob, i) .. spikes(i)
end)
