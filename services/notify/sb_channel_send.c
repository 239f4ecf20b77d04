/*
 * sb_channel_send: the I/O half (see sb_channel_send.h; the pure half is
 * sb_channel_plan.c).
 *
 * Objects: one tenant_rt per tenant with outbound accounts, owning one
 * acct_rt per account (its queue, claim state, access-token cache and
 * metrics). A send_t lives from its claim until its outcome is recorded:
 * while its HTTP request runs, or while it waits in its account's token
 * waiters for an access token. The sender is freed only when destroyed,
 * no script waits and its uv handles closed (practice 6), as sb_outbox.
 *
 * One attempt of a send may take up to three requests: an access-token
 * fetch (WeChat), the send, and one more send after a stale token
 * (refreshed once) or a refused LINE reply token (pushed instead). The
 * claim lease covers all three.
 */
#include "sb_channel_send.h"
#include "sb_curl.h"
#include "sb_error.h"
#include "sb_hooks_config.h"
#include "sb_hooks_policy.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_outbox.h"
#include "sb_script.h"
#include "sb_time.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_MAX (SB_ACCOUNT_PLATFORM_MAX + SB_ACCOUNT_ID_MAX + 8)
#define MEMBER_MAX (SB_EVENT_KEY_LEN + SB_OUT_PURPOSE_MAX + 2)
#define CLAIM_TOKEN_MAX 48
#define REQUESTS_PER_ATTEMPT 3

typedef struct tenant_rt tenant_rt_t;
typedef struct send send_t;

typedef struct {
  sb_channel_send_t *cs;
  tenant_rt_t *t;
  const sb_out_account_t *cfg;
  const sb_channel_ops_t *ops;
  char queue[QUEUE_MAX]; /* "out:<platform>:<account>" */
  int in_flight, claiming;
  int64_t wake_ms;
  char token[SB_OUT_TOKEN_MAX]; /* fetched access token, "" none */
  int64_t token_until_ms;
  int fetching;
  send_t *waiters; /* sends waiting for the token */
  sb_counter_t *sent, *failed, *retried, *dead, *token_ok, *token_failed;
} acct_rt_t;

struct tenant_rt {
  const sb_tenant_t *tenant;
  sb_out_config_t *cfg;
  sb_templates_t *tpl;
  sb_hooks_config_t *hooks; /* its notify.retry */
  sb_out_policy_t policy;
  acct_rt_t *accts;
  char stats_key[SB_KEY_MAX];
  int64_t published_ms; /* the latest service level's mean first response, 0: none */
};

struct sb_channel_send {
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
  char **args;
  size_t nargs, args_cap;
  size_t scripts_pending, sends;
  int stopping, destroyed;
};

struct send {
  acct_rt_t *a;
  send_t *next; /* in the token waiters */
  char key[MEMBER_MAX];
  char token[CLAIM_TOKEN_MAX];
  cJSON *rec; /* the record: p, a, to, name, lang, text, purpose, conv (e-mail: subj, mid;
                 X: mid, pub) */
  unsigned attempts;
  int64_t first_ms;
  int no_reply, refreshed;
  sb_out_request_t req;
};

typedef struct {
  sb_channel_send_t *cs;
  acct_rt_t *a; /* claims only */
  int64_t now_ms;
  char token[CLAIM_TOKEN_MAX];
} script_t;

static void schedule(sb_channel_send_t *c);
static void on_timer(uv_timer_t *t);
static void attempt(send_t *s);

/* ---- lifetime ------------------------------------------------------------------ */

static void free_args(sb_channel_send_t *c) {
  for (size_t i = 0; i < c->nargs; i++)
    free(c->args[i]);
  c->nargs = 0;
}

static void tenant_free(tenant_rt_t *t) {
  sb_out_config_destroy(&t->cfg);
  sb_templates_destroy(&t->tpl);
  sb_hooks_config_destroy(&t->hooks);
  sb_out_policy_clear(&t->policy);
  free(t->accts);
}

static void send_free(send_t *s) {
  sb_out_request_clear(&s->req);
  cJSON_Delete(s->rec);
  free(s);
}

static void maybe_free(sb_channel_send_t *c) {
  if (!c->destroyed || c->scripts_pending || c->open_handles)
    return;
  free_args(c);
  free(c->args);
  for (size_t i = 0; i < c->ntenants; i++)
    tenant_free(&c->tenants[i]);
  free(c->tenants);
  free(c->slot_of);
  free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  sb_channel_send_t *c = h->data;
  c->open_handles--;
  maybe_free(c);
}

