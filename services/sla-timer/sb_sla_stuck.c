/*
 * sb_sla_stuck: the periodic stuck-queue check (see sb_sla_stuck.h).
 * I/O only: what "stuck" means is in sla_stuck.lua.
 */
#include "sb_sla_stuck.h"
#include "sb_calendar.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_sla_stuck {
  sb_service_t *svc;
  sb_handoff_t *out;
  const sb_sla_t *policies;
  int script;
  int64_t every_ms;
  uv_timer_t timer;
  size_t pending; /* Redis replies outstanding */
  int stopped, closing, timer_closed;
  sb_counter_t *raised, *failed;
};

typedef struct {
  sb_sla_stuck_t *k;
  const sb_tenant_t *tenant;
} check_t;

static void maybe_free(sb_sla_stuck_t *k) {
  if (k->closing && k->timer_closed && !k->pending)
    free(k);
}

/* "<queue>|<waiting>|<head wait ms>" -> gauges */
static void set_gauges(sb_sla_stuck_t *k, const sb_tenant_t *t, const char *s, size_t len) {
  char buf[160], labels[256];
  if (len >= sizeof buf)
    return;
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *bar = strchr(buf, '|');
  char *bar2 = bar ? strchr(bar + 1, '|') : NULL;
  if (!bar2)
    return;
  *bar = *bar2 = '\0';
  if (sb_metrics_labels(labels, sizeof labels, "queue", buf, "tenant", t->id, NULL))
    return;
  sb_gauge_t *w = sb_metrics_gauge(k->svc->metrics, "sb_queue_waiting",
                                   "conversations in the queue's waiting line (last stuck check)", labels);
  sb_gauge_t *h = sb_metrics_gauge(k->svc->metrics, "sb_queue_head_wait_seconds",
                                   "how long the queue's next conversation has waited (last stuck check)", labels);
  if (w)
    sb_gauge_set(w, strtod(bar + 1, NULL));
  if (h)
    sb_gauge_set(h, strtod(bar2 + 1, NULL) / 1000.0);
}

static void on_check(const redisReply *reply, int err, void *arg) {
  check_t *c = arg;
  sb_sla_stuck_t *k = c->k;
  k->pending--;
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[1]->type != REDIS_REPLY_ARRAY) {
    sb_counter_add(k->failed, 1);
  } else {
    const redisReply *envs = reply->element[0], *states = reply->element[1];
    for (size_t i = 0; i < envs->elements; i++) {
      const redisReply *e = envs->element[i];
      if (e->type != REDIS_REPLY_STRING)
        continue;
      if (k->out && !k->closing)
        sb_handoff_send(k->out, e->str, e->len); /* the lease covers a lost send */
      sb_counter_add(k->raised, 1);
      sb_log(SB_LOG_WARN, "queue_stuck", "tenant", c->tenant->id, NULL);
    }
    for (size_t i = 0; i < states->elements && !k->closing; i++)
      if (states->element[i]->type == REDIS_REPLY_STRING)
        set_gauges(k, c->tenant, states->element[i]->str, states->element[i]->len);
  }
  free(c);
  maybe_free(k);
}

static void check_tenant(sb_sla_stuck_t *k, const sb_tenant_t *t, int64_t now_ms) {
  const sb_sla_policies_t *ps = sb_sla_policies_of(k->policies, t);
  const sb_sla_stuck_cfg_t *st = ps ? sb_sla_policies_stuck(ps) : NULL;
  if (!st || st->after_ms <= 0 || (st->calendar && !sb_calendar_is_open(st->calendar, now_ms)))
    return;
  char stats[SB_KEY_MAX], now[24], deadline[24], after[24], ttl[24];
  char queues[SB_SLA_STUCK_QUEUES_MAX * (SB_SLA_QUEUE_MAX + 1) + 1];
  size_t used = 0;
  for (size_t i = 0; i < st->nqueues; i++)
    used += (size_t)snprintf(queues + used, sizeof queues - used, "%s%s", i ? ";" : "", st->queues[i]);
  sb_key_tenant(stats, sizeof stats, t->id, "stats");
  snprintf(now, sizeof now, "%" PRId64, now_ms);
  snprintf(deadline, sizeof deadline, "%" PRId64,
           (int64_t)(now_ms + sb_config_int(k->svc->config, "lease-ms")));
  snprintf(after, sizeof after, "%" PRId64, st->after_ms);
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(k->svc->config, "event-ttl-s"));
  const char *argv[] = {stats, now, deadline, t->id, after, ttl, queues};
  check_t *c = calloc(1, sizeof *c);
  if (!c)
    return;
  *c = (check_t){k, t};
  if (sb_redis_evalsha(k->svc->redis, k->script, 1, 7, argv, NULL, on_check, c) == 0) {
    k->pending++;
  } else {
    free(c);
    sb_counter_add(k->failed, 1);
  }
}

static void on_tick(uv_timer_t *h) {
  sb_sla_stuck_t *k = h->data;
  if (k->stopped)
    return;
  int64_t now = sb_now_ms();
  /* one check at a time: a slow Redis must not pile them up */
  if (!k->pending && sb_redis_is_connected(k->svc->redis))
    for (size_t i = 0; i < sb_tenants_count(k->svc->tenants); i++)
      check_tenant(k, sb_tenants_at(k->svc->tenants, i), now);
}

sb_sla_stuck_t *sb_sla_stuck_new(sb_service_t *s, sb_handoff_t *out, const sb_sla_t *policies) {
  sb_sla_stuck_t *k = calloc(1, sizeof *k);
  if (!k)
    return NULL;
  k->svc = s;
  k->out = out;
  k->policies = policies;
  k->every_ms = sb_config_int(s->config, "stuck-check-ms");
  k->script = sb_script_add(s->redis, "sla_stuck", sb_script_sla_stuck);
  k->raised = sb_metrics_counter(s->metrics, "sb_queue_stuck_incidents_total",
                                 "stuck-queue incidents this replica raised", NULL);
  k->failed = sb_metrics_counter(s->metrics, "sb_queue_stuck_check_failed_total",
                                 "stuck-queue checks Redis did not answer", NULL);
  uv_timer_init(s->loop, &k->timer);
  k->timer.data = k;
  k->stopped = k->every_ms <= 0;
  if (!k->stopped)
    uv_timer_start(&k->timer, on_tick, (uint64_t)k->every_ms, (uint64_t)k->every_ms);
  return k;
}

void sb_sla_stuck_stop(sb_sla_stuck_t *k) {
  k->stopped = 1;
  uv_timer_stop(&k->timer);
}

int sb_sla_stuck_idle(const sb_sla_stuck_t *k) { return k->pending == 0; }

static void on_closed(uv_handle_t *h) {
  sb_sla_stuck_t *k = h->data;
  k->timer_closed = 1;
  maybe_free(k);
}

void sb_sla_stuck_destroy(sb_sla_stuck_t **kp) {
  sb_sla_stuck_t *k = *kp;
  if (!k)
    return;
  *kp = NULL;
  k->closing = 1;
  k->out = NULL;
  uv_close((uv_handle_t *)&k->timer, on_closed);
}
