/*
 * sb_sla: service-level timers of conversations.
 *
 * What is promised comes from the tenant's policies (sb_sla_policy: by
 * channel and priority, in business time with a calendar). What each event
 * does to the timers (C decides due times, sla_arm.lua applies them):
 *   - a new conversation arms first response and resolution, counted from
 *     when the customer wrote (the event time), not from when we saw it;
 *   - a customer message on an open conversation (re-)arms next response
 *     from that message's time, replacing the one running, once the first
 *     response was given (while it is pending, it is the promise);
 *   - an agent's reply stops first response (its first) and next response,
 *     "met" if it came before the breach was due, "missed" otherwise;
 *   - a close stops every timer; resolution is met or missed.
 * Each target has a warning at the policy's warn_percent and a breach.
 *
 * Timers live in Redis (sla_arm.lua through the hand-off, sla_fire.lua to
 * fire them), so any number of sla-timer replicas share them and each
 * fires once.
 */
#ifndef SB_SLA_H
#define SB_SLA_H

#include "sb_sla_policy.h"
#include "sb_stage.h"

extern const char sb_script_sla_arm[];
extern const char sb_script_sla_fire[];

/* sla_arm.lua's arguments per item: op, conversation, at ms, two specs,
 * the new conversation's "<channel>|<queue>" (for sb_service_level) */
#define SB_SLA_NEXTRA 6

/* Every tenant's policies, loaded once. */
typedef struct sb_sla sb_sla_t;
/* NULL with the first configuration error in err (it names the tenant and
 * the field). */
sb_sla_t *sb_sla_new(const sb_tenants_t *tenants, char *err, size_t errlen);
void sb_sla_destroy(sb_sla_t **s);
/* The policies of a tenant of the set it was made from, or NULL. */
const sb_sla_policies_t *sb_sla_policies_of(const sb_sla_t *s, const sb_tenant_t *t);

/* Fills the item's sla_arm.lua arguments (see sla_arm.lua). 0, or an
 * error with a static reason (the item becomes a dead letter). */
int sb_sla_prepare(const sb_sla_t *s, sb_stage_item_t *it, const char **why);

/* The firing side: claims due timers and hands their events to notify. */
typedef struct sb_sla_firer sb_sla_firer_t;
sb_sla_firer_t *sb_sla_firer_new(sb_service_t *s, sb_handoff_t *out);
void sb_sla_firer_stop(sb_sla_firer_t *f);
int sb_sla_firer_idle(const sb_sla_firer_t *f);
void sb_sla_firer_destroy(sb_sla_firer_t **f);

#endif
