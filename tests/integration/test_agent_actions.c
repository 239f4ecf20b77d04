/*
 * test_agent_actions: every agent action an agent desktop can post on
 * POST /v1/agent-events reaches route and gets its decision: status
 * (presence, and a conversation's own state that pauses its SLA clocks),
 * transfer and reject, besides login/accept/reply/close; a reply keeps its
 * text (for notify to send to the customer), redacted before it is stored. Each is checked on
 * the decision route stored with the event; malformed ones are refused at
 * the door with a 400 that says why, and nothing is stored.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TENANT "desk"
#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"" TENANT "\",\"route\":{\"queues\":[{\"id\":\"general\"},"              \
  "{\"id\":\"vip\"}],\"default_queue\":\"general\"}}]}"
#define WAIT_MS 10000
#define BODY_MAX 4096

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static sb_envelope_t *decided(const char *source, const char *id, int wait_ms) {
  return sb_teststack_routed(st, TENANT, source, id, wait_ms);
}

/* POSTs one agent event; data is the JSON of its "data" member. */
static int post_agent(const char *id, const char *action, const char *data, char *out) {
  char body[BODY_MAX];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/desk\",\"type\":\"%s%s\","
           "\"tenant\":\"" TENANT "\",\"data\":%s}",
           id, SB_TYPE_AGENT_PREFIX, action, data);
  return sb_teststack_http(st, SB_PORT_INGEST_HTTP, "POST", "/v1/agent-events",
                           "application/cloudevents+json", body, strlen(body), out, BODY_MAX);
}

/* The door answers 202 once the event is durable (200 for a duplicate). */
static int accepted(int status) { return status == 202 || status == 200; }

/* Posts an agent event and checks route's decision (outcome, reason). */
static void expect(const char *id, const char *action, const char *data, int outcome, const char *reason) {
  char out[BODY_MAX];
  int status = post_agent(id, action, data, out);
  if (!accepted(status))
    fail_msg("%s: HTTP %d %s", id, status, out);
  sb_envelope_t *env = decided("/desk", id, WAIT_MS);
  assert_non_null(env);
  if ((int)env->routing->outcome != outcome || strcmp(env->routing->reason, reason) != 0)
    fail_msg("%s: outcome %d reason \"%s\", want %d \"%s\"", id, env->routing->outcome,
             env->routing->reason, outcome, reason);
  sb_envelope_free(env);
}

static void refused(const char *id, const char *action, const char *data, const char *why) {
  char out[BODY_MAX];
  assert_int_equal(post_agent(id, action, data, out), 400);
  if (!strstr(out, why))
    fail_msg("%s: \"%s\" does not say \"%s\"", id, out, why);
  sb_envelope_t *env = decided("/desk", id, 300);
  assert_null(env); /* nothing stored */
}

/* A new customer's message; returns its conversation and the agent it went to. */
static void new_conversation(const char *id, char *conv, size_t cap, char *agent, size_t acap) {
  sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, TENANT, id, "webchat", id, "hello"));
  assert_int_equal(sb_teststack_publish_all(st, WAIT_MS), 0);
  sb_envelope_t *env = decided("/tests", id, WAIT_MS);
  assert_non_null(env);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  snprintf(conv, cap, "%s", env->conversation);
  snprintf(agent, acap, "%s", env->routing->agent);
  sb_envelope_free(env);
}

