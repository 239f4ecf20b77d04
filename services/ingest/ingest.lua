-- ingest.lua: make accepted events durable, de-duplicated and threaded,
-- and record their hand-off to classify, in one step per tenant batch.
-- KEYS[1] stats key. ARGV: [1] now us [2] lease deadline ms [3] ttl s,
-- then per event: key, thread field ("<channel>:<customer>", "" for events
-- that open no conversation), envelope blob, message ("email:<Message-ID>"
-- to remember, or ""), refs ('\n'-separated "email:<id>"s the message
-- answers, or "").
-- Per event: SET ev:<key> NX (the de-duplication mark and the record in one
-- command); if new, thread it and append the conversation id to the
-- stored envelope. Threading, first match wins:
--   1. a ref whose mid:<ref> names a conversation that is not closed (an
--      e-mail reply joins the conversation of the message it answers,
--      whatever its From or Subject); the thread field then points there;
--   2. the thread field, replaced by "customer:<canonical>" when
--      ident:<channel>:<customer> links the identity (POST
--      /v1/identities), so one person's channels share one conversation;
--      a linked field naming a closed conversation counts as absent
--      (route deletes only the field of the conversation's first message);
--   3. else a new conversation: the key of this first event.
-- mid:<message> is then set to the conversation, expiring with the events.
-- The leases for classify are one ZADD per batch.
-- Returns per event {1, conversation} (accepted) or {0, ""} (duplicate).
-- Invariant: an event is acknowledged as accepted only with its record and
-- its lease written; a redelivery changes nothing.
local out, leases = {}, {}
local ttl = ARGV[3]

local function closed(conv)
  return redis.call('HGET', P .. 'conv:' .. conv, 'state') == 'closed'
end

local function by_refs(refs)
  if refs == '' then return nil end
  for ref in string.gmatch(refs, '[^\n]+') do
    local c = redis.call('GET', P .. 'mid:' .. ref)
    if c and not closed(c) then return c end
  end
  return nil
end

local function thread_of(key, thread, refs)
  local linked = redis.call('GET', P .. 'ident:' .. thread)
  if linked then thread = 'customer:' .. linked end
  local conv = by_refs(refs)
  if conv then
    redis.call('HSET', P .. 'threads', thread, conv)
    return conv
  end
  conv = redis.call('HGET', P .. 'threads', thread)
  if conv and not (linked and closed(conv)) then return conv end
  redis.call('HSET', P .. 'threads', thread, key)
  return key
end

for i = 4, #ARGV, 5 do
  local key, thread, blob = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local message, refs = ARGV[i + 3], ARGV[i + 4]
  local ek = P .. 'ev:' .. key
  if redis.call('SET', ek, blob, 'NX', 'EX', ttl) then
    local conv = ''
    if thread ~= '' then
      conv = thread_of(key, thread, refs)
      redis.call('APPEND', ek, pb_bytes(10, conv))
      if message ~= '' then
        redis.call('SET', P .. 'mid:' .. message, conv, 'EX', ttl)
      end
    end
    leases[#leases + 1] = ARGV[2]
    leases[#leases + 1] = key
    stat('ingested')
    out[#out + 1] = {1, conv}
  else
    stat('duplicates')
    out[#out + 1] = {0, ''}
  end
end
call_chunked('ZADD', P .. 'lease:classify', leases, 2)
stats_flush()
return out
