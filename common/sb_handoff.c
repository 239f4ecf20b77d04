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
#include "sb_peers.h"
#include "sb_script.h"
#include "sb_time.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages queued per receiver in ZeroMQ. Small on purpose: what exceeds it
 * waits in sb_zsock's out-queue, where the sender can see it (backlog,
 * sweeps skipped); a deep pipe would hide a backlog older than the leases. */
#define SB_HANDOFF_HWM 1000
#define SB_SWEEP_CLAIM_MAX "1000" /* leases claimed per tenant per sweep */
#define SB_HANDOFF_LINGER_MS 2000 /* at close: time to flush what ZeroMQ holds */
#define SB_PEER_SWEEP_DELAY_MS 20 /* coalesces receivers lost together into one sweep */

struct sb_handoff {
  sb_service_t *svc;
  char lease[32];
  sb_zsock_t *push;
  sb_zsock_t *monitor; /* PAIR end of the PUSH socket's event monitor */
  sb_peers_t *peers;   /* the receivers, kept in step with DNS / files */
  int sweep_script;
  uv_timer_t timer;
  uv_timer_t peer_timer; /* the early sweep after a receiver went away */
  size_t sweeps_pending;
  int peer_sweep_wanted; /* a peer event arrived while a sweep was pending */
  int closing;           /* destroy was called */
  int handles_open;      /* freed when both timers closed and no sweep reply is pending */
  sb_counter_t *sent, *resent, *send_failed, *sweep_failed, *peer_events, *sweep_skipped;
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
  if (h->closing && h->handles_open == 0 && h->sweeps_pending == 0)
    free(h);
}

static void sweep_leases(sb_handoff_t *h, int every_open_lease);

static void on_sweep(const redisReply *reply, int err, void *arg) {
  sb_handoff_t *h = arg;
  h->sweeps_pending--;
  if (h->closing) {
    maybe_free(h);
    return;
  }
  if (err || !reply || reply->type != REDIS_REPLY_ARRAY)
    sb_counter_add(h->sweep_failed, 1);
  else
    for (size_t i = 0; i < reply->elements; i++)
      if (reply->element[i]->type == REDIS_REPLY_STRING)
        resend(h, reply->element[i]->str, reply->element[i]->len);
  if (h->sweeps_pending == 0 && h->peer_sweep_wanted) {
    h->peer_sweep_wanted = 0;
    sweep_leases(h, 1);
  }
}

/* Expired leases are re-sent only while nothing waits for room toward the
 * receivers. Messages waiting mean they are alive but behind (or none is
 * connected yet): their leases expire because of the queue, not because a
 * hand-off was lost, and re-sending them would only lengthen the queue with
 * duplicates (the congestion collapse of retries). A receiver that goes
 * away is handled at once by the early sweep (on_peer_timer). */
static void sweep(uv_timer_t *t) {
  sb_handoff_t *h = t->data;
  if (sb_zsock_pending(h->push) > 0) {
    sb_counter_add(h->sweep_skipped, 1);
    return;
  }
  sweep_leases(h, 0);
}

/* A receiver went away (ZeroMQ monitor of the PUSH socket): it took with it
 * what sat in its queue and on the wire. Instead of letting those wait for
 * their lease to expire (--lease-ms), every open lease of the next stage is
 * re-sent now, to the receivers still connected (ZMQ_IMMEDIATE; with none,
 * sb_zsock holds them until one connects). Re-sending one that was not lost
 * costs a duplicate the receiver's commit recognises, never a second
 * effect. */
static void on_peer_timer(uv_timer_t *t) {
  sb_handoff_t *h = t->data;
  if (h->sweeps_pending)
    h->peer_sweep_wanted = 1;
  else
    sweep_leases(h, 1);
}

static void receiver_lost(sb_handoff_t *h) {
  sb_counter_add(h->peer_events, 1);
  if (!h->closing && !uv_is_active((uv_handle_t *)&h->peer_timer))
    uv_timer_start(&h->peer_timer, on_peer_timer, SB_PEER_SWEEP_DELAY_MS, 0);
}

/* sb_peers disconnected a receiver that left DNS or the endpoint file. */
static void on_peers_removed(void *arg) { receiver_lost(arg); }

static void on_push_event(int event, void *arg) {
  if (event == ZMQ_EVENT_DISCONNECTED)
    receiver_lost(arg);
}

/* Claims and re-sends the next stage's leases: the expired ones, or with
 * every_open_lease all of them (after a peer event, see on_peer_timer). */
static void sweep_leases(sb_handoff_t *h, int every_open_lease) {
  if (h->closing || h->sweeps_pending || !sb_redis_is_connected(h->svc->redis))
    return;
  int64_t ms = sb_now_ms(), lease_ms = sb_config_int(h->svc->config, "lease-ms");
  h->sweeps_pending += sb_handoff_claim(h->svc, h->sweep_script, h->lease, every_open_lease ? ms + lease_ms : ms,
                                        ms + lease_ms, on_sweep, h);
}

size_t sb_handoff_claim(sb_service_t *s, int script, const char *lease, int64_t due_ms, int64_t until_ms,
                        sb_redis_reply_fn fn, void *arg) {
  char due[24], until[24];
  snprintf(due, sizeof due, "%lld", (long long)due_ms);
  snprintf(until, sizeof until, "%lld", (long long)until_ms);
  size_t issued = 0;
  for (size_t i = 0; i < sb_tenants_count(s->tenants); i++) {
    char stats[SB_KEY_MAX];
    sb_key_tenant(stats, sizeof stats, sb_tenants_at(s->tenants, i)->id, "stats");
    const char *argv[] = {stats, due, until, lease, SB_SWEEP_CLAIM_MAX};
    size_t lens[5];
    for (int k = 0; k < 5; k++)
      lens[k] = strlen(argv[k]);
    if (sb_redis_evalsha(s->redis, script, 1, 5, argv, lens, fn, arg) == 0)
      issued++;
  }
  return issued;
}

