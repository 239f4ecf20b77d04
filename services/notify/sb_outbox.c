/*
 * sb_outbox: see sb_outbox.h.
 *
 * Objects: the outbox (one per process) owns one tenant_rt per tenant with
 * webhooks, each owning one hook_rt per endpoint (queue state, breaker,
 * metrics). A delivery_t lives while its HTTP request runs; a script_t
 * while a claim or outcome script waits on Redis. The outbox is freed only
 * when it was destroyed, no script waits and its uv handles closed, so no
 * callback ever reaches freed memory (practice 6).
 *
 * Strings handed to the commit script as item args (endpoint lists,
 * bodies) must live until sb_stage issues the commit, which it does before
 * its read callback returns; they are kept in a list and freed from our
 * own uv_check callback, which never runs inside that read callback.
 */
#include "sb_outbox.h"
#include "sb_curl.h"
#include "sb_error.h"
#include "sb_hooks_config.h"
#include "sb_hooks_event.h"
#include "sb_hooks_policy.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLAIM_TOKEN_MAX 48
#define REASON_MAX 256

typedef struct tenant_rt tenant_rt_t;

typedef struct {
  sb_outbox_t *ob;
  tenant_rt_t *t;
  const sb_hook_t *cfg;
  int in_flight; /* HTTP requests running */
  int claiming;  /* a claim script waits on Redis */
  int64_t wake_ms; /* look at the queue at or after this time */
  sb_breaker_t breaker;
  sb_counter_t *ok, *failed, *retried, *dead;
  sb_gauge_t *pending, *state, *inflight_g;
} hook_rt_t;

struct tenant_rt {
  const sb_tenant_t *tenant;
  sb_hooks_config_t *cfg;
  hook_rt_t *hooks;
  char stats_key[SB_KEY_MAX];
  sb_histogram_t *request_us, *delivery_us;
};

struct sb_outbox {
  sb_service_t *svc;
  sb_curl_t *curl;
  tenant_rt_t *tenants;
  size_t ntenants;
  size_t *slot_of; /* tenant's position in the service's set -> index in tenants + 1 (0: none) */
  int claim_script, done_script;
  int64_t poll_ms;
  long long dlq_max;
  char replica[32];
  uint64_t seq, rng;
  uv_timer_t timer;
  uv_check_t check;
  int open_handles;
  char **args; /* strings passed to the commit script, freed in on_check */
  size_t nargs, args_cap;
  size_t scripts_pending, deliveries;
  int stopping, destroyed;
};

typedef struct {
  hook_rt_t *h;
  char key[SB_EVENT_KEY_LEN + 1];
  char token[CLAIM_TOKEN_MAX];
  char *body;
  size_t len;
  unsigned attempts; /* before this one */
  int64_t first_ms;
} delivery_t;

typedef struct {
  sb_outbox_t *ob;
  hook_rt_t *h; /* claims only */
  int64_t now_ms;
  char token[CLAIM_TOKEN_MAX];
} script_t;

static void schedule(sb_outbox_t *o);
static void on_timer(uv_timer_t *t);

/* ---- lifetime --------------------------------------------------------------- */

static void free_args(sb_outbox_t *o) {
  for (size_t i = 0; i < o->nargs; i++)
    free(o->args[i]);
  o->nargs = 0;
}

static void maybe_free(sb_outbox_t *o) {
  if (!o->destroyed || o->scripts_pending || o->open_handles)
    return;
  free_args(o);
  free(o->args);
  for (size_t i = 0; i < o->ntenants; i++) {
    sb_hooks_config_destroy(&o->tenants[i].cfg);
    free(o->tenants[i].hooks);
  }
  free(o->tenants);
  free(o->slot_of);
  free(o);
}

static void on_handle_closed(uv_handle_t *h) {
  sb_outbox_t *o = h->data;
  o->open_handles--;
  maybe_free(o);
}

static void on_check(uv_check_t *c) {
  sb_outbox_t *o = c->data;
  free_args(o);
  uv_check_stop(c);
}

/* Keeps s alive until the commit script was issued; NULL on OOM. */
static char *keep_arg(sb_outbox_t *o, char *s) {
  if (!s)
    return NULL;
  if (o->nargs == o->args_cap) {
    size_t cap = o->args_cap ? 2 * o->args_cap : 64;
    char **a = realloc(o->args, cap * sizeof *a);
    if (!a) {
      free(s);
      return NULL;
    }
    o->args = a;
    o->args_cap = cap;
  }
  o->args[o->nargs++] = s;
  uv_check_start(&o->check, on_check);
  return s;
}

