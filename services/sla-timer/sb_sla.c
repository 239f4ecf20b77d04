/*
 * sb_sla: every tenant's policies, and what an event does to the timers
 * (see sb_sla.h): C decides due times and passes them, with the
 * conversation's attributes, to sla_arm.lua. Firing is sb_sla_firer's.
 */
#include "sb_sla.h"
#include "sb_cloudevent.h"
#include "sb_error.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- policies per tenant ---------------------------------------------------- */

typedef struct {
  const sb_tenant_t *tenant;
  sb_sla_policies_t *policies;
} tenant_policies_t;

struct sb_sla {
  tenant_policies_t *by_tenant; /* sorted by tenant pointer */
  size_t n;
};

static int cmp_tenant(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const tenant_policies_t *)a)->tenant;
  uintptr_t y = (uintptr_t)((const tenant_policies_t *)b)->tenant;
  return (x > y) - (x < y);
}

sb_sla_t *sb_sla_new(const sb_tenants_t *tenants, char *err, size_t errlen) {
  sb_sla_t *s = calloc(1, sizeof *s);
  size_t n = sb_tenants_count(tenants);
  if (s)
    s->by_tenant = calloc(n ? n : 1, sizeof *s->by_tenant);
  if (!s || !s->by_tenant) {
    snprintf(err, errlen, "out of memory");
    sb_sla_destroy(&s);
    return NULL;
  }
  for (; s->n < n; s->n++) {
    tenant_policies_t *tp = &s->by_tenant[s->n];
    tp->tenant = sb_tenants_at(tenants, s->n);
    tp->policies = sb_sla_policies_new(tp->tenant, err, errlen);
    if (!tp->policies) {
      sb_sla_destroy(&s);
      return NULL;
    }
  }
  qsort(s->by_tenant, s->n, sizeof *s->by_tenant, cmp_tenant);
  return s;
}

void sb_sla_destroy(sb_sla_t **sp) {
  sb_sla_t *s = *sp;
  if (!s)
    return;
  *sp = NULL;
  for (size_t i = 0; s->by_tenant && i < s->n; i++)
    sb_sla_policies_destroy(&s->by_tenant[i].policies);
  free(s->by_tenant);
  free(s);
}

const sb_sla_policies_t *sb_sla_policies_of(const sb_sla_t *s, const sb_tenant_t *t) {
  tenant_policies_t key = {.tenant = t};
  const tenant_policies_t *tp = bsearch(&key, s->by_tenant, s->n, sizeof key, cmp_tenant);
  return tp ? tp->policies : NULL;
}

/* ---- what an event does to the timers ---------------------------------------- */

/* One target's part of sla_arm.lua's arguments:
 * "<target>,<target ms>,<warn due ms>,<breach due ms>,<calendar>,<warn %>",
 * or "" when the policy promises nothing for it. */
static int spec(sb_stage_item_t *it, const sb_sla_policy_t *p, sb_sla_target_t k, int64_t from) {
  sb_sla_due_t d;
  int rc = sb_sla_policy_due(p, k, from, &d);
  if (rc == SB_ENOTFOUND && p->target_ms[k] <= 0) {
    sb_stage_item_arg(it, "");
    return 0;
  }
  if (rc)
    return rc;
  sb_stage_item_argf(it, "%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,%d", sb_sla_target_name(k), p->target_ms[k],
                     d.warn_due_ms, d.breach_due_ms, p->calendar_name, p->warn_percent);
  return 0;
}

/* When the customer wrote: the event time, never in the future. */
static int64_t customer_time(const sb_envelope_t *env, int64_t now) {
  return env->time_ms > 0 && env->time_ms < now ? env->time_ms : now;
}

/* The conversation's attributes (sla_arm.lua keeps them for the firer). */
static void attrs_arg(sb_stage_item_t *it, const char *channel, int band, const char *queue, int64_t started,
                      const sb_sla_policy_t *p) {
  char buf[SB_SLA_FIELD_MAX];
  int n = sb_sla_attrs_format(buf, sizeof buf, channel, band, queue, started, p);
  sb_stage_item_argf(it, "%s", n > 0 && (size_t)n < sizeof buf ? buf : "");
}

