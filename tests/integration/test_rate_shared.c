/*
 * A tenant's rate limit holds for the deployment, not per ingest replica:
 * - two replicas (--rate-scope shared, the default) count each other in
 *   Redis and each admits half the burst: a burst of 10 sent to both, in
 *   turn, gets 10 events in, the rest 429 with Retry-After, and only those
 *   10 are written;
 * - a third heartbeat (a replica that then dies) shrinks the share, and
 *   once it expires the two take their halves back;
 * - with --rate-scope replica each admits the whole burst (20 in).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sbctl_view.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANTS "{\"tenants\":[{\"id\":\"shared\",\"rate\":{\"events_per_s\":1,\"burst\":10}},{\"id\":\"open\"}]}"
#define OUT_MAX 4096
#define SENT 40

typedef struct {
  sb_teststack_t *st;
  int http[2];  /* base ports for sb_teststack_http (port - offset) */
  int admin[2]; /* real ports */
} two_t;

static int post(two_t *t, int which, const char *id, char *out) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/app\",\"type\":\"com.switchboard.interaction\","
           "\"tenant\":\"shared\",\"data\":{\"channel\":\"app\",\"customer\":\"u1\",\"text\":\"hello\"}}",
           id);
  return sb_teststack_http(t->st, t->http[which], "POST", "/v1/events", "application/cloudevents+json", body,
                           strlen(body), out, OUT_MAX);
}

static long long replicas_seen(int admin_port) {
  char *m = sb_test_http_body(admin_port, "GET", "/metrics", NULL, 1 << 20);
  long long n = m ? sb_test_metric(m, "sb_ingest_replicas", "") : -1;
  free(m);
  return n;
}

/* Waits until both replicas use a share of n (or fails). */
static void wait_share(two_t *t, long long n) {
  for (int i = 0; i < 100; i++) {
    if (replicas_seen(t->admin[0]) == n && replicas_seen(t->admin[1]) == n)
      return;
    sb_test_run_loop_for(100);
  }
  print_error("replicas seen: %lld and %lld, want %lld\n", replicas_seen(t->admin[0]),
              replicas_seen(t->admin[1]), n);
  fail();
}

/* The stack's ingest and a second one on ports of its own. */
static void start_two(two_t *t) {
  t->st = sb_teststack_start(TENANTS, NULL);
  assert_non_null(t->st);
  int off = sb_teststack_offset(t->st), http2 = sb_test_free_port(), pub2 = sb_test_free_port();
  assert_true(http2 > 0 && pub2 > 0 && http2 != pub2);
  char port[16], publish[64];
  snprintf(port, sizeof port, "%d", http2);
  snprintf(publish, sizeof publish, "tcp://127.0.0.1:%d", pub2);
  setenv("SB_HTTP_PORT", port, 1);
  setenv("SB_PUBLISH", publish, 1);
  t->admin[1] = sb_teststack_add_replica(t->st, "ingest");
  unsetenv("SB_HTTP_PORT");
  unsetenv("SB_PUBLISH");
  assert_true(t->admin[1] > 0);
  t->admin[0] = SB_PORT_ADMIN_INGEST + off;
  t->http[0] = SB_PORT_INGEST_HTTP;
  t->http[1] = http2 - off;
}

/* Sends SENT events, alternating replicas; returns how many got 202 and
 * checks every other answer is a 429 naming the limit. */
static int burst(two_t *t, const char *prefix) {
  char out[OUT_MAX], id[32];
  int accepted = 0;
  for (int i = 0; i < SENT; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    int code = post(t, i % 2, id, out);
    if (code == 202) {
      accepted++;
    } else {
      assert_int_equal(code, 429);
      assert_non_null(strstr(out, "rate_limited"));
    }
  }
  return accepted;
}

static long long ingested(two_t *t) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(t->st), "shared", &s), 0);
  return s.ingested;
}

static void two_replicas_share_one_burst(void **state) {
  (void)state;
  two_t t = {0};
  start_two(&t);
  wait_share(&t, 2);
  int in = burst(&t, "a");
  /* 5 each; the rate (1/s, half each) may add one while the burst runs */
  if (in < 10 || in > 11) {
    print_error("%d of %d accepted, want the burst of 10 (at most one more from the rate)\n", in, SENT);
    fail();
  }
  assert_int_equal(ingested(&t), in); /* nothing written for a 429 */

  /* a third replica's heartbeat, expiring in 1.5 s (Redis's clock), as
   * one that died would leave it */
  redisReply *r = redisCommand(sb_teststack_redis(t.st), "TIME");
  long long now = atoll(r->element[0]->str) * 1000 + atoll(r->element[1]->str) / 1000;
  freeReplyObject(r);
  freeReplyObject(redisCommand(sb_teststack_redis(t.st), "ZADD sb:{ingest}:replicas %lld gone:1", now + 1500));
  wait_share(&t, 3);
  wait_share(&t, 2); /* expired: forgotten */
  sb_teststack_stop(&t.st);
}

static void replica_scope_gives_each_the_whole_burst(void **state) {
  (void)state;
  setenv("SB_RATE_SCOPE", "replica", 1);
  two_t t = {0};
  start_two(&t);
  unsetenv("SB_RATE_SCOPE");
  wait_share(&t, 2); /* heartbeats counted, but the share stays whole */
  int in = burst(&t, "b");
  if (in < 20 || in > 21) {
    print_error("%d of %d accepted, want 10 per replica\n", in, SENT);
    fail();
  }
  assert_int_equal(ingested(&t), in);
  sb_teststack_stop(&t.st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(two_replicas_share_one_burst),
      cmocka_unit_test(replica_scope_gives_each_the_whole_burst),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
