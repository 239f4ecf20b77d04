/*
 * sb_stage: batch -> one script call per tenant -> forward (see sb_stage.h).
 *
 * A batch owns its items and counts the script replies it waits for; the
 * last reply finishes it (forward, callbacks, free). The stage is freed
 * only when it is destroyed and no batch is pending, so no reply ever
 * reaches freed memory.
 */
#include "sb_stage.h"
#include "sb_dlq.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"
#include "sb_zsock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_STAGE_FIXED_ARGS 8 /* KEYS[1] + ARGV[1..7], see prelude.lua */
#define SB_STAGE_RETRY_MS 100 /* resume reading after Redis came back */
#define SB_STAGE_BACKLOG_CHECK_MS 10 /* while the next stage is behind */
/* Messages ZeroMQ queues here per sender. Small, like the sender's HWM
 * (sb_handoff.c): a backlog must stay where senders see it, not age past
 * its lease inside socket buffers. */
#define SB_STAGE_RCVHWM 1000

struct sb_stage {
  sb_service_t *svc;
  const sb_stage_ops_t *ops;
  void *ctx;
  char lease_out[32];
  sb_handoff_t *out;
  sb_zsock_t *pull;
  sb_dlq_t *dlq;
  int script;
  size_t batch_max;
  size_t inflight;  /* batches waiting on Redis */
  int stopped;      /* no more reading (graceful stop) */
  int destroyed;
  uv_timer_t retry;
  int retry_closed;
  sb_zsock_t *monitor;      /* senders that go away (see reclaim) */
  uv_timer_t reclaim_timer;
  int reclaim_closed, sweep_script, reclaim_wanted;
  size_t reclaims_pending;  /* sweep.lua replies awaited */
  sb_counter_t *senders_lost, *reclaimed;
  sb_counter_t *received, *committed, *duplicates, *rejected, *commit_failed;
  sb_counter_t *batches;
  sb_histogram_t *commit_us;
};

typedef struct batch {
  sb_stage_t *st;
  sb_stage_item_t *items;
  size_t n;
  size_t replies_pending;
  /* per reply group: which items, in order */
  size_t *order;
  int64_t started_us;
} batch_t;

typedef struct {
  batch_t *b;
  size_t first; /* index into b->order */
  size_t count;
} group_t;

void sb_stage_item_arg(sb_stage_item_t *it, const char *value) {
  if (it->nextra < SB_STAGE_EXTRA_MAX)
    it->extra[it->nextra++] = value;
}

void sb_stage_item_argf(sb_stage_item_t *it, const char *fmt, ...) {
  size_t room = sizeof it->scratch - it->scratch_used;
  char *at = it->scratch + it->scratch_used;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(at, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room) {
    at = "";
    n = -1;
  }
  it->scratch_used += (size_t)n + 1;
  sb_stage_item_arg(it, at);
}

static void maybe_free(sb_stage_t *st) {
  if (st->destroyed && st->inflight == 0 && st->retry_closed && st->reclaim_closed &&
      st->reclaims_pending == 0) {
    sb_dlq_destroy(&st->dlq);
    free(st);
  }
}

static void batch_free(batch_t *b) {
  for (size_t i = 0; i < b->n; i++) {
    sb_envelope_free(b->items[i].env);
    free(b->items[i].blob);
  }
  free(b->items);
  free(b->order);
  free(b);
}

static void on_retry(uv_timer_t *t);

/* Reads again unless stopped, too many batches wait on Redis, or the next
 * stage is behind (sb_handoff_backlogged: checked again every
 * SB_STAGE_BACKLOG_CHECK_MS until it drains). */
static void resume_reading(sb_stage_t *st) {
  if (st->stopped || st->destroyed || st->inflight >= SB_STAGE_INFLIGHT_MAX)
    return;
  if (sb_handoff_backlogged(st->out)) {
    sb_zsock_pause(st->pull);
    if (!uv_is_active((uv_handle_t *)&st->retry))
      uv_timer_start(&st->retry, on_retry, SB_STAGE_BACKLOG_CHECK_MS, 0);
    return;
  }
  sb_zsock_resume(st->pull);
}

