-- ingest.lua: make accepted events durable, de-duplicated and threaded,
-- and record their hand-off to classify, in one step per tenant batch.
-- KEYS[1] stats key. ARGV: [1] now us [2] lease deadline ms [3] ttl s,
-- then per event: key, thread field ("<channel>:<customer>", "" for events
-- that open no conversation), envelope blob.
-- Per event: SET ev:<key> NX (the de-duplication mark and the record in one
-- command); if new, thread it (threads hash: field -> conversation id, the
-- key of the conversation's first event) and append the conversation id to
-- the stored envelope. The leases for classify are one ZADD per batch.
-- Returns per event {1, conversation} (accepted) or {0, ""} (duplicate).
-- Invariant: an event is acknowledged as accepted only with its record and
-- its lease written; a redelivery changes nothing.
local out, leases = {}, {}
local ttl = ARGV[3]
for i = 4, #ARGV, 3 do
  local key, thread, blob = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local ek = P .. 'ev:' .. key
  if redis.call('SET', ek, blob, 'NX', 'EX', ttl) then
    local conv = ''
    if thread ~= '' then
      if redis.call('HSETNX', P .. 'threads', thread, key) == 1 then
        conv = key
      else
        conv = redis.call('HGET', P .. 'threads', thread)
      end
      redis.call('APPEND', ek, pb_bytes(10, conv))
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
