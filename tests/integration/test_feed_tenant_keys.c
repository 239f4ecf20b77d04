/*
 * Tenant-bound keys on notify's feed (edge CURVE, sb_feed.c): a client key
 * bound to a tenant in the allow-list receives that tenant's topics only.
 * - the key bound to "a" subscribed to "" receives every event of "a" and
 *   none of "b" (events of both are published; we wait until all of a's
 *   arrived, then a little more, and count b's);
 * - the same key subscribed to "b." receives nothing, and notify's /metrics
 *   counts the refusal (sb_feed_subscriptions_refused_total) and the
 *   narrowed "" (sb_feed_subscriptions_narrowed_total);
 * - an unbound key (the stack's own client key) receives both tenants;
 * - the bound key's unsubscription from "" is applied to what "" was
 *   narrowed to: afterwards it receives nothing more of "a".
 * Skips (77) when libzmq has no CURVE.
 */
#include "sb_teststack.h"
#include "sb_testutil.h"

#include "sb_curve.h"
#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define TENANTS "{\"tenants\":[{\"id\":\"a\"},{\"id\":\"b\"}]}"
#define EVENTS 10 /* per tenant and round */
#define WAIT_MS 20000
#define LATE_MS 1000 /* how long we keep listening for what must not come */

static sb_teststack_t *st;
static char bound_public[41], bound_secret[41]; /* allowed for tenant "a" only */
static void *zctx;
static void *socks[3]; /* closed by teardown too, so a failed test ends */

static int setup(void **state) {
  (void)state;
  if (zmq_curve_keypair(bound_public, bound_secret) != 0)
    return -1;
  char extra[128];
  snprintf(extra, sizeof extra, "%s a", bound_public);
  st = sb_teststack_start_edge_curve(TENANTS, NULL, extra);
  zctx = zmq_ctx_new();
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < 3; i++)
    if (socks[i])
      zmq_close(socks[i]);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
  return 0;
}

/* A SUB socket on the feed with the given client secret key (NULL: the
 * stack's own, unbound client key), subscribed to prefix. */
static void *subscriber(const char *secret, const char *prefix) {
  sb_curve_t *keys = sb_teststack_edge_client_keys(
      st, secret ? secret : sb_teststack_edge_keys(st)->client_secret);
  assert_non_null(keys);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + sb_teststack_offset(st));
  void *sub = zmq_socket(zctx, ZMQ_SUB);
  int linger = 0;
  zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
  assert_int_equal(sb_curve_client(keys, sub), 0);
  assert_int_equal(zmq_connect(sub, ep), 0);
  sb_curve_destroy(&keys);
  return sub;
}

/* What one subscriber received of this test's events ("<round>-<tenant>-i"
 * ids), per tenant, and anything else per topic's tenant. */
typedef struct {
  void *sock;
  int ours[2];   /* of tenant a, b (by topic), whose id has the round */
  int topics[2]; /* every message on a. / b. topics */
  int other;     /* any other topic */
} feed_t;

static void drain(feed_t *f, const char *round) {
  zmq_msg_t topic, body;
  zmq_msg_init(&topic);
  zmq_msg_init(&body);
  while (zmq_msg_recv(&topic, f->sock, ZMQ_DONTWAIT) >= 0) {
    assert_true(zmq_msg_more(&topic));
    assert_true(zmq_msg_recv(&body, f->sock, 0) >= 0);
    const char *t = zmq_msg_data(&topic);
    size_t tl = zmq_msg_size(&topic);
    int k = tl > 2 && t[1] == '.' ? (t[0] == 'a' ? 0 : t[0] == 'b' ? 1 : -1) : -1;
    if (k < 0) {
      f->other++;
      while (zmq_msg_more(&body)) /* the rest of this message */
        assert_true(zmq_msg_recv(&body, f->sock, 0) >= 0);
      continue;
    }
    f->topics[k]++;
    sb_envelope_t *env = sb_envelope_unpack(zmq_msg_data(&body), zmq_msg_size(&body));
    assert_non_null(env);
    assert_string_equal(env->tenant, k == 0 ? "a" : "b"); /* the topic names its tenant */
    if (strncmp(env->id, round, strlen(round)) == 0)
      f->ours[k]++;
    sb_envelope_free(env);
  }
  zmq_msg_close(&topic);
  zmq_msg_close(&body);
}

static sb_envelope_t *message(const char *tenant, const char *id) {
  sb_envelope_t *env = sb_teststack_message(st, tenant, id, "webchat", id, "where is my order?");
  assert_non_null(env);
  return env;
}