static void on_check(uv_check_t *h) {
  free_args(h->data);
  uv_check_stop(h);
}

/* Keeps s alive until the commit script was issued (sb_outbox does the
 * same); NULL on OOM. */
static char *keep_arg(sb_channel_send_t *c, char *s) {
  if (!s)
    return NULL;
  if (c->nargs == c->args_cap) {
    size_t cap = c->args_cap ? 2 * c->args_cap : 64;
    char **a = realloc(c->args, cap * sizeof *a);
    if (!a) {
      free(s);
      return NULL;
    }
    c->args = a;
    c->args_cap = cap;
  }
  c->args[c->nargs++] = s;
  uv_check_start(&c->check, on_check);
  return s;
}

/* xorshift64*: jitter only. Uniform in [0, 1). */
static double uniform(sb_channel_send_t *c) {
  c->rng ^= c->rng >> 12;
  c->rng ^= c->rng << 25;
  c->rng ^= c->rng >> 27;
  return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- configuration ----------------------------------------------------------------- */

static void acct_metrics(sb_channel_send_t *c, acct_rt_t *a) {
  char l[384];
  static const char *const results[] = {"sent", "failed", "retried", "dead"};
  sb_counter_t **ctr[] = {&a->sent, &a->failed, &a->retried, &a->dead};
  for (int i = 0; i < 4; i++) {
    sb_metrics_labels(l, sizeof l, "tenant", a->t->tenant->id, "platform", a->cfg->platform,
                      "account", a->cfg->account, "result", results[i], NULL);
    *ctr[i] = sb_metrics_counter(c->svc->metrics, "sb_outbound_messages_total",
                                 "customer messages by result: sent, failed (an attempt that "
                                 "failed), retried (rescheduled), dead (dead-lettered)",
                                 l);
  }
  sb_counter_t **tk[] = {&a->token_ok, &a->token_failed};
  for (int i = 0; i < 2; i++) {
    sb_metrics_labels(l, sizeof l, "tenant", a->t->tenant->id, "platform", a->cfg->platform,
                      "account", a->cfg->account, "result", i ? "failed" : "ok", NULL);
    *tk[i] = sb_metrics_counter(c->svc->metrics, "sb_outbound_token_fetches_total",
                                "access-token fetches (WeChat) by result", l);
  }
}

static int tenant_parse(sb_channel_send_t *c, const sb_tenant_t *tn, tenant_rt_t *t, char *err,
                        size_t errlen) {
  const char *notify = tn->section_json[SB_TENANT_NOTIFY];
  int rc = sb_out_config_parse(c->svc->tenants, tn->id, notify, &t->cfg, err, errlen);
  if (rc == 0)
    rc = sb_templates_parse(tn->id, notify, tn->languages[0], &t->tpl, err, errlen);
  if (rc == 0)
    rc = sb_out_policy_parse(tn->id, notify, t->tpl, &t->policy, err, errlen);
  if (rc == 0)
    rc = sb_hooks_config_parse(tn->id, notify, &t->hooks, err, errlen);
  return rc;
}

static int tenant_add(sb_channel_send_t *c, const sb_tenant_t *tn, char *err, size_t errlen) {
  tenant_rt_t *t = &c->tenants[c->ntenants];
  memset(t, 0, sizeof *t);
  t->tenant = tn;
  int rc = tenant_parse(c, tn, t, err, errlen);
  if (rc || t->cfg->naccounts == 0) {
    tenant_free(t);
    return rc;
  }
  c->ntenants++;
  c->slot_of[sb_tenants_index(c->svc->tenants, tn)] = c->ntenants;
  sb_key_tenant(t->stats_key, sizeof t->stats_key, tn->id, "stats");
  if (!(t->accts = calloc(t->cfg->naccounts, sizeof *t->accts)))
    return SB_ENOMEM;
  for (size_t i = 0; i < t->cfg->naccounts; i++) {
    acct_rt_t *a = &t->accts[i];
    a->cs = c;
    a->t = t;
    a->cfg = &t->cfg->accounts[i];
    a->ops = sb_channel_find(a->cfg->platform);
    snprintf(a->queue, sizeof a->queue, "out:%s:%s", a->cfg->platform, a->cfg->account);
    acct_metrics(c, a);
  }
  return 0;
}

sb_channel_send_t *sb_channel_send_new(sb_service_t *s, char *err, size_t errlen) {
  sb_channel_send_t *c = calloc(1, sizeof *c);
  size_t n = sb_tenants_count(s->tenants);
  if (!c || !(c->tenants = calloc(n ? n : 1, sizeof *c->tenants)) ||
      !(c->slot_of = calloc(n ? n : 1, sizeof *c->slot_of))) {
    if (c)
      free(c->tenants);
    free(c);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  c->svc = s;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = tenant_add(c, sb_tenants_at(s->tenants, i), err, errlen);
  if (rc == 0 && !(c->curl = sb_curl_new(s->loop))) {
    snprintf(err, errlen, "libcurl could not be initialised");
    rc = SB_EIO;
  }
  if (rc) {
    c->destroyed = 1;
    maybe_free(c);
    return NULL;
  }
  c->claim_script = sb_script_add(s->redis, "out_claim", sb_script_hooks_claim);
  c->done_script = sb_script_add(s->redis, "out_done", sb_script_hooks_done);
  c->poll_ms = sb_config_int(s->config, "hooks-poll-ms");
  if (c->poll_ms <= 0)
    c->poll_ms = SB_OUTBOX_POLL_DEFAULT_MS;
  c->dlq_max = sb_config_int(s->config, "dlq-max");
  c->rng = (uint64_t)sb_now_us() ^ ((uint64_t)getpid() << 32) ^ 0xD1B54A32D192ED03ULL;
  snprintf(c->replica, sizeof c->replica, "%d-%" PRIx64, (int)getpid(), (uint64_t)sb_now_us());
  uv_timer_init(s->loop, &c->timer);
  uv_check_init(s->loop, &c->check);
  c->timer.data = c->check.data = c;
  c->open_handles = 2;
  schedule(c);
  return c;
}

void sb_channel_send_stop(sb_channel_send_t *c) {
  if (c)
    c->stopping = 1;
}

int sb_channel_send_idle(const sb_channel_send_t *c) {
  return !c || (c->sends == 0 && c->scripts_pending == 0);
}

void sb_channel_send_destroy(sb_channel_send_t **cp) {
  sb_channel_send_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  c->destroyed = 1;
  sb_curl_destroy(&c->curl); /* sends in flight are called back with SB_ECLOSED */
  for (size_t i = 0; i < c->ntenants; i++)
    for (size_t j = 0; j < c->tenants[i].cfg->naccounts; j++) {
      acct_rt_t *a = &c->tenants[i].accts[j];
      while (a->waiters) { /* their leases expire: claimed again later */
        send_t *s = a->waiters;
        a->waiters = s->next;
        send_free(s);
      }
    }
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->check, on_handle_closed);
}

static tenant_rt_t *tenant_find(sb_channel_send_t *c, const sb_tenant_t *t) {
  size_t i = sb_tenants_index(c->svc->tenants, t);
  return i < sb_tenants_count(c->svc->tenants) && c->slot_of[i] ? &c->tenants[c->slot_of[i] - 1] : NULL;
}

/* ---- the commit ------------------------------------------------------------------------ */

/* Remembers the tenant's published mean first response (the "*" row). */
static void note_service_level(tenant_rt_t *t, const sb_envelope_t *env) {
  const Switchboard__V1__ServiceLevel *sl = env->service_level;
  if (!sl)
    return;
  for (size_t i = 0; i < sl->n_rows; i++) {
    const Switchboard__V1__ServiceLevelRow *r = sl->rows[i];
    if (strcmp(r->channel, "*") == 0 && strcmp(r->queue, "*") == 0 && r->answered > 0)
      t->published_ms = r->avg_first_response_ms;
  }
}

static void no_args(sb_stage_item_t *it) {
  for (int i = 0; i < SB_CHANNEL_NEXTRA; i++)
    sb_stage_item_arg(it, i == SB_CHANNEL_NEXTRA - 1 ? "0" : "");
}

int sb_channel_send_prepare(sb_channel_send_t *c, sb_stage_item_t *it, const char **why) {
  tenant_rt_t *t = c ? tenant_find(c, it->tenant) : NULL;
  if (!t) {
    no_args(it);
    return 0;
  }
  if (it->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL)
    note_service_level(t, it->env);
  sb_out_plan_ctx_t pc = {t->tenant, t->cfg, t->tpl, &t->policy,
                          t->published_ms > 0 ? t->published_ms : t->tenant->first_response_ms,
                          sb_now_ms()};
  sb_out_plan_t plan;
  const char *conv = sb_out_conversation(it->env);
  if (sb_channel_plan(&pc, it->env, &plan)) {
    sb_out_plan_clear(&plan);
    *why = "out of memory";
    return SB_ENOMEM;
  }
  if (!conv || (!plan.address && !plan.purpose[0])) {
    sb_out_plan_clear(&plan);
    no_args(it);
    return 0;
  }
  char *addr = plan.address ? keep_arg(c, plan.address) : NULL;
  char *text = plan.text ? keep_arg(c, plan.text) : NULL;
  int lost = (plan.address && !addr) || (plan.text && !text);
  plan.address = plan.text = NULL; /* kept (or freed) by keep_arg */
  if (lost) {
    *why = "out of memory";
    return SB_ENOMEM;
  }
  int64_t ttl = t->hooks->retry.give_up_after_s + SB_OUTBOX_RECORD_SLACK_S;
  sb_stage_item_arg(it, conv);
  sb_stage_item_arg(it, addr ? addr : "");
  sb_stage_item_argf(it, "%s", plan.purpose);
  sb_stage_item_arg(it, text ? text : "");
  sb_stage_item_argf(it, "%lld", c->dlq_max > 0 ? c->dlq_max : 10000);
  sb_stage_item_argf(it, "%lld", (long long)(ttl > SB_OUT_ADDR_TTL_S ? ttl : SB_OUT_ADDR_TTL_S));
  return 0;
}

void sb_channel_send_committed(sb_channel_send_t *c, const sb_stage_item_t *it) {
  tenant_rt_t *t = c ? tenant_find(c, it->tenant) : NULL;
  if (!t)
    return;
  for (size_t i = 0; i < t->cfg->naccounts; i++)
    t->accts[i].wake_ms = 0; /* which queue got it is decided in the script */
  schedule(c);
}

/* ---- outcomes -------------------------------------------------------------------------- */

static void on_done_reply(const redisReply *reply, int err, void *arg) {
  script_t *sc = arg;
  sb_channel_send_t *c = sc->cs;
  (void)reply;
  if (err)
    sb_log(SB_LOG_ERROR, "outbound_record_failed", "error", sb_strerror(err), NULL);
  c->scripts_pending--;
  free(sc);
  maybe_free(c);
}

static const char *rec_str(const cJSON *rec, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A sent message's mark for hooks_done.lua (sent:<field> = mark, so that
 * ingest can name the conversation of a receipt): field "<channel>:<sent
 * id>", mark "<purpose>|<conversation>"; mark stays "" when the send's
 * record lacks them or they do not fit (not recorded). */
static void sent_mark(const send_t *s, const char *sent_id, char *field, size_t fcap, char *mark,
                      size_t mcap) {
  const char *ch = rec_str(s->rec, "ch"), *conv = rec_str(s->rec, "conv");
  const char *purpose = rec_str(s->rec, "purpose");
  if (!ch || !conv || !purpose)
    return;
  if (snprintf(field, fcap, "%s:%s", ch, sent_id) >= (int)fcap ||
      snprintf(mark, mcap, "%s|%s", purpose, conv) >= (int)mcap)
    mark[0] = '\0';
}

/* sent_id: the platform's id of the message sent ("ok" only, may be NULL):
 * recorded with the send's conversation and purpose (hooks_done.lua). */
static void record(send_t *s, const char *outcome, int64_t due, const char *reason,
                   const char *entry, const char *sent_id) {
  acct_rt_t *a = s->a;
  sb_channel_send_t *c = a->cs;
  char due_s[24], max_s[24], ttl_s[24], field[SB_OUT_SENT_ID_MAX + 32], mark[512] = "";
  snprintf(due_s, sizeof due_s, "%lld", (long long)due);
  snprintf(max_s, sizeof max_s, "%lld", c->dlq_max > 0 ? c->dlq_max : 10000);
  snprintf(ttl_s, sizeof ttl_s, "%d", SB_OUT_ADDR_TTL_S);
  if (sent_id && *sent_id)
    sent_mark(s, sent_id, field, sizeof field, mark, sizeof mark);
  const char *argv[] = {a->t->stats_key, a->queue, s->key, s->token, outcome, due_s,
                        reason ? reason : "", entry ? entry : "", max_s,
                        mark[0] ? field : "", mark, ttl_s};
  script_t *sc = calloc(1, sizeof *sc);
  if (!sc)
    return;
  sc->cs = c;
  int rc = sb_redis_evalsha(c->svc->redis, c->done_script, 1, 12, argv, NULL, on_done_reply, sc);
  if (rc) {
    free(sc); /* the lease expires and the send is tried again */
    sb_log(SB_LOG_ERROR, "outbound_record_failed", "error", "redis unavailable", NULL);
    return;
  }
  c->scripts_pending++;
}

/* Ends a send's attempt: its request slot is free again. */
static void finish(send_t *s) {
  acct_rt_t *a = s->a;
  a->in_flight--;
  a->cs->sends--;
  schedule(a->cs);
  send_free(s);
}

static void dead_letter(send_t *s, const char *reason) {
  acct_rt_t *a = s->a;
  cJSON *e = cJSON_CreateObject();
  char *body = cJSON_PrintUnformatted(s->rec);
  cJSON_AddNumberToObject(e, "ts_ms", (double)sb_now_ms());
  cJSON_AddStringToObject(e, "stage", "outbound");
  cJSON_AddStringToObject(e, "tenant", a->t->tenant->id);
  cJSON_AddStringToObject(e, "hook", a->queue);
  cJSON_AddStringToObject(e, "key", s->key);
  cJSON_AddStringToObject(e, "reason", reason);
  cJSON_AddNumberToObject(e, "attempts", s->attempts + 1);
  cJSON_AddNumberToObject(e, "first_ms", (double)s->first_ms);
  cJSON_AddStringToObject(e, "body", body ? body : "{}");
  char *entry = cJSON_PrintUnformatted(e);
  cJSON_Delete(e);
  free(body);
  sb_counter_add(a->dead, 1);
  sb_log(SB_LOG_WARN, "outbound_dead_letter", "tenant", a->t->tenant->id, "platform",
         a->cfg->platform, "account", a->cfg->account, "key", s->key, "reason", reason, NULL);
  record(s, "dead", 0, reason, entry ? entry : "{}", NULL);
  free(entry);
  finish(s);
}

static void retry_later(send_t *s, const char *reason, int64_t at_least_ms) {
  acct_rt_t *a = s->a;
  int64_t now = sb_now_ms(), due = 0;
  sb_counter_add(a->failed, 1);
  if (!sb_hooks_next_due(&a->t->hooks->retry, s->attempts + 1, s->first_ms, now, uniform(a->cs),
                         &due)) {
    char r[SB_OUT_REASON_MAX + 64];
    snprintf(r, sizeof r, "gave up after %u attempts: %s", s->attempts + 1, reason);
    dead_letter(s, r);
    return;
  }
  if (due < now + at_least_ms)
    due = now + at_least_ms; /* the platform's own retry_after */
  sb_counter_add(a->retried, 1);
  record(s, "retry", due, reason, NULL, NULL);
  if (due < a->wake_ms)
    a->wake_ms = due;
  finish(s);
}

/* ---- access tokens --------------------------------------------------------------------- */

static void wake_waiters(acct_rt_t *a, const char *failure) {
  send_t *w = a->waiters;
  a->waiters = NULL;
  while (w) {
    send_t *s = w;
    w = w->next;
    if (failure)
      retry_later(s, failure, 0);
    else
      attempt(s);
  }
}

static void on_token(const sb_curl_result_t *r, void *arg) {
  acct_rt_t *a = arg;
  a->fetching = 0;
  if (r->err == SB_ECLOSED)
    return; /* the sender is going: its waiters are freed there */
  char why[SB_OUT_REASON_MAX];
  int64_t expires_s = 0;
  if (r->err) {
    snprintf(why, sizeof why, "%s token: %s", a->cfg->platform, r->what);
  } else if (a->ops->token_parse(r->status, r->body, a->token, sizeof a->token, &expires_s, why,
                                 sizeof why) == 0) {
    int64_t margin = expires_s / 2 < SB_OUT_TOKEN_MARGIN_S ? expires_s / 2 : SB_OUT_TOKEN_MARGIN_S;
    a->token_until_ms = sb_now_ms() + (expires_s - margin) * 1000;
    sb_counter_add(a->token_ok, 1);
    wake_waiters(a, NULL);
    return;
  }
  a->token[0] = '\0';
  sb_counter_add(a->token_failed, 1);
  sb_log(SB_LOG_WARN, "outbound_token_failed", "tenant", a->t->tenant->id, "platform",
         a->cfg->platform, "account", a->cfg->account, "reason", why, NULL);
  wake_waiters(a, why);
}

/* Parks s until the account has a token; starts a fetch unless one runs. */
static void wait_token(send_t *s) {
  acct_rt_t *a = s->a;
  s->next = a->waiters;
  a->waiters = s;
  if (a->fetching)
    return;
  char url[SB_OUT_URL_MAX];
  int rc = a->ops->token_url(a->cfg, url, sizeof url);
  if (rc == 0)
    rc = sb_curl_get(a->cs->curl, url, NULL, a->cfg->timeout_ms, on_token, a);
  if (rc) {
    wake_waiters(a, "token request could not be made");
    return;
  }
  a->fetching = 1;
}

/* ---- sending ------------------------------------------------------------------------------- */

static void on_http(const sb_curl_result_t *r, void *arg) {
  send_t *s = arg;
  acct_rt_t *a = s->a;
  if (r->err == SB_ECLOSED) {
    a->in_flight--;
    a->cs->sends--;
    send_free(s);
    return;
  }
  sb_out_result_t res;
  a->ops->classify(&s->req, r->err ? 0 : r->status, r->body, &res);
  if (res.verdict == SB_OUT_SENT && !res.sent_id[0] && a->ops->sent_id_header) {
    const char *id = sb_curl_result_header(r, a->ops->sent_id_header);
    if (id)
      sb_out_sent_id(&res, id);
  }
  if (r->err)
    snprintf(res.reason, sizeof res.reason, "%s: %s", a->cfg->platform, r->what);
  switch (res.verdict) {
  case SB_OUT_SENT:
    sb_counter_add(a->sent, 1);
    record(s, "ok", 0, NULL, NULL, res.sent_id);
    finish(s);
    return;
  case SB_OUT_FALLBACK:
    if (!s->no_reply) {
      s->no_reply = 1;
      attempt(s);
      return;
    }
    break;
  case SB_OUT_REFRESH:
    if (!s->refreshed) {
      s->refreshed = 1;
      a->token[0] = '\0'; /* stale: the next attempt fetches one */
      attempt(s);
      return;
    }
    retry_later(s, res.reason, 0);
    return;
  case SB_OUT_RETRY:
    retry_later(s, res.reason, res.retry_after_ms);
    return;
  case SB_OUT_DEAD:
    break;
  }
  sb_counter_add(a->failed, 1);
  dead_letter(s, res.reason);
}

/* One request of the send's attempt: a token first when the platform
 * needs one and none is fresh. */
static void attempt(send_t *s) {
  acct_rt_t *a = s->a;
  int64_t now = sb_now_ms();
  if (a->ops->token_url && (!a->token[0] || now >= a->token_until_ms)) {
    wait_token(s);
    return;
  }
  const cJSON *rtm = cJSON_GetObjectItemCaseSensitive(s->rec, "rtm");
  sb_out_message_t m = {.to = rec_str(s->rec, "to"),
                        .reply_token = rec_str(s->rec, "rt"),
                        .reply_token_ms = cJSON_IsNumber(rtm) && rtm->valuedouble > 0 &&
                                                  rtm->valuedouble < 4e15
                                              ? (int64_t)rtm->valuedouble
                                              : 0,
                        .text = rec_str(s->rec, "text"),
                        .channel = rec_str(s->rec, "ch"),
                        .subject = rec_str(s->rec, "subj"),
                        .in_reply_to = rec_str(s->rec, "mid"),
                        .is_public = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s->rec, "pub"))};
  char why[SB_OUT_REASON_MAX] = "";
  sb_out_request_clear(&s->req);
  int rc = a->ops->build(a->cfg, &m, a->token[0] ? a->token : NULL, now, s->no_reply, &s->req, why,
                         sizeof why);
  if (rc) {
    sb_counter_add(a->failed, 1);
    dead_letter(s, why[0] ? why : sb_strerror(rc));
    return;
  }
  const char *h[SB_OUT_HEADERS_MAX + 2];
  size_t n = 0;
  for (; n < s->req.nheaders; n++)
    h[n] = s->req.headers[n];
  h[n++] = "Expect:";
  h[n] = NULL;
  rc = sb_curl_post(a->cs->curl, s->req.url, h, s->req.body, strlen(s->req.body),
                    a->cfg->timeout_ms, on_http, s);
  if (rc)
    retry_later(s, sb_strerror(rc), 0);
}

