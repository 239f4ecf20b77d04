/*
 * CURVE at the edge: ingest's publish door and notify's feed as CURVE
 * servers (--edge-curve-*), started by sb_teststack_start_edge_curve.
 * - a publisher with an allowed key pair is acknowledged and its events are
 *   written (ingested, ev:* keys);
 * - a publisher without keys, one with an unlisted key pair and one with
 *   the wrong server key get no answer at all, and nothing of theirs is
 *   written; ingest's /metrics counts them (socket="publish");
 * - a key bound to tenant "a" in the allow-list publishes for "a" and is
 *   refused (ACK_INVALID, nothing written) for "b";
 * - on the feed, an allowed subscriber receives the tenant's messages while
 *   a subscriber without keys and one with an unlisted key receive nothing;
 * - `sbctl tail` given the client key file and the edge public key
 *   (SB_CURVE_SECRET_KEY_FILE, SB_CURVE_SERVER_KEY) prints feed messages;
 *   without them it prints nothing.
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
#define REFUSED_WAIT_MS 3000 /* a refused publisher waits this long for an answer */
#define FEED_MESSAGES 20
#define FEED_WAIT_MS 15000

static sb_teststack_t *st;
static char bound_public[41], bound_secret[41]; /* allowed for tenant "a" only */
static void *zctx;

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
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
  return 0;
}

static void endpoint(int base, char *out, size_t cap) {
  snprintf(out, cap, "tcp://127.0.0.1:%d", base + sb_teststack_offset(st));
}

static long long ingested(const char *tenant) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), tenant, &s), 0);
  return s.ingested;
}

/* Event records in Redis (sb:{t:T}:ev:<key>) of the n events "<prefix>-<i>"
 * (sb_teststack_message's source is "/tests"). Counted by name, not by
 * pattern: sla-timer writes service-level events of its own. */
static long long events_stored(const char *tenant, const char *prefix, int n) {
  long long found = 0;
  for (int i = 0; i < n; i++) {
    char id[64], key[SB_EVENT_KEY_LEN + 1];
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    sb_event_key("/tests", id, key);
    redisReply *r = redisCommand(sb_teststack_redis(st), "EXISTS sb:{t:%s}:ev:%s", tenant, key);
    assert_non_null(r);
    found += r->integer;
    freeReplyObject(r);
  }
  return found;
}

static sb_envelope_t *message(const char *tenant, const char *id) {
  sb_envelope_t *env = sb_teststack_message(st, tenant, id, "webchat", id, "where is my order?");
  assert_non_null(env);
  return env;
}

/* Publishes n events of tenant through a client with keys (NULL: none) and
 * pumps for at most wait_ms; fills *out with its figures. */
static size_t publish(const sb_curve_t *keys, const char *tenant, const char *prefix, int n, int wait_ms,
                      sbctl_client_stats_t *out) {
  char ep[64], id[64];
  endpoint(SB_PORT_INGEST_ZMQ, ep, sizeof ep);
  sbctl_client_t *c = sbctl_client_new_curve(zctx, ep, keys);
  assert_non_null(c);
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    sbctl_client_queue(c, message(tenant, id));
  }
  int64_t until = sb_now_ms() + wait_ms;
  while (sbctl_client_outstanding(c) && sb_now_ms() < until) {
    sbctl_client_pump(c);
    zmq_pollitem_t it = {sbctl_client_socket(c), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 50) > 0)
      sbctl_client_on_readable(c);
  }
  sbctl_client_stats(c, out);
  size_t left = sbctl_client_outstanding(c);
  sbctl_client_destroy(&c);
  return left;
}

/* sb_zmq_auth_rejected_total{service="ingest",socket="publish",reason=...} */
static long long rejected(int admin, const char *socket, const char *reason) {
  static char body[1 << 17];
  assert_int_equal(sb_teststack_http(st, admin, "GET", "/metrics", NULL, NULL, 0, body, sizeof body), 200);
  char want[160];
  snprintf(want, sizeof want, "sb_zmq_auth_rejected_total{service=\"%s\",socket=\"%s\",reason=\"%s\"}",
           admin == SB_PORT_ADMIN_INGEST ? "ingest" : "notify", socket, reason);
  const char *p = strstr(body, want);
  p = p ? strchr(p, '}') : NULL;
  return p ? atoll(p + 1) : 0;
}

