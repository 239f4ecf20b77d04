/* sb_replicas: see sb_replicas.h. */
#include "sb_replicas.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

extern const char sb_script_replicas[];

struct sb_replicas {
  sb_service_t *svc;
  sb_ratelimit_t *limiter;
  int script;
  uv_timer_t timer;
  char id[128];
  size_t count;
  int pending;   /* a heartbeat awaits its reply */
  int left;      /* sb_replicas_leave was called: no more renewals */
  int dead;      /* destroyed: free once the timer closed and nothing is pending */
  int closed;    /* the timer handle is closed */
  int failing;   /* the last renewal failed (logged once per run of failures) */
  sb_gauge_t *replicas;
  sb_counter_t *errors;
};

static void maybe_free(sb_replicas_t *r) {
  if (r->dead && r->closed && !r->pending)
    free(r);
}

static void on_reply(const redisReply *reply, int err, void *arg) {
  sb_replicas_t *r = arg;
  r->pending = 0;
  if (r->dead) {
    maybe_free(r);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
    sb_counter_add(r->errors, 1);
    if (!r->failing)
      sb_log(SB_LOG_WARN, "replica_heartbeat_failed", "error",
             err ? sb_strerror(err) : reply && reply->str ? reply->str : "unexpected reply", NULL);
    r->failing = 1;
    return;
  }
  r->failing = 0;
  if (r->left)
    return; /* the leave's count no longer includes this replica */
  /* our own heartbeat was just written, so at least 1 */
  r->count = reply->integer < 1 ? 1 : (size_t)reply->integer;
  sb_gauge_set(r->replicas, (double)r->count);
  if (r->limiter && sb_ratelimit_replicas(r->limiter) != r->count) {
    char n[24];
    snprintf(n, sizeof n, "%zu", r->count);
    sb_log(SB_LOG_INFO, "rate_share", "replicas", n, NULL);
    sb_ratelimit_set_replicas(r->limiter, r->count);
  }
}

static void send_beat(sb_replicas_t *r, int ttl_ms) {
  if (r->pending || !sb_redis_is_connected(r->svc->redis))
    return;
  char ttl[16];
  snprintf(ttl, sizeof ttl, "%d", ttl_ms);
  const char *argv[] = {SB_REPLICAS_KEY, r->id, ttl};
  if (sb_redis_evalsha(r->svc->redis, r->script, 1, 3, argv, NULL, on_reply, r) == 0)
    r->pending = 1;
}

static void on_timer(uv_timer_t *t) { send_beat(t->data, SB_REPLICAS_TTL_MS); } /* stopped by leave */

sb_replicas_t *sb_replicas_new(sb_service_t *s, sb_ratelimit_t *limiter) {
  sb_replicas_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->svc = s;
  r->limiter = limiter;
  r->count = 1;
  r->script = sb_script_add(s->redis, "replicas", sb_script_replicas);
  if (r->script < 0) {
    free(r);
    return NULL;
  }
  char host[64] = "";
  gethostname(host, sizeof host - 1);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* a restarted replica is a new member; the old one expires */
  snprintf(r->id, sizeof r->id, "%s:%ld:%lld", host, (long)getpid(), (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  r->replicas = sb_metrics_gauge(s->metrics, "sb_ingest_replicas",
                                 "live ingest replicas sharing the tenants' rate limits", NULL);
  r->errors = sb_metrics_counter(s->metrics, "sb_ingest_replica_heartbeat_errors_total",
                                 "replica heartbeats that Redis did not confirm", NULL);
  sb_gauge_set(r->replicas, 1);
  uv_timer_init(s->loop, &r->timer);
  r->timer.data = r;
  uv_timer_start(&r->timer, on_timer, 0, SB_REPLICAS_PERIOD_MS);
  uv_unref((uv_handle_t *)&r->timer); /* never what keeps the loop alive */
  return r;
}

void sb_replicas_leave(sb_replicas_t *r) {
  if (!r || r->left)
    return;
  r->left = 1;
  uv_timer_stop(&r->timer);
  if (r->pending)
    return; /* a renewal is in flight: the heartbeat expires within the TTL */
  send_beat(r, 0);
}

static void on_closed(uv_handle_t *h) {
  sb_replicas_t *r = h->data;
  r->closed = 1;
  maybe_free(r);
}

void sb_replicas_destroy(sb_replicas_t **rp) {
  sb_replicas_t *r = *rp;
  if (!r)
    return;
  *rp = NULL;
  r->dead = 1;
  uv_close((uv_handle_t *)&r->timer, on_closed);
}