static void start_send(acct_rt_t *a, const redisReply *item, const char *token) {
  if (item->type != REDIS_REPLY_ARRAY || item->elements < 4 ||
      item->element[0]->type != REDIS_REPLY_STRING || item->element[1]->type != REDIS_REPLY_STRING)
    return;
  send_t *s = calloc(1, sizeof *s);
  if (!s)
    return; /* its lease expires and it is claimed again */
  s->a = a;
  snprintf(s->key, sizeof s->key, "%s", item->element[0]->str);
  snprintf(s->token, sizeof s->token, "%s", token);
  s->attempts = (unsigned)item->element[2]->integer;
  s->first_ms = item->element[3]->integer;
  a->in_flight++;
  a->cs->sends++;
  if (!(s->rec = cJSON_Parse(item->element[1]->str))) {
    sb_counter_add(a->failed, 1);
    dead_letter(s, "record is not JSON");
    return;
  }
  attempt(s);
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
  sb_channel_send_t *c = sc->cs;
  acct_rt_t *a = sc->a;
  c->scripts_pending--;
  a->claiming = 0;
  int64_t next = sc->now_ms + c->poll_ms;
  if (!err && !c->destroyed && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
    const redisReply *items = reply->element[0];
    for (size_t i = 0; items->type == REDIS_REPLY_ARRAY && i < items->elements; i++)
      start_send(a, items->element[i], sc->token);
    int64_t due = parse_ms(reply->element[1]);
    if (due < next)
      next = due;
  }
  a->wake_ms = next;
  free(sc);
  if (c->destroyed)
    maybe_free(c);
  else
    schedule(c);
}

