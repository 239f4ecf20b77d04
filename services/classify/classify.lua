-- classify.lua: classify's commit. The durable hand-off (sb_handoff in
-- prelude.lua: clear the input lease, store the envelope, record route's
-- lease, once per event) plus, in the same script, the customer's repeat
-- contacts.
-- Extra args per item (services/classify/main.c, CLASSIFY_NEXTRA):
--   [1] thread "<channel>:<customer>" ("" : not counted)
--   [2] the event's conversation id ("" : not counted)
--   [3] repeat window, ms (0 or "" : not counted)
--   [4] repeat_min: earlier contacts that make a repeat contact
--   [5] the priority classify computed in C (0..100)
--   [6] points a repeat contact adds (the tenant's "repeat" weight)
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
local NEXTRA_THREAD, NEXTRA_CONV, NEXTRA_WINDOW, NEXTRA_MIN, NEXTRA_PRIO, NEXTRA_WEIGHT = 0, 1, 2, 3, 4, 5

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

return sb_handoff(repeat_contacts)
