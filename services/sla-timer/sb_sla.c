/*
 * sb_sla: policy and timer firing (see sb_sla.h).
 *
 * Firing is driven by one loop timer set at the earliest due time that the
 * last claim reported, capped at SB_SLA_RESCAN_MS so that timers armed by
 * other replicas are seen within that bound. No per-timer polling.
 */
#include "sb_sla.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_SLA_RESCAN_MS 50   /* longest wait between claims */
#define SB_SLA_CLAIM_MAX "500" /* timers claimed per tenant per call */

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
 * "<target>,<target ms>,<warn due ms>,<breach due ms>,<calendar>", or ""
 * when the policy promises nothing for it. */
static int spec(sb_stage_item_t *it, const sb_sla_policy_t *p, sb_sla_target_t k, int64_t from) {
  sb_sla_due_t d;
  int rc = sb_sla_policy_due(p, k, from, &d);
  if (rc == SB_ENOTFOUND && p->target_ms[k] <= 0) {
    sb_stage_item_arg(it, "");
    return 0;
  }
  if (rc)
    return rc;
  sb_stage_item_argf(it, "%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%s", sb_sla_target_name(k), p->target_ms[k],
                     d.warn_due_ms, d.breach_due_ms, p->calendar_name);
  return 0;
}

/* When the customer wrote: the event time, never in the future. */
static int64_t customer_time(const sb_envelope_t *env, int64_t now) {
  return env->time_ms > 0 && env->time_ms < now ? env->time_ms : now;
}

static int on_message(const sb_sla_policies_t *ps, sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  const sb_sla_policy_t *p = sb_sla_policies_match(ps, (int)it->env->interaction->channel,
                                                   sb_sla_priority_band(it->env->classification));
  int64_t now = sb_now_ms();
  int rc = 0;
  if (r->new_conversation) {
    int64_t started = r->conversation_started_ms ? r->conversation_started_ms : customer_time(it->env, now);
    sb_stage_item_arg(it, "arm");
    sb_stage_item_arg(it, r->conversation);
    sb_stage_item_argf(it, "%" PRId64, started);
    rc = spec(it, p, SB_SLA_FIRST_RESPONSE, started);
    rc = rc ? rc : spec(it, p, SB_SLA_RESOLUTION, started);
    sb_stage_item_argf(it, "%s|%s", sb_channel_name(it->env->interaction->channel), r->queue);
  } else if ((r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING ||
              r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED) &&
             p->target_ms[SB_SLA_NEXT_RESPONSE] > 0 && *r->conversation) {
    int64_t at = customer_time(it->env, now);
    sb_stage_item_arg(it, "next");
    sb_stage_item_arg(it, r->conversation);
    sb_stage_item_argf(it, "%" PRId64, at);
    rc = spec(it, p, SB_SLA_NEXT_RESPONSE, at);
  }
  if (rc)
    *why = rc == SB_ENOTFOUND ? "sla calendar has no business time within its horizon" : "sla calendar failed";
  return rc;
}

static void on_agent(sb_stage_item_t *it) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  Switchboard__V1__AgentAction a = it->env->agent->action;
  if (r->outcome != SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK || !*r->conversation)
    return;
  if (a != SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY && a != SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE)
    return;
  sb_stage_item_arg(it, a == SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY ? "reply" : "close");
  sb_stage_item_arg(it, r->conversation);
  sb_stage_item_argf(it, "%" PRId64, sb_now_ms());
  sb_stage_item_arg(it, r->first_reply ? "1" : "0");
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

/* ---- firing -------------------------------------------------------------- */

struct sb_sla_firer {
  sb_service_t *svc;
  sb_handoff_t *out;
  int script;
  uv_timer_t timer;
  size_t pending; /* claim replies outstanding */
  int64_t next_due;
  int stopped, closing, timer_closed;
  sb_counter_t *claim_failed;
};

static void schedule(sb_sla_firer_t *f);

/* sb_sla_fired_total{kind="sla.warning"|"sla.breach", tenant=...} */
static void count_fired(sb_sla_firer_t *f, const char *blob, size_t len) {
  sb_envelope_t *env = sb_envelope_unpack(blob, len);
  char labels[160];
  sb_metrics_labels(labels, sizeof labels, "kind", env ? sb_envelope_kind(env) : "unknown", "tenant",
                    env ? env->tenant : "", NULL);
  sb_counter_add(sb_metrics_counter(f->svc->metrics, "sb_sla_fired_total",
                                    "SLA warnings and breaches fired, by kind and tenant", labels), 1);
  sb_envelope_free(env);
}

