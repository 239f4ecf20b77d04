/*
 * test_agent_suggestion: agents' feedback on suggested answers at the door.
 * A reply may name the answer it used (accepted); the event
 * com.switchboard.agent.suggestion must name the conversation, the answer
 * and whether it was accepted. Malformed feedback is refused with a reason;
 * other actions lose a suggestion; suggestion_result is switchboard's own
 * (a publisher's value is dropped) on both the HTTP and the ZeroMQ path.
 */
#include "sb_testutil.h"

#include "sb_admit.h"
#include "sb_cloudevent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR_LEN 256

static sb_tenants_t *tenants;

static int setup(void **state) {
  (void)state;
  const char *json = "{\"tenants\":[{\"id\":\"acme\"}]}";
  char err[128];
  tenants = sb_tenants_parse(json, strlen(json), err, sizeof err);
  return tenants ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_tenants_destroy(&tenants);
  return 0;
}

static int parse(const char *action, const char *json, sb_agent_data_t *d,
                 char *err) {
  char type[96];
  snprintf(type, sizeof type, "com.switchboard.agent.%s", action);
  return sb_agent_data_parse(type, json, d, err, ERR_LEN);
}

static void refused(const char *action, const char *json, const char *why) {
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_not_equal(parse(action, json, &d, err), 0);
  if (!strstr(err, why))
    fail_msg("%s %s: \"%s\" does not say \"%s\"", action, json, err, why);
  assert_null(d.suggestion);
}

static void
a_suggestion_event_names_conversation_answer_and_verdict(void **state) {
  (void)state;
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(parse("suggestion",
                         "{\"agent\":\"ann\",\"conversation\":\"c1\","
                         "\"suggestion\":\"bag-a.v2\","
                         "\"accepted\":false}",
                         &d, err),
                   0);
  assert_string_equal(d.action, "suggestion");
  assert_string_equal(d.suggestion, "bag-a.v2");
  assert_int_equal(d.accepted, 0);
  sb_agent_data_clear(&d);
  assert_int_equal(
      parse("suggestion",
            "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"x\","
            "\"accepted\":true}",
            &d, err),
      0);
  assert_int_equal(d.accepted, 1);
  sb_agent_data_clear(&d);
}

static void a_reply_may_name_the_answer_it_used(void **state) {
  (void)state;
  sb_agent_data_t d;
  char err[ERR_LEN];
  assert_int_equal(
      parse("reply",
            "{\"agent\":\"ann\",\"conversation\":\"c1\",\"text\":\"hi\","
            "\"suggestion\":\"bag-a\"}",
            &d, err),
      0);
  assert_string_equal(d.suggestion, "bag-a");
  assert_int_equal(d.accepted, 1);
  sb_agent_data_clear(&d);
  assert_int_equal(
      parse("reply",
            "{\"agent\":\"ann\",\"conversation\":\"c1\",\"text\":\"hi\"}", &d,
            err),
      0);
  assert_null(d.suggestion);
  assert_int_equal(d.accepted, 0);
  sb_agent_data_clear(&d);
  /* other actions ignore it */
  assert_int_equal(parse("close",
                         "{\"agent\":\"ann\",\"conversation\":\"c1\","
                         "\"suggestion\":\"bag-a\"}",
                         &d, err),
                   0);
  assert_null(d.suggestion);
  sb_agent_data_clear(&d);
}

static void malformed_feedback_is_refused_with_a_reason(void **state) {
  (void)state;
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"accepted\":false}",
          "suggestion");
  refused(
      "suggestion",
      "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"bag-a\"}",
      "accepted");
  refused("suggestion",
          "{\"agent\":\"ann\",\"suggestion\":\"bag-a\",\"accepted\":true}",
          "conversation");
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"bag "
          "a\",\"accepted\":true}",
          "answer id");
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"\","
          "\"accepted\":true}",
          "empty");
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":7,"
          "\"accepted\":true}",
          "string");
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"b\","
          "\"accepted\":\"no\"}",
          "boolean");
  refused("suggestion",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"b\","
          "\"accepted\":true,\"accepted\":false}",
          "duplicate");
  char long_id[200];
  snprintf(
      long_id, sizeof long_id,
      "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":\"%065d\","
      "\"accepted\":true}",
      0);
  refused("suggestion", long_id, "exceeds");
  refused("reply",
          "{\"agent\":\"ann\",\"conversation\":\"c1\",\"suggestion\":"
          "\"\\u00e9t\\u00e9\"}",
          "answer id");
}

