/*
 * sb_feedback: the counts hash read back into the suggestion engines (see
 * sb_feedback.h). Each tenant has a slot {f, index, busy}; the slot is the
 * Redis callback's argument, so a reply finds its tenant without a pointer
 * into the (replaceable) ruleset.
 */
#include "sb_feedback.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SB_FEEDBACK_FIRST_MS 1000 /* first read after start */

/* ------------------------------------------------------------ the pure part */

/* A decimal count with nothing else, else -1. */
static int parse_count(const char *v, uint64_t *out) {
  if (!v || *v < '0' || *v > '9')
    return -1;
  char *end = NULL;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if (errno || *end)
    return -1;
  *out = n;
  return 0;
}

static int apply_field(sb_suggest_t *s, const char *field, const char *value) {
  uint64_t n, a = 0, r = 0;
  if (!field || (strncmp(field, "a:", 2) && strncmp(field, "r:", 2)) ||
      parse_count(value, &n))
    return -1;
  const char *id = field + 2;
  if (sb_suggest_counts(s, id, &a, &r))
    return -1;
  return field[0] == 'a' ? sb_suggest_set_counts(s, id, n, r)
                         : sb_suggest_set_counts(s, id, a, n);
}

int sb_feedback_apply(sb_suggest_t *s, const char *const *kv, size_t n,
                      size_t *skipped, uint64_t *accepts, uint64_t *rejects) {
  if (!s || (n && !kv) || n % 2)
    return SB_EINVAL;
  size_t bad = 0;
  uint64_t ta = 0, tr = 0;
  sb_suggest_reset_counts(s);
  for (size_t i = 0; i < n; i += 2) {
    if (apply_field(s, kv[i], kv[i + 1])) {
      bad++;
      continue;
    }
    uint64_t v = 0;
    parse_count(kv[i + 1], &v);
    kv[i][0] == 'a' ? (ta += v) : (tr += v);
  }
  if (skipped)
    *skipped = bad;
  if (accepts)
    *accepts = ta;
  if (rejects)
    *rejects = tr;
  return 0;
}

/* ------------------------------------------------------------ the refresher */

typedef struct {
  sb_feedback_t *f;
  size_t index;              /* tenant */
  int busy;                  /* an HGETALL is in flight */
  uint64_t accepts, rejects; /* as last read */
} slot_t;

struct sb_feedback {
  sb_service_t *s;
  sb_feedback_lookup_fn lookup;
  void *arg;
  uv_timer_t timer;
  int closing, timer_open;
  int read_once; /* a refresh was issued since start */
  size_t inflight;
  slot_t *slots;
  size_t n;
  sb_gauge_t *accepted, *rejected;
};

static void maybe_free(sb_feedback_t *f) {
  if (f->closing && !f->timer_open && f->inflight == 0) {
    free(f->slots);
    free(f);
  }
}

static void update_gauges(sb_feedback_t *f) {
  uint64_t a = 0, r = 0;
  for (size_t i = 0; i < f->n; i++)
    a += f->slots[i].accepts, r += f->slots[i].rejects;
  sb_gauge_set(f->accepted, (double)a);
  sb_gauge_set(f->rejected, (double)r);
}

/* An HGETALL reply as strings, then applied; malformed replies change nothing.
 */
static void apply_reply(sb_feedback_t *f, slot_t *sl, const redisReply *reply) {
  const sb_tenant_t *t = sb_tenants_at(f->s->tenants, sl->index);
  sb_suggest_t *sug = f->lookup(f->arg, t);
  if (!sug || reply->type != REDIS_REPLY_ARRAY)
    return;
  const char **kv = calloc(reply->elements + 1, sizeof *kv);
  if (!kv)
    return;
  for (size_t i = 0; i < reply->elements; i++)
    kv[i] = reply->element[i]->type == REDIS_REPLY_STRING
                ? reply->element[i]->str
                : NULL;
  size_t skipped = 0;
  if (sb_feedback_apply(sug, kv, reply->elements, &skipped, &sl->accepts,
                        &sl->rejects) == 0) {
    update_gauges(f);
    if (skipped)
      sb_log(SB_LOG_DEBUG, "suggestion_feedback_skipped", "tenant", t->id,
             "why", "fields of unknown answers or malformed counts", NULL);
  }
  free(kv);
}