static void claim(acct_rt_t *a, int n, int64_t now) {
  sb_channel_send_t *c = a->cs;
  script_t *sc = calloc(1, sizeof *sc);
  if (!sc)
    return;
  sc->cs = c;
  sc->a = a;
  sc->now_ms = now;
  snprintf(sc->token, sizeof sc->token, "%s:%" PRIu64, c->replica, ++c->seq);
  char now_s[24], lease_s[24], n_s[16];
  snprintf(now_s, sizeof now_s, "%lld", (long long)now);
  snprintf(lease_s, sizeof lease_s, "%lld",
           (long long)(now + REQUESTS_PER_ATTEMPT * a->cfg->timeout_ms + SB_OUTBOX_LEASE_MARGIN_MS));
  snprintf(n_s, sizeof n_s, "%d", n);
  const char *argv[] = {a->t->stats_key, a->queue, now_s, lease_s, n_s, sc->token};
  if (sb_redis_evalsha(c->svc->redis, c->claim_script, 1, 6, argv, NULL, on_claim_reply, sc)) {
    free(sc);
    a->wake_ms = now + c->poll_ms;
    return;
  }
  c->scripts_pending++;
  a->claiming = 1;
}

static void tick(sb_channel_send_t *c) {
  int64_t now = sb_now_ms(), next = INT64_MAX;
  for (size_t i = 0; i < c->ntenants && !c->stopping; i++)
    for (size_t j = 0; j < c->tenants[i].cfg->naccounts; j++) {
      acct_rt_t *a = &c->tenants[i].accts[j];
      int room = SB_OUT_MAX_IN_FLIGHT - a->in_flight;
      if (!a->claiming && room > 0 && a->wake_ms <= now)
        claim(a, room, now);
      if (!a->claiming && room > 0 && a->wake_ms < next)
        next = a->wake_ms;
    }
  if (next != INT64_MAX && !c->destroyed) {
    int64_t wait = next - now;
    uv_timer_start(&c->timer, on_timer, (uint64_t)(wait > 0 ? wait : 0), 0);
  }
}

static void on_timer(uv_timer_t *t) { tick(t->data); }

static void schedule(sb_channel_send_t *c) {
  if (!c->destroyed && !c->stopping)
    uv_timer_start(&c->timer, on_timer, 0, 0);
}
