/*
 * sb_intake: per-turn batching of durable writes (see sb_intake.h).
 *
 * Pending events sit in one array until the check hook; a flush moves them
 * into a batch that owns them until every tenant's reply is in.
 */
#include "sb_intake.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char sb_script_ingest[];

#define SB_INTAKE_FIXED_ARGS 4 /* KEYS[1], now, deadline, ttl */
#define SB_INTAKE_ARGS_PER_EVENT 6 /* key, thread, blob, message, refs, ident */

typedef struct {
  sb_envelope_t *env;
  char *thread, *message, *refs, *ident;
  uint8_t *blob;
  size_t blob_len;
  sb_intake_done_fn fn;
  void *arg;
  size_t index;
} entry_t;

typedef struct {
  sb_intake_t *in;
  entry_t *entries;
  size_t n;
  size_t replies_pending;
} batch_t;

typedef struct {
  batch_t *b;
  size_t *idx; /* entries of this tenant, in argument order */
  size_t count;
} group_t;

struct sb_intake {
  sb_service_t *svc;
  sb_handoff_t *out;
  int script;
  uv_check_t check;
  uv_idle_t idle; /* active while events wait for the flush: the loop must not block */
  entry_t *pending;
  size_t npending, cap, max_inflight, inflight;
  size_t per_call; /* events per script call: --batch-max */
  int closing;
  int handles_closed;
  sb_ratelimit_t *limiter;
  sb_counter_t *accepted, *duplicates, *failed, *refused;
  sb_counter_t *calls; /* ingest.lua calls: events per call = (accepted + duplicates) / calls */
  sb_histogram_t *durable_us;
};

static void entry_done(sb_intake_t *in, entry_t *e, sb_intake_status_t st, const char *conv) {
  e->fn(e->arg, e->index, st, conv ? conv : "");
  sb_counter_add(st == SB_INTAKE_ACCEPTED ? in->accepted
                 : st == SB_INTAKE_DUPLICATE ? in->duplicates : in->failed, 1);
}

static void entry_free(entry_t *e) {
  sb_envelope_free(e->env);
  free(e->thread);
  free(e->message);
  free(e->refs);
  free(e->ident);
  free(e->blob);
}

static void set_string(char **field, const char *v) {
  if (*field && *field != protobuf_c_empty_string)
    free(*field);
  *field = strdup(v);
}

/* A customer's message carries its derived customer id from the start
 * (replacing any the publisher put there), so that ingest.lua rewrites the
 * envelope only for an identity linked to another. */
static int derive_customer(sb_envelope_t *env, const char *ident) {
  char cid[SB_CUSTOMER_ID_LEN + 1];
  if (!*ident || env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION)
    return 0;
  if (sb_customer_id_derived(env->tenant, ident, cid))
    return SB_ENOMEM;
  set_string(&env->interaction->customer_id, cid);
  return env->interaction->customer_id ? 0 : SB_ENOMEM;
}

/* Forwards an accepted event to classify, with its conversation (and the
 * customer id of a customer's message, or the conversation a voice agent
 * event's call resolved to), as ingest.lua stored them. */
static void forward(sb_intake_t *in, entry_t *e, const char *conv, const char *cid) {
  if (*conv)
    set_string(&e->env->conversation, conv);
  if (*cid && e->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION)
    set_string(&e->env->interaction->customer_id, cid);
  if (*conv && e->env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_AGENT && !*e->env->agent->conversation)
    set_string(&e->env->agent->conversation, conv);
  size_t len;
  uint8_t *blob = sb_envelope_pack(e->env, &len);
  if (blob)
    sb_handoff_send(in->out, blob, len); /* the lease covers a failure */
  free(blob);
}

static void batch_release(batch_t *b);

static void on_group(const redisReply *reply, int err, void *arg) {
  group_t *g = arg;
  batch_t *b = g->b;
  sb_intake_t *in = b->in;
  int ok = !err && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == g->count;
  if (!ok)
    sb_log(SB_LOG_ERROR, "intake_commit_failed", "error", err ? sb_strerror(err) : "unexpected reply",
           NULL);
  for (size_t i = 0; i < g->count; i++) {
    entry_t *e = &b->entries[g->idx[i]];
    const redisReply *r = ok ? reply->element[i] : NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
      entry_done(in, e, SB_INTAKE_FAILED, NULL);
      continue;
    }
    const char *conv = r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : "";
    const char *cid = r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str : "";
    int fresh = r->element[0]->integer == 1;
    entry_done(in, e, fresh ? SB_INTAKE_ACCEPTED : SB_INTAKE_DUPLICATE, conv);
    if (fresh && !in->closing)
      forward(in, e, conv, cid);
  }
  free(g->idx);
  free(g);
  batch_release(b);
}