static void maybe_free(sb_sla_firer_t *f) {
  if (f->closing && f->timer_closed && f->pending == 0)
    free(f);
}

static void on_claim(const redisReply *reply, int err, void *arg) {
  sb_sla_firer_t *f = arg;
  f->pending--;
  if (f->closing) {
    maybe_free(f);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
    sb_counter_add(f->claim_failed, 1);
  } else {
    const redisReply *nd = reply->element[0];
    if (nd->type == REDIS_REPLY_INTEGER && nd->integer > 0 &&
        (f->next_due == 0 || nd->integer < f->next_due))
      f->next_due = nd->integer;
    for (size_t i = 1; i < reply->elements; i++) {
      const redisReply *e = reply->element[i];
      if (e->type != REDIS_REPLY_STRING)
        continue;
      if (f->out)
        sb_handoff_send(f->out, e->str, e->len); /* the lease covers a failure */
      count_fired(f, e->str, e->len);
    }
  }
  if (f->pending == 0)
    schedule(f);
}

static void claim_tenant(sb_sla_firer_t *f, const sb_tenant_t *t, const char *now,
                         const char *deadline) {
  char stats[SB_KEY_MAX], target[24], warn[8], ttl[24];
  sb_key_tenant(stats, sizeof stats, t->id, "stats");
  snprintf(target, sizeof target, "%" PRId64, t->first_response_ms);
  snprintf(warn, sizeof warn, "%d", t->warn_percent);
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(f->svc->config, "event-ttl-s"));
  const char *argv[] = {stats, now, deadline, SB_SLA_CLAIM_MAX, t->id, target, warn, ttl};
  size_t lens[8];
  for (int i = 0; i < 8; i++)
    lens[i] = strlen(argv[i]);
  if (sb_redis_evalsha(f->svc->redis, f->script, 1, 8, argv, lens, on_claim, f) == 0)
    f->pending++;
}

static void on_timer(uv_timer_t *t) {
  sb_sla_firer_t *f = t->data;
  if (f->stopped || f->pending || !sb_redis_is_connected(f->svc->redis)) {
    schedule(f);
    return;
  }
  char now[24], deadline[24];
  int64_t ms = sb_now_ms();
  snprintf(now, sizeof now, "%" PRId64, ms);
  snprintf(deadline, sizeof deadline, "%" PRId64, (int64_t)(ms + sb_config_int(f->svc->config, "lease-ms")));
  f->next_due = 0;
  for (size_t i = 0; i < sb_tenants_count(f->svc->tenants); i++)
    claim_tenant(f, sb_tenants_at(f->svc->tenants, i), now, deadline);
  if (f->pending == 0)
    schedule(f);
}

static void schedule(sb_sla_firer_t *f) {
  if (f->closing || f->stopped)
    return;
  int64_t wait = SB_SLA_RESCAN_MS;
  if (f->next_due) {
    int64_t until = f->next_due - sb_now_ms();
    wait = until < 0 ? 0 : (until < wait ? until : wait);
  }
  uv_timer_start(&f->timer, on_timer, (uint64_t)wait, 0);
}

sb_sla_firer_t *sb_sla_firer_new(sb_service_t *s, sb_handoff_t *out) {
  sb_sla_firer_t *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->svc = s;
  f->out = out;
  f->script = sb_script_add(s->redis, "sla_fire", sb_script_sla_fire);
  f->claim_failed = sb_metrics_counter(s->metrics, "sb_sla_claim_failed_total",
                                       "timer claims Redis did not answer", NULL);
  uv_timer_init(s->loop, &f->timer);
  f->timer.data = f;
  schedule(f);
  return f;
}

void sb_sla_firer_stop(sb_sla_firer_t *f) {
  f->stopped = 1;
  uv_timer_stop(&f->timer);
}

int sb_sla_firer_idle(const sb_sla_firer_t *f) { return f->pending == 0; }

static void on_closed(uv_handle_t *h) {
  sb_sla_firer_t *f = h->data;
  f->timer_closed = 1;
  maybe_free(f);
}

void sb_sla_firer_destroy(sb_sla_firer_t **fp) {
  sb_sla_firer_t *f = *fp;
  if (!f)
    return;
  *fp = NULL;
  f->closing = 1;
  f->out = NULL;
  uv_close((uv_handle_t *)&f->timer, on_closed);
}