/* Sends on and calls back every committed item, then frees the batch. */
static void batch_finish(batch_t *b) {
  sb_stage_t *st = b->st;
  sb_histogram_record(st->commit_us, (uint64_t)(sb_now_us() - b->started_us));
  st->inflight--;
  for (size_t i = 0; i < b->n; i++) {
    sb_stage_item_t *it = &b->items[i];
    if (!it->committed || st->destroyed)
      continue;
    if (st->out)
      sb_handoff_send(st->out, it->blob, it->blob_len);
    if (st->ops->committed)
      st->ops->committed(st->ctx, it, it->blob, it->blob_len);
  }
  batch_free(b);
  resume_reading(st);
  maybe_free(st);
}

const redisReply *sb_stage_reply_suffix(const redisReply *item) {
  return item && item->type == REDIS_REPLY_STRING ? item : NULL;
}

/* Appends the script's suffix to the stored blob, as the script did. */
static void apply_suffix(sb_stage_item_t *it, const redisReply *r) {
  const redisReply *s = sb_stage_reply_suffix(r);
  if (!s)
    return;
  if (s->len > 0) {
    uint8_t *nb = realloc(it->blob, it->blob_len + s->len);
    if (!nb)
      return; /* not forwarded; the lease re-sends it */
    memcpy(nb + it->blob_len, s->str, s->len);
    it->blob = nb;
    it->blob_len += s->len;
  }
  it->committed = 1;
}

static void on_commit(const redisReply *reply, int err, void *arg) {
  group_t *g = arg;
  batch_t *b = g->b;
  sb_stage_t *st = b->st;
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != g->count) {
    sb_counter_add(st->commit_failed, g->count);
    const char *detail = reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "";
    sb_log(SB_LOG_ERROR, "commit_failed", "stage", st->ops->name, "error",
           err ? sb_strerror(err) : "unexpected reply", "redis_error", detail, NULL);
  } else {
    for (size_t i = 0; i < g->count; i++) {
      sb_stage_item_t *it = &b->items[b->order[g->first + i]];
      apply_suffix(it, reply->element[i]);
      sb_counter_add(it->committed ? st->committed : st->duplicates, 1);
    }
  }
  free(g);
  if (--b->replies_pending == 0)
    batch_finish(b);
}

/* One script call for the items of one tenant (order[first..first+count)). */
static int commit_group(batch_t *b, size_t first, size_t count, const char *tenant) {
  sb_stage_t *st = b->st;
  size_t per = 2 + (size_t)st->ops->nextra;
  size_t argc = SB_STAGE_FIXED_ARGS + count * per;
  const char **argv = calloc(argc, sizeof *argv);
  size_t *lens = calloc(argc, sizeof *lens);
  group_t *g = calloc(1, sizeof *g);
  char stats[SB_KEY_MAX], now[24], deadline[24], nextra[8], ttl[24];
  if (!argv || !lens || !g) {
    free(argv);
    free(lens);
    free(g);
    return SB_ENOMEM;
  }
  int64_t us = sb_now_us();
  sb_key_tenant(stats, sizeof stats, tenant, "stats");
  snprintf(now, sizeof now, "%lld", (long long)us);
  snprintf(deadline, sizeof deadline, "%lld",
           (long long)(us / 1000 + sb_config_int(st->svc->config, "lease-ms")));
  snprintf(nextra, sizeof nextra, "%d", st->ops->nextra);
  snprintf(ttl, sizeof ttl, "%lld", sb_config_int(st->svc->config, "event-ttl-s"));
  const char *fixed[] = {stats, now, deadline, st->ops->lease_in, st->lease_out, st->ops->stat, nextra, ttl};
  for (size_t i = 0; i < SB_STAGE_FIXED_ARGS; i++)
    argv[i] = fixed[i];
  size_t k = SB_STAGE_FIXED_ARGS;
  for (size_t i = 0; i < count; i++) {
    sb_stage_item_t *it = &b->items[b->order[first + i]];
    argv[k++] = it->env->key;
    lens[k] = it->blob_len;
    argv[k++] = (const char *)it->blob;
    for (size_t e = 0; e < (size_t)st->ops->nextra; e++)
      argv[k++] = e < (size_t)it->nextra ? it->extra[e] : "";
  }
  for (size_t i = 0; i < argc; i++)
    if (!lens[i])
      lens[i] = strlen(argv[i]);
  g->b = b;
  g->first = first;
  g->count = count;
  int rc = sb_redis_evalsha(st->svc->redis, st->script, 1, (int)argc, argv, lens, on_commit, g);
  free(argv);
  free(lens);
  if (rc) {
    free(g);
    sb_counter_add(st->commit_failed, count);
  }
  return rc;
}