static int on_message(const sb_sla_policies_t *ps, sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  int channel = (int)it->env->interaction->channel;
  sb_sla_priority_t band = sb_sla_priority_band(it->env->classification);
  const sb_sla_policy_t *p = sb_sla_policies_match_queue(ps, channel, band, r->queue);
  int64_t now = sb_now_ms();
  int rc = 0;
  if (r->new_conversation) {
    int64_t started = r->conversation_started_ms ? r->conversation_started_ms : customer_time(it->env, now);
    sb_stage_item_arg(it, "arm");
    sb_stage_item_arg(it, r->conversation);
    sb_stage_item_argf(it, "%" PRId64, started);
    rc = spec(it, p, SB_SLA_FIRST_RESPONSE, started);
    rc = rc ? rc : spec(it, p, SB_SLA_RESOLUTION, started);
    sb_stage_item_arg(it, "");
    sb_stage_item_argf(it, "%s|%s", sb_channel_name(it->env->interaction->channel), r->queue);
    attrs_arg(it, sb_channel_name(it->env->interaction->channel), (int)band, r->queue, started, p);
  } else if ((r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING ||
              r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED) &&
             *r->conversation) {
    int64_t at = customer_time(it->env, now);
    sb_stage_item_arg(it, "next");
    sb_stage_item_arg(it, r->conversation);
    sb_stage_item_argf(it, "%" PRId64, at);
    if (!*r->queue && sb_sla_policies_by_queue(ps))
      sb_stage_item_arg(it, "defer"); /* the policy depends on a queue only Redis knows */
    else
      rc = spec(it, p, SB_SLA_NEXT_RESPONSE, at);
    sb_stage_item_arg(it, "");
    sb_stage_item_arg(it, "");
    sb_stage_item_arg(it, "");
    attrs_arg(it, sb_channel_name(it->env->interaction->channel), (int)band, r->queue,
              r->conversation_started_ms ? r->conversation_started_ms : at, p);
  }
  if (rc)
    *why = rc == SB_ENOTFOUND ? "sla calendar has no business time within its horizon" : "sla calendar failed";
  return rc;
}

/* AGENT_STATUS on a conversation: "pending_customer" and "on_hold" stop
 * its clocks, "open" starts them again. NULL: not a conversation status. */
static const char *status_op(const char *status) {
  if (strcmp(status, SB_SLA_PENDING_CUSTOMER) == 0 || strcmp(status, SB_SLA_ON_HOLD) == 0)
    return "pause";
  return strcmp(status, SB_SLA_OPEN) == 0 ? "resume" : NULL;
}

static void agent_op(sb_stage_item_t *it, const char *op, const char *conv, const char *a1) {
  sb_stage_item_arg(it, op);
  sb_stage_item_arg(it, conv);
  sb_stage_item_argf(it, "%" PRId64, sb_now_ms());
  sb_stage_item_arg(it, a1);
}

static void on_agent(sb_stage_item_t *it) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  const Switchboard__V1__AgentEvent *ev = it->env->agent;
  if (r->outcome != SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK || !*r->conversation)
    return;
  switch (ev->action) {
  case SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY:
    agent_op(it, "reply", r->conversation, r->first_reply ? "1" : "0");
    break;
  case SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE:
    /* a caller who hung up: the clocks stop, nothing is judged met */
    agent_op(it, sb_voice_kind(it->env->type) == SB_VOICE_ABANDONED ? "abandon" : "close",
             r->conversation, "");
    break;
  case SWITCHBOARD__V1__AGENT_ACTION__AGENT_STATUS:
    /* route confirms the agent owns the conversation by naming it */
    if (status_op(ev->status) && strcmp(ev->conversation, r->conversation) == 0)
      agent_op(it, status_op(ev->status), r->conversation, ev->status);
    break;
  case SWITCHBOARD__V1__AGENT_ACTION__AGENT_TRANSFER:
    if (*ev->target_queue) {
      agent_op(it, "attrs", r->conversation, "");
      sb_stage_item_arg(it, "");
      sb_stage_item_arg(it, "");
      sb_stage_item_arg(it, "");
      sb_stage_item_argf(it, "||%s|0|0|0|0||0", ev->target_queue);
    }
    break;
  default:
    break;
  }
}

int sb_sla_prepare(const sb_sla_t *s, sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  if (!r) {
    *why = "envelope without a routing decision";
    return SB_EINVAL;
  }
  const sb_sla_policies_t *ps = sb_sla_policies_of(s, it->tenant);
  if (!ps) {
    *why = "tenant without sla policies";
    return SB_ETENANT;
  }
  if (it->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION && it->env->interaction)
    return on_message(ps, it, why);
  if (it->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT && it->env->agent)
    on_agent(it);
  return 0;
}