/* xorshift64*: jitter only, not secrets. Uniform in [0, 1). */
static double uniform(sb_outbox_t *o) {
  o->rng ^= o->rng >> 12;
  o->rng ^= o->rng << 25;
  o->rng ^= o->rng >> 27;
  return (double)((o->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- configuration and metrics ------------------------------------------------ */

static void hook_metrics(sb_outbox_t *o, tenant_rt_t *t, hook_rt_t *h) {
  sb_metrics_t *m = o->svc->metrics;
  char l[256], lr[320];
  sb_metrics_labels(l, sizeof l, "tenant", t->tenant->id, "hook", h->cfg->id, NULL);
  static const char *const results[] = {"ok", "failed", "retried", "dead"};
  sb_counter_t **c[] = {&h->ok, &h->failed, &h->retried, &h->dead};
  for (int i = 0; i < 4; i++) {
    snprintf(lr, sizeof lr, "%s,result=\"%s\"", l, results[i]);
    *c[i] = sb_metrics_counter(m, "sb_webhook_deliveries_total",
                               "webhook attempts by result: ok (2xx), failed (an attempt that "
                               "failed), retried (rescheduled), dead (dead-lettered)",
                               lr);
  }
  h->pending = sb_metrics_gauge(m, "sb_webhook_pending", "deliveries waiting in the endpoint's queue", l);
  h->state = sb_metrics_gauge(m, "sb_webhook_breaker_state", "circuit breaker: 0 closed, 1 open, 2 half-open", l);
  h->inflight_g = sb_metrics_gauge(m, "sb_webhook_in_flight", "requests running to the endpoint", l);
}

static int tenant_add(sb_outbox_t *o, const sb_tenant_t *tn, char *err, size_t errlen) {
  sb_hooks_config_t *cfg = NULL;
  int rc = sb_hooks_config_parse(tn->id, tn->section_json[SB_TENANT_NOTIFY], &cfg, err, errlen);
  if (rc || cfg->nhooks == 0) {
    sb_hooks_config_destroy(&cfg);
    return rc;
  }
  tenant_rt_t *t = &o->tenants[o->ntenants++];
  o->slot_of[sb_tenants_index(o->svc->tenants, tn)] = o->ntenants;
  t->tenant = tn;
  t->cfg = cfg;
  sb_key_tenant(t->stats_key, sizeof t->stats_key, tn->id, "stats");
  if (!(t->hooks = calloc(cfg->nhooks, sizeof *t->hooks)))
    return SB_ENOMEM;
  char l[128];
  sb_metrics_labels(l, sizeof l, "tenant", tn->id, NULL);
  t->request_us = sb_metrics_histogram(o->svc->metrics, "sb_webhook_request_seconds",
                                       "one webhook request, sent to answered", l);
  t->delivery_us = sb_metrics_histogram(o->svc->metrics, "sb_webhook_delivery_seconds",
                                        "webhook delivery, first queued to delivered", l);
  for (size_t i = 0; i < cfg->nhooks; i++) {
    hook_rt_t *h = &t->hooks[i];
    h->ob = o;
    h->t = t;
    h->cfg = &cfg->hooks[i];
    hook_metrics(o, t, h);
  }
  return 0;
}

sb_outbox_t *sb_outbox_new(sb_service_t *s, char *err, size_t errlen) {
  sb_outbox_t *o = calloc(1, sizeof *o);
  size_t n = sb_tenants_count(s->tenants);
  if (!o || !(o->tenants = calloc(n ? n : 1, sizeof *o->tenants)) ||
      !(o->slot_of = calloc(n ? n : 1, sizeof *o->slot_of))) {
    if (o)
      free(o->tenants);
    free(o);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  o->svc = s;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = tenant_add(o, sb_tenants_at(s->tenants, i), err, errlen);
  if (rc == 0 && !(o->curl = sb_curl_new(s->loop))) {
    snprintf(err, errlen, "libcurl could not be initialised");
    rc = SB_EIO;
  }
  if (rc) {
    o->destroyed = 1;
    maybe_free(o);
    return NULL;
  }
  o->claim_script = sb_script_add(s->redis, "hooks_claim", sb_script_hooks_claim);
  o->done_script = sb_script_add(s->redis, "hooks_done", sb_script_hooks_done);
  o->poll_ms = sb_config_int(s->config, "hooks-poll-ms");
  if (o->poll_ms <= 0)
    o->poll_ms = SB_OUTBOX_POLL_DEFAULT_MS;
  o->dlq_max = sb_config_int(s->config, "dlq-max");
  o->rng = (uint64_t)sb_now_us() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
  snprintf(o->replica, sizeof o->replica, "%d-%" PRIx64, (int)getpid(), (uint64_t)sb_now_us());
  uv_timer_init(s->loop, &o->timer);
  uv_check_init(s->loop, &o->check);
  o->timer.data = o->check.data = o;
  o->open_handles = 2;
  schedule(o);
  return o;
}

void sb_outbox_stop(sb_outbox_t *o) {
  if (o)
    o->stopping = 1;
}

int sb_outbox_idle(const sb_outbox_t *o) {
  return !o || (o->deliveries == 0 && o->scripts_pending == 0);
}

void sb_outbox_destroy(sb_outbox_t **op) {
  sb_outbox_t *o = *op;
  if (!o)
    return;
  *op = NULL;
  o->destroyed = 1;
  sb_curl_destroy(&o->curl); /* deliveries are called back with SB_ECLOSED */
  uv_close((uv_handle_t *)&o->timer, on_handle_closed);
  uv_close((uv_handle_t *)&o->check, on_handle_closed);
}

static tenant_rt_t *tenant_find(sb_outbox_t *o, const sb_tenant_t *t) {
  size_t i = sb_tenants_index(o->svc->tenants, t);
  return i < sb_tenants_count(o->svc->tenants) && o->slot_of[i] ? &o->tenants[o->slot_of[i] - 1] : NULL;
}

/* ---- the commit: which endpoints, what body ------------------------------------ */

int sb_outbox_prepare(sb_outbox_t *o, sb_stage_item_t *it, const char **why) {
  tenant_rt_t *t = tenant_find(o, it->tenant);
  const char *kind = sb_envelope_kind(it->env);
  size_t cap = 1, used = 0;
  for (size_t i = 0; t && i < t->cfg->nhooks; i++)
    cap += sizeof t->hooks[i].cfg->id + 1;
  char *list = t ? malloc(cap) : NULL;
  for (size_t i = 0; list && i < t->cfg->nhooks; i++)
    if (sb_hook_wants(t->hooks[i].cfg, kind))
      used += (size_t)snprintf(list + used, cap - used, "%s%s", used ? "," : "", t->hooks[i].cfg->id);
  if (!t || !list || used == 0) {
    free(list);
    if (t && !list) {
      *why = "out of memory";
      return SB_ENOMEM;
    }
    sb_stage_item_arg(it, "");
    sb_stage_item_arg(it, "");
    sb_stage_item_arg(it, "0");
    return 0;
  }
  char *l = keep_arg(o, list);
  char *body = l ? keep_arg(o, sb_hooks_event_json(it->env)) : NULL;
  if (!body) {
    *why = "out of memory";
    return SB_ENOMEM;
  }
  sb_stage_item_arg(it, l);
  sb_stage_item_arg(it, body);
  sb_stage_item_argf(it, "%lld", (long long)(t->cfg->retry.give_up_after_s + SB_OUTBOX_RECORD_SLACK_S));
  return 0;
}

void sb_outbox_committed(sb_outbox_t *o, const sb_stage_item_t *it) {
  tenant_rt_t *t = tenant_find(o, it->tenant);
  if (!t)
    return;
  const char *kind = sb_envelope_kind(it->env);
  int any = 0;
  for (size_t i = 0; i < t->cfg->nhooks; i++)
    if (sb_hook_wants(t->hooks[i].cfg, kind)) {
      t->hooks[i].wake_ms = 0;
      any = 1;
    }
  if (any)
    schedule(o);
}

/* ---- recording outcomes ---------------------------------------------------------- */

static void on_done_reply(const redisReply *reply, int err, void *arg) {
  script_t *sc = arg;
  sb_outbox_t *o = sc->ob;
  (void)reply;
  if (err)
    sb_log(SB_LOG_ERROR, "webhook_record_failed", "error", sb_strerror(err), NULL);
  o->scripts_pending--;
  free(sc);
  maybe_free(o);
}

static void record(delivery_t *d, const char *outcome, int64_t due, const char *reason,
                   const char *entry) {
  hook_rt_t *h = d->h;
  sb_outbox_t *o = h->ob;
  char due_s[24], max_s[24];
  snprintf(due_s, sizeof due_s, "%lld", (long long)due);
  snprintf(max_s, sizeof max_s, "%lld", o->dlq_max > 0 ? o->dlq_max : 10000);
  const char *argv[] = {h->t->stats_key, h->cfg->id, d->key, d->token, outcome, due_s,
                        reason ? reason : "", entry ? entry : "", max_s};
  script_t *sc = calloc(1, sizeof *sc);
  if (!sc)
    return;
  sc->ob = o;
  if (sb_redis_evalsha(o->svc->redis, o->done_script, 1, 9, argv, NULL, on_done_reply, sc)) {
    free(sc); /* the lease expires and the delivery is tried again */
    sb_log(SB_LOG_ERROR, "webhook_record_failed", "error", "redis unavailable", NULL);
    return;
  }
  o->scripts_pending++;
}

static char *dead_entry(const delivery_t *d, const char *reason) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "ts_ms", (double)sb_now_ms());
  cJSON_AddStringToObject(e, "stage", "webhook");
  cJSON_AddStringToObject(e, "tenant", d->h->t->tenant->id);
  cJSON_AddStringToObject(e, "hook", d->h->cfg->id);
  cJSON_AddStringToObject(e, "key", d->key);
  cJSON_AddStringToObject(e, "reason", reason);
  cJSON_AddNumberToObject(e, "attempts", d->attempts + 1);
  cJSON_AddNumberToObject(e, "first_ms", (double)d->first_ms);
  cJSON_AddStringToObject(e, "body", d->body);
  char *s = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  return s;
}

static void dead_letter(delivery_t *d, const char *reason) {
  char *entry = dead_entry(d, reason);
  sb_counter_add(d->h->dead, 1);
  sb_log(SB_LOG_WARN, "webhook_dead_letter", "tenant", d->h->t->tenant->id, "hook", d->h->cfg->id,
         "event_id", d->key, "reason", reason, NULL);
  record(d, "dead", 0, reason, entry ? entry : "{}");
  free(entry);
}

static void breaker_note(hook_rt_t *h, int ok, int64_t now) {
  if (sb_breaker_record(&h->breaker, &h->t->cfg->breaker, ok, now)) {
    static const char *const names[] = {"closed", "open", "half_open"};
    sb_log(SB_LOG_WARN, "webhook_breaker", "tenant", h->t->tenant->id, "hook", h->cfg->id, "state",
           names[h->breaker.state], NULL);
  }
  sb_gauge_set(h->state, h->breaker.state);
}

static void describe(const sb_curl_result_t *r, char *out, size_t cap) {
  if (r->err == SB_ETIMEOUT)
    snprintf(out, cap, "timeout: %s", r->what);
  else if (r->err)
    snprintf(out, cap, "transport: %s", r->what);
  else if (r->status >= 400 && r->status < 500 && r->status != 408 && r->status != 429)
    snprintf(out, cap, "http %ld: client error, not retried", r->status);
  else
    snprintf(out, cap, "http %ld", r->status);
}

static void on_failure(delivery_t *d, const sb_curl_result_t *r, int64_t now) {
  hook_rt_t *h = d->h;
  char why[REASON_MAX], reason[REASON_MAX + 64];
  describe(r, why, sizeof why);
  sb_counter_add(h->failed, 1);
  breaker_note(h, 0, now);
  int64_t due = 0;
  const sb_hooks_retry_t *rp = &h->t->cfg->retry;
  if (sb_hooks_next_due(rp, d->attempts + 1, d->first_ms, now, uniform(h->ob), &due)) {
    sb_counter_add(h->retried, 1);
    record(d, "retry", due, why, NULL);
    if (due < h->wake_ms)
      h->wake_ms = due;
    return;
  }
  snprintf(reason, sizeof reason, "gave up after %u attempts: %s", d->attempts + 1, why);
  dead_letter(d, reason);
}

static void on_http(const sb_curl_result_t *r, void *arg) {
  delivery_t *d = arg;
  hook_rt_t *h = d->h;
  sb_outbox_t *o = h->ob;
  h->in_flight--;
  o->deliveries--;
  sb_gauge_set(h->inflight_g, h->in_flight);
  if (r->err != SB_ECLOSED) {
    int64_t now = sb_now_ms();
    sb_hook_verdict_t v = sb_hooks_verdict(r->status, r->err != 0);
    sb_histogram_record(h->t->request_us, (uint64_t)r->elapsed_us);
    if (v == SB_HOOK_DELIVERED) {
      sb_counter_add(h->ok, 1);
      sb_histogram_record(h->t->delivery_us, (uint64_t)(now - d->first_ms) * 1000u);
      breaker_note(h, 1, now);
      record(d, "ok", 0, NULL, NULL);
    } else if (v == SB_HOOK_DEAD) {
      char why[REASON_MAX];
      describe(r, why, sizeof why);
      breaker_note(h, 1, now); /* it answered: the endpoint is up */
      dead_letter(d, why);
    } else {
      on_failure(d, r, now);
    }
    schedule(o);
  }
  free(d->body);
  free(d);
}

/* ---- sending ---------------------------------------------------------------------- */

static void deliver(hook_rt_t *h, const redisReply *item, const char *token) {
  sb_outbox_t *o = h->ob;
  if (item->type != REDIS_REPLY_ARRAY || item->elements < 4 ||
      item->element[0]->type != REDIS_REPLY_STRING || item->element[1]->type != REDIS_REPLY_STRING)
    return;
  delivery_t *d = calloc(1, sizeof *d);
  if (!d || !(d->body = malloc(item->element[1]->len + 1))) {
    free(d);
    return; /* its lease expires and it is claimed again */
  }
  d->h = h;
  snprintf(d->key, sizeof d->key, "%s", item->element[0]->str);
  snprintf(d->token, sizeof d->token, "%s", token);
  memcpy(d->body, item->element[1]->str, item->element[1]->len);
  d->len = item->element[1]->len;
  d->body[d->len] = '\0';
  d->attempts = (unsigned)item->element[2]->integer;
  d->first_ms = item->element[3]->integer;
  char sig[SB_HOOKS_SIGNATURE_MAX], h_sig[160], h_id[96], h_try[64];
  sb_hooks_sign(h->cfg->secret, sb_now_ms() / 1000, d->body, d->len, sig, sizeof sig);
  snprintf(h_sig, sizeof h_sig, SB_HOOKS_HEADER_SIGNATURE ": %s", sig);
  snprintf(h_id, sizeof h_id, SB_HOOKS_HEADER_EVENT_ID ": %s", d->key);
  snprintf(h_try, sizeof h_try, "X-Switchboard-Attempt: %u", d->attempts + 1);
  const char *headers[] = {"Content-Type: application/json", h_sig, h_id, h_try, "Expect:", NULL};
  h->in_flight++;
  o->deliveries++;
  sb_gauge_set(h->inflight_g, h->in_flight);
  int rc = sb_curl_post(o->curl, h->cfg->url, headers, d->body, d->len, h->cfg->timeout_ms, on_http, d);
  if (rc) {
    sb_curl_result_t r = {.err = SB_EIO, .what = sb_strerror(rc)};
    on_http(&r, d);
  }
}

static int64_t parse_ms(const redisReply *r) {
  if (r->type == REDIS_REPLY_STRING && r->len > 0)
    return (int64_t)strtod(r->str, NULL);
  if (r->type == REDIS_REPLY_INTEGER)
    return r->integer;
  return INT64_MAX;
}

static void on_claim_reply(const redisReply *reply, int err, void *arg) {
  script_t *sc = arg;
  sb_outbox_t *o = sc->ob;
  hook_rt_t *h = sc->h;
  o->scripts_pending--;
  h->claiming = 0;
  int64_t next = sc->now_ms + o->poll_ms;
  if (!err && !o->destroyed && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
    const redisReply *items = reply->element[0];
    for (size_t i = 0; items->type == REDIS_REPLY_ARRAY && i < items->elements; i++)
      deliver(h, items->element[i], sc->token);
    int64_t due = parse_ms(reply->element[1]);
    if (due < next)
      next = due;
    if (reply->element[2]->type == REDIS_REPLY_INTEGER)
      sb_gauge_set(h->pending, (double)reply->element[2]->integer);
  } else if (err && !o->destroyed) {
    sb_log(SB_LOG_WARN, "webhook_claim_failed", "tenant", h->t->tenant->id, "hook", h->cfg->id,
           "error", sb_strerror(err), NULL);
  }
  h->wake_ms = next;
  free(sc);
  if (o->destroyed)
    maybe_free(o);
  else
    schedule(o);
}

static void claim(hook_rt_t *h, int n, int64_t now) {
  sb_outbox_t *o = h->ob;
  script_t *sc = calloc(1, sizeof *sc);
  if (!sc)
    return;
  sc->ob = o;
  sc->h = h;
  sc->now_ms = now;
  snprintf(sc->token, sizeof sc->token, "%s:%" PRIu64, o->replica, ++o->seq);
  char now_s[24], lease_s[24], n_s[16];
  snprintf(now_s, sizeof now_s, "%lld", (long long)now);
  snprintf(lease_s, sizeof lease_s, "%lld",
           (long long)(now + h->cfg->timeout_ms + SB_OUTBOX_LEASE_MARGIN_MS));
  snprintf(n_s, sizeof n_s, "%d", n);
  const char *argv[] = {h->t->stats_key, h->cfg->id, now_s, lease_s, n_s, sc->token};
  if (sb_redis_evalsha(o->svc->redis, o->claim_script, 1, 6, argv, NULL, on_claim_reply, sc)) {
    free(sc);
    h->wake_ms = now + o->poll_ms; /* Redis away: look again later */
    return;
  }
  o->scripts_pending++;
  h->claiming = 1;
}

/* Claims for every endpoint that may and should, then arms the timer at
 * the earliest time one of them wants to look again. */
static void tick(sb_outbox_t *o) {
  int64_t now = sb_now_ms(), next = INT64_MAX;
  for (size_t i = 0; i < o->ntenants && !o->stopping; i++) {
    tenant_rt_t *t = &o->tenants[i];
    for (size_t j = 0; j < t->cfg->nhooks; j++) {
      hook_rt_t *h = &t->hooks[j];
      int room = sb_breaker_allowance(&h->breaker, h->cfg->max_in_flight, now) - h->in_flight;
      sb_gauge_set(h->state, h->breaker.state);
      if (!h->claiming && room > 0 && h->wake_ms <= now)
        claim(h, room, now);
      if (h->claiming)
        continue; /* its reply reschedules */
      int64_t at = h->wake_ms;
      if (h->breaker.state == SB_BREAKER_OPEN && at < h->breaker.open_until_ms)
        at = h->breaker.open_until_ms;
      else if (room <= 0)
        continue; /* a finishing request reschedules */
      if (at < next)
        next = at;
    }
  }
  if (next != INT64_MAX && !o->destroyed) {
    int64_t wait = next - now;
    uv_timer_start(&o->timer, on_timer, (uint64_t)(wait > 0 ? wait : 0), 0);
  }
}

static void on_timer(uv_timer_t *t) { tick(t->data); }

static void schedule(sb_outbox_t *o) {
  if (!o->destroyed && !o->stopping)
    uv_timer_start(&o->timer, on_timer, 0, 0);
}

/* ---- sbctl: dead letters ------------------------------------------------------------ */

int sb_outbox_dlq_list(redisContext *rc, const char *tenant, FILE *out) {
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, tenant, "hooks:dlq");
  redisReply *r = redisCommand(rc, "LRANGE %s 0 -1", key);
  int ok = r && r->type == REDIS_REPLY_ARRAY;
  for (size_t i = 0; ok && i < r->elements; i++)
    fprintf(out, "%s\n", r->element[i]->str);
  if (r)
    freeReplyObject(r);
  return ok ? 0 : SB_EREDIS;
}

int sb_outbox_dlq_replay(redisContext *rc, const char *tenant, const char *which, long long *n) {
  char *src = sb_script_source(sb_script_hooks_replay);
  if (!src)
    return SB_ENOMEM;
  char stats[SB_KEY_MAX], now[24], ttl[24];
  sb_key_tenant(stats, sizeof stats, tenant, "stats");
  snprintf(now, sizeof now, "%lld", (long long)sb_now_ms());
  snprintf(ttl, sizeof ttl, "%d", 30 * 86400 + SB_OUTBOX_RECORD_SLACK_S);
  const char *argv[] = {"EVAL", src, "1", stats, now, which, ttl};
  redisReply *r = redisCommandArgv(rc, 7, argv, NULL);
  free(src);
  int ok = r && r->type == REDIS_REPLY_INTEGER;
  *n = ok ? r->integer : 0;
  if (r)
    freeReplyObject(r);
  return ok ? 0 : SB_EREDIS;
}
