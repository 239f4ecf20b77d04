/*
 * route.lua against a real redis-server: longest-idle assignment, the
 * queue, capacity, pulling on close, ownership, and idempotence by lease.
 * Calls are shaped exactly as sb_stage makes them (prelude + route.lua).
 */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_redisd.h"
#include "sb_route.h"
#include "sb_script.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "sb:{t:acme}:"

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script;
static int seq;

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  size_t a = strlen(sb_script_prelude), b = strlen(sb_script_route);
  script = malloc(a + b + 2);
  memcpy(script, sb_script_prelude, a);
  script[a] = '\n';
  memcpy(script + a + 1, sb_script_route, b + 1);
  return rc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  redisFree(rc);
  sb_redisd_stop(&redisd);
  free(script);
  return 0;
}

/* One item through route.lua; returns the decision (caller frees the
 * envelope) or NULL when the script reported a duplicate. */
static sb_envelope_t *route(const char *key, const char *e1, const char *e2, const char *e3,
                            const char *e4, const char *e5, int add_lease) {
  if (add_lease)
    freeReplyObject(redisCommand(rc, "ZADD " P "lease:route 1 %s", key));
  const char *argv[] = {"EVAL", script, "1", P "stats", "1700000000000000", "99", "route", "sla",
                        "routed", "5", "3600", key, "", e1, e2, e3, e4, e5};
  redisReply *r = redisCommandArgv(rc, 18, argv, NULL);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  const redisReply *item = r->element[0];
  sb_envelope_t *env = NULL;
  if (item->element[0]->integer == 1)
    env = sb_envelope_unpack(item->element[1]->str, item->element[1]->len);
  freeReplyObject(r);
  return env;
}

static sb_envelope_t *message(const char *conv, const char *customer) {
  char key[32];
  snprintf(key, sizeof key, "k%d", ++seq);
  return route(key, "m", conv, customer, "1000", "x", 1);
}

static sb_envelope_t *agent(const char *action, const char *who, const char *conv, const char *cap) {
  char key[32];
  snprintf(key, sizeof key, "k%d", ++seq);
  return route(key, "a", action, who, conv, cap, 1);
}