static void status_transfer_and_reject_reach_route(void **state) {
  (void)state;
  const int OK = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  const int REJECTED = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED;
  expect("login-ann", "login", "{\"agent\":\"ann\",\"capacity\":3}", OK, "logged_in");
  char conv[128], owner[64], data[512];
  new_conversation("cust-1", conv, sizeof conv, owner, sizeof owner);
  assert_string_equal(owner, "ann");

  /* the conversation's own state, by its owner only */
  snprintf(data, sizeof data, "{\"agent\":\"ann\",\"conversation\":\"%s\",\"status\":\"pending_customer\"}", conv);
  expect("hold-1", "status", data, OK, "conversation_pending_customer");
  snprintf(data, sizeof data, "{\"agent\":\"ann\",\"conversation\":\"%s\",\"status\":\"open\"}", conv);
  expect("open-1", "status", data, OK, "conversation_open");
  snprintf(data, sizeof data, "{\"agent\":\"zed\",\"conversation\":\"%s\",\"status\":\"on_hold\"}", conv);
  expect("hold-2", "status", data, REJECTED, "not_owner");

  /* a reply keeps its text for the customer, redacted before it is stored */
  snprintf(data, sizeof data,
           "{\"agent\":\"ann\",\"conversation\":\"%s\",\"text\":\"Refund sent to card 4111 1111 1111 1111.\"}",
           conv);
  expect("reply-1", "reply", data, OK, "first_reply");
  sb_envelope_t *reply = decided("/desk", "reply-1", WAIT_MS);
  assert_non_null(reply);
  assert_int_equal(reply->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_AGENT);
  assert_non_null(strstr(reply->agent->text, "Refund sent to card [CARD]"));
  assert_null(strstr(reply->agent->text, "4111"));
  sb_envelope_free(reply);

  /* presence */
  expect("login-bob", "login", "{\"agent\":\"bob\",\"capacity\":3}", OK, "logged_in");
  expect("away-bob", "status", "{\"agent\":\"bob\",\"status\":\"away\",\"reason\":\"lunch\"}", OK, "status_away");
  expect("back-bob", "status", "{\"agent\":\"bob\",\"status\":\"available\"}", OK, "status_available");

  /* transfer to another agent, then to a queue */
  snprintf(data, sizeof data, "{\"agent\":\"ann\",\"conversation\":\"%s\",\"to_agent\":\"bob\"}", conv);
  char out[BODY_MAX];
  assert_true(accepted(post_agent("xfer-1", "transfer", data, out)));
  sb_envelope_t *env = decided("/desk", "xfer-1", WAIT_MS);
  assert_non_null(env);
  assert_int_not_equal(env->routing->outcome, REJECTED);
  sb_envelope_free(env);
  /* ann no longer owns it: her reply is refused, bob's is taken */
  snprintf(data, sizeof data, "{\"agent\":\"ann\",\"conversation\":\"%s\"}", conv);
  expect("reply-ann", "reply", data, REJECTED, "not_owner");
  snprintf(data, sizeof data, "{\"agent\":\"bob\",\"conversation\":\"%s\",\"queue\":\"vip\"}", conv);
  assert_true(accepted(post_agent("xfer-2", "transfer", data, out)));
  env = decided("/desk", "xfer-2", WAIT_MS);
  assert_non_null(env);
  assert_int_not_equal(env->routing->outcome, REJECTED);
  sb_envelope_free(env);

  /* reject of something that is not an offer */
  char conv2[128], owner2[64];
  new_conversation("cust-2", conv2, sizeof conv2, owner2, sizeof owner2);
  snprintf(data, sizeof data, "{\"agent\":\"%s\",\"conversation\":\"%s\"}", owner2, conv2);
  expect("reject-1", "reject", data, REJECTED, "not_an_offer");
}

static void malformed_agent_events_are_refused_at_the_door(void **state) {
  (void)state;
  refused("bad-1", "status", "{\"agent\":\"ann\",\"status\":\"lunch\"}", "status");
  refused("bad-2", "status", "{\"agent\":\"ann\",\"status\":\"on_hold\"}", "conversation");
  refused("bad-3", "transfer", "{\"agent\":\"ann\",\"conversation\":\"c\"}", "queue");
  refused("bad-4", "reject", "{\"agent\":\"ann\"}", "conversation");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_transfer_and_reject_reach_route),
      cmocka_unit_test(malformed_agent_events_are_refused_at_the_door),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
