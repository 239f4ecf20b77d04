/* sb_feed: see sb_feed.h. With edge CURVE the socket lives in the edge's
 * own context (sb_zap_edge) and is a CURVE server: a subscriber without an
 * allowed key never completes its handshake and gets nothing.
 *
 * Tenant-bound keys: with edge CURVE the socket is an XPUB in manual mode,
 * so libzmq applies no subscription by itself. Each (un)subscription
 * message arrives with its connection's metadata, whose User-Id is the
 * tenant the ZAP handler bound the key to ("" = any); we then apply what
 * scope() allows with ZMQ_(UN)SUBSCRIBE, which libzmq applies to the pipe
 * that sent the message just read. */
#include "sb_feed.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_zap.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_FEED_HWM 100000
#define SB_FEED_SUBS_PER_TURN 256 /* subscription messages read per loop turn */

struct sb_feed {
  sb_zsock_t *pub; /* PUB; XPUB (manual) with edge CURVE */
  sb_zap_edge_t *edge; /* NULL: plaintext */
  long long history; /* --feed-history */
  sb_metrics_t *metrics;
  sb_counter_t *failed;
  sb_counter_t *refused, *narrowed; /* tenant-bound keys' subscriptions */
  uint64_t nrefused;
};

typedef enum { SCOPE_AS_IS, SCOPE_NARROWED, SCOPE_REFUSED } scope_t;

/* What a key bound to tenant ("" = any) may subscribe to for prefix p:
 * p itself when it lies within "<tenant>." (or the key is unbound); the
 * tenant's own "<tenant>." (into out) when p is wider but covers it ("",
 * "<tenant>"); nothing when p names other tenants' topics. Tenant ids have
 * no '.', so "<tenant>." never matches another tenant's topic. */
static scope_t scope(const char *tenant, const uint8_t *p, size_t n, char *out, size_t cap,
                     size_t *outlen) {
  size_t t = strlen(tenant);
  if (t == 0)
    return SCOPE_AS_IS;
  if (n > t && memcmp(p, tenant, t) == 0 && p[t] == '.')
    return SCOPE_AS_IS;
  if (n <= t && t + 2 <= cap && memcmp(p, tenant, n) == 0) {
    *outlen = (size_t)snprintf(out, cap, "%s.", tenant);
    return SCOPE_NARROWED;
  }
  return SCOPE_REFUSED;
}

/* Counts a refusal; logs the 1st, 2nd, 4th, 8th... (a desktop retrying
 * cannot flood the log; the metric has the exact count). The prefix is
 * logged only up to its first byte that is not plain text. */
static void refuse(sb_feed_t *f, const char *tenant, const uint8_t *p, size_t n) {
  sb_counter_add(f->refused, 1);
  f->nrefused++;
  if ((f->nrefused & (f->nrefused - 1)) != 0)
    return;
  char prefix[65], total[24];
  size_t k = 0;
  while (k < n && k < sizeof prefix - 1 && p[k] >= 0x20 && p[k] < 0x7f)
    prefix[k] = (char)p[k], k++;
  prefix[k] = '\0';
  snprintf(total, sizeof total, "%llu", (unsigned long long)f->nrefused);
  sb_log(SB_LOG_WARN, "feed_subscription_refused", "reason", "other_tenant", "key_tenant", tenant,
         "prefix", prefix, "refused_total", total, NULL);
}

/* One (un)subscription message: byte 1 (subscribe) or 0, then the prefix. */
static void on_subscription(sb_feed_t *f, zmq_msg_t *m) {
  const uint8_t *d = zmq_msg_data(m);
  size_t size = zmq_msg_size(m);
  if (size < 1 || d[0] > 1)
    return; /* not a subscription: an XPUB reads nothing else of use */
  const char *tenant = zmq_msg_gets(m, "User-Id");
  if (!tenant) /* no metadata: libzmq's own unsubscription of a closed pipe */
    tenant = "";
  int subscribe = d[0] == 1;
  char own[SB_CURVE_TENANT_MAX + 2];
  size_t olen = size - 1;
  const void *opt = d + 1;
  switch (scope(tenant, d + 1, size - 1, own, sizeof own, &olen)) {
  case SCOPE_REFUSED:
    if (subscribe)
      refuse(f, tenant, d + 1, size - 1);
    return; /* its unsubscription: nothing was subscribed */
  case SCOPE_NARROWED:
    opt = own;
    if (subscribe)
      sb_counter_add(f->narrowed, 1);
    break;
  case SCOPE_AS_IS:
    break;
  }
  /* fails (harmlessly) when the pipe has gone since the message was sent */
  zmq_setsockopt(sb_zsock_raw(f->pub), subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, opt, olen);
}

