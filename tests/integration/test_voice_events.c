/*
 * Voice / ACD events through a real stack: a call offered with IVR
 * selections becomes a voice conversation (its own, by call id) that route
 * assigns to an agent with voice capacity (channel_units voice = 2);
 * answered is the agent's first response (AGENT_REPLY: route marks
 * first_reply, sla-timer counts first response met); a second call
 * abandoned closes its conversation (AGENT_CLOSE, reason "abandoned"),
 * counted by route; a voice event naming no known call reaches no
 * conversation; a bad caller number is 400 with the field named; a caller
 * who hangs up while queued (abandoned, no agent) leaves the line and
 * its SLA clocks stop unjudged.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TENANTS                                                                                    \
  "{\"tenants\":[{\"id\":\"air\",\"sla\":{\"first_response_ms\":60000},"                           \
  "\"route\":{\"channel_units\":{\"voice\":2}}}]}"
#define OUT_MAX 8192

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

/* One CloudEvent (source /acd); the HTTP status; out holds the answer. */
static int event(const char *id, const char *type, const char *data, char *out) {
  char body[2048];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/acd\",\"type\":\"%s\","
           "\"tenant\":\"air\",\"data\":%s}",
           id, type, data);
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", NULL,
                                  "application/cloudevents+json", body, strlen(body), out, OUT_MAX);
}

static sb_envelope_t *routed(const char *id) {
  sb_envelope_t *env = sb_teststack_routed(st, "air", "/acd", id, 10000);
  assert_non_null(env);
  assert_non_null(env->routing);
  return env;
}

static void a_call_is_routed_answered_and_another_abandoned(void **state) {
  (void)state;
  char out[OUT_MAX], conv1[SB_EVENT_KEY_LEN + 1], conv2[SB_EVENT_KEY_LEN + 1];
  assert_int_equal(event("login-1", "com.switchboard.agent.login", "{\"agent\":\"ana\",\"capacity\":4}", out), 202);
  sb_envelope_free(routed("login-1"));
  assert_int_equal(event("off-1", "com.switchboard.voice.offered",
                         "{\"call\":\"call-1\",\"caller\":\"+33 1 23 45 67 89\",\"ivr\":[\"billing\",\"fr\"],"
                         "\"line\":\"+18005550100\"}",
                         out),
                   202);
  sb_envelope_t *env = routed("off-1");
  assert_int_equal(env->interaction->channel, SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE);
  assert_string_equal(env->interaction->customer, "+33123456789");
  assert_int_equal(env->interaction->n_ivr, 2);
  assert_string_equal(env->interaction->ivr[1], "fr");
  assert_int_equal(strncmp(env->interaction->customer_id, "cus_", 4), 0);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  assert_string_equal(env->routing->agent, "ana");
  snprintf(conv1, sizeof conv1, "%s", env->conversation);
  sb_envelope_free(env);

  assert_int_equal(event("ans-1", "com.switchboard.voice.answered", "{\"call\":\"call-1\",\"agent\":\"ana\"}", out),
                   202);
  env = routed("ans-1");
  assert_int_equal(env->agent->action, SWITCHBOARD__V1__AGENT_ACTION__AGENT_REPLY);
  assert_string_equal(env->agent->conversation, conv1);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK);
  assert_true(env->routing->first_reply);
  sb_envelope_free(env);

  /* a second call from someone else: its own conversation, then abandoned */
  assert_int_equal(event("off-2", "com.switchboard.voice.offered",
                         "{\"call\":\"call-2\",\"caller\":\"+4420 7946 0000\"}", out),
                   202);
  env = routed("off-2");
  snprintf(conv2, sizeof conv2, "%s", env->conversation);
  assert_string_not_equal(conv2, conv1);
  assert_string_equal(env->routing->agent, "ana");
  sb_envelope_free(env);
  assert_int_equal(event("ab-2", "com.switchboard.voice.abandoned", "{\"call\":\"call-2\",\"agent\":\"ana\"}", out),
                   202);
  env = routed("ab-2");
  assert_int_equal(env->agent->action, SWITCHBOARD__V1__AGENT_ACTION__AGENT_CLOSE);
  assert_string_equal(env->agent->reason, "abandoned");
  assert_string_equal(env->routing->reason, "closed");
  sb_envelope_free(env);
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:conv:%s state", conv2);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  assert_string_equal(r->str, "closed");
  freeReplyObject(r);

  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 0, 10000, &s), 0);
  assert_int_equal(s.sla_met, 1);   /* call 1's first response */
  assert_int_equal(s.closed, 1);    /* call 2 */
}