static void on_reply(const redisReply *reply, int err, void *arg) {
  slot_t *sl = arg;
  sb_feedback_t *f = sl->f;
  sl->busy = 0;
  f->inflight--;
  if (!err && !f->closing)
    apply_reply(f, sl, reply);
  maybe_free(f);
}

void sb_feedback_refresh(sb_feedback_t *f) {
  if (!f || f->closing || !sb_redis_is_connected(f->s->redis))
    return;
  f->read_once = 1;
  for (size_t i = 0; i < f->n; i++) {
    slot_t *sl = &f->slots[i];
    const sb_tenant_t *t = sb_tenants_at(f->s->tenants, i);
    if (sl->busy || sb_suggest_answer_count(f->lookup(f->arg, t)) == 0)
      continue;
    char key[SB_KEY_MAX];
    sb_key_tenant(key, sizeof key, t->id, SB_FEEDBACK_KEY);
    const char *argv[] = {"HGETALL", key};
    if (sb_redis_command_argv(f->s->redis, 2, argv, NULL, on_reply, sl) == 0)
      sl->busy = 1, f->inflight++;
  }
}

/* The first read comes SB_FEEDBACK_FIRST_MS after start (Redis is usually
 * connected by then), and again every FIRST_MS until one was issued. */
static void on_tick(uv_timer_t *h) {
  sb_feedback_t *f = h->data;
  sb_feedback_refresh(f);
  if (!f->read_once && uv_timer_get_repeat(h) == 0)
    uv_timer_start(h, on_tick, SB_FEEDBACK_FIRST_MS, 0);
}

sb_feedback_t *sb_feedback_new(sb_service_t *s, int64_t interval_ms,
                               sb_feedback_lookup_fn lookup, void *arg) {
  sb_feedback_t *f = calloc(1, sizeof *f);
  size_t n = sb_tenants_count(s->tenants);
  if (!f || !(f->slots = calloc(n + 1, sizeof *f->slots))) {
    free(f);
    return NULL;
  }
  *f = (sb_feedback_t){
      .s = s, .lookup = lookup, .arg = arg, .slots = f->slots, .n = n};
  for (size_t i = 0; i < n; i++)
    f->slots[i] = (slot_t){.f = f, .index = i};
  const char *help = "suggestion feedback counted for this replica's tenants, "
                     "as last read from Redis";
  f->accepted = sb_metrics_gauge(s->metrics, "sb_classify_suggestion_feedback",
                                 help, "result=\"accepted\"");
  f->rejected = sb_metrics_gauge(s->metrics, "sb_classify_suggestion_feedback",
                                 help, "result=\"rejected\"");
  if (!f->accepted || !f->rejected || uv_timer_init(s->loop, &f->timer)) {
    free(f->slots);
    free(f);
    return NULL;
  }
  f->timer.data = f;
  f->timer_open = 1;
  uv_unref((uv_handle_t *)&f->timer); /* never keeps the loop from ending */
  uint64_t every = interval_ms > 0 ? (uint64_t)interval_ms : 0;
  uv_timer_start(&f->timer, on_tick,
                 every && every < SB_FEEDBACK_FIRST_MS ? every
                                                       : SB_FEEDBACK_FIRST_MS,
                 every);
  return f;
}

static void on_timer_closed(uv_handle_t *h) {
  sb_feedback_t *f = h->data;
  f->timer_open = 0;
  maybe_free(f);
}

void sb_feedback_destroy(sb_feedback_t **fp) {
  if (!fp || !*fp)
    return;
  sb_feedback_t *f = *fp;
  *fp = NULL;
  f->closing = 1;
  uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