static sb_envelope_t *admit_json(const char *action, const char *data,
                                 sb_admit_result_t *r) {
  char type[96];
  snprintf(type, sizeof type, "com.switchboard.agent.%s", action);
  sb_cloudevent_t ce = {.id = "a1",
                        .source = "/desk",
                        .type = type,
                        .specversion = "1.0",
                        .tenant = "acme",
                        .data = (char *)data};
  return sb_admit_cloudevent(&ce, tenants, r);
}

static void the_envelope_carries_the_feedback(void **state) {
  (void)state;
  sb_admit_result_t r;
  sb_envelope_t *env =
      admit_json("suggestion",
                 "{\"agent\":\"ann\",\"conversation\":\"c1\","
                 "\"suggestion\":\"bag-a\",\"accepted\":false}",
                 &r);
  assert_non_null(env);
  assert_int_equal(env->agent->action,
                   SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION);
  assert_string_equal(env->agent->suggestion, "bag-a");
  assert_false(env->agent->accepted);
  assert_string_equal(env->conversation, "c1");
  assert_string_equal(sb_agent_action_name(env->agent->action), "suggestion");
  sb_envelope_free(env);
  env = admit_json("reply",
                   "{\"agent\":\"ann\",\"conversation\":\"c1\",\"text\":\"t\","
                   "\"suggestion\":\"bag-b\"}",
                   &r);
  assert_non_null(env);
  assert_string_equal(env->agent->suggestion, "bag-b");
  assert_true(env->agent->accepted);
  sb_envelope_free(env);
}

/* The ZeroMQ path: a publisher's protobuf is checked the same way. */
static sb_envelope_t *zmq_agent(Switchboard__V1__AgentAction action,
                                const char *suggestion, const char *result) {
  sb_admit_result_t r;
  sb_envelope_t *env =
      admit_json("reply", "{\"agent\":\"ann\",\"conversation\":\"c1\"}", &r);
  assert_non_null(env);
  Switchboard__V1__AgentEvent *a = env->agent;
  a->action = action;
  if (a->suggestion != protobuf_c_empty_string)
    free(a->suggestion);
  if (a->suggestion_result != protobuf_c_empty_string)
    free(a->suggestion_result);
  a->suggestion = strdup(suggestion);
  a->suggestion_result = strdup(result);
  a->accepted = 1;
  return env;
}

static void a_protobuf_publisher_is_held_to_the_same_rules(void **state) {
  (void)state;
  sb_admit_result_t r;
  sb_envelope_t *env =
      zmq_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION, "", "");
  assert_int_equal(sb_admit_envelope(env, tenants, &r), -1);
  assert_non_null(strstr(r.reason, "suggestion"));
  sb_envelope_free(env);
  env = zmq_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION, "no spaces",
                  "");
  assert_int_equal(sb_admit_envelope(env, tenants, &r), -1);
  assert_non_null(strstr(r.reason, "answer id"));
  sb_envelope_free(env);
  /* the result is switchboard's to set: a publisher's is dropped */
  env = zmq_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION, "bag-a",
                  "accepted");
  assert_int_equal(sb_admit_envelope(env, tenants, &r), 0);
  assert_string_equal(env->agent->suggestion_result, "");
  assert_true(env->agent->accepted);
  sb_envelope_free(env);
  /* a close carries no feedback */
  env = zmq_agent(SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE, "bag-a", "");
  assert_int_equal(sb_admit_envelope(env, tenants, &r), 0);
  assert_string_equal(env->agent->suggestion, "");
  assert_false(env->agent->accepted);
  sb_envelope_free(env);
  /* an action past the last known one is still refused */
  env = zmq_agent(
      (Switchboard__V1__AgentAction)(SWITCHBOARD__V1__AGENT_ACTION__AGENT_SUGGESTION +
                                     1),
      "", "");
  assert_int_equal(sb_admit_envelope(env, tenants, &r), -1);
  sb_envelope_free(env);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(
          a_suggestion_event_names_conversation_answer_and_verdict),
      cmocka_unit_test(a_reply_may_name_the_answer_it_used),
      cmocka_unit_test(malformed_feedback_is_refused_with_a_reason),
      cmocka_unit_test(the_envelope_carries_the_feedback),
      cmocka_unit_test(a_protobuf_publisher_is_held_to_the_same_rules),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