static void voice_events_refused_or_without_a_call(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(event("bad-1", "com.switchboard.voice.offered", "{\"call\":\"c9\",\"caller\":\"anonymous\"}", out),
                   400);
  assert_non_null(strstr(out, "caller"));
  assert_int_equal(event("ans-9", "com.switchboard.voice.answered", "{\"call\":\"never-offered\",\"agent\":\"ana\"}",
                         out),
                   202);
  sb_envelope_t *env = routed("ans-9");
  assert_string_equal(env->agent->conversation, "");
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED);
  sb_envelope_free(env);
}

static long long hexists(const char *key, const char *field) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HEXISTS %s %s", key, field);
  long long v = r->integer;
  freeReplyObject(r);
  return v;
}

/* A field of the tenant's stats hash, -1 when absent. */
static long long stat_of(const char *field) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:air}:stats %s", field);
  long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

/* A caller who hangs up while queued (abandoned naming no agent) leaves the
 * waiting line, and sla-timer stops its clocks without judging them; one
 * who hangs up while with an agent is closed as that agent's close. */
static void a_caller_who_hangs_up_while_queued_leaves_the_line(void **state) {
  (void)state;
  char out[OUT_MAX], conv3[SB_EVENT_KEY_LEN + 1], conv4[SB_EVENT_KEY_LEN + 1], field[80];
  /* ana has 2 of her 4 units left (call-1): call-3 takes them */
  assert_int_equal(event("off-3", "com.switchboard.voice.offered", "{\"call\":\"call-3\",\"caller\":\"+14155550103\"}",
                         out),
                   202);
  sb_envelope_t *env = routed("off-3");
  assert_string_equal(env->routing->agent, "ana");
  snprintf(conv3, sizeof conv3, "%s", env->conversation);
  sb_envelope_free(env);
  assert_int_equal(event("off-4", "com.switchboard.voice.offered", "{\"call\":\"call-4\",\"caller\":\"+14155550104\"}",
                         out),
                   202);
  env = routed("off-4");
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED);
  snprintf(conv4, sizeof conv4, "%s", env->conversation);
  sb_envelope_free(env);

  assert_int_equal(event("ab-4", "com.switchboard.voice.abandoned", "{\"call\":\"call-4\"}", out), 202);
  env = routed("ab-4");
  assert_string_equal(env->agent->agent, "");
  assert_string_equal(env->agent->conversation, conv4);
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK);
  assert_string_equal(env->routing->reason, "abandoned");
  sb_envelope_free(env);
  assert_int_equal(event("ab-3", "com.switchboard.voice.abandoned", "{\"call\":\"call-3\"}", out), 202);
  env = routed("ab-3");
  assert_int_equal(env->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK);
  assert_string_equal(env->routing->agent, "ana");
  assert_string_equal(env->routing->reason, "closed");
  sb_envelope_free(env);

  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 0, 10000, &s), 0);
  redisContext *rc = sb_teststack_redis(st);
  redisReply *r = redisCommand(rc, "HMGET sb:{t:air}:conv:%s state abandoned", conv4);
  assert_string_equal(r->element[0]->str, "closed");
  assert_string_equal(r->element[1]->str, "queued");
  freeReplyObject(r);
  assert_int_equal(stat_of("waiting"), 0);
  assert_int_equal(stat_of("abandoned_queued"), 1);
  assert_int_equal(stat_of("sla_abandoned"), 3); /* call-2 (first test), call-4, call-3 */
  /* no clock left running for either call, nothing judged met or missed */
  snprintf(field, sizeof field, "%s|first_response", conv4);
  assert_int_equal(hexists("sb:{t:air}:timers:open", field), 0);
  assert_int_equal(hexists("sb:{t:air}:sl:open", conv4), 0);
  snprintf(field, sizeof field, "%s|first_response", conv3);
  assert_int_equal(hexists("sb:{t:air}:timers:open", field), 0);
  assert_int_equal(s.sla_met, 1); /* still only call 1's */
  assert_int_equal(s.sla_missed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_call_is_routed_answered_and_another_abandoned),
      cmocka_unit_test(voice_events_refused_or_without_a_call),
      cmocka_unit_test(a_caller_who_hangs_up_while_queued_leaves_the_line),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
