/* sb_route_tick: see sb_route_tick.h. Shaped like sla-timer's firer. */
#include "sb_route_tick.h"
#include "sb_config.h"
#include "sb_keys.h"
#include "sb_metrics.h"
#include "sb_script.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_route_tick {
  sb_service_t *svc;
  const sb_route_t *route;
  sb_handoff_t *out;
  int script;
  uv_timer_t timer;
  size_t pending;     /* calls waiting on Redis */
  int64_t next_due;   /* earliest offer deadline Redis reported, 0: none */
  int stopped, closing, timer_closed;
  sb_counter_t *expired, *failed;
};

static void schedule(sb_route_tick_t *t);

static void maybe_free(sb_route_tick_t *t) {
  if (t->closing && t->timer_closed && t->pending == 0)
    free(t);
}

static void on_reply(const redisReply *reply, int err, void *arg) {
  sb_route_tick_t *t = arg;
  t->pending--;
  if (t->closing) {
    maybe_free(t);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
    sb_counter_add(t->failed, 1);
  } else {
    const redisReply *nd = reply->element[0];
    if (nd->type == REDIS_REPLY_INTEGER && nd->integer > 0 &&
        (t->next_due == 0 || nd->integer < t->next_due))
      t->next_due = nd->integer;
    for (size_t i = 1; i < reply->elements; i++) {
      const redisReply *e = reply->element[i];
      if (e->type != REDIS_REPLY_STRING)
        continue;
      sb_counter_add(t->expired, 1);
      if (t->out)
        sb_handoff_send(t->out, e->str, e->len); /* its lease covers a failure */
    }
  }
  if (t->pending == 0)
    schedule(t);
}

static void call_tenant(sb_route_tick_t *t, const sb_tenant_t *tenant, const char *now,
                        const char *deadline, const char *ttl) {
  const sb_route_config_t *c = sb_route_config_of(t->route, tenant);
  if (!c || !sb_route_config_offers(c))
    return;
  char stats[SB_KEY_MAX];
  sb_key_tenant(stats, sizeof stats, tenant->id, "stats");
  const char *argv[] = {stats,     now, deadline, SB_ROUTE_TICK_MAX, tenant->id,
                        sb_route_config_all_specs(c), "sla", ttl};
  size_t lens[8];
  for (int i = 0; i < 8; i++)
    lens[i] = strlen(argv[i]);
  if (sb_redis_evalsha(t->svc->redis, t->script, 1, 8, argv, lens, on_reply, t) == 0)
    t->pending++;
}

static void on_timer(uv_timer_t *h) {
  sb_route_tick_t *t = h->data;
  if (t->stopped || t->pending || !sb_redis_is_connected(t->svc->redis)) {
    schedule(t);
    return;
  }
  char now[24], deadline[24], ttl[24];
  int64_t us = sb_now_us();
  snprintf(now, sizeof now, "%" PRId64, us);
  snprintf(deadline, sizeof deadline, "%" PRId64,
           (int64_t)(us / 1000 + sb_config_int(t->svc->config, "lease-ms")));
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(t->svc->config, "event-ttl-s"));
  t->next_due = 0;
  for (size_t i = 0; i < sb_tenants_count(t->svc->tenants); i++)
    call_tenant(t, sb_tenants_at(t->svc->tenants, i), now, deadline, ttl);
  if (t->pending == 0)
    schedule(t);
}

static void schedule(sb_route_tick_t *t) {
  if (t->closing || t->stopped)
    return;
  int64_t wait = sb_config_int(t->svc->config, "offer-tick-ms");
  if (t->next_due) {
    int64_t until = t->next_due - sb_now_ms();
    wait = until < 0 ? 0 : (until < wait ? until : wait);
  }
  uv_timer_start(&t->timer, on_timer, (uint64_t)wait, 0);
}

sb_route_tick_t *sb_route_tick_new(sb_service_t *s, const sb_route_t *r, sb_handoff_t *out) {
  sb_route_tick_t *t = calloc(1, sizeof *t);
  char *body = sb_route_script(sb_script_route_tick);
  if (!t || !body) {
    free(t);
    free(body);
    return NULL;
  }
  t->svc = s;
  t->route = r;
  t->out = out;
  t->script = sb_script_add(s->redis, "route_tick", body);
  free(body);
  if (t->script < 0) {
    free(t);
    return NULL;
  }
  t->expired = sb_metrics_counter(s->metrics, "sb_route_offers_expired_total",
                                  "offers not accepted in time, moved on", NULL);
  t->failed = sb_metrics_counter(s->metrics, "sb_route_tick_failed_total",
                                 "offer expiry calls Redis did not answer", NULL);
  uv_timer_init(s->loop, &t->timer);
  t->timer.data = t;
  schedule(t);
  return t;
}

void sb_route_tick_stop(sb_route_tick_t *t) {
  if (!t)
    return;
  t->stopped = 1;
  uv_timer_stop(&t->timer);
}

int sb_route_tick_idle(const sb_route_tick_t *t) { return !t || t->pending == 0; }

static void on_closed(uv_handle_t *h) {
  sb_route_tick_t *t = h->data;
  t->timer_closed = 1;
  maybe_free(t);
}

void sb_route_tick_destroy(sb_route_tick_t **tp) {
  sb_route_tick_t *t = *tp;
  if (!t)
    return;
  *tp = NULL;
  t->closing = 1;
  t->out = NULL;
  uv_close((uv_handle_t *)&t->timer, on_closed);
}
