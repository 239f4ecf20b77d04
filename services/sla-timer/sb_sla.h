/*
 * sb_sla: first-response promises.
 *
 * Policy (pure): a new conversation arms a warning at warn_percent of the
 * tenant's first-response target and a breach at the target, both counted
 * from when the customer wrote (the event time), not from when we saw it.
 * The agent's first reply stops both and is "met" if it came within the
 * target; a close stops both.
 *
 * Timers live in Redis (sla_arm.lua through the hand-off, sla_fire.lua to
 * fire them), so any number of sla-timer replicas share them and each
 * fires once.
 */
#ifndef SB_SLA_H
#define SB_SLA_H

#include "sb_stage.h"

extern const char sb_script_sla_arm[];
extern const char sb_script_sla_fire[];

#define SB_SLA_NEXTRA 4

typedef struct {
  int64_t warn_due_ms;
  int64_t breach_due_ms;
} sb_sla_due_t;

/* Due times for a conversation started at started_ms. */
sb_sla_due_t sb_sla_due(const sb_tenant_t *t, int64_t started_ms);
/* 1 if a first reply at reply_ms meets the target. */
int sb_sla_met(const sb_tenant_t *t, int64_t started_ms, int64_t reply_ms);

/* Fills the item's sla_arm.lua arguments and its envelope's sla_armed. */
int sb_sla_prepare(sb_stage_item_t *it, const char **why);

/* The firing side: claims due timers and hands their events to notify. */
typedef struct sb_sla_firer sb_sla_firer_t;
sb_sla_firer_t *sb_sla_firer_new(sb_service_t *s, sb_handoff_t *out);
void sb_sla_firer_stop(sb_sla_firer_t *f);
int sb_sla_firer_idle(const sb_sla_firer_t *f);
void sb_sla_firer_destroy(sb_sla_firer_t **f);

#endif
