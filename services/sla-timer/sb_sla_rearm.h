/*
 * sb_sla_rearm: new due times for a conversation whose clocks changed in a
 * way only business time can settle: resumed after a pause, or its policy
 * changed (queue, priority band or channel moved), or a new "update"
 * target armed by an agent reply. Pure: strings in, strings out.
 *
 * sla_arm.lua records such a change as a rearm marker and a timer member
 * "r|<conv>" due at once; sla_fire.lua claims it and hands the firer a task
 *   "<conv>\n<marker>\n<attrs>\n<first_response>\n<next_response>\n
 *    <resolution>\n<update>"
 * (the conversation's timers:open fields, "" when absent; formats in
 * sla_arm.lua). This module matches the policy the attributes name now and
 * computes, for each open target, from its own start:
 *   - a resumed pause adds the business time it lasted (on the target's
 *     calendar) to the target's paused time, and clears the pause;
 *   - a target that is not paused gets warn and breach due times =
 *     start + (target x warn% | target) + paused time, in the new policy's
 *     business time; a warning (stage 1) or breach (stage 2) already fired
 *     is not armed again;
 *   - a target the new policy does not promise is dropped.
 * sla_rearm.lua applies the result only if the marker is unchanged and
 * each target's field still holds the value read here (compare-and-set),
 * so a reply, close or pause that came in between wins.
 */
#ifndef SB_SLA_REARM_H
#define SB_SLA_REARM_H

#include "sb_sla_policy.h"

#define SB_SLA_FIELD_MAX 192 /* a timers:open value, attrs or marker */
#define SB_SLA_CONV_MAX 128

typedef struct {
  char old[SB_SLA_FIELD_MAX]; /* the field read by sla_fire.lua ("" absent) */
  char now[SB_SLA_FIELD_MAX]; /* its new value ("" drops it) */
  int64_t warn_due_ms;        /* -1: no warning timer */
  int64_t breach_due_ms;      /* -1: no breach timer */
} sb_sla_rearm_target_t;

typedef struct {
  char conv[SB_SLA_CONV_MAX];
  char marker[SB_SLA_FIELD_MAX];
  char attrs[SB_SLA_FIELD_MAX]; /* rewritten with the new policy's actions */
  sb_sla_rearm_target_t t[SB_SLA_TARGETS];
} sb_sla_rearm_t;

/* Computes *out from a task (len bytes). 0, or SB_EINVAL with a static
 * reason in *why (malformed task: nothing to apply). */
int sb_sla_rearm_compute(const sb_sla_policies_t *ps, const char *task, size_t len, sb_sla_rearm_t *out,
                         const char **why);

/* The attributes string sla_arm.lua keeps per conversation:
 * "<channel>|<band>|<queue>|<started ms>|<on_breach bits>|<raise by>|
 *  <alert window ms>|<supervisor calendar>|<update ms>" for policy p.
 * Returns snprintf's count (>= len: truncated). */
int sb_sla_attrs_format(char *buf, size_t len, const char *channel, int band, const char *queue,
                        int64_t started_ms, const sb_sla_policy_t *p);

#endif
