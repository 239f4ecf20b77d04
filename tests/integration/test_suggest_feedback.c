/*
 * test_suggest_feedback: agents' choices change what classify suggests,
 * end to end on a real stack. A tenant has two answers with the same text:
 * they tie for a message and the first one is suggested. The agent turns
 * it down three times (com.switchboard.agent.suggestion, accepted false);
 * route counts each once (a re-posted event does not count again) in the
 * tenant's counts hash; classify reads the counts back
 * (SB_SUGGEST_REFRESH_MS) and the same message from another customer now
 * gets the other answer, as stored with the routed event. Feedback that
 * cannot count is refused with a reason and counts nothing: an answer the
 * tenant lacks, an answer never suggested on that conversation, another
 * agent's conversation, malformed fields (400 at the door). A reply that
 * names the answer it used counts as an accept.
 */
#include "sb_teststack.h"
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TENANT "help"
#define ANSWER_TEXT "lost baggage claim form"
#define TENANTS                                                                \
  "{\"tenants\":[{\"id\":\"" TENANT                                            \
  "\",\"route\":{\"queues\":[{\"id\":\"general\"}],"                           \
  "\"default_queue\":\"general\"},"                                            \
  "\"classify\":{\"answers\":["                                                \
  "{\"id\":\"bag-a\",\"text\":\"" ANSWER_TEXT "\"},"                           \
  "{\"id\":\"bag-b\",\"text\":\"" ANSWER_TEXT "\"},"                           \
  "{\"id\":\"refund\",\"text\":\"refund for a cancelled flight\"}]}}]}"
#define MESSAGE "My baggage is lost, where is the claim form?"
#define WAIT_MS 10000
#define REFRESH_MS "200"
#define BODY_MAX 4096
#define REJECTS 3

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  setenv("SB_SUGGEST_REFRESH_MS", REFRESH_MS, 1); /* inherited by sb-classify */
  st = sb_teststack_start(TENANTS, NULL);
  unsetenv("SB_SUGGEST_REFRESH_MS");
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static int post_agent(const char *id, const char *action, const char *data,
                      char *out) {
  char body[BODY_MAX];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/"
           "desk\",\"type\":\"%s%s\","
           "\"tenant\":\"" TENANT "\",\"data\":%s}",
           id, SB_TYPE_AGENT_PREFIX, action, data);
  return sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/agent-events",
                           "application/cloudevents+json", body, strlen(body),
                           out, BODY_MAX);
}

/* Posts an agent event; route's decision and the feedback's result. */
static void expect(const char *id, const char *action, const char *data,
                   int outcome, const char *reason, const char *result) {
  char out[BODY_MAX];
  int status = post_agent(id, action, data, out);
  if (status != 202 && status != 200)
    fail_msg("%s: HTTP %d %s", id, status, out);
  sb_envelope_t *env = sb_teststack_routed(st, TENANT, "/desk", id, WAIT_MS);
  assert_non_null(env);
  if ((int)env->routing->outcome != outcome ||
      strcmp(env->routing->reason, reason) != 0)
    fail_msg("%s: outcome %d reason \"%s\", want %d \"%s\"", id,
             env->routing->outcome, env->routing->reason, outcome, reason);
  if (strcmp(env->agent->suggestion_result, result) != 0)
    fail_msg("%s: suggestion_result \"%s\", want \"%s\"", id,
             env->agent->suggestion_result, result);
  /* the result joins the agent's event: what the agent sent is all there
   * (a reply's text still goes to the customer) */
  char want[64];
  snprintf(want, sizeof want, "\"agent\":\"%s\"", env->agent->agent);
  if (env->agent->action == 0 || !*env->agent->agent || !strstr(data, want))
    fail_msg("%s: the routed agent event lost its body (action %d, agent \"%s\")", id,
             env->agent->action, env->agent->agent);
  if (*env->agent->conversation && !strstr(data, env->agent->conversation))
    fail_msg("%s: conversation \"%s\" changed", id, env->agent->conversation);
  const char *text = strstr(data, "\"text\":\"");
  if (text && strncmp(text + 8, env->agent->text, strlen(env->agent->text)) != 0)
    fail_msg("%s: text \"%s\" lost", id, env->agent->text);
  if (text && !*env->agent->text)
    fail_msg("%s: the reply's text was lost", id);
  sb_envelope_free(env);
}

/* A customer's message; its conversation, agent and suggested answer. */
static void message(const char *id, char *conv, char *agent, char *suggested) {
  sbctl_client_queue(
      sb_teststack_client(st),
      sb_teststack_message(st, TENANT, id, "webchat", id, MESSAGE));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  sb_envelope_t *env = sb_teststack_routed(st, TENANT, "/tests", id, WAIT_MS);
  assert_non_null(env);
  assert_non_null(env->classification);
  snprintf(conv, 128, "%s", env->conversation);
  snprintf(agent, 64, "%s", env->routing->agent);
  snprintf(suggested, 80, "%s", env->classification->suggested_reply);
  sb_envelope_free(env);
}

