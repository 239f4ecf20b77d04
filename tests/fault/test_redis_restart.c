/*
 * Redis goes away (kill -9) and comes back with its AOF (appendfsync
 * always). While it is away every service says not ready, publishers get
 * "retry later" instead of acknowledgements that would not be durable;
 * the services reconnect by themselves, and afterwards every event that
 * was ever acknowledged is routed exactly once.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <zmq.h>

#define BEFORE 2000
#define DURING 50

static int readyz(sb_teststack_t *st, int base) {
  char out[256];
  return sb_teststack_http(st, base, "GET", "/readyz", NULL, "", 0, out, sizeof out);
}

static void queue_messages(sb_teststack_t *st, const char *prefix, int n) {
  char id[32], customer[32];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    snprintf(customer, sizeof customer, "%s-c%d", prefix, i % 300);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, "citytransit", id, "sms", customer, "Tram 7 has not come for 40 minutes"));
  }
}

/* Pumps the publisher for ms without requiring it to finish. */
static void pump_for(sb_teststack_t *st, int ms) {
  int64_t until = sb_now_ms() + ms;
  while (sb_now_ms() < until) {
    sbctl_client_pump(sb_teststack_client(st));
    zmq_pollitem_t it = {sbctl_client_socket(sb_teststack_client(st)), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 20) > 0)
      sbctl_client_on_readable(sb_teststack_client(st));
  }
}

static void redis_away_means_not_ready_and_retry_later_then_nothing_lost(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(NULL, "always");
  assert_non_null(st);
  queue_messages(st, "before", BEFORE);
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0);
  sbctl_client_stats_t cs;
  sbctl_client_stats(sb_teststack_client(st), &cs);
  assert_int_equal(cs.ok, BEFORE);

  assert_int_equal(sb_teststack_redis_kill(st, SIGKILL), 0);
  int64_t until = sb_now_ms() + 5000;
  while (readyz(st, SB_PORT_ADMIN_INGEST) != 503 && sb_now_ms() < until)
    usleep(50000);
  assert_int_equal(readyz(st, SB_PORT_ADMIN_INGEST), 503);
  assert_int_equal(readyz(st, SB_PORT_ADMIN_ROUTE), 503);
  queue_messages(st, "during", DURING);
  pump_for(st, 1000);
  sbctl_client_stats(sb_teststack_client(st), &cs);
  assert_int_equal(cs.ok, BEFORE); /* nothing acknowledged while not durable */
  assert_true(cs.retried >= DURING);

  assert_int_equal(sb_teststack_redis_restart(st), 0);
  assert_int_equal(sb_teststack_publish_all(st, 30000), 0); /* the retries now land */
  until = sb_now_ms() + 10000;
  while (readyz(st, SB_PORT_ADMIN_INGEST) != 200 && sb_now_ms() < until)
    usleep(50000);
  assert_int_equal(readyz(st, SB_PORT_ADMIN_INGEST), 200);
  sbctl_client_stats(sb_teststack_client(st), &cs);
  assert_int_equal(cs.ok + cs.duplicate, BEFORE + DURING);
  sbctl_stats_t s;
  int drained = sb_teststack_wait_drained(st, BEFORE + DURING, 60000, &s);
  printf("redis restart: acknowledged %llu, routed %lld, retried while away %llu\n",
         (unsigned long long)cs.ok, s.routed_messages, (unsigned long long)cs.retried);
  assert_int_equal(drained, 0);
  assert_int_equal(s.routed_messages, BEFORE + DURING); /* AOF always: nothing acknowledged lost */
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(redis_away_means_not_ready_and_retry_later_then_nothing_lost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
