-- identity.lua: links channel identities to one canonical customer
-- (POST /v1/identities, sb_door_identity.c).
-- KEYS[1] stats key. ARGV: [1] canonical customer, then one identity field
-- "<channel>:<normalised id>" each (the same string ingest.lua's thread
-- field holds for a message from that identity).
-- Per identity: SET ident:<channel>:<id> = customer, without expiry (a link
-- holds until the identity is linked again; the last link wins).
-- Then, if the customer has no open conversation under the threads field
-- "customer:<customer>", it adopts the open conversation of the first
-- linked identity that has one: a person who wrote on WeChat before the
-- link stays in that conversation when they then write by e-mail.
-- Customer id: the group's id is cid:customer:<customer> (no expiry). A
-- customer's first link sets it to the id the first listed identity had
-- until then (its own group's, else the id derived from it: see
-- ingest.lua), so the events that identity sent before keep the id the
-- group now carries; the other identities' earlier events keep theirs.
-- Returns {identities linked, conversation adopted or current, or "",
-- the group's customer id}.
-- Invariant: a threads field only ever names a conversation that was open
-- when it was written (ingest.lua treats a closed one as absent).
local function open_conv(conv)
  return conv and redis.call('HGET', P .. 'conv:' .. conv, 'state') ~= 'closed'
end

local customer = ARGV[1]
local field = 'customer:' .. customer

local function derived_id(ident)
  return 'cus_' .. string.sub(redis.sha1hex(TENANT .. '\n' .. ident), 1, 16)
end

local gkey = P .. 'cid:customer:' .. customer
local gid = redis.call('GET', gkey)
if not gid then
  local before = redis.call('GET', P .. 'ident:' .. ARGV[2])
  if before then
    gid = redis.call('GET', P .. 'cid:customer:' .. before) or derived_id('customer:' .. before)
  else
    gid = derived_id(ARGV[2])
  end
  redis.call('SET', gkey, gid)
end
for i = 2, #ARGV do
  redis.call('SET', P .. 'ident:' .. ARGV[i], customer)
end
local conv = redis.call('HGET', P .. 'threads', field)
if not open_conv(conv) then
  conv = false
  for i = 2, #ARGV do
    local c = redis.call('HGET', P .. 'threads', ARGV[i])
    if open_conv(c) then
      conv = c
      redis.call('HSET', P .. 'threads', field, c)
      break
    end
  end
end
stat('identities_linked', #ARGV - 1)
stats_flush()
return {#ARGV - 1, conv or '', gid}