/* Orders items by tenant and issues one commit per tenant. */
static void batch_commit(batch_t *b) {
  size_t m = 0;
  for (size_t i = 0; i < b->n; i++)
    if (b->items[i].blob)
      b->order[m++] = i;
  b->replies_pending = 1; /* held until every group is issued */
  for (size_t first = 0; first < m;) {
    const sb_tenant_t *t = b->items[b->order[first]].tenant;
    size_t end = first + 1;
    for (size_t j = end; j < m; j++) /* gather the same tenant behind first */
      if (b->items[b->order[j]].tenant == t) {
        size_t tmp = b->order[end];
        b->order[end++] = b->order[j];
        b->order[j] = tmp;
      }
    if (commit_group(b, first, end - first, t->id) == 0)
      b->replies_pending++;
    first = end;
  }
  if (--b->replies_pending == 0)
    batch_finish(b);
}

/* Decodes and checks one message into it; dead-letters it on failure. */
static int take_item(sb_stage_t *st, sb_stage_item_t *it, const void *data, size_t len) {
  const char *why = NULL;
  it->env = sb_envelope_unpack(data, len);
  if (!it->env) {
    sb_dlq_push(st->dlq, NULL, "malformed protobuf envelope", NULL, NULL, data, len);
    return SB_EPROTO;
  }
  if (sb_envelope_check(it->env, &why)) {
    sb_dlq_push(st->dlq, NULL, why, NULL, NULL, data, len);
    return SB_EINVAL;
  }
  it->tenant = sb_service_tenant(st->svc, it->env->tenant);
  if (!it->tenant) {
    sb_dlq_push(st->dlq, NULL, "unknown tenant", NULL, it->env->key, data, len);
    return SB_ETENANT;
  }
  if (st->ops->prepare && st->ops->prepare(st->ctx, it, &why)) {
    sb_dlq_push(st->dlq, it->tenant->id, why, st->ops->lease_in, it->env->key, data, len);
    return SB_EINVAL;
  }
  it->blob = sb_envelope_pack(it->env, &it->blob_len);
  return it->blob ? 0 : SB_ENOMEM;
}

static void count_reject(sb_stage_t *st, int rc) {
  char labels[64];
  snprintf(labels, sizeof labels, "stage=\"%s\",reason=\"%s\"", st->ops->name, sb_err_name(rc));
  sb_counter_add(sb_metrics_counter(st->svc->metrics, "sb_stage_rejected_total",
                                    "messages dead-lettered by reason", labels), 1);
}

static void on_retry(uv_timer_t *t) { resume_reading(t->data); }

static batch_t *batch_new(sb_stage_t *st) {
  batch_t *b = calloc(1, sizeof *b);
  if (b) {
    b->items = calloc(st->batch_max, sizeof *b->items);
    b->order = calloc(st->batch_max, sizeof *b->order);
  }
  if (!b || !b->items || !b->order) {
    if (b)
      batch_free(b);
    return NULL;
  }
  b->st = st;
  b->started_us = sb_now_us();
  return b;
}

/* Decodes one message into the batch (b->n < batch_max), or rejects it. */
static void batch_add(batch_t *b, const void *data, size_t len) {
  sb_stage_t *st = b->st;
  sb_stage_item_t *it = &b->items[b->n];
  int rc = take_item(st, it, data, len);
  if (rc) {
    count_reject(st, rc);
    sb_envelope_free(it->env);
    memset(it, 0, sizeof *it);
    return;
  }
  b->n++;
}

