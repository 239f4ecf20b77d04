-- handoff.lua: a stage whose effect is computed in C (classify, notify):
-- clear the input lease, store the enriched envelope, record the next lease.
-- KEYS and ARGV: see sb_handoff in prelude.lua.
return sb_handoff(nil)