static void an_allowed_client_is_acknowledged(void **state) {
  (void)state;
  sbctl_client_stats_t s;
  sbctl_client_queue(sb_teststack_client(st), message("a", "ok-0"));
  sbctl_client_queue(sb_teststack_client(st), message("b", "ok-1"));
  assert_int_equal(sb_teststack_publish_all(st, 20000), 0);
  sbctl_client_stats(sb_teststack_client(st), &s);
  assert_int_equal(s.ok, 2);
  assert_int_equal(ingested("a"), 1);
  assert_int_equal(ingested("b"), 1);
  assert_int_equal(events_stored("a", "ok", 1), 1); /* ok-0 */
  assert_int_equal(events_stored("b", "ok", 2), 1); /* ok-1 */
}

static void clients_without_an_allowed_key_get_nothing_through(void **state) {
  (void)state;
  long long before_a = ingested("a");
  sbctl_client_stats_t s;
  /* no CURVE at all */
  assert_int_equal(publish(NULL, "a", "plain", 3, REFUSED_WAIT_MS, &s), 3);
  assert_int_equal(s.ok + s.duplicate + s.invalid + s.unknown_tenant, 0);
  /* a key pair that is not in the allow-list */
  sb_curve_t *stranger = sb_teststack_edge_client_keys(st, NULL);
  assert_non_null(stranger);
  assert_int_equal(publish(stranger, "a", "stranger", 3, REFUSED_WAIT_MS, &s), 3);
  assert_int_equal(s.ok + s.duplicate + s.invalid + s.unknown_tenant, 0);
  sb_curve_destroy(&stranger);
  /* an allowed client key, but the wrong server key (e.g. the bus's) */
  char other_pub[41], other_sec[41];
  assert_int_equal(zmq_curve_keypair(other_pub, other_sec), 0);
  sb_curve_t *wrong = sb_curve_new();
  assert_int_equal(sb_curve_set_secret(wrong, sb_teststack_edge_keys(st)->client_secret), 0);
  assert_int_equal(sb_curve_set_server_key(wrong, other_pub), 0);
  assert_int_equal(publish(wrong, "a", "wrong-server", 3, REFUSED_WAIT_MS, &s), 3);
  sb_curve_destroy(&wrong);
  assert_int_equal(ingested("a"), before_a); /* nothing of theirs is written */
  assert_int_equal(events_stored("a", "plain", 3) + events_stored("a", "stranger", 3) +
                       events_stored("a", "wrong-server", 3),
                   0);
  assert_true(rejected(SB_PORT_ADMIN_INGEST, "publish", "handshake") >= 1);
  assert_true(rejected(SB_PORT_ADMIN_INGEST, "publish", "unlisted_key") >= 1);
}

static void a_tenant_bound_key_publishes_for_its_tenant_only(void **state) {
  (void)state;
  sb_curve_t *bound = sb_teststack_edge_client_keys(st, bound_secret);
  assert_non_null(bound);
  long long a = ingested("a"), b = ingested("b");
  sbctl_client_stats_t s;
  assert_int_equal(publish(bound, "a", "bound-a", 2, 20000, &s), 0);
  assert_int_equal(s.ok, 2);
  assert_int_equal(publish(bound, "b", "bound-b", 2, 20000, &s), 0);
  assert_int_equal(s.ok, 0);
  assert_int_equal(s.invalid, 2); /* answered, refused with a reason */
  sb_curve_destroy(&bound);
  assert_int_equal(ingested("a"), a + 2);
  assert_int_equal(ingested("b"), b);
  assert_int_equal(events_stored("b", "bound-b", 2), 0);
  assert_int_equal(events_stored("a", "bound-a", 2), 2);
}

/* A SUB socket on the feed with keys (NULL: plaintext), subscribed to all. */
static void *subscriber(const sb_curve_t *keys) {
  char ep[64];
  endpoint(SB_PORT_NOTIFY_PUB, ep, sizeof ep);
  void *sub = zmq_socket(zctx, ZMQ_SUB);
  int linger = 0;
  zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
  if (keys)
    assert_int_equal(sb_curve_client(keys, sub), 0);
  assert_int_equal(zmq_connect(sub, ep), 0);
  return sub;
}

/* Messages waiting on sub (drained without blocking). */
static int drain(void *sub) {
  int n = 0;
  zmq_msg_t m;
  zmq_msg_init(&m);
  while (zmq_msg_recv(&m, sub, ZMQ_DONTWAIT) >= 0)
    n += !zmq_msg_more(&m); /* count whole messages */
  zmq_msg_close(&m);
  return n;
}