static long long hget(const char *key, const char *field) {
  redisReply *r = redisCommand(rc, "HGET %s %s", key, field);
  long long v = r->str ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

static void expect(sb_envelope_t *env, int outcome, const char *agent_name) {
  assert_non_null(env);
  assert_non_null(env->routing);
  assert_int_equal(env->routing->outcome, outcome);
  if (agent_name)
    assert_string_equal(env->routing->agent, agent_name);
  sb_envelope_free(env);
}

static void longest_idle_then_queue_then_pull_on_close(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  expect(agent("login", "ann", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  expect(agent("login", "bob", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "bob");
  /* both idle since the same ms: ZRANGE order decides; then the other */
  sb_envelope_t *first = message("c1", "x:u1");
  assert_true(first->routing->new_conversation);
  char a1[16];
  snprintf(a1, sizeof a1, "%s", first->routing->agent);
  expect(first, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, NULL);
  sb_envelope_t *second = message("c2", "x:u2");
  assert_string_not_equal(second->routing->agent, a1);
  expect(second, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, NULL);
  expect(message("c3", "x:u3"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  /* a follow-up on an open conversation goes to its agent */
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING, a1);
  /* closing frees capacity: the waiting conversation is pulled at once */
  sb_envelope_t *closed = agent("close", a1, "c1", "0");
  assert_int_equal(closed->routing->n_pulled, 1);
  assert_string_equal(closed->routing->pulled[0]->conversation, "c3");
  assert_string_equal(closed->routing->pulled[0]->agent, a1);
  expect(closed, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, a1);
  char ak[64];
  snprintf(ak, sizeof ak, P "agent:%s", a1);
  assert_int_equal(hget(ak, "free"), 0);
  redisReply *q = redisCommand(rc, "ZCARD " P "queue");
  assert_int_equal(q->integer, 0);
  freeReplyObject(q);
}

static void only_the_owner_may_act_on_a_conversation(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  expect(agent("login", "ann", "", "2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  expect(agent("login", "eve", "", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "eve");
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  sb_envelope_t *r = agent("reply", "eve", "c1", "0");
  assert_string_equal(r->routing->reason, "not_owner");
  expect(r, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "eve");
  expect(agent("close", "eve", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "eve");
  assert_int_equal(hget(P "agent:ann", "free"), 1); /* nothing changed */
  sb_envelope_t *reply = agent("reply", "ann", "c1", "0");
  assert_true(reply->routing->first_reply);
  expect(reply, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  reply = agent("reply", "ann", "c1", "0");
  assert_false(reply->routing->first_reply); /* only the first counts */
  expect(reply, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
}

static void a_resent_message_changes_nothing_twice(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  expect(agent("login", "ann", "", "5"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  sb_envelope_t *once = route("dup-1", "m", "c9", "x:u9", "1000", "x", 1);
  expect(once, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  /* the same key again, its lease already cleared: no effect */
  assert_null(route("dup-1", "m", "c9", "x:u9", "1000", "x", 0));
  assert_int_equal(hget(P "agent:ann", "free"), 4);
  assert_int_equal(hget(P "stats", "routed_messages"), 1);
  /* the effect recorded the next lease for sla-timer */
  redisReply *r = redisCommand(rc, "ZSCORE " P "lease:sla dup-1");
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  freeReplyObject(r);
}

static void capacity_is_never_exceeded(void **state) {
  (void)state;
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  expect(agent("login", "ann", "", "3"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  char conv[16], cust[16];
  int assigned = 0;
  for (int i = 0; i < 10; i++) {
    snprintf(conv, sizeof conv, "c%d", i);
    snprintf(cust, sizeof cust, "x:u%d", i);
    sb_envelope_t *e = message(conv, cust);
    assigned += e->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED;
    sb_envelope_free(e);
  }
  assert_int_equal(assigned, 3);
  assert_int_equal(hget(P "agent:ann", "free"), 0);
  /* logging in again with a larger capacity pulls the difference */
  sb_envelope_t *e = agent("login", "ann", "", "5");
  assert_int_equal(e->routing->n_pulled, 2);
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
}

/* Lua's unpack limit is a few thousand values and a script that fails
 * half-way keeps its writes: big batches must go through whole. */
static void a_hand_off_of_thousands_of_items_in_one_call_goes_through(void **state) {
  (void)state;
  enum { ITEMS = 5000, FIXED = 11 };
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  size_t a = strlen(sb_script_prelude), b = strlen(sb_script_handoff);
  char *src = malloc(a + b + 2);
  memcpy(src, sb_script_prelude, a);
  src[a] = '\n';
  memcpy(src + a + 1, sb_script_handoff, b + 1);
  const char **argv = calloc(FIXED + 2 * ITEMS, sizeof *argv);
  const char *fixed[FIXED] = {"EVAL", src, "1", P "stats", "1", "99", "in", "out", "seen", "0", "3600"};
  memcpy(argv, fixed, sizeof fixed);
  char(*keys)[16] = calloc(ITEMS, sizeof *keys);
  for (int i = 0; i < ITEMS; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    freeReplyObject(redisCommand(rc, "ZADD " P "lease:in 1 %s", keys[i]));
    argv[FIXED + 2 * i] = keys[i];
    argv[FIXED + 2 * i + 1] = "blob";
  }
  redisReply *r = redisCommandArgv(rc, FIXED + 2 * ITEMS, argv, NULL);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  assert_int_equal(r->elements, ITEMS);
  freeReplyObject(r);
  r = redisCommand(rc, "ZCARD " P "lease:out");
  assert_int_equal(r->integer, ITEMS);
  freeReplyObject(r);
  r = redisCommand(rc, "ZCARD " P "lease:in");
  assert_int_equal(r->integer, 0);
  freeReplyObject(r);
  free(keys);
  free(argv);
  free(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(longest_idle_then_queue_then_pull_on_close),
      cmocka_unit_test(only_the_owner_may_act_on_a_conversation),
      cmocka_unit_test(a_resent_message_changes_nothing_twice),
      cmocka_unit_test(capacity_is_never_exceeded),
      cmocka_unit_test(a_hand_off_of_thousands_of_items_in_one_call_goes_through),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
