/* sb_feed: see sb_feed.h. With edge CURVE the PUB socket lives in the
 * edge's own context (sb_zap_edge) and is a CURVE server: a subscriber
 * without an allowed key never completes its handshake and gets nothing. */
#include "sb_feed.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_zap.h"
#include "sb_zsock.h"

#include <stdio.h>
#include <stdlib.h>

#define SB_FEED_HWM 100000

struct sb_feed {
  sb_zsock_t *pub;
  sb_zap_edge_t *edge; /* NULL: plaintext */
  long long history; /* --feed-history */
  sb_metrics_t *metrics;
  sb_counter_t *failed;
};

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
  f->pub = sb_zsock_new(s->loop, f->edge ? sb_zap_edge_context(f->edge) : s->zctx, ZMQ_PUB);
  if (f->pub && f->edge)
    sb_zsock_set_curve(f->pub, sb_zap_edge_curve(f->edge));
  int hwm = SB_FEED_HWM;
  if (!f->pub || zmq_setsockopt(sb_zsock_raw(f->pub), ZMQ_SNDHWM, &hwm, sizeof hwm) ||
      sb_zsock_bind(f->pub, endpoint)) {
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