static void only_allowed_subscribers_receive_the_feed(void **state) {
  (void)state;
  sb_curve_t *desk = sb_teststack_edge_client_keys(st, sb_teststack_edge_keys(st)->client_secret),
             *stranger = sb_teststack_edge_client_keys(st, NULL);
  void *ok = subscriber(desk), *plain = subscriber(NULL), *unlisted = subscriber(stranger);
  usleep(1000000); /* handshakes and subscriptions reach notify */
  for (int i = 0; i < FEED_MESSAGES; i++) {
    char id[32];
    snprintf(id, sizeof id, "feed-%d", i);
    sbctl_client_queue(sb_teststack_client(st), message("a", id));
  }
  assert_int_equal(sb_teststack_publish_all(st, 20000), 0);
  int got_ok = 0, got_plain = 0, got_unlisted = 0;
  int64_t until = sb_now_ms() + FEED_WAIT_MS;
  while (got_ok < FEED_MESSAGES && sb_now_ms() < until) {
    zmq_pollitem_t it = {ok, 0, ZMQ_POLLIN, 0};
    zmq_poll(&it, 1, 100);
    got_ok += drain(ok);
    got_plain += drain(plain);
    got_unlisted += drain(unlisted);
  }
  usleep(500000); /* anything late for the others */
  got_plain += drain(plain);
  got_unlisted += drain(unlisted);
  printf("feed: allowed %d, plaintext %d, unlisted %d\n", got_ok, got_plain, got_unlisted);
  assert_true(got_ok >= FEED_MESSAGES); /* each event at least once on its topic */
  assert_int_equal(got_plain, 0);
  assert_int_equal(got_unlisted, 0);
  assert_true(rejected(SB_PORT_ADMIN_NOTIFY, "feed", "handshake") >= 1);
  assert_true(rejected(SB_PORT_ADMIN_NOTIFY, "feed", "unlisted_key") >= 1);
  zmq_close(ok), zmq_close(plain), zmq_close(unlisted);
  sb_curve_destroy(&desk);
  sb_curve_destroy(&stranger);
}

/* Starts `sbctl tail --count 1` in the background, output to out; with
 * keys (the client key file and the edge public key) or without. */
static void start_tail(const char *keyfile, const char *out) {
  char cmd[1024], env[256] = "";
  if (keyfile)
    snprintf(env, sizeof env, "SB_CURVE_SECRET_KEY_FILE=%s SB_CURVE_SERVER_KEY='%s' ", keyfile,
             sb_teststack_edge_keys(st)->server_public); /* Z85 has no quote */
  snprintf(cmd, sizeof cmd, "%stimeout 20 %s/sbctl tail --port-offset=%d --topic=a. --count=1 > %s 2>&1 &", env,
           sb_test_binary_dir(), sb_teststack_offset(st), out);
  assert_int_equal(system(cmd), 0);
}

static int has_line(const char *path) {
  char line[4096] = "";
  FILE *f = fopen(path, "r");
  int ok = f && fgets(line, sizeof line, f) && strstr(line, "\"topic\":\"a.");
  if (f)
    fclose(f);
  return ok;
}

static void sbctl_tail_with_the_client_keys_follows_the_feed(void **state) {
  (void)state;
  char dir[] = "/tmp/sb-edge-tail-XXXXXX", keyfile[64], with[64], without[64];
  assert_non_null(mkdtemp(dir));
  snprintf(keyfile, sizeof keyfile, "%s/client.key", dir);
  snprintf(with, sizeof with, "%s/with.out", dir);
  snprintf(without, sizeof without, "%s/without.out", dir);
  FILE *f = fopen(keyfile, "w");
  assert_non_null(f);
  fprintf(f, "%s\n", sb_teststack_edge_keys(st)->client_secret);
  fclose(f);
  start_tail(keyfile, with);
  start_tail(NULL, without);
  int64_t until = sb_now_ms() + FEED_WAIT_MS;
  for (int i = 0; !has_line(with) && sb_now_ms() < until; i++) {
    char id[32];
    snprintf(id, sizeof id, "tail-%d", i);
    sbctl_client_queue(sb_teststack_client(st), message("a", id));
    assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
    usleep(200000);
  }
  int got_with = has_line(with), got_without = has_line(without);
  printf("sbctl tail: with keys %d, without %d\n", got_with, got_without);
  assert_true(got_with);
  assert_false(got_without);
  unlink(keyfile), unlink(with), unlink(without), rmdir(dir);
}

int main(void) {
  if (!sb_curve_available()) {
    fprintf(stderr, "libzmq has no CURVE: skipped\n");
    return 77;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_allowed_client_is_acknowledged),
      cmocka_unit_test(clients_without_an_allowed_key_get_nothing_through),
      cmocka_unit_test(a_tenant_bound_key_publishes_for_its_tenant_only),
      cmocka_unit_test(only_allowed_subscribers_receive_the_feed),
      cmocka_unit_test(sbctl_tail_with_the_client_keys_follows_the_feed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
