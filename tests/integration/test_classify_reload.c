/*
 * test_classify_reload: classify's configuration-driven behaviours on the
 * real stack (five processes, Redis, ZeroMQ):
 *
 *   - repeat contacts: a customer who writes again after their conversation
 *     was closed gets Classification.repeat_contacts = 1 and a priority
 *     raised by the tenant's "repeat" weight; follow-ups in the same
 *     conversation count once; another customer is a first contact;
 *   - rule reload: after the tenant file's classify rules change, SIGHUP to
 *     sb-classify makes the next message match the new rules; a broken file
 *     then keeps the rules in force and counts a failed reload.
 *
 * sb-classify is found as a child of this process (/proc), and the tenant
 * file as its SB_TENANTS (both set by the stack when it spawned it).
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

#define TENANT "rc"
#define RULES_ALPHA "{\"intents\":[{\"name\":\"alpha\",\"keywords\":{\"*\":[\"zebra\"]}}],\"repeat_window_s\":3600}"
#define RULES_BETA "{\"intents\":[{\"name\":\"beta\",\"keywords\":{\"*\":[\"zebra\"]}}],\"repeat_window_s\":3600}"
/* valid JSON, invalid rules: an intent name with a space */
#define RULES_BROKEN "{\"intents\":[{\"name\":\"no good\",\"keywords\":{\"*\":[\"zebra\"]}}]}"
/* the beta rules with spike settings: valid, then out of range */
#define RULES_SPIKE(k) \
  "{\"intents\":[{\"name\":\"beta\",\"keywords\":{\"*\":[\"zebra\"]}}],\"spike\":{\"k\":" k "}}"
#define TENANTS_WITH(rules) "{\"tenants\":[{\"id\":\"" TENANT "\",\"classify\":" rules "}]}"
#define WAIT_MS 10000

static sb_envelope_t *routed(sb_teststack_t *st, const char *id) {
  return sb_teststack_routed(st, TENANT, "/tests", id, WAIT_MS);
}

static sb_envelope_t *send_message(sb_teststack_t *st, const char *id, const char *customer, const char *text) {
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, TENANT, id, "x", customer, text));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  sb_envelope_t *env = routed(st, id);
  assert_non_null(env);
  return env;
}

static void send_agent(sb_teststack_t *st, const char *id, const char *action, const char *conv) {
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_agent_event(st, TENANT, id, action, "ann", conv, 5));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
}

static int has_intent(const sb_envelope_t *env, const char *name) {
  for (size_t i = 0; i < env->classification->n_intents; i++)
    if (strcmp(env->classification->intents[i]->name, name) == 0)
      return 1;
  return 0;
}

/* ---- repeat contacts ---------------------------------------------------- */

/* Waits until the customer's thread is gone (route closed the conversation). */
static void wait_thread_closed(sb_teststack_t *st, const char *thread) {
  int64_t until = sb_now_ms() + WAIT_MS;
  long long present = 1;
  while (present && sb_now_ms() < until) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "HEXISTS sb:{t:%s}:threads %s", TENANT, thread);
    present = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 1;
    freeReplyObject(r);
    if (present)
      usleep(20000);
  }
  assert_int_equal(present, 0);
}

static void customer_writing_after_a_closed_conversation_is_a_repeat_contact(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS_WITH(RULES_ALPHA), NULL);
  assert_non_null(st);
  send_agent(st, "login-1", "login", NULL);

  sb_envelope_t *first = send_message(st, "m-1", "cust-1", "hello, where is my parcel");
  assert_int_equal(first->classification->repeat_contacts, 0);
  int base = first->classification->priority;
  char conv1[128];
  snprintf(conv1, sizeof conv1, "%s", first->conversation);
  assert_int_equal(first->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  sb_envelope_free(first);

  send_agent(st, "close-1", "close", conv1);
  wait_thread_closed(st, "x:cust-1");

  sb_envelope_t *again = send_message(st, "m-2", "cust-1", "hello, where is my parcel");
  assert_string_not_equal(again->conversation, conv1);
  assert_int_equal(again->classification->repeat_contacts, 1);
  /* default "repeat" weight: 10 points, capped at 100 */
  assert_int_equal(again->classification->priority, base + 10 > 100 ? 100 : base + 10);
  sb_envelope_free(again);

  /* a follow-up in the same (second) conversation is still one repeat */
  sb_envelope_t *follow = send_message(st, "m-3", "cust-1", "hello, where is my parcel");
  assert_int_equal(follow->classification->repeat_contacts, 1);
  sb_envelope_free(follow);

  sb_envelope_t *other = send_message(st, "m-4", "cust-2", "hello, where is my parcel");
  assert_int_equal(other->classification->repeat_contacts, 0);
  assert_int_equal(other->classification->priority, base);
  sb_envelope_free(other);
  sb_teststack_stop(&st);
}