/* Commits a filled batch (frees an empty one). */
static void batch_start(batch_t *b) {
  sb_stage_t *st = b->st;
  if (b->n == 0) {
    batch_free(b);
    return;
  }
  sb_counter_add(st->batches, 1);
  /* st->pull is gone once the stage stopped (a reclaim answered late) */
  if ((++st->inflight >= SB_STAGE_INFLIGHT_MAX || sb_handoff_backlogged(st->out)) && st->pull)
    sb_zsock_pause(st->pull); /* batch_finish resumes */
  batch_commit(b);
}

/* ---- reclaim: a sender went away -----------------------------------------
 * A sender that dies takes with it what it had committed but not yet sent,
 * and what sat in its socket buffers; its receivers see the connection
 * drop. The receivers then claim every open lease of their own stage
 * (sweep.lua, as a sender's sweeper would) and process the stored
 * envelopes at once, instead of leaving them until a surviving sender's
 * sweeper finds the leases expired (--lease-ms). Work claimed that was not
 * lost is a duplicate, which the commit recognises. */

static void reclaim_run(sb_stage_t *st);

static void on_reclaimed(const redisReply *reply, int err, void *arg) {
  sb_stage_t *st = arg;
  st->reclaims_pending--;
  if (!st->destroyed && !err && reply && reply->type == REDIS_REPLY_ARRAY) {
    batch_t *b = NULL;
    for (size_t i = 0; i < reply->elements; i++) {
      const redisReply *e = reply->element[i];
      if (e->type != REDIS_REPLY_STRING)
        continue;
      if (!b && !(b = batch_new(st)))
        break; /* out of memory: the leases stay claimed and expire later */
      sb_counter_add(st->reclaimed, 1);
      batch_add(b, e->str, e->len);
      if (b->n == st->batch_max) {
        batch_start(b);
        b = NULL;
      }
    }
    if (b)
      batch_start(b);
  }
  if (st->reclaims_pending == 0 && st->reclaim_wanted && !st->destroyed) {
    st->reclaim_wanted = 0;
    reclaim_run(st);
  }
  maybe_free(st);
}

static void reclaim_run(sb_stage_t *st) {
  if (st->destroyed || st->stopped || !sb_redis_is_connected(st->svc->redis))
    return;
  if (st->reclaims_pending) {
    st->reclaim_wanted = 1;
    return;
  }
  int64_t until = sb_now_ms() + sb_config_int(st->svc->config, "lease-ms");
  /* every open lease (due by until), claimed until then */
  st->reclaims_pending +=
      sb_handoff_claim(st->svc, st->sweep_script, st->ops->lease_in, until, until, on_reclaimed, st);
}

static void on_reclaim_timer(uv_timer_t *t) { reclaim_run(t->data); }

static void on_pull_event(int event, void *arg) {
  sb_stage_t *st = arg;
  if (event != ZMQ_EVENT_DISCONNECTED || st->stopped || st->destroyed)
    return;
  sb_counter_add(st->senders_lost, 1);
  if (!uv_is_active((uv_handle_t *)&st->reclaim_timer)) /* senders lost together: one claim */
    uv_timer_start(&st->reclaim_timer, on_reclaim_timer, 20, 0);
}

static void on_readable(sb_zsock_t *z, void *arg) {
  sb_stage_t *st = arg;
  if (!sb_redis_is_connected(st->svc->redis)) {
    sb_zsock_pause(z); /* senders keep their leases; try again soon */
    uv_timer_start(&st->retry, on_retry, SB_STAGE_RETRY_MS, 0);
    return;
  }
  batch_t *b = batch_new(st);
  if (!b)
    return; /* out of memory: the senders' leases re-send */
  zmq_msg_t parts[1];
  size_t n;
  while (b->n < st->batch_max) {
    int rc = sb_zsock_recv(z, parts, 1, &n);
    if (rc == SB_EAGAIN)
      break;
    if (rc) {
      count_reject(st, rc);
      continue;
    }
    sb_counter_add(st->received, 1);
    batch_add(b, zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0]));
    zmq_msg_close(&parts[0]);
  }
  batch_start(b);
}

