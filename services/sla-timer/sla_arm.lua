-- sla_arm.lua: arm and stop first-response timers, run through sb_handoff
-- (prelude.lua) so that the timer change and the hand-off to notify are one
-- atomic step.
-- Extra ARGV per item (4): op, conversation, warn due ms, breach due ms
--   op "arm":  ZADD timers  w|<conv> at warn due, b|<conv> at breach due
--   op "stop": ZREM both (the first reply came, or the conversation closed)
--   op "":     nothing (events that touch no timer)
-- Key: P .. 'timers' zset, member "<w|b>|<conversation>", score = due ms.
-- Invariant: a conversation has at most one warn and one breach timer
-- (members are unique per conversation); a stopped timer never fires.
return sb_handoff(function(key, blob, i)
  local op, conv = ARGV[i], ARGV[i + 1]
  if op == 'arm' then
    redis.call('ZADD', P .. 'timers', 'NX', ARGV[i + 2], 'w|' .. conv, ARGV[i + 3], 'b|' .. conv)
    stat('sla_armed')
  elseif op == 'stop' then
    redis.call('ZREM', P .. 'timers', 'w|' .. conv, 'b|' .. conv)
  elseif op == 'met' or op == 'missed' then
    redis.call('ZREM', P .. 'timers', 'w|' .. conv, 'b|' .. conv)
    stat('sla_' .. op)
  end
  return ''
end)
