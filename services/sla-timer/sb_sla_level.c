/*
 * sb_sla_level: the periodic publication of service levels (see
 * sb_sla_level.h). I/O only: the figures come from sb_service_level.
 */
#include "sb_sla_level.h"
#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_service_level.h"
#include "sb_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_GAUGES 7 /* gauges per row */

typedef struct {
  const sb_tenant_t *tenant;
  sb_gauge_t *gauge;
} gauge_set_t;

struct sb_sla_level {
  sb_service_t *svc;
  sb_handoff_t *out;
  int read_script, put_script;
  int64_t period_ms, window_ms;
  uv_timer_t timer;
  size_t pending; /* Redis replies outstanding */
  int stopped, closing, timer_closed;
  sb_service_level_t *calc;
  gauge_set_t *set; /* gauges set from the last read, to zero later */
  size_t nset, capset;
  sb_counter_t *failed, *published;
};

typedef struct {
  sb_sla_level_t *l;
  const sb_tenant_t *tenant;
  int64_t now_ms, period_no;
} read_t;

static void maybe_free(sb_sla_level_t *l) {
  if (!l->closing || !l->timer_closed || l->pending)
    return;
  sb_service_level_destroy(&l->calc);
  free(l->set);
  free(l);
}

/* ---- gauges -------------------------------------------------------------- */

static void forget_gauges(sb_sla_level_t *l, const sb_tenant_t *t) {
  size_t k = 0;
  for (size_t i = 0; i < l->nset; i++) {
    if (l->set[i].tenant == t)
      sb_gauge_set(l->set[i].gauge, 0);
    else
      l->set[k++] = l->set[i];
  }
  l->nset = k;
}

static void gauge(sb_sla_level_t *l, const sb_tenant_t *t, const char *name, const char *help,
                  const char *labels, double v) {
  sb_gauge_t *g = sb_metrics_gauge(l->svc->metrics, name, help, labels);
  if (!g)
    return;
  sb_gauge_set(g, v);
  if (l->nset == l->capset) {
    size_t cap = l->capset ? 2 * l->capset : 32;
    gauge_set_t *ns = realloc(l->set, cap * sizeof *ns);
    if (!ns)
      return; /* it keeps this value instead of dropping to 0 later */
    l->set = ns;
    l->capset = cap;
  }
  l->set[l->nset++] = (gauge_set_t){t, g};
}

static void set_gauges(sb_sla_level_t *l, const sb_tenant_t *t) {
  forget_gauges(l, t);
  for (size_t i = 0; i < sb_service_level_count(l->calc); i++) {
    const sb_service_level_row_t *r = sb_service_level_row(l->calc, i);
    char labels[512];
    if (sb_metrics_labels(labels, sizeof labels, "channel", r->channel, "queue", r->queue, "tenant", t->id,
                          NULL))
      continue;
    gauge(l, t, "sb_service_level_answered", "first responses given in the window", labels, r->answered);
    gauge(l, t, "sb_service_level_answered_in_target_ratio", "share of first responses given in target",
          labels, r->answered_in_target_share);
    gauge(l, t, "sb_service_level_first_response_avg_seconds", "mean first-response time in the window",
          labels, (double)r->avg_ms / 1000.0);
    gauge(l, t, "sb_service_level_first_response_p90_seconds", "p90 first-response time in the window",
          labels, (double)r->p90_ms / 1000.0);
    gauge(l, t, "sb_service_level_unanswered", "conversations without a first response, past target", labels,
          r->unanswered);
    gauge(l, t, "sb_service_level_unanswered_ratio", "unanswered / (answered + unanswered)", labels,
          r->unanswered_share);
    gauge(l, t, "sb_service_level_backlog", "conversations without a first response", labels, r->backlog);
  }
}

/* ---- one tenant's period ----------------------------------------------------- */

typedef struct {
  sb_sla_level_t *l;
  uint8_t *blob;
  size_t len;
} put_t;

/* Stored with its lease: now it may go (never before, or notify could
 * find no lease yet and take it for a re-send). */
static void on_put(const redisReply *reply, int err, void *arg) {
  put_t *p = arg;
  sb_sla_level_t *l = p->l;
  l->pending--;
  if (err || !reply || reply->type == REDIS_REPLY_ERROR) {
    sb_counter_add(l->failed, 1);
  } else if (l->out && !l->closing) {
    sb_handoff_send(l->out, p->blob, p->len); /* a lost send is re-sent by the lease */
    sb_counter_add(l->published, 1);
  }
  free(p->blob);
  free(p);
  maybe_free(l);
}

/* Stores the envelope with its notify lease, then (on_put) sends it. */
static void publish(sb_sla_level_t *l, const read_t *rd) {
  char key[SB_EVENT_KEY_LEN + 1], stats[SB_KEY_MAX], ttl[24], deadline[24];
  size_t len = 0;
  put_t *p = calloc(1, sizeof *p);
  uint8_t *blob = !p ? NULL : sb_service_level_pack(l->calc, rd->tenant->id, rd->period_no * l->period_ms, l->period_ms,
                                        l->window_ms, rd->now_ms, key, &len);
  if (!blob) {
    free(p);
    sb_counter_add(l->failed, 1);
    return;
  }
  *p = (put_t){l, blob, len};
  sb_key_tenant(stats, sizeof stats, rd->tenant->id, "stats");
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(l->svc->config, "event-ttl-s"));
  snprintf(deadline, sizeof deadline, "%" PRId64,
           (int64_t)(sb_now_ms() + sb_config_int(l->svc->config, "lease-ms")));
  const char *argv[] = {stats, key, (const char *)blob, ttl, deadline};
  size_t lens[] = {strlen(stats), strlen(key), len, strlen(ttl), strlen(deadline)};
  if (sb_redis_evalsha(l->svc->redis, l->put_script, 1, 5, argv, lens, on_put, p) == 0) {
    l->pending++;
  } else {
    sb_counter_add(l->failed, 1);
    free(blob);
    free(p);
  }
}

