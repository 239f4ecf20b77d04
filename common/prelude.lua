-- prelude.lua: prepended to every switchboard script (sb_script_register).
--
-- KEYS[1] is always the tenant's stats key "sb:{t:<tenant>}:stats"; every
-- other key a script touches is derived from its prefix P, so it carries the
-- same hash tag and lives in the same Redis Cluster slot.
--
-- pb_* encode protobuf fields, so that a script can append what it decided
-- (a routing decision, a conversation id) to a stored envelope: protobuf
-- merges a field appended to a message, the last value of a scalar wins.
-- Not a member of a oneof (Envelope.body): protobuf-c 1.4 replaces it
-- whole, so a script adds to one with pb_extend_member.
local P = string.sub(KEYS[1], 1, -6)
local TENANT = string.match(P, '^sb:{t:(.*)}:$')
-- SB_SCRIPT (the line before this file, sb_script.c): the name a service
-- registered the script under, nil for scripts that tools and tests load.
-- A named script measures the Redis time its body takes (stats_flush).
local SB_T0 = SB_SCRIPT and redis.call('TIME')

-- (called for every tag and length a script writes, and for times: ms
-- take 6 bytes, us 8. Unrolled, with no table: half the time of a loop
-- filling a table for unpack, measured in Redis's Lua)
local schar, floor = string.char, math.floor
local function pb_varint(n)
  if n < 128 then return schar(n) end
  if n < 16384 then return schar(n % 128 + 128, floor(n / 128)) end
  local b1 = n % 128
  n = (n - b1) / 128
  local b2 = n % 128
  n = (n - b2) / 128
  if n < 128 then return schar(b1 + 128, b2 + 128, n) end
  local b3 = n % 128
  n = (n - b3) / 128
  if n < 128 then return schar(b1 + 128, b2 + 128, b3 + 128, n) end
  local b4 = n % 128
  n = (n - b4) / 128
  if n < 128 then return schar(b1 + 128, b2 + 128, b3 + 128, b4 + 128, n) end
  local b5 = n % 128
  n = (n - b5) / 128
  if n < 128 then return schar(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, n) end
  local b6 = n % 128
  n = (n - b6) / 128
  if n < 128 then return schar(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, n) end
  local b7 = n % 128
  n = (n - b7) / 128
  if n < 128 then
    return schar(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, n)
  end
  -- 2^56 and above: past every time and count a script writes; exact
  -- below 2^53 like every Lua number
  local b8 = n % 128
  n = (n - b8) / 128
  local rest = ''
  while n >= 128 do
    rest = rest .. schar(n % 128 + 128)
    n = floor(n / 128)
  end
  return schar(b1 + 128, b2 + 128, b3 + 128, b4 + 128, b5 + 128, b6 + 128, b7 + 128, b8 + 128) ..
         rest .. schar(n)
end
local function pb_uint(field, n)
  if n == nil or n == 0 then return '' end
  return pb_varint(field * 8) .. pb_varint(n)
end
local function pb_bytes(field, s)
  if s == nil or s == '' then return '' end
  return pb_varint(field * 8 + 2) .. pb_varint(#s) .. s
end
local function pb_bool(field, b)
  if b then return pb_varint(field * 8) .. '\1' end
  return ''
end
local function pb_double(field, x)
  return pb_varint(field * 8 + 1) .. struct.pack('<d', x)
end

-- The bytes of the last length-delimited top-level field f of protobuf
-- message s, '' when absent or when s does not parse.
local function pb_read_varint(s, i)
  local n, mul = 0, 1
  while i <= #s do
    local b = string.byte(s, i)
    n, i = n + (b % 128) * mul, i + 1
    if b < 128 then return n, i end
    mul = mul * 128
  end
  return nil, i
end
local function pb_field_bytes(s, f)
  local i, found = 1, ''
  while i <= #s do
    local tag, len
    tag, i = pb_read_varint(s, i)
    if not tag then return '' end
    local wt = tag % 8
    if wt == 0 then
      len, i = pb_read_varint(s, i)
      if not len then return '' end
    elseif wt == 1 or wt == 5 then
      i = i + (wt == 1 and 8 or 4)
    elseif wt == 2 then
      len, i = pb_read_varint(s, i)
      if not len or i + len - 1 > #s then return '' end
      if math.floor(tag / 8) == f then found = string.sub(s, i, i + len - 1) end
      i = i + len
    else
      return ''
    end
  end
  return found
end

-- Bytes to append to envelope blob so that oneof member field (a message)
-- gains the fields in more: the member as the blob has it, then more,
-- appended whole (appending more alone would replace the member).
local function pb_extend_member(blob, field, more)
  return pb_bytes(field, pb_field_bytes(blob, field) .. more)
end

-- An event a script makes itself (an SLA event, an incident): an Envelope
-- (id, source, type, time, the tenant, its key, then `fields`, protobuf
-- bytes), stored under ev:<key> for ttl s with the lease of the stage that
-- takes it recorded due at `due` ms, as every hand-off (a replica that
-- dies before sending it leaves it to the sweeper). key: the first 32 hex
-- of sha1(source "\n" id). Returns the envelope.
local function sb_event_store(id, source, type_, now_ms, fields, ttl, lease, due)
  local key = string.sub(redis.sha1hex(source .. '\n' .. id), 1, 32)
  local env = pb_bytes(1, id) .. pb_bytes(2, source) .. pb_bytes(3, type_) .. pb_bytes(4, '1.0') ..
              pb_uint(5, now_ms) .. pb_bytes(6, TENANT) .. pb_bytes(9, key) .. fields
  redis.call('SET', P .. 'ev:' .. key, env, 'EX', ttl)
  redis.call('ZADD', P .. 'lease:' .. lease, due, key)
  return env
end

-- A variadic command over a long list, in chunks: Lua's unpack has a limit
-- (a few thousand values) and a script that fails half-way keeps what it
-- already wrote, so an oversized unpack must never happen. step: list
-- values per item (1 for members, 2 for score/member pairs). Returns the
-- concatenated array replies (for ZMSCORE).
local SB_CHUNK_ITEMS = 500
local function call_chunked(cmd, key, list, step)
  local out, per = {}, SB_CHUNK_ITEMS * step
  for i = 1, #list, per do
    local r = redis.call(cmd, key, unpack(list, i, math.min(i + per - 1, #list)))
    if type(r) == 'table' then
      for _, v in ipairs(r) do out[#out + 1] = v end
    end
  end
  return out
end

-- Counters for the tenant's stats hash, written once per script call,
-- with the Redis time the call took so far: lua_us:<script> (microseconds
-- of the script body, from TIME; not counted: Redis reading the request,
-- making ARGV, the reply, writing the AOF) and lua_calls:<script>.
local STATS = {}
local function stat(name, n) STATS[name] = (STATS[name] or 0) + (n or 1) end
local function stats_flush()
  if SB_T0 then
    local t = redis.call('TIME')
    STATS['lua_us:' .. SB_SCRIPT] = (t[1] - SB_T0[1]) * 1000000 + (t[2] - SB_T0[2])
    STATS['lua_calls:' .. SB_SCRIPT] = 1
  end
  for k, v in pairs(STATS) do redis.call('HINCRBY', KEYS[1], k, v) end
end

-- The receiving side of the durable hand-off, for stages fed over ZeroMQ.
-- ARGV: [1] now_us [2] lease deadline ms [3] lease_in [4] lease_out ("" for
-- the last stage) [5] stats field [6] extra args per item [7] ttl, then per
-- item: key, envelope blob, extra args.
-- Invariant: an item's effect runs only if its input lease was still there
-- (and only once if a batch holds the same key twice), in the same script
-- that clears that lease and records the next one, so a re-sent message
-- changes nothing twice and nothing is forwarded without a lease.
-- Lease checks, clears and records are one command per batch (ZMSCORE,
-- variadic ZREM and ZADD): per item only the effect and the stored envelope.
-- effect(key, blob, argi) returns the bytes to append to the envelope.
-- Returns one element per item: the suffix appended (a string, maybe
-- empty) when the item was committed, 0 when it was not (a duplicate).
-- (Flat: a table {flag, suffix} per item cost Redis about 1 us an item.)
local function sb_handoff(effect)
  local lin, lout, per = P .. 'lease:' .. ARGV[3], ARGV[4], tonumber(ARGV[6]) + 2
  local keys = {}
  for i = 8, #ARGV, per do keys[#keys + 1] = ARGV[i] end
  if #keys == 0 then return {} end
  local present = call_chunked('ZMSCORE', lin, keys, 1)
  local out, done, leases, seen = {}, {}, {}, {}
  for k, key in ipairs(keys) do
    local i = 8 + (k - 1) * per
    if present[k] and not seen[key] then
      seen[key] = true
      local blob, suffix = ARGV[i + 1], ''
      if effect then suffix = effect(key, blob, i + 2) or '' end
      if lout ~= '' then
        redis.call('SET', P .. 'ev:' .. key, blob .. suffix, 'XX', 'KEEPTTL')
        leases[#leases + 1] = ARGV[2]
        leases[#leases + 1] = key
      end
      done[#done + 1] = key
      out[k] = suffix
    else
      out[k] = 0
    end
  end
  if #done > 0 then
    call_chunked('ZREM', lin, done, 1)
    if lout ~= '' then call_chunked('ZADD', P .. 'lease:' .. lout, leases, 2) end
    stat(ARGV[5], #done)
  end
  stats_flush()
  return out
end