/* Drops one hold on the batch; the last frees it. */
static void batch_release(batch_t *b) {
  sb_intake_t *in = b->in;
  if (--b->replies_pending)
    return;
  for (size_t i = 0; i < b->n; i++) {
    sb_histogram_record(in->durable_us, (uint64_t)(sb_now_us() - b->entries[i].env->ingested_us));
    entry_free(&b->entries[i]);
  }
  in->inflight -= b->n;
  free(b->entries);
  free(b);
}

static int send_group(batch_t *b, group_t *g, const char *tenant) {
  sb_intake_t *in = b->in;
  size_t argc = SB_INTAKE_FIXED_ARGS + SB_INTAKE_ARGS_PER_EVENT * g->count;
  const char **argv = calloc(argc, sizeof *argv);
  size_t *lens = calloc(argc, sizeof *lens);
  if (!argv || !lens) {
    free(argv);
    free(lens);
    return SB_ENOMEM;
  }
  char stats[SB_KEY_MAX], now[24], deadline[24], ttl[24];
  int64_t us = sb_now_us();
  sb_key_tenant(stats, sizeof stats, tenant, "stats");
  snprintf(now, sizeof now, "%lld", (long long)us);
  snprintf(deadline, sizeof deadline, "%lld", (long long)(us / 1000 + sb_config_int(in->svc->config, "lease-ms")));
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(in->svc->config, "event-ttl-s"));
  argv[0] = stats, argv[1] = now, argv[2] = deadline, argv[3] = ttl;
  for (size_t i = 0, k = SB_INTAKE_FIXED_ARGS; i < g->count; i++) {
    entry_t *e = &b->entries[g->idx[i]];
    argv[k++] = e->env->key;
    argv[k++] = e->thread;
    lens[k] = e->blob_len;
    argv[k++] = (const char *)e->blob;
    argv[k++] = e->message;
    argv[k++] = e->refs;
    argv[k++] = e->ident;
  }
  for (size_t i = 0; i < argc; i++)
    if (!lens[i])
      lens[i] = strlen(argv[i]);
  int rc = sb_redis_evalsha(in->svc->redis, in->script, 1, (int)argc, argv, lens, on_group, g);
  if (rc == 0)
    sb_counter_add(in->calls, 1);
  free(argv);
  free(lens);
  return rc;
}

/* Splits a batch by tenant; one script call each, of at most --batch-max
 * events (a long script would hold Redis for everyone else). */
static void noop_idle(uv_idle_t *h) { (void)h; }

static void flush(uv_check_t *h) {
  sb_intake_t *in = h->data;
  uv_idle_stop(&in->idle);
  if (in->npending == 0)
    return;
  batch_t *b = calloc(1, sizeof *b);
  b->in = in;
  b->entries = in->pending;
  b->n = in->npending;
  in->pending = NULL;
  in->npending = in->cap = 0;
  char *done = calloc(b->n, 1);
  b->replies_pending = 1;
  for (size_t i = 0; i < b->n; i++) {
    if (done[i])
      continue;
    group_t *g = calloc(1, sizeof *g);
    g->b = b;
    g->idx = calloc(b->n, sizeof *g->idx);
    const char *tenant = b->entries[i].env->tenant;
    for (size_t j = i; j < b->n && g->count < in->per_call; j++)
      if (!done[j] && strcmp(b->entries[j].env->tenant, tenant) == 0) {
        done[j] = 1;
        g->idx[g->count++] = j;
      }
    b->replies_pending++;
    if (send_group(b, g, tenant) != 0)
      on_group(NULL, SB_EAGAIN, g); /* answers each event: failed */
  }
  free(done);
  batch_release(b); /* the hold taken above */
}