static void on_readable(sb_zsock_t *z, void *arg) {
  zmq_msg_t parts[SB_ZSOCK_MAX_PARTS];
  size_t n;
  for (int i = 0; i < SB_FEED_SUBS_PER_TURN; i++) {
    int rc = sb_zsock_recv(z, parts, SB_ZSOCK_MAX_PARTS, &n);
    if (rc == SB_EAGAIN)
      return;
    if (rc)
      continue;
    if (n == 1)
      on_subscription(arg, &parts[0]);
    for (size_t k = 0; k < n; k++)
      zmq_msg_close(&parts[k]);
  }
}

/* The edge's XPUB: subscriptions pass through on_subscription. 0 or -1. */
static int manual_subscriptions(sb_feed_t *f) {
  int one = 1;
  if (zmq_setsockopt(sb_zsock_raw(f->pub), ZMQ_XPUB_MANUAL, &one, sizeof one))
    return -1;
  sb_zsock_on_readable(f->pub, on_readable, f);
  return 0;
}

sb_feed_t *sb_feed_new(sb_service_t *s, const char *endpoint) {
  sb_feed_t *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  char err[256];
  if (sb_zap_edge_new(s->loop, s->config, s->metrics, "feed", &f->edge, err, sizeof err) != 0) {
    sb_log(SB_LOG_ERROR, "edge_curve_failed", "error", err, NULL);
    free(f);
    return NULL;
  }
  f->pub = f->edge ? sb_zsock_new(s->loop, sb_zap_edge_context(f->edge), ZMQ_XPUB)
                   : sb_zsock_new(s->loop, s->zctx, ZMQ_PUB);
  if (f->pub && f->edge)
    sb_zsock_set_curve(f->pub, sb_zap_edge_curve(f->edge));
  int hwm = SB_FEED_HWM;
  if (!f->pub || zmq_setsockopt(sb_zsock_raw(f->pub), ZMQ_SNDHWM, &hwm, sizeof hwm) ||
      (f->edge && manual_subscriptions(f)) || sb_zsock_bind(f->pub, endpoint)) {
    sb_log(SB_LOG_ERROR, "feed_bind_failed", "endpoint", endpoint, NULL);
    sb_zsock_destroy(&f->pub);
    sb_zap_edge_destroy(&f->edge);
    free(f);
    return NULL;
  }
  f->metrics = s->metrics;
  f->history = sb_config_int(s->config, "feed-history");
  if (f->history < 0)
    f->history = 0;
  f->failed = sb_metrics_counter(s->metrics, "sb_feed_publish_failed_total",
                                 "feed messages ZeroMQ would not take", NULL);
  f->refused = sb_metrics_counter(s->metrics, "sb_feed_subscriptions_refused_total",
                                  "feed subscriptions refused: a tenant-bound key asked for "
                                  "other tenants' topics",
                                  "reason=\"other_tenant\"");
  f->narrowed = sb_metrics_counter(s->metrics, "sb_feed_subscriptions_narrowed_total",
                                   "feed subscriptions of tenant-bound keys narrowed to "
                                   "\"<tenant>.\" (asked for \"\" or the bare tenant)",
                                   NULL);
  return f;
}

void sb_feed_destroy(sb_feed_t **fp) {
  sb_feed_t *f = *fp;
  if (!f)
    return;
  *fp = NULL;
  sb_zsock_destroy(&f->pub);
  sb_zap_edge_destroy(&f->edge); /* after its socket is closed */
  free(f);
}

const char *sb_feed_kind(const sb_envelope_t *env) { return sb_envelope_kind(env); }

void sb_feed_prepare(const sb_feed_t *f, sb_stage_item_t *it) {
  sb_stage_item_arg(it, sb_feed_kind(it->env));
  sb_stage_item_argf(it, "%lld", f->history);
}

size_t sb_feed_topic(const sb_envelope_t *env, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s.%s", env->tenant, sb_feed_kind(env));
  return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

int sb_feed_publish(sb_feed_t *f, const sb_envelope_t *env, const uint8_t *blob, size_t len) {
  char topic[SB_FEED_TOPIC_MAX];
  size_t tlen = sb_feed_topic(env, topic, sizeof topic);
  const void *parts[] = {topic, blob};
  size_t lens[] = {tlen, len};
  int rc = sb_zsock_send(f->pub, parts, lens, 2);
  if (rc) {
    sb_counter_add(f->failed, 1);
    return rc;
  }
  char labels[96];
  snprintf(labels, sizeof labels, "kind=\"%s\"", sb_feed_kind(env));
  sb_counter_add(sb_metrics_counter(f->metrics, "sb_feed_published_total",
                                    "messages published on the feed by kind", labels), 1);
  return 0;
}