/* Publishes EVENTS events of each tenant, interleaved, ids "<round>-<t>-i". */
static void publish_both(const char *round) {
  for (int i = 0; i < EVENTS; i++)
    for (int k = 0; k < 2; k++) {
      char id[64];
      snprintf(id, sizeof id, "%s-%s-%d", round, k ? "b" : "a", i);
      sbctl_client_queue(sb_teststack_client(st), message(k ? "b" : "a", id));
    }
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
}

/* A counter on notify's /metrics (the line that starts with name{...}). */
static long long notify_metric(const char *series) {
  static char body[1 << 17];
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_NOTIFY, "GET", "/metrics", NULL, NULL, 0,
                                     body, sizeof body),
                   200);
  const char *p = strstr(body, series);
  p = p ? strchr(p, '}') : NULL;
  return p ? atoll(p + 1) : 0;
}

#define REFUSED "sb_feed_subscriptions_refused_total{service=\"notify\",reason=\"other_tenant\""
#define NARROWED "sb_feed_subscriptions_narrowed_total{service=\"notify\""

static void a_tenant_bound_key_receives_its_tenant_only(void **state) {
  (void)state;
  long long refused0 = notify_metric(REFUSED), narrowed0 = notify_metric(NARROWED);
  feed_t bound = {.sock = subscriber(bound_secret, "")};
  feed_t other = {.sock = subscriber(bound_secret, "b.")};
  feed_t any = {.sock = subscriber(NULL, "")};
  socks[0] = bound.sock, socks[1] = other.sock, socks[2] = any.sock;
  usleep(1000000); /* handshakes and subscriptions reach notify */
  publish_both("r1");
  int64_t until = sb_now_ms() + WAIT_MS;
  while ((bound.ours[0] < EVENTS || any.ours[0] < EVENTS || any.ours[1] < EVENTS) &&
         sb_now_ms() < until) {
    zmq_pollitem_t it[] = {{bound.sock, 0, ZMQ_POLLIN, 0}, {any.sock, 0, ZMQ_POLLIN, 0}};
    zmq_poll(it, 2, 100);
    drain(&bound, "r1"), drain(&other, "r1"), drain(&any, "r1");
  }
  usleep(LATE_MS * 1000); /* anything of b's that would come late */
  drain(&bound, "r1"), drain(&other, "r1"), drain(&any, "r1");
  printf("bound to a, \"\": a %d (ours %d), b %d, other %d\n", bound.topics[0], bound.ours[0],
         bound.topics[1], bound.other);
  printf("bound to a, \"b.\": a %d, b %d, other %d\n", other.topics[0], other.topics[1],
         other.other);
  printf("unbound, \"\": a %d (ours %d), b %d (ours %d)\n", any.topics[0], any.ours[0],
         any.topics[1], any.ours[1]);
  assert_true(bound.ours[0] >= EVENTS); /* each event at least once on its topic */
  assert_int_equal(bound.topics[1] + bound.other, 0);
  assert_int_equal(other.topics[0] + other.topics[1] + other.other, 0);
  assert_true(any.ours[0] >= EVENTS);
  assert_true(any.ours[1] >= EVENTS);
  long long refused = notify_metric(REFUSED) - refused0,
            narrowed = notify_metric(NARROWED) - narrowed0;
  printf("refused %lld, narrowed %lld\n", refused, narrowed);
  assert_true(refused >= 1);  /* "b." of the key bound to a */
  assert_true(narrowed >= 1); /* its "" */

  /* Unsubscribing "" removes what it was narrowed to. */
  zmq_setsockopt(bound.sock, ZMQ_UNSUBSCRIBE, "", 0);
  usleep(1000000);
  int before = bound.topics[0];
  any.ours[0] = any.ours[1] = 0; /* count round 2 only */
  publish_both("r2");
  until = sb_now_ms() + WAIT_MS;
  while ((any.ours[0] < EVENTS || any.ours[1] < EVENTS) && sb_now_ms() < until) {
    zmq_pollitem_t it = {any.sock, 0, ZMQ_POLLIN, 0};
    zmq_poll(&it, 1, 100);
    drain(&any, "r2"), drain(&bound, "r2");
  }
  usleep(LATE_MS * 1000);
  drain(&any, "r2"), drain(&bound, "r2");
  printf("after unsubscribing: bound got %d more of a\n", bound.topics[0] - before);
  assert_true(any.ours[0] >= EVENTS && any.ours[1] >= EVENTS);
  assert_int_equal(bound.topics[0] - before, 0);
  assert_int_equal(bound.topics[1], 0);
  for (int i = 0; i < 3; i++)
    zmq_close(socks[i]), socks[i] = NULL;
}

int main(void) {
  if (!sb_curve_available()) {
    fprintf(stderr, "libzmq has no CURVE: skipped\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_tenant_bound_key_receives_its_tenant_only),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