/* A field of the tenant's counts hash (route's), 0 when absent. */
static long long counted(const char *field) {
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, TENANT, "sugfb");
  redisReply *r =
      redisCommand(sb_teststack_redis(st), "HGET %s %s", key, field);
  assert_non_null(r);
  long long n = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return n;
}

/* classify's gauge of rejections as last read from Redis. */
static double classify_rejected(void) {
  char body[65536];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_CLASSIFY, "GET", "/metrics",
                                 NULL, NULL, 0, body, sizeof body);
  if (status != 200)
    return -1;
  const char *p = strstr(body, "\nsb_classify_suggestion_feedback{service="
                               "\"classify\",result=\"rejected\"}");
  return p ? atof(strchr(p, '}') + 1) : -1;
}

static void rejections_hand_the_tie_to_the_other_answer(void **state) {
  (void)state;
  const int OK = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  const int REJECTED = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED;
  char conv[128], agent[64], suggested[80], data[512], out[BODY_MAX];
  expect("login-ann", "login", "{\"agent\":\"ann\",\"capacity\":5}", OK,
         "logged_in", "");
  message("cust-1", conv, agent, suggested);
  assert_string_equal(agent, "ann");
  assert_string_equal(suggested,
                      "bag-a"); /* the tie goes to the earlier answer */

  /* ann turns it down three times; a re-posted event counts once */
  for (int i = 0; i < REJECTS; i++) {
    char id[32];
    snprintf(id, sizeof id, "no-%d", i);
    snprintf(data, sizeof data,
             "{\"agent\":\"ann\",\"conversation\":\"%s\",\"suggestion\":\"bag-"
             "a\",\"accepted\":false}",
             conv);
    expect(id, "suggestion", data, OK, "suggestion_rejected", "rejected");
  }
  assert_int_equal(post_agent("no-0", "suggestion", data, out),
                   200); /* duplicate */
  assert_int_equal(counted("r:bag-a"), REJECTS);

  /* what cannot count is refused with a reason, and counts nothing */
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"suggestion\":\"nope\","
           "\"accepted\":false}",
           conv);
  expect("unknown-1", "suggestion", data, REJECTED, "unknown_suggestion",
         "unknown_suggestion");
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"suggestion\":\"bag-"
           "b\",\"accepted\":false}",
           conv);
  expect("not-sugg-1", "suggestion", data, REJECTED, "not_suggested",
         "not_suggested");
  snprintf(data, sizeof data,
           "{\"agent\":\"zed\",\"conversation\":\"%s\",\"suggestion\":\"bag-"
           "a\",\"accepted\":false}",
           conv);
  expect("zed-1", "suggestion", data, REJECTED, "not_owner", "");
  snprintf(
      data, sizeof data,
      "{\"agent\":\"ann\",\"conversation\":\"%s\",\"suggestion\":\"bag-a\"}",
      conv);
  assert_int_equal(post_agent("bad-1", "suggestion", data, out), 400);
  assert_non_null(strstr(out, "accepted"));
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"suggestion\":\"bag "
           "a\",\"accepted\":true}",
           conv);
  assert_int_equal(post_agent("bad-2", "suggestion", data, out), 400);
  assert_int_equal(counted("r:bag-a"), REJECTS);
  assert_int_equal(counted("r:bag-b"), 0);
  assert_int_equal(counted("r:nope"), 0);

  /* a reply naming the answer it used is an accept; the reply stands */
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"text\":\"Here is the "
           "form.\","
           "\"suggestion\":\"bag-a\"}",
           conv);
  expect("reply-1", "reply", data, OK, "first_reply", "accepted");
  assert_int_equal(counted("a:bag-a"), 1);
  /* and one naming an answer never suggested here still goes to the customer */
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"text\":\"More.\","
           "\"suggestion\":\"refund\"}",
           conv);
  expect("reply-2", "reply", data, OK, "replied", "not_suggested");
  assert_int_equal(counted("a:refund"), 0);

  /* classify reads the counts back within a few refresh periods */
  int64_t deadline = sb_now_ms() + WAIT_MS;
  while (classify_rejected() < REJECTS && sb_now_ms() < deadline)
    usleep(50 * 1000);
  assert_true(classify_rejected() >= REJECTS);

  /* 2 * (1 + 1) / (1 + 3 + 2) = 0.67 of the tie score: the other answer wins */
  char conv2[128];
  message("cust-2", conv2, agent, suggested);
  assert_string_not_equal(conv2, conv);
  assert_string_equal(suggested, "bag-b");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rejections_hand_the_tie_to_the_other_answer),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
