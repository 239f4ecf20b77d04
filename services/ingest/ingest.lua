-- ingest.lua: make accepted events durable, de-duplicated and threaded,
-- and record their hand-off to classify, in one step per tenant batch.
-- KEYS[1] stats key. ARGV: [1] now us [2] lease deadline ms [3] ttl s,
-- then per event: key, thread field ("<channel>:<customer>"; "call:<id>"
-- for a voice call; "" for events that open no conversation), envelope
-- blob, message ("email:<Message-ID>" to remember, or ""), refs
-- ('\n'-separated "email:<id>"s the message answers; for a voice agent
-- event "call:<id>", or ""), identity ("<channel>:<customer>" of a
-- customer's message, "" for agent events).
-- Per event: the de-duplication check on ev:<key> (the record is the
-- mark); if new, thread it and store the envelope with its conversation id
-- (and, for a customer's message, its canonical customer id) once; an
-- event that opens no conversation is stored by SET NX, mark and record
-- in one command.
-- Threading, first match wins:
--   0. a voice call ("call:<id>"): mid:call:<id> if it names an open
--      conversation (the same call offered again), else a new one; the
--      call is remembered in mid:call:<id> (expiring with the events);
--   1. a ref whose mid:<ref> names a conversation that is not closed (an
--      e-mail reply joins the conversation of the message it answers,
--      whatever its From or Subject); the thread field then points there;
--   2. the thread field, replaced by "customer:<canonical>" when
--      ident:<channel>:<customer> links the identity (POST
--      /v1/identities), so one person's channels share one conversation;
--      a linked field naming a closed conversation counts as absent
--      (route deletes only the field of the conversation's first message);
--   3. else a new conversation: the key of this first event.
-- An agent event with refs "call:<id>" (voice answered/abandoned) takes the
-- call's conversation into AgentEvent.conversation (field 21.3) and the
-- envelope's; an unknown call leaves both empty (route rejects it).
-- Customer id (Interaction.customer_id, field 20.8): ingest (C) puts in
-- every customer's message the id derived from its identity: "cus_" .. 16
-- hex of sha1(tenant "\n" identity) (sb_customer_id_derived), stable and
-- stored nowhere, so an unlinked identity costs nothing here. For an
-- identity linked to customer C, the envelope's member is rewritten with
-- cid:customer:<C> (written by identity.lua; if absent, the id derived
-- from "customer:<C>"): that rewrite is most of a script's time per event
-- (about 5 us against 0.5 us to append the conversation), hence only then.
-- mid:<message> is then set to the conversation, expiring with the events.
-- The leases for classify are one ZADD per batch.
-- Returns per event {1, conversation, customer id of a linked identity or
-- ""} (accepted) or {0, "", ""} (duplicate).
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

local function derived_id(ident)
  return 'cus_' .. string.sub(redis.sha1hex(TENANT .. '\n' .. ident), 1, 16)
end

local function linked_customer(linked)
  return redis.call('GET', P .. 'cid:customer:' .. linked) or derived_id('customer:' .. linked)
end

local function call_of(key, thread)
  local mk = P .. 'mid:' .. thread
  local conv = redis.call('GET', mk)
  if not conv or closed(conv) then conv = key end
  redis.call('SET', mk, conv, 'EX', ttl)
  return conv
end

local function thread_of(key, thread, refs, linked)
  if string.sub(thread, 1, 5) == 'call:' then return call_of(key, thread) end
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

-- protobuf: the blob with `extra` (encoded fields) merged into its
-- length-delimited top-level field `field` (the oneof body: protobuf-c
-- replaces a repeated oneof member instead of merging it, so an appended
-- occurrence would drop the body). The blob is ingest's own encoding.
local function pb_read_varint(s, pos)
  local n, mul = 0, 1
  while true do
    local b = string.byte(s, pos)
    if not b then return nil, pos end
    pos = pos + 1
    n = n + (b % 128) * mul
    if b < 128 then return n, pos end
    mul = mul * 128
  end
end

local function pb_merge_into(blob, field, extra)
  local pos = 1
  while pos <= #blob do
    local start, tag, n = pos, nil, nil
    tag, pos = pb_read_varint(blob, pos)
    if not tag then break end
    local wt = tag % 8
    if wt == 0 then pos = select(2, pb_read_varint(blob, pos))
    elseif wt == 1 then pos = pos + 8
    elseif wt == 5 then pos = pos + 4
    elseif wt == 2 then
      n, pos = pb_read_varint(blob, pos)
      if not n then break end
      if math.floor(tag / 8) == field then
        return string.sub(blob, 1, start - 1) ..
               pb_bytes(field, string.sub(blob, pos, pos + n - 1) .. extra) ..
               string.sub(blob, pos + n)
      end
      pos = pos + n
    else break end
  end
  return blob .. pb_bytes(field, extra)
end

-- A message that opens or joins a conversation is recorded once, complete
-- (EXISTS, then one SET with its conversation): a SET NX of the bare blob
-- followed by that SET wrote every record, and its AOF entry, twice.
local function fresh(ek, blob, thread)
  if thread ~= '' then return redis.call('EXISTS', ek) == 0 end
  return redis.call('SET', ek, blob, 'NX', 'EX', ttl)
end

for i = 4, #ARGV, 6 do
  local key, thread, blob = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local message, refs, ident = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local ek = P .. 'ev:' .. key
  if fresh(ek, blob, thread) then
    local conv, cid = '', ''
    if thread ~= '' then
      local linked = ident ~= '' and redis.call('GET', P .. 'ident:' .. ident)
      conv = thread_of(key, thread, refs, linked)
      if message ~= '' then
        redis.call('SET', P .. 'mid:' .. message, conv, 'EX', ttl)
      end
      if linked then
        cid = linked_customer(linked)
        blob = pb_merge_into(blob, 20, pb_bytes(8, cid))
      end
      redis.call('SET', ek, blob .. pb_bytes(10, conv), 'EX', ttl)
    elseif string.sub(refs, 1, 5) == 'call:' then
      conv = redis.call('GET', P .. 'mid:' .. refs) or ''
      if conv ~= '' then
        redis.call('SET', ek, pb_merge_into(blob, 21, pb_bytes(3, conv)) .. pb_bytes(10, conv), 'EX', ttl)
      else
        stat('voice_unknown_call')
      end
    end
    leases[#leases + 1] = ARGV[2]
    leases[#leases + 1] = key
    stat('ingested')
    out[#out + 1] = {1, conv, cid}
  else
    stat('duplicates')
    out[#out + 1] = {0, '', ''}
  end
end
call_chunked('ZADD', P .. 'lease:classify', leases, 2)
stats_flush()
return out