static sb_counter_t *counter(sb_handoff_t *h, const char *name, const char *help) {
  char labels[64];
  snprintf(labels, sizeof labels, "to=\"%s\"", h->lease);
  return sb_metrics_counter(h->svc->metrics, name, help, labels);
}

/* The PUSH socket, its monitor (receivers that go away) and its options. */
static int open_socket(sb_handoff_t *h) {
  sb_service_t *s = h->svc;
  int hwm = SB_HANDOFF_HWM, immediate = 1;
  h->push = sb_zsock_new(s->loop, s->zctx, ZMQ_PUSH);
  if (!h->push)
    return SB_EZMQ;
  sb_zsock_set_curve(h->push, s->curve); /* CURVE client when keys are set */
  /* IMMEDIATE: queue only to receivers that are connected, so nothing waits
   * in the pipe of one that left (sb_zsock holds it until one is there) */
  void *raw = sb_zsock_raw(h->push);
  if (zmq_setsockopt(raw, ZMQ_SNDHWM, &hwm, sizeof hwm) ||
      zmq_setsockopt(raw, ZMQ_IMMEDIATE, &immediate, sizeof immediate))
    return SB_EZMQ;
  h->monitor = sb_zsock_monitor_new(h->push, s->loop, s->zctx, ZMQ_EVENT_DISCONNECTED, on_push_event, h);
  return h->monitor ? 0 : SB_EZMQ;
}

sb_handoff_t *sb_handoff_new(sb_service_t *s, const char *lease, const char *endpoints) {
  sb_handoff_t *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->svc = s;
  snprintf(h->lease, sizeof h->lease, "%s", lease);
  h->sweep_script = sb_script_add(s->redis, "sweep", sb_script_sweep);
  h->sent = counter(h, "sb_handoff_sent_total", "envelopes handed to the next stage");
  h->resent = counter(h, "sb_handoff_resent_total", "envelopes re-sent after their lease expired");
  h->send_failed = counter(h, "sb_handoff_send_deferred_total",
                           "sends that found the socket full (the sweeper re-sends them)");
  h->sweep_failed = counter(h, "sb_handoff_sweep_failed_total", "sweeps that Redis did not answer");
  h->sweep_skipped = counter(h, "sb_handoff_sweeps_skipped_total",
                             "expiry sweeps skipped because hand-offs were waiting for the receivers (backlog)");
  h->peer_events = counter(h, "sb_handoff_receivers_lost_total",
                           "receivers that went away (each starts an early sweep of every open lease)");
  uv_timer_init(s->loop, &h->timer);
  uv_timer_init(s->loop, &h->peer_timer);
  h->timer.data = h->peer_timer.data = h;
  h->handles_open = 2;
  const char *why = "cannot create the socket";
  char labels[64];
  snprintf(labels, sizeof labels, "to=\"%s\"", h->lease);
  sb_peers_opts_t po = {.refresh_ms = sb_config_int(s->config, "next-refresh-ms"),
                        .metrics = s->metrics,
                        .labels = labels,
                        .removed = on_peers_removed,
                        .arg = h};
  if (open_socket(h) != 0 || !(h->peers = sb_peers_new(s->loop, h->push, endpoints, &po, &why))) {
    sb_log(SB_LOG_ERROR, "handoff_connect_failed", "endpoints", endpoints, "error", why, NULL);
    sb_handoff_destroy(&h);
    return NULL;
  }
  uint64_t period = (uint64_t)sb_config_int(s->config, "sweep-ms");
  uv_timer_start(&h->timer, sweep, period, period);
  return h;
}

static void on_timer_closed(uv_handle_t *t) {
  sb_handoff_t *h = t->data;
  h->handles_open--;
  maybe_free(h);
}

void sb_handoff_destroy(sb_handoff_t **hp) {
  sb_handoff_t *h = *hp;
  if (!h)
    return;
  *hp = NULL;
  h->closing = 1;
  sb_peers_destroy(&h->peers);
  if (h->push) {
    /* what ZeroMQ already took gets SB_HANDOFF_LINGER_MS to reach a
     * receiver (zmq_ctx_term waits); the default linger 0 would drop it */
    int linger = SB_HANDOFF_LINGER_MS;
    zmq_setsockopt(sb_zsock_raw(h->push), ZMQ_LINGER, &linger, sizeof linger);
  }
  sb_zsock_monitor_destroy(h->push, &h->monitor);
  sb_zsock_destroy(&h->push);
  /* sweeps still in flight are answered (SB_ECLOSED at the latest when the
   * Redis client goes); the last answer or the timers' close frees h */
  uv_close((uv_handle_t *)&h->timer, on_timer_closed);
  uv_close((uv_handle_t *)&h->peer_timer, on_timer_closed);
}

int sb_handoff_send(sb_handoff_t *h, const void *blob, size_t len) {
  const void *parts[] = {blob};
  int rc = sb_zsock_send(h->push, parts, &len, 1);
  sb_counter_add(rc ? h->send_failed : h->sent, 1);
  return rc;
}

size_t sb_handoff_pending(const sb_handoff_t *h) { return sb_zsock_pending(h->push); }

int sb_handoff_backlogged(const sb_handoff_t *h) {
  return h && sb_zsock_pending(h->push) >= SB_HANDOFF_BACKLOG_MAX;
}
