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
 *   - an agent's reply also re-arms the policy's periodic "update" target
 *     from the reply (every update_ms without an agent message);
 *   - a close stops every timer; resolution is met or missed; a voice
 *     call's abandoned close (the caller hung up) stops them all and
 *     judges none (counted sla_abandoned);
 *   - AGENT_STATUS naming a conversation (route confirms the agent owns it
 *     by naming it in its decision): "pending_customer" or "on_hold" stop
 *     its clocks, "open" restarts them with the business time that was
 *     left; a customer message ends "pending_customer" the same way;
 *   - a message that moves the conversation to another channel or a more
 *     urgent priority band, or a transfer to another queue, re-arms every
 *     open target under the policy that now matches, counted from the
 *     target's original start (so a public post moved to a DM keeps the
 *     customer's first-response clock).
 * Resumes and re-arms need business time that only C can compute from
 * what Redis holds: sla_arm.lua records them, the firer computes them
 * (sb_sla_rearm) and applies them (sla_rearm.lua).
 * Each target has a warning at the policy's warn_percent and a breach.
 *
 * Timers live in Redis (sla_arm.lua through the hand-off, sla_fire.lua to
 * fire them), so any number of sla-timer replicas share them and each
 * fires once.
 */
#ifndef SB_SLA_H
#define SB_SLA_H

#include "sb_sla_policy.h"
#include "sb_sla_rearm.h"
#include "sb_stage.h"

extern const char sb_script_sla_arm[];

/* sla_arm.lua's arguments per item: op, conversation, at ms, three op
 * arguments, the new conversation's "<channel>|<queue>" (for
 * sb_service_level), the conversation's attributes (sb_sla_rearm.h) */
#define SB_SLA_NEXTRA 8

/* AgentEvent.status values on a conversation (AGENT_STATUS) */
#define SB_SLA_PENDING_CUSTOMER "pending_customer" /* waiting on the customer: paused */
#define SB_SLA_ON_HOLD "on_hold"                   /* on hold: paused */
#define SB_SLA_OPEN "open"                         /* back to work: resumed */

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

#endif
