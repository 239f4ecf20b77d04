/*
 * sb_handoff: PUSH socket + lease sweeper (see sb_handoff.h).
 *
 * The sweeper runs one sweep.lua call per tenant per period, all issued in
 * one loop turn so they share a round trip. It never overlaps itself: the
 * next period starts only after every reply of the previous one arrived.
 */
#include "sb_handoff.h"
#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_keys.h"
#include "sb_log.h"
#include "sb_script.h"
#include "sb_time.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_HANDOFF_HWM 100000     /* messages queued per peer in ZeroMQ */
#define SB_SWEEP_CLAIM_MAX "1000" /* leases claimed per tenant per sweep */

struct sb_handoff {
  sb_service_t *svc;
  char lease[32];
  sb_zsock_t *push;
  int sweep_script;
  uv_timer_t timer;
  size_t sweeps_pending;
  int closing;      /* destroy was called */
  int timer_closed; /* freed when closed and no sweep reply is pending */
  sb_counter_t *sent, *resent, *send_failed, *sweep_failed;
};

static void resend(sb_handoff_t *h, const char *blob, size_t len) {
  sb_envelope_t *env = sb_envelope_unpack(blob, len);
  if (!env)
    return; /* stored by us, so it decodes; be safe anyway */
  env->attempt++;
  size_t n;
  uint8_t *out = sb_envelope_pack(env, &n);
  sb_envelope_free(env);
  if (out && sb_handoff_send(h, out, n) == 0)
    sb_counter_add(h->resent, 1);
  free(out);
}

static void maybe_free(sb_handoff_t *h) {
  if (h->closing && h->timer_closed && h->sweeps_pending == 0)
    free(h);
}

static void on_sweep(const redisReply *reply, int err, void *arg) {
  sb_handoff_t *h = arg;
  h->sweeps_pending--;
  if (h->closing) {
    maybe_free(h);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY) {
    sb_counter_add(h->sweep_failed, 1);
    return;
  }
  for (size_t i = 0; i < reply->elements; i++)
    if (reply->element[i]->type == REDIS_REPLY_STRING)
      resend(h, reply->element[i]->str, reply->element[i]->len);
}

static void sweep(uv_timer_t *t) {
  sb_handoff_t *h = t->data;
  if (h->sweeps_pending || !sb_redis_is_connected(h->svc->redis))
    return;
  char now[24], deadline[24];
  int64_t ms = sb_now_ms();
  snprintf(now, sizeof now, "%lld", (long long)ms);
  snprintf(deadline, sizeof deadline, "%lld", (long long)(ms + sb_config_int(h->svc->config, "lease-ms")));
  for (size_t i = 0; i < sb_tenants_count(h->svc->tenants); i++) {
    char stats[SB_KEY_MAX];
    sb_key_tenant(stats, sizeof stats, sb_tenants_at(h->svc->tenants, i)->id, "stats");
    const char *argv[] = {stats, now, deadline, h->lease, SB_SWEEP_CLAIM_MAX};
    size_t lens[5];
    for (int k = 0; k < 5; k++)
      lens[k] = strlen(argv[k]);
    if (sb_redis_evalsha(h->svc->redis, h->sweep_script, 1, 5, argv, lens, on_sweep, h) == 0)
      h->sweeps_pending++;
  }
}

static sb_counter_t *counter(sb_handoff_t *h, const char *name, const char *help) {
  char labels[64];
  snprintf(labels, sizeof labels, "to=\"%s\"", h->lease);
  return sb_metrics_counter(h->svc->metrics, name, help, labels);
}

sb_handoff_t *sb_handoff_new(sb_service_t *s, const char *lease, const char *endpoints) {
  sb_handoff_t *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->svc = s;
  snprintf(h->lease, sizeof h->lease, "%s", lease);
  h->push = sb_zsock_new(s->loop, s->zctx, ZMQ_PUSH);
  if (h->push)
    sb_zsock_set_curve(h->push, s->curve); /* CURVE client when keys are set */
  int hwm = SB_HANDOFF_HWM;
  if (!h->push || zmq_setsockopt(sb_zsock_raw(h->push), ZMQ_SNDHWM, &hwm, sizeof hwm) ||
      sb_zsock_connect(h->push, endpoints)) {
    sb_log(SB_LOG_ERROR, "handoff_connect_failed", "endpoints", endpoints, NULL);
    sb_zsock_destroy(&h->push);
    free(h);
    return NULL;
  }
  h->sweep_script = sb_script_add(s->redis, "sweep", sb_script_sweep);
  h->sent = counter(h, "sb_handoff_sent_total", "envelopes handed to the next stage");
  h->resent = counter(h, "sb_handoff_resent_total", "envelopes re-sent after their lease expired");
  h->send_failed = counter(h, "sb_handoff_send_deferred_total",
                           "sends that found the socket full (the sweeper re-sends them)");
  h->sweep_failed = counter(h, "sb_handoff_sweep_failed_total", "sweeps that Redis did not answer");
  uv_timer_init(s->loop, &h->timer);
  h->timer.data = h;
  uint64_t period = (uint64_t)sb_config_int(s->config, "sweep-ms");
  uv_timer_start(&h->timer, sweep, period, period);
  return h;
}

static void on_timer_closed(uv_handle_t *t) {
  sb_handoff_t *h = t->data;
  h->timer_closed = 1;
  maybe_free(h);
}

void sb_handoff_destroy(sb_handoff_t **hp) {
  sb_handoff_t *h = *hp;
  if (!h)
    return;
  *hp = NULL;
  h->closing = 1;
  sb_zsock_destroy(&h->push);
  /* sweeps still in flight are answered (SB_ECLOSED at the latest when the
   * Redis client goes); the last answer or the timer's close frees h */
  uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}

int sb_handoff_send(sb_handoff_t *h, const void *blob, size_t len) {
  const void *parts[] = {blob};
  int rc = sb_zsock_send(h->push, parts, &len, 1);
  sb_counter_add(rc ? h->send_failed : h->sent, 1);
  return rc;
}

size_t sb_handoff_pending(const sb_handoff_t *h) { return sb_zsock_pending(h->push); }