/* ---- reload --------------------------------------------------------------- */

static pid_t classify_pid(char *tenants, size_t cap) {
  return sb_test_child_pid("sb-classify", "SB_TENANTS", tenants, cap);
}

/* sb_classify_reloads_total{result="<result>"} from classify's /metrics. */
static long long reloads(sb_teststack_t *st, const char *result) {
  static char body[1 << 16];
  char label[64];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_CLASSIFY, "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
  assert_int_equal(status, 200);
  snprintf(label, sizeof label, "result=\"%s\"", result);
  return sb_test_metric(body, "sb_classify_reloads_total", label);
}

static void wait_reloads(sb_teststack_t *st, const char *result, long long want) {
  int64_t until = sb_now_ms() + WAIT_MS;
  while (reloads(st, result) < want && sb_now_ms() < until)
    usleep(20000);
  assert_int_equal(reloads(st, result), want);
}

static void sighup_swaps_in_valid_rules_and_keeps_them_over_a_broken_file(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS_WITH(RULES_ALPHA), NULL);
  assert_non_null(st);
  char tenants[512];
  pid_t pid = classify_pid(tenants, sizeof tenants);
  assert_true(pid > 0);

  sb_envelope_t *env = send_message(st, "r-1", "cust-r", "I saw a zebra at the gate");
  assert_true(has_intent(env, "alpha"));
  sb_envelope_free(env);

  sb_test_write_file(tenants, TENANTS_WITH(RULES_BETA));
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_reloads(st, "ok", 1);
  env = send_message(st, "r-2", "cust-r", "I saw a zebra at the gate");
  assert_true(has_intent(env, "beta"));
  assert_false(has_intent(env, "alpha"));
  sb_envelope_free(env);

  sb_test_write_file(tenants, TENANTS_WITH(RULES_BROKEN));
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_reloads(st, "failed", 1);
  assert_int_equal(reloads(st, "ok"), 1);
  env = send_message(st, "r-3", "cust-r", "I saw a zebra at the gate");
  assert_true(has_intent(env, "beta")); /* the old rules stayed */
  sb_envelope_free(env);

  /* a file that is not JSON at all: refused the same way */
  sb_test_write_file(tenants, "{\"tenants\": [");
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_reloads(st, "failed", 2);
  env = send_message(st, "r-4", "cust-r", "I saw a zebra at the gate");
  assert_true(has_intent(env, "beta"));
  sb_envelope_free(env);

  /* the "spike" settings reload with the rules: valid ones are taken,
   * out-of-range ones refuse the whole file */
  sb_test_write_file(tenants, TENANTS_WITH(RULES_SPIKE("3")));
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_reloads(st, "ok", 2);
  sb_test_write_file(tenants, TENANTS_WITH(RULES_SPIKE("0")));
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_reloads(st, "failed", 3);
  assert_int_equal(reloads(st, "ok"), 2);
  env = send_message(st, "r-5", "cust-r", "I saw a zebra at the gate");
  assert_true(has_intent(env, "beta"));
  sb_envelope_free(env);

  /* still the same process: nothing restarted it */
  char again[512];
  assert_int_equal(classify_pid(again, sizeof again), pid);
  sb_test_write_file(tenants, TENANTS_WITH(RULES_ALPHA)); /* for the stack's own checks at stop */
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(customer_writing_after_a_closed_conversation_is_a_repeat_contact),
      cmocka_unit_test(sighup_swaps_in_valid_rules_and_keeps_them_over_a_broken_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
