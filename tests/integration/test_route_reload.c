/*
 * test_route_reload: the tenant's routing rules and queues change without a
 * restart. On the real stack, after the tenant file's "route" section is
 * rewritten, SIGHUP to sb-route makes the next message go where the new
 * rules say (a new queue included); a broken section, or a file that is not
 * JSON, is refused and the rules in force stay; a file that adds a tenant
 * reloads the others (the new tenant needs a restart). The process is the
 * same throughout.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TENANT "rl"
#define ROUTE_A                                                                                    \
  "{\"queues\":[{\"id\":\"alpha\"},{\"id\":\"general\"}],"                                         \
  "\"rules\":[{\"name\":\"tweets\",\"if\":{\"channel\":[\"x\"]},\"queue\":\"alpha\"}],"            \
  "\"default_queue\":\"general\"}"
#define ROUTE_B                                                                                    \
  "{\"queues\":[{\"id\":\"alpha\"},{\"id\":\"beta\"},{\"id\":\"general\"}],"                       \
  "\"rules\":[{\"name\":\"tweets-to-beta\",\"if\":{\"channel\":[\"x\"]},\"queue\":\"beta\"}],"     \
  "\"default_queue\":\"general\"}"
/* valid JSON, invalid route: a rule naming a queue that does not exist */
#define ROUTE_BROKEN                                                                               \
  "{\"queues\":[{\"id\":\"general\"}],"                                                            \
  "\"rules\":[{\"name\":\"lost\",\"if\":{\"channel\":[\"x\"]},\"queue\":\"nowhere\"}]}"
#define TENANTS_WITH(route) "{\"tenants\":[{\"id\":\"" TENANT "\",\"route\":" route "}]}"
#define WAIT_MS 10000

static sb_envelope_t *routed(sb_teststack_t *st, const char *id) {
  return sb_teststack_routed(st, TENANT, "/tests", id, WAIT_MS);
}

/* A new customer's tweet; asserts the queue and rule route chose. */
static void assert_tweet_goes_to(sb_teststack_t *st, const char *id, const char *queue, const char *rule) {
  char customer[64];
  snprintf(customer, sizeof customer, "cust-%s", id);
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, TENANT, id, "x", customer, "hello there"));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  sb_envelope_t *env = routed(st, id);
  assert_non_null(env);
  assert_string_equal(env->routing->queue, queue);
  assert_string_equal(env->routing->rule, rule);
  sb_envelope_free(env);
}

/* sb_route_reloads_total{result="<result>"} from route's /metrics. */
static long long reloads(sb_teststack_t *st, const char *result) {
  static char body[1 << 16];
  char label[64];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_ROUTE, "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
  assert_int_equal(status, 200);
  snprintf(label, sizeof label, "result=\"%s\"", result);
  return sb_test_metric(body, "sb_route_reloads_total", label);
}

static void reload_and_wait(sb_teststack_t *st, pid_t pid, const char *result, long long want) {
  assert_int_equal(kill(pid, SIGHUP), 0);
  int64_t until = sb_now_ms() + WAIT_MS;
  while (reloads(st, result) < want && sb_now_ms() < until)
    usleep(20000);
  assert_int_equal(reloads(st, result), want);
}

static void sighup_swaps_in_new_routing_rules_and_keeps_them_over_broken_files(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS_WITH(ROUTE_A), NULL);
  assert_non_null(st);
  char tenants[512];
  pid_t pid = sb_test_child_pid("sb-route", "SB_TENANTS", tenants, sizeof tenants);
  assert_true(pid > 0);

  assert_tweet_goes_to(st, "t-1", "alpha", "tweets");

  /* a new queue and a rule to it, live */
  sb_test_write_file(tenants, TENANTS_WITH(ROUTE_B));
  reload_and_wait(st, pid, "ok", 1);
  assert_tweet_goes_to(st, "t-2", "beta", "tweets-to-beta");

  /* refused: the running rules stay */
  sb_test_write_file(tenants, TENANTS_WITH(ROUTE_BROKEN));
  reload_and_wait(st, pid, "failed", 1);
  assert_tweet_goes_to(st, "t-3", "beta", "tweets-to-beta");
  sb_test_write_file(tenants, "{\"tenants\": [");
  reload_and_wait(st, pid, "failed", 2);
  assert_int_equal(reloads(st, "ok"), 1);
  assert_tweet_goes_to(st, "t-4", "beta", "tweets-to-beta");

  /* a tenant added to the file: the known one reloads (back to ROUTE_A) */
  sb_test_write_file(tenants, "{\"tenants\":[{\"id\":\"" TENANT "\",\"route\":" ROUTE_A "},"
                              "{\"id\":\"newcomer\"}]}");
  reload_and_wait(st, pid, "ok", 2);
  assert_tweet_goes_to(st, "t-5", "alpha", "tweets");

  char again[512];
  assert_int_equal(sb_test_child_pid("sb-route", "SB_TENANTS", again, sizeof again), pid);
  sb_test_write_file(tenants, TENANTS_WITH(ROUTE_A)); /* for the stack's own checks at stop */
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sighup_swaps_in_new_routing_rules_and_keeps_them_over_broken_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