static void fill(sb_sla_level_t *l, const redisReply *fr, const redisReply *open, int64_t now_ms) {
  sb_service_level_reset(l->calc);
  for (size_t i = 0; i < fr->elements; i++)
    if (fr->element[i]->type == REDIS_REPLY_STRING)
      sb_service_level_add_response(l->calc, fr->element[i]->str, fr->element[i]->len);
  for (size_t i = 0; i < open->elements; i++)
    if (open->element[i]->type == REDIS_REPLY_STRING)
      sb_service_level_add_open(l->calc, open->element[i]->str, open->element[i]->len, now_ms);
}

static void on_read(const redisReply *reply, int err, void *arg) {
  read_t *rd = arg;
  sb_sla_level_t *l = rd->l;
  l->pending--;
  if (l->closing) {
    free(rd);
    maybe_free(l);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_ARRAY ||
      reply->element[2]->type != REDIS_REPLY_ARRAY) {
    sb_counter_add(l->failed, 1);
    free(rd);
    return;
  }
  fill(l, reply->element[1], reply->element[2], rd->now_ms);
  if (sb_service_level_compute(l->calc) == 0) {
    set_gauges(l, rd->tenant);
    if (reply->element[0]->integer == 1)
      publish(l, rd);
  } else {
    sb_counter_add(l->failed, 1);
  }
  free(rd);
}

static void read_tenant(sb_sla_level_t *l, const sb_tenant_t *t, int64_t now_ms, int64_t period_no) {
  read_t *rd = calloc(1, sizeof *rd);
  if (!rd)
    return;
  *rd = (read_t){l, t, now_ms, period_no};
  char stats[SB_KEY_MAX], now[24], window[24], period[24], claim_s[24];
  sb_key_tenant(stats, sizeof stats, t->id, "stats");
  snprintf(now, sizeof now, "%" PRId64, now_ms);
  snprintf(window, sizeof window, "%" PRId64, l->window_ms);
  snprintf(period, sizeof period, "%" PRId64, period_no);
  snprintf(claim_s, sizeof claim_s, "%" PRId64, 2 * l->period_ms / 1000 + 1);
  const char *argv[] = {stats, now, window, period, claim_s};
  size_t lens[5];
  for (int i = 0; i < 5; i++)
    lens[i] = strlen(argv[i]);
  if (sb_redis_evalsha(l->svc->redis, l->read_script, 1, 5, argv, lens, on_read, rd) == 0)
    l->pending++;
  else
    free(rd);
}

/* ---- the period timer ----------------------------------------------------- */

static void on_tick(uv_timer_t *t);

static void schedule(sb_sla_level_t *l) {
  if (l->closing || l->stopped)
    return;
  int64_t now = sb_now_ms();
  int64_t next = (now / l->period_ms + 1) * l->period_ms;
  uv_timer_start(&l->timer, on_tick, (uint64_t)(next - now), 0);
}

static void on_tick(uv_timer_t *t) {
  sb_sla_level_t *l = t->data;
  int64_t now = sb_now_ms();
  if (!l->stopped && sb_redis_is_connected(l->svc->redis))
    for (size_t i = 0; i < sb_tenants_count(l->svc->tenants); i++)
      read_tenant(l, sb_tenants_at(l->svc->tenants, i), now, now / l->period_ms);
  schedule(l);
}

sb_sla_level_t *sb_sla_level_new(sb_service_t *s, sb_handoff_t *out) {
  sb_sla_level_t *l = calloc(1, sizeof *l);
  if (l)
    l->calc = sb_service_level_new();
  if (!l || !l->calc) {
    free(l);
    return NULL;
  }
  l->svc = s;
  l->out = out;
  l->period_ms = sb_config_int(s->config, "service-level-s") * 1000;
  l->window_ms = sb_config_int(s->config, "service-level-window-s") * 1000;
  l->read_script = sb_script_add(s->redis, "sla_level", sb_script_sla_level);
  l->put_script = sb_script_add(s->redis, "sla_level_put", sb_script_sla_level_put);
  l->failed = sb_metrics_counter(s->metrics, "sb_service_level_failed_total",
                                 "service-level reads or publications Redis did not take", NULL);
  l->published = sb_metrics_counter(s->metrics, "sb_service_level_published_total",
                                    "service-level events this replica handed to notify", NULL);
  uv_timer_init(s->loop, &l->timer);
  l->timer.data = l;
  l->stopped = l->period_ms <= 0 || l->window_ms <= 0;
  schedule(l);
  return l;
}

void sb_sla_level_stop(sb_sla_level_t *l) {
  l->stopped = 1;
  uv_timer_stop(&l->timer);
}

int sb_sla_level_idle(const sb_sla_level_t *l) { return l->pending == 0; }

static void on_closed(uv_handle_t *h) {
  sb_sla_level_t *l = h->data;
  l->timer_closed = 1;
  maybe_free(l);
}

void sb_sla_level_destroy(sb_sla_level_t **lp) {
  sb_sla_level_t *l = *lp;
  if (!l)
    return;
  *lp = NULL;
  l->closing = 1;
  l->out = NULL;
  uv_close((uv_handle_t *)&l->timer, on_closed);
}