sb_intake_t *sb_intake_new(sb_service_t *s, sb_handoff_t *out, size_t max_inflight) {
  sb_intake_t *in = calloc(1, sizeof *in);
  if (!in)
    return NULL;
  in->svc = s;
  in->out = out;
  in->max_inflight = max_inflight;
  in->per_call = (size_t)sb_config_int(s->config, "batch-max");
  if (in->per_call < 1)
    in->per_call = 1;
  in->script = sb_script_add(s->redis, "ingest", sb_script_ingest);
  in->limiter = sb_ratelimit_new(s->tenants);
  in->accepted = sb_metrics_counter(s->metrics, "sb_ingest_accepted_total", "events made durable", NULL);
  in->duplicates = sb_metrics_counter(s->metrics, "sb_ingest_duplicates_total",
                                      "redeliveries acknowledged without a second effect", NULL);
  in->failed = sb_metrics_counter(s->metrics, "sb_ingest_not_durable_total",
                                  "events whose write failed (publisher told to retry)", NULL);
  in->refused = sb_metrics_counter(s->metrics, "sb_ingest_refused_total",
                                   "events refused by back-pressure (429 / retry later)", NULL);
  in->calls = sb_metrics_counter(s->metrics, "sb_ingest_commit_calls_total",
                                 "ingest.lua calls (one per tenant per loop turn, at most --batch-max events)",
                                 NULL);
  in->durable_us = sb_metrics_histogram(s->metrics, "sb_ingest_durable_seconds",
                                        "from receipt to the Redis write confirmed", NULL);
  if (!in->limiter) {
    free(in);
    return NULL;
  }
  uv_check_init(s->loop, &in->check);
  in->check.data = in;
  uv_check_start(&in->check, flush);
  uv_unref((uv_handle_t *)&in->check);
  uv_idle_init(s->loop, &in->idle);
  in->idle.data = in;
  return in;
}

static void on_check_closed(uv_handle_t *h) {
  sb_intake_t *in = h->data;
  if (++in->handles_closed == 2) {
    sb_ratelimit_destroy(&in->limiter);
    free(in);
  }
}

void sb_intake_destroy(sb_intake_t **inp) {
  sb_intake_t *in = *inp;
  if (!in)
    return;
  *inp = NULL;
  in->closing = 1;
  for (size_t i = 0; i < in->npending; i++) {
    entry_done(in, &in->pending[i], SB_INTAKE_FAILED, NULL);
    entry_free(&in->pending[i]);
  }
  free(in->pending);
  /* batches in flight hold `in`: the service destroys the intake only once
   * sb_intake_pending() is 0 or the Redis client (and so every reply) is gone */
  uv_close((uv_handle_t *)&in->check, on_check_closed);
  uv_close((uv_handle_t *)&in->idle, on_check_closed);
}

int sb_intake_submit(sb_intake_t *in, sb_envelope_t *env, const sb_admit_result_t *ar,
                     sb_intake_done_fn fn, void *arg, size_t index) {
  if (in->closing || in->inflight >= in->max_inflight || sb_handoff_backlogged(in->out) ||
      !sb_redis_is_connected(in->svc->redis)) {
    sb_counter_add(in->refused, 1);
    sb_envelope_free(env);
    return SB_EAGAIN;
  }
  if (in->npending == in->cap) {
    size_t cap = in->cap ? in->cap * 2 : 64;
    entry_t *p = realloc(in->pending, cap * sizeof *p);
    if (!p) {
      sb_envelope_free(env);
      return SB_EAGAIN;
    }
    in->pending = p;
    in->cap = cap;
  }
  entry_t *e = &in->pending[in->npending];
  memset(e, 0, sizeof *e);
  e->env = env;
  e->thread = strdup(ar ? ar->thread : "");
  e->message = strdup(ar ? ar->message : "");
  e->refs = strdup(ar ? ar->refs : "");
  e->ident = strdup(ar ? ar->ident : "");
  e->blob = e->ident && derive_customer(env, e->ident) == 0 ? sb_envelope_pack(env, &e->blob_len) : NULL;
  e->fn = fn;
  e->arg = arg;
  e->index = index;
  if (!e->thread || !e->message || !e->refs || !e->ident || !e->blob) {
    entry_free(e);
    return SB_EAGAIN;
  }
  in->npending++;
  in->inflight++;
  uv_idle_start(&in->idle, noop_idle); /* submitted from a prepare hook, say */
  return 0;
}

size_t sb_intake_pending(const sb_intake_t *in) { return in->inflight; }

size_t sb_intake_room(const sb_intake_t *in) {
  if (in->closing || !sb_redis_is_connected(in->svc->redis) || sb_handoff_backlogged(in->out))
    return 0; /* classify is behind: publishers retry later (sb_handoff.h) */
  return in->inflight >= in->max_inflight ? 0 : in->max_inflight - in->inflight;
}

void sb_intake_refused(sb_intake_t *in, size_t n) { sb_counter_add(in->refused, n); }

sb_ratelimit_t *sb_intake_limiter(sb_intake_t *in) { return in->limiter; }