static sb_counter_t *counter(sb_stage_t *st, const char *name, const char *help) {
  char labels[64];
  snprintf(labels, sizeof labels, "stage=\"%s\"", st->ops->name);
  return sb_metrics_counter(st->svc->metrics, name, help, labels);
}

sb_stage_t *sb_stage_new(sb_service_t *s, const sb_stage_ops_t *ops, void *ctx,
                         const char *listen, const char *lease_out, sb_handoff_t *out) {
  sb_stage_t *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->svc = s;
  st->ops = ops;
  st->ctx = ctx;
  st->out = out;
  snprintf(st->lease_out, sizeof st->lease_out, "%s", lease_out ? lease_out : "");
  st->batch_max = (size_t)sb_config_int(s->config, "batch-max");
  if (st->batch_max < 1)
    st->batch_max = 1;
  st->pull = sb_zsock_new(s->loop, s->zctx, ZMQ_PULL);
  int rcvhwm = SB_STAGE_RCVHWM;
  if (st->pull) {
    sb_zsock_set_curve(st->pull, s->curve); /* CURVE server when keys are set */
    zmq_setsockopt(sb_zsock_raw(st->pull), ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
  }
  if (st->pull)
    st->monitor = sb_zsock_monitor_new(st->pull, s->loop, s->zctx, ZMQ_EVENT_DISCONNECTED, on_pull_event, st);
  if (!st->pull || !st->monitor || sb_zsock_bind(st->pull, listen)) {
    sb_log(SB_LOG_ERROR, "bind_failed", "endpoint", listen, "error", zmq_strerror(zmq_errno()), NULL);
    sb_zsock_monitor_destroy(st->pull, &st->monitor);
    sb_zsock_destroy(&st->pull);
    free(st);
    return NULL;
  }
  uv_timer_init(s->loop, &st->reclaim_timer);
  st->reclaim_timer.data = st;
  st->dlq = sb_dlq_new(s, ops->name);
  st->script = sb_script_add(s->redis, ops->script_name, ops->script_body);
  st->sweep_script = sb_script_add(s->redis, "sweep", sb_script_sweep);
  st->senders_lost = counter(st, "sb_stage_senders_lost_total",
                             "senders that went away (each starts a claim of this stage's open leases)");
  st->reclaimed = counter(st, "sb_stage_reclaimed_total",
                          "hand-offs claimed from Redis after a sender went away (duplicates included)");
  st->received = counter(st, "sb_stage_received_total", "messages received from the previous stage");
  st->committed = counter(st, "sb_stage_committed_total", "messages whose effect was committed");
  st->duplicates = counter(st, "sb_stage_duplicates_total", "re-sent messages already committed (no effect)");
  st->commit_failed = counter(st, "sb_stage_commit_failed_total",
                              "messages whose commit failed (their senders re-send them)");
  char labels[64];
  snprintf(labels, sizeof labels, "stage=\"%s\"", ops->name);
  st->batches = counter(st, "sb_stage_batches_total", "batches committed (received / batches = batch size)");
  st->commit_us = sb_metrics_histogram(s->metrics, "sb_stage_commit_seconds",
                                       "time from taking a batch to its commit reply", labels);
  uv_timer_init(s->loop, &st->retry);
  st->retry.data = st;
  sb_zsock_on_readable(st->pull, on_readable, st);
  return st;
}

/* Closing (not only pausing) the PULL socket at once is what hands the
 * work over: the senders see the disconnect, send only to the other
 * receivers from now on (ZMQ_IMMEDIATE) and re-send at once what this one
 * still had queued (sb_handoff's early sweep), instead of leaving it to
 * wait here until its lease expires. Batches already taken still commit. */
void sb_stage_stop(sb_stage_t *st) {
  st->stopped = 1;
  sb_zsock_monitor_destroy(st->pull, &st->monitor);
  sb_zsock_destroy(&st->pull);
}

int sb_stage_drained(const sb_stage_t *st) {
  return st->inflight == 0 && (!st->out || sb_handoff_pending(st->out) == 0);
}

static void on_retry_closed(uv_handle_t *h) {
  sb_stage_t *st = h->data;
  st->retry_closed = 1;
  maybe_free(st);
}

static void on_reclaim_closed(uv_handle_t *h) {
  sb_stage_t *st = h->data;
  st->reclaim_closed = 1;
  maybe_free(st);
}

void sb_stage_destroy(sb_stage_t **stp) {
  sb_stage_t *st = *stp;
  if (!st)
    return;
  *stp = NULL;
  st->destroyed = 1;
  sb_zsock_monitor_destroy(st->pull, &st->monitor);
  sb_zsock_destroy(&st->pull);
  uv_close((uv_handle_t *)&st->retry, on_retry_closed);
  uv_close((uv_handle_t *)&st->reclaim_timer, on_reclaim_closed);
}

/* ---- sb_stage_main: one main for every stage service ---------------------- */

static const sb_option_t stage_options[] = {
    {"listen", SB_OPT_STR, "", "where this stage receives (ZeroMQ PULL bind); default tcp://host:<port>+offset"},
    {"next", SB_OPT_STR, "", "next stage endpoints (ZeroMQ PUSH connect, comma-separated; a host name means every address it resolves to, @/path a file of endpoints, both looked up again every --next-refresh-ms); default tcp://host:<port>+offset"},
    {NULL, 0, NULL, NULL}};

typedef struct {
  const sb_stage_main_t *m;
  sb_stage_t *stage;
  sb_handoff_t *out;
} stage_proc_t;

static void proc_stop(sb_service_t *s, void *arg) {
  stage_proc_t *p = arg;
  (void)s;
  sb_stage_stop(p->stage);
  if (p->m->stop)
    p->m->stop(p->m->ctx);
}

static int proc_drained(sb_service_t *s, void *arg) {
  stage_proc_t *p = arg;
  (void)s;
  return sb_stage_drained(p->stage) && (!p->m->drained || p->m->drained(p->m->ctx));
}

static void proc_close(sb_service_t *s, void *arg) {
  stage_proc_t *p = arg;
  (void)s;
  if (p->m->close)
    p->m->close(p->m->ctx);
  sb_stage_destroy(&p->stage);
  sb_handoff_destroy(&p->out);
}

static int proc_start(stage_proc_t *p, sb_service_t *svc) {
  const sb_stage_main_t *m = p->m;
  char listen[256], next[1024];
  sb_service_endpoint(svc, "listen", m->listen_port, listen, sizeof listen);
  if (m->next_lease) {
    sb_service_endpoint(svc, "next", m->next_port, next, sizeof next);
    p->out = sb_handoff_new(svc, m->next_lease, next);
    if (!p->out) {
      fprintf(stderr, "sb-%s: cannot connect to %s\n", m->service, next);
      return SB_EZMQ;
    }
  }
  /* start before binding: ZeroMQ accepts connections as soon as the PULL
   * socket is bound, and senders would queue work to a replica still
   * loading (classify compiles its rules here) */
  if (m->start && m->start(m->ctx, svc, p->out)) {
    fprintf(stderr, "sb-%s: cannot start\n", m->service);
    return SB_EIO;
  }
  p->stage = sb_stage_new(svc, m->ops, m->ctx, listen, m->next_lease, p->out);
  if (!p->stage) {
    fprintf(stderr, "sb-%s: cannot listen on %s\n", m->service, listen);
    return SB_EZMQ;
  }
  return 0;
}

int sb_stage_main(const sb_stage_main_t *m, int argc, char **argv) {
  sb_service_t svc;
  stage_proc_t p = {.m = m};
  const sb_option_t *const tables[] = {stage_options, m->options, NULL};
  int rc = sb_service_init(&svc, m->service, m->admin_port, tables, argc, argv);
  if (rc == SB_CONFIG_RUN && proc_start(&p, &svc) == 0) {
    svc.on_stop = proc_stop;
    svc.drained = proc_drained;
    svc.on_close = proc_close;
    svc.hook_arg = &p;
    rc = sb_service_run(&svc);
  } else if (rc == SB_CONFIG_RUN) {
    rc = 1;
    sb_service_stop(&svc);
    proc_close(&svc, &p);
    sb_service_run(&svc);
  } else {
    rc = rc == SB_CONFIG_EXIT ? 0 : 2;
  }
  sb_service_fini(&svc);
  return rc;
}
