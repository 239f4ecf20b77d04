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

sb_sla_due_t sb_sla_due(const sb_tenant_t *t, int64_t started_ms) {
  sb_sla_due_t d;
  d.breach_due_ms = started_ms + t->first_response_ms;
  d.warn_due_ms = started_ms + t->first_response_ms * t->warn_percent / 100;
  return d;
}

int sb_sla_met(const sb_tenant_t *t, int64_t started_ms, int64_t reply_ms) {
  return reply_ms - started_ms <= t->first_response_ms;
}

static Switchboard__V1__SlaEvent *new_sla(sb_envelope_t *env) {
  Switchboard__V1__SlaEvent *e = malloc(sizeof *e);
  if (!e)
    return NULL;
  switchboard__v1__sla_event__init(e);
  e->conversation = strdup(env->routing->conversation);
  e->timer = strdup("first_response");
  if (!e->conversation || !e->timer) {
    free(e->conversation);
    free(e->timer);
    free(e);
    return NULL;
  }
  if (env->sla_armed) /* a re-send already carried one: replace it */
    switchboard__v1__sla_event__free_unpacked(env->sla_armed, NULL);
  env->sla_armed = e;
  return e;
}

static int arm(sb_stage_item_t *it, const Switchboard__V1__RoutingDecision *r) {
  sb_sla_due_t d = sb_sla_due(it->tenant, r->conversation_started_ms);
  Switchboard__V1__SlaEvent *e = new_sla(it->env);
  if (!e)
    return SB_ENOMEM;
  e->kind = SWITCHBOARD__V1__SLA_KIND__SLA_ARMED;
  e->due_ms = d.breach_due_ms;
  e->target_ms = it->tenant->first_response_ms;
  sb_stage_item_arg(it, "arm");
  sb_stage_item_arg(it, r->conversation);
  sb_stage_item_argf(it, "%" PRId64, d.warn_due_ms);
  sb_stage_item_argf(it, "%" PRId64, d.breach_due_ms);
  return 0;
}

static int first_reply(sb_stage_item_t *it, const Switchboard__V1__RoutingDecision *r) {
  int64_t now = sb_now_ms();
  int met = sb_sla_met(it->tenant, r->conversation_started_ms, now);
  Switchboard__V1__SlaEvent *e = new_sla(it->env);
  if (!e)
    return SB_ENOMEM;
  e->kind = met ? SWITCHBOARD__V1__SLA_KIND__SLA_MET : SWITCHBOARD__V1__SLA_KIND__SLA_BREACH;
  e->target_ms = it->tenant->first_response_ms;
  e->elapsed_ms = now - r->conversation_started_ms;
  sb_stage_item_arg(it, met ? "met" : "missed");
  sb_stage_item_arg(it, r->conversation);
  return 0;
}

int sb_sla_prepare(sb_stage_item_t *it, const char **why) {
  const Switchboard__V1__RoutingDecision *r = it->env->routing;
  if (!r) {
    *why = "envelope without a routing decision";
    return SB_EINVAL;
  }
  int is_message = it->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  int is_agent = it->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  if (is_message && r->new_conversation)
    return arm(it, r);
  if (is_agent && r->first_reply)
    return first_reply(it, r);
  if (is_agent && r->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK &&
      it->env->agent->action == SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE) {
    sb_stage_item_arg(it, "stop");
    sb_stage_item_arg(it, r->conversation);
  }
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
