/*
 * First-response timers end to end: with no agent free, a conversation's
 * warning and then its breach are fired once each and published on the
 * feed under the tenant's topic; a conversation answered in time is "met"
 * and never breaches.
 */
#include "sb_testfeed.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define TARGET_MS 400
#define TENANTS "{\"tenants\":[{\"id\":\"fast\",\"sla\":{\"first_response_ms\":400,\"warn_percent\":50}}]}"

typedef struct {
  int warnings, breaches, met, other_tenant;
  char first_conv[64];
} seen_t;

static void on_message(const char *topic, const sb_envelope_t *env, void *arg) {
  seen_t *seen = arg;
  if (strncmp(topic, "fast.", 5) != 0)
    seen->other_tenant++;
  if (strcmp(topic, "fast.sla.warning") == 0) {
    seen->warnings++;
    assert_non_null(env);
    assert_string_equal(env->sla->conversation, seen->first_conv);
  }
  if (strcmp(topic, "fast.sla.breach") == 0) {
    seen->breaches++;
    assert_non_null(env);
    assert_string_equal(env->sla->conversation, seen->first_conv);
    assert_int_equal(env->sla->target_ms, TARGET_MS);
  }
  seen->met += strcmp(topic, "fast.sla.met") == 0;
}

static void read_feed(void *sub, seen_t *seen, int ms) { sb_testfeed_read(sub, ms, on_message, seen); }

static void timers_warn_breach_once_and_stop_on_first_reply(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS, NULL);
  assert_non_null(st);
  void *zctx = zmq_ctx_new(), *sub = sb_testfeed_subscribe(st, zctx, "fast.");
  seen_t seen = {0};
  /* nobody logged in: the conversation waits and breaches */
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "fast", "late-1", "x", "@ann", "hello?"));
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "late-1", key);
  snprintf(seen.first_conv, sizeof seen.first_conv, "%s", key); /* a new conversation is named after its first event */
  read_feed(sub, &seen, 3 * TARGET_MS);
  assert_int_equal(seen.warnings, 1);
  assert_int_equal(seen.breaches, 1);
  /* an agent logs in (pulls it), replies: late, so "missed"; a new one is met */
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_agent_event(st, "fast", "login-1", "login", "bo", NULL, 5));
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "fast", "quick-1", "x", "@bob", "hi"));
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  usleep(100000);
  char conv2[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "quick-1", conv2);
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_agent_event(st, "fast", "reply-1", "reply", "bo", conv2, 0));
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  read_feed(sub, &seen, 3 * TARGET_MS);
  assert_int_equal(seen.met, 1);
  assert_int_equal(seen.breaches, 1); /* the answered one never breached */
  assert_int_equal(seen.other_tenant, 0);
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 2, 5000, &s), 0);
  assert_int_equal(s.sla_armed, 2);
  assert_int_equal(s.sla_met, 1);
  assert_int_equal(s.sla_breach, 1);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(timers_warn_breach_once_and_stop_on_first_reply),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
