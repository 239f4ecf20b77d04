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
#include "sb_stage.h"
#include "sbctl_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "sb:{t:acme}:"

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script, *tick_script;
static int seq;
static sb_route_config_t *cfg; /* the tenant's routing configuration */

static int setup(void **state) {
  (void)state;
  redisd = sb_redisd_start(NULL);
  rc = redisd ? sbctl_view_connect(sb_redisd_url(redisd)) : NULL;
  char *body = sb_route_script(sb_script_route);
  script = sb_script_source(body);
  free(body);
  body = sb_route_script(sb_script_route_tick);
  tick_script = sb_script_source(body);
  free(body);
  return rc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  redisFree(rc);
  sb_redisd_stop(&redisd);
  sb_route_config_destroy(&cfg);
  free(script);
  free(tick_script);
  return 0;
}

/* The test's clock: every call is 1 ms after the one before, so that
 * "longest idle" has something to order by. */
static long long clock_us = 1700000000000000LL;

/* One item through route.lua (10 extra arguments); returns the decision
 * (caller frees the envelope) or NULL when the script reported a
 * duplicate. */
static sb_envelope_t *route(const char *key, const char *const extra[10], int add_lease) {
  if (add_lease)
    freeReplyObject(redisCommand(rc, "ZADD " P "lease:route 1 %s", key));
  char now[32];
  clock_us += 1000;
  snprintf(now, sizeof now, "%lld", clock_us);
  const char *argv[23] = {"EVAL", script, "1", P "stats", now, "99", "route", "sla",
                          "routed", "10", "3600", key, ""};
  memcpy(argv + 13, extra, 10 * sizeof *extra);
  redisReply *r = redisCommandArgv(rc, 23, argv, NULL);
  if (r->type != REDIS_REPLY_ARRAY)
    fail_msg("route.lua: %s", r->str ? r->str : "?");
  const redisReply *suffix = sb_stage_reply_suffix(r->element[0]);
  sb_envelope_t *env = NULL;
  if (suffix)
    env = sb_envelope_unpack(suffix->str, suffix->len);
  freeReplyObject(r);
  return env;
}

static void configure(const char *json) {
  sb_tenant_t t = {.id = "acme"};
  char err[256] = "";
  sb_route_config_destroy(&cfg);
  cfg = sb_route_config_new(&t, json, err, sizeof err);
  if (!cfg)
    fail_msg("config: %s", err);
}

/* A customer message routed by the configuration's rules on env's
 * classification (language, priority, pii). */
static sb_envelope_t *message_with(const char *conv, const char *customer, const char *lang,
                                   int priority, const char *pii, Switchboard__V1__Channel ch) {
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Classification cl = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  Switchboard__V1__PiiFound found = SWITCHBOARD__V1__PII_FOUND__INIT, *fp = &found;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.channel = ch;
  env.interaction = &in;
  env.classification = &cl;
  cl.language = (char *)lang;
  cl.priority = priority;
  if (pii) {
    found.type = (char *)pii;
    found.count = 1;
    cl.pii = &fp;
    cl.n_pii = 1;
  }
  sb_route_target_t t = sb_route_config_match(cfg, &env);
  char key[32], prio[8], units[8];
  snprintf(key, sizeof key, "k%d", ++seq);
  snprintf(prio, sizeof prio, "%d", t.priority);
  snprintf(units, sizeof units, "%d", t.units);
  const char *extra[10] = {"m", conv, customer, "1000", sb_channel_name(ch), t.queue_spec, prio,
                           units, t.rule, sb_route_config_windows(cfg)};
  return route(key, extra, 1);
}

static sb_envelope_t *message(const char *conv, const char *customer) {
  return message_with(conv, customer, "en", 0, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_X);
}

static sb_envelope_t *agent_event(const char *action, const char *who, const char *conv,
                                  const char *cap, const char *tq, const char *ta,
                                  const char *status) {
  char key[32];
  snprintf(key, sizeof key, "k%d", ++seq);
  const char *tqspec = strcmp(action, "reject") == 0 ? sb_route_config_all_specs(cfg)
                       : tq                           ? sb_route_config_queue_spec(cfg, tq)
                                                      : "";
  const char *extra[10] = {"a", action, who, conv, cap,
                           strcmp(action, "login") == 0    ? sb_route_config_agent_spec(cfg, who)
                           : strcmp(action, "logout") == 0 ? sb_route_config_windows(cfg)
                                                           : "",
                           tqspec ? tqspec : "", ta ? ta : "", status ? status : "", ""};
  return route(key, extra, 1);
}

static sb_envelope_t *agent(const char *action, const char *who, const char *conv, const char *cap) {
  return agent_event(action, who, conv, cap, NULL, NULL, NULL);
}

/* A fresh Redis and this routing configuration (NULL: the default). */
static void fresh(const char *json) {
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  configure(json);
}

static long long zcard(const char *key) {
  redisReply *r = redisCommand(rc, "ZCARD %s", key);
  long long n = r->integer;
  freeReplyObject(r);
  return n;
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
  fresh(NULL);
  expect(agent("login", "ann", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  expect(agent("login", "bob", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "bob");
  /* ann has waited longer (logged in first), then bob */
  const char *a1 = "ann";
  sb_envelope_t *first = message("c1", "x:u1");
  assert_true(first->routing->new_conversation);
  assert_string_equal(first->routing->queue, "default");
  assert_string_equal(first->routing->strategy, "longest_idle");
  expect(first, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, a1);
  expect(message("c2", "x:u2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "bob");
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
  assert_int_equal(zcard(P "q:default:wait"), 0);
  assert_int_equal(hget(P "stats", "waiting"), 0);
}

static void only_the_owner_may_act_on_a_conversation(void **state) {
  (void)state;
  fresh(NULL);
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
  fresh(NULL);
  expect(agent("login", "ann", "", "5"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  const char *extra[10] = {"m", "c9", "x:u9", "1000", "x", sb_route_config_queue_spec(cfg, "default"),
                           "0", "1", "default", "0|0"};
  sb_envelope_t *once = route("dup-1", extra, 1);
  expect(once, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  /* the same key again, its lease already cleared: no effect */
  assert_null(route("dup-1", extra, 0));
  assert_int_equal(hget(P "agent:ann", "free"), 4);
  assert_int_equal(hget(P "stats", "routed_messages"), 1);
  /* the effect recorded the next lease for sla-timer */
  redisReply *r = redisCommand(rc, "ZSCORE " P "lease:sla dup-1");
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  freeReplyObject(r);
}

static void capacity_is_never_exceeded(void **state) {
  (void)state;
  fresh(NULL);
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

static const char *const SKILLS =
    "{\"queues\": [{\"id\": \"fr\", \"skills\": {\"lang:fr\": 2}},"
    "              {\"id\": \"pci\", \"skills\": {\"pci\": 1}},"
    "              {\"id\": \"general\"}],"
    " \"rules\": [{\"name\": \"cards\", \"if\": {\"pii\": [\"card\"]}, \"queue\": \"pci\"},"
    "             {\"name\": \"french\", \"if\": {\"language\": [\"fr\"]}, \"queue\": \"fr\"}],"
    " \"default_queue\": \"general\","
    " \"agents\": [{\"id\": \"amelie\", \"skills\": {\"lang:fr\": 3}},"
    "            {\"id\": \"bruno\", \"skills\": {\"lang:fr\": 1, \"pci\": 1}}]}";

static void rules_choose_the_queue_and_skills_choose_the_agents(void **state) {
  (void)state;
  fresh(SKILLS);
  expect(agent("login", "bruno", "", "3"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, NULL);
  /* bruno's French is level 1, the queue asks 2: the message waits */
  sb_envelope_t *e = message_with("c1", "x:u1", "fr", 0, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_X);
  assert_string_equal(e->routing->queue, "fr");
  assert_string_equal(e->routing->rule, "french");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  /* a card number goes to the PCI queue, which bruno is trained for */
  e = message_with("c2", "x:u2", "fr", 0, "card", SWITCHBOARD__V1__CHANNEL__CHANNEL_X);
  assert_string_equal(e->routing->queue, "pci");
  assert_string_equal(e->routing->rule, "cards");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "bruno");
  /* amelie qualifies for fr (and general, which asks nothing): her login
   * pulls the waiting French conversation */
  e = agent("login", "amelie", "", "3");
  assert_int_equal(e->routing->n_pulled, 1);
  assert_string_equal(e->routing->pulled[0]->conversation, "c1");
  assert_string_equal(e->routing->pulled[0]->queue, "fr");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "amelie");
  /* an agent outside the roster has no skills: general only */
  expect(agent("login", "zoe", "", "3"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, NULL);
  assert_int_equal(zcard(P "q:pci:agents"), 1);
  assert_int_equal(zcard(P "q:general:agents"), 3);
  assert_int_equal(zcard(P "q:fr:agents"), 1);
}

/* The agent each strategy picks among three with different idle times,
 * loads and skill levels. */
static const char *pick_with(const char *strategy) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"queues\": [{\"id\": \"q\", \"strategy\": \"%s\", \"skills\": {\"billing\": 1}}],"
           " \"agents\": [{\"id\": \"a1\", \"skills\": {\"billing\": 1}},"
           "            {\"id\": \"a2\", \"skills\": {\"billing\": 5}},"
           "            {\"id\": \"a3\", \"skills\": {\"billing\": 3}}]}",
           strategy);
  fresh(json);
  /* a1 idle longest, with 1 of 4 units busy; a2 2 of 4 busy; a3 idle */
  sb_envelope_free(agent("login", "a1", "", "4"));
  sb_envelope_free(agent("login", "a2", "", "4"));
  sb_envelope_free(agent("login", "a3", "", "4"));
  freeReplyObject(redisCommand(rc, "HSET " P "agent:a1 free 3 last_ms 1700000001000"));
  freeReplyObject(redisCommand(rc, "HSET " P "agent:a2 free 2 last_ms 1700000002000"));
  freeReplyObject(redisCommand(rc, "HSET " P "agent:a3 free 4 last_ms 1700000003000"));
  for (int i = 1; i <= 3; i++) { /* re-rank with those loads */
    char a[4];
    snprintf(a, sizeof a, "a%d", i);
    sb_envelope_free(agent_event("status", a, "", "0", NULL, NULL, "available"));
  }
  static char chosen[16];
  sb_envelope_t *e = message("c1", "x:u1");
  assert_int_equal(e->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  assert_string_equal(e->routing->strategy, strategy);
  assert_true(e->routing->n_candidates >= 1);
  assert_string_equal(e->routing->candidates[0]->verdict, "chosen");
  /* each candidate's score is its rank key in the queue: idle since
   * (last_ms - 2017) and, for least_occupied, the load in per mille above
   * bit 40 (a lossy encoding of large scores would show here) */
  static const uint64_t free_units[] = {3, 2, 4};
  for (size_t k = 0; k < e->routing->n_candidates; k++) {
    const Switchboard__V1__Candidate *c = e->routing->candidates[k];
    int i = c->agent[1] - '0';
    uint64_t idle = 200000000000ull + (uint64_t)i * 1000;
    if (!strcmp(strategy, "longest_idle") || !strcmp(strategy, "sticky"))
      assert_int_equal(c->score, idle);
    else if (!strcmp(strategy, "least_occupied"))
      assert_int_equal(c->score, (4 - free_units[i - 1]) * 1000 / 4 * (1ull << 40) + idle);
  }
  snprintf(chosen, sizeof chosen, "%s", e->routing->agent);
  sb_envelope_free(e);
  return chosen;
}

static void each_strategy_picks_its_own_agent(void **state) {
  (void)state;
  /* a1 idle longest (1/4 busy), a2 most skilled (2/4 busy), a3 least busy */
  assert_string_equal(pick_with("longest_idle"), "a1");
  assert_string_equal(pick_with("least_occupied"), "a3");
  assert_string_equal(pick_with("best_skill"), "a2");
  assert_string_equal(pick_with("round_robin"), "a1");
}

static void round_robin_takes_turns_in_a_fixed_order(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"q\", \"strategy\": \"round_robin\"}]}");
  const char *names[] = {"c", "a", "b"};
  for (int i = 0; i < 3; i++)
    sb_envelope_free(agent("login", names[i], "", "10"));
  const char *want = "abcabca";
  for (int i = 0; want[i]; i++) {
    char conv[16], cust[16], who[2] = {want[i], 0};
    snprintf(conv, sizeof conv, "c%d", i);
    snprintf(cust, sizeof cust, "x:u%d", i);
    expect(message(conv, cust), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, who);
  }
}

static void capacity_is_counted_in_units_per_channel(void **state) {
  (void)state;
  fresh("{\"channel_units\": {\"voice\": 15, \"email\": 3, \"messenger\": 5}}");
  expect(agent("login", "ann", "", "15"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  int emails = 0;
  for (int i = 0; i < 7; i++) {
    char conv[16], cust[16];
    snprintf(conv, sizeof conv, "e%d", i);
    snprintf(cust, sizeof cust, "email:%d", i);
    sb_envelope_t *e = message_with(conv, cust, "en", 0, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL);
    emails += e->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED;
    sb_envelope_free(e);
  }
  assert_int_equal(emails, 5); /* 5 e-mails of 3 units fill 15 */
  assert_int_equal(hget(P "agent:ann", "free"), 0);
  expect(agent("close", "ann", "e0", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  /* the close pulled the next waiting e-mail: still full */
  assert_int_equal(hget(P "agent:ann", "free"), 0);
  /* a call needs all 15 units: it waits behind the open e-mails */
  sb_envelope_t *call = message_with("v1", "voice:1", "en", 0, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE);
  expect(call, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  assert_int_equal(hget(P "agent:ann", "free"), 0);
  /* closing one e-mail frees 3 units, not the 15 the call needs: the
   * waiting e-mail takes them, the call keeps waiting */
  expect(agent("close", "ann", "e1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  assert_int_equal(hget(P "agent:ann", "free"), 0);
  redisReply *st = redisCommand(rc, "HGET " P "conv:v1 state");
  assert_string_equal(st->str, "queued");
  freeReplyObject(st);
}

static void the_most_urgent_waiting_conversation_is_pulled_first(void **state) {
  (void)state;
  fresh(NULL);
  expect(message_with("old", "x:1", "en", 10, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_X),
         SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  expect(message_with("urgent", "x:2", "en", 90, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_X),
         SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  expect(message_with("older", "x:3", "en", 10, NULL, SWITCHBOARD__V1__CHANNEL__CHANNEL_X),
         SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  assert_int_equal(hget(P "stats", "waiting"), 3);
  sb_envelope_t *e = agent("login", "ann", "", "2");
  assert_int_equal(e->routing->n_pulled, 2);
  assert_string_equal(e->routing->pulled[0]->conversation, "urgent");
  /* same priority: the one that started first (all at 1000 ms here, so
   * by member order) */
  assert_string_equal(e->routing->pulled[1]->conversation, "old");
  sb_envelope_free(e);
  assert_int_equal(hget(P "stats", "waiting"), 1);
}

static void a_fairness_window_caps_assignments_per_agent(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"q\", \"strategy\": \"best_skill\", \"skills\": {\"s\": 1},"
        " \"fairness\": {\"max\": 2, \"period_s\": 3600}}],"
        " \"agents\": [{\"id\": \"star\", \"skills\": {\"s\": 9}}, {\"id\": \"rest\", \"skills\": {\"s\": 1}}]}");
  sb_envelope_free(agent("login", "star", "", "10"));
  sb_envelope_free(agent("login", "rest", "", "10"));
  expect(message("c1", "x:1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "star");
  expect(message("c2", "x:2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "star");
  sb_envelope_t *e = message("c3", "x:3");
  assert_string_equal(e->routing->candidates[0]->agent, "star");
  assert_string_equal(e->routing->candidates[0]->verdict, "fairness_cap");
  assert_string_equal(e->routing->candidates[1]->verdict, "chosen");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "rest");
}

static void a_reopened_conversation_goes_back_to_the_same_agent(void **state) {
  (void)state;
  fresh(NULL);
  sb_envelope_free(agent("login", "ann", "", "3"));
  sb_envelope_free(agent("login", "bob", "", "3"));
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  expect(agent("close", "ann", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  /* bob has now waited longest, but the customer writes again */
  sb_envelope_t *e = message("c1-again", "x:u1");
  assert_string_equal(e->routing->reason, "reopened_same_agent");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  expect(message("c2", "x:u2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "bob");
}

static void away_agents_get_nothing_and_pull_when_back(void **state) {
  (void)state;
  fresh(NULL);
  sb_envelope_free(agent("login", "ann", "", "3"));
  expect(agent_event("status", "ann", "", "0", NULL, NULL, "away"),
         SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  sb_envelope_t *e = agent_event("status", "ann", "", "0", NULL, NULL, "available");
  assert_int_equal(e->routing->n_pulled, 1);
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  sb_envelope_t *r = agent_event("status", "ghost", "", "0", NULL, NULL, "away");
  assert_string_equal(r->routing->reason, "unknown_agent");
  expect(r, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "ghost");
  assert_int_equal(hget(P "agent:ghost", "cap"), -1); /* left no trace */
}

static void transfers_move_ownership_and_capacity(void **state) {
  (void)state;
  fresh(SKILLS);
  sb_envelope_free(agent("login", "bruno", "", "1"));
  sb_envelope_free(agent("login", "zoe", "", "1"));
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "bruno");
  /* to an agent who is full: rejected, nothing moves */
  expect(message("c2", "x:u2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "zoe");
  sb_envelope_t *r = agent_event("transfer", "bruno", "c1", "0", NULL, "zoe", NULL);
  assert_string_equal(r->routing->reason, "target_agent_unavailable");
  expect(r, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "bruno");
  assert_int_equal(hget(P "agent:bruno", "free"), 0);
  /* to the French queue: nobody qualified is free, it waits there, and
   * bruno's freed unit pulls nothing (general is empty) */
  sb_envelope_t *e = agent_event("transfer", "bruno", "c1", "0", "fr", NULL, NULL);
  assert_string_equal(e->routing->reason, "transferred_queued");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "bruno");
  assert_int_equal(hget(P "agent:bruno", "free"), 1);
  assert_int_equal(zcard(P "q:fr:wait"), 1);
  /* bruno no longer owns it */
  expect(agent("reply", "bruno", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "bruno");
  /* amelie logs in and pulls it */
  e = agent("login", "amelie", "", "2");
  assert_int_equal(e->routing->n_pulled, 1);
  sb_envelope_free(e);
  /* and hands it to bruno directly */
  e = agent_event("transfer", "amelie", "c1", "0", NULL, "bruno", NULL);
  assert_int_equal(e->routing->n_pulled, 1);
  assert_string_equal(e->routing->pulled[0]->agent, "bruno");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "amelie");
  expect(agent("reply", "bruno", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "bruno");
  assert_int_equal(hget(P "agent:amelie", "free"), 2);
  assert_int_equal(hget(P "agent:bruno", "free"), 0);
}

/* route_tick.lua at now + ahead_ms: expired offers move on. Returns the
 * reply (caller frees). */
static redisReply *tick(long long ahead_ms) {
  char now[32];
  snprintf(now, sizeof now, "%lld", clock_us + ahead_ms * 1000);
  const char *argv[] = {"EVAL", tick_script, "1", P "stats", now, "99999999999999", "100", "acme",
                        sb_route_config_all_specs(cfg), "sla", "3600"};
  redisReply *r = redisCommandArgv(rc, 11, argv, NULL);
  if (r->type != REDIS_REPLY_ARRAY)
    fail_msg("route_tick.lua: %s", r->str ? r->str : "?");
  return r;
}

static void offers_move_on_until_accepted(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"chat\", \"skills\": {\"chat\": 1},"
        "  \"offer\": {\"timeout_s\": 1, \"hops\": 2, \"away_on_timeout\": true, \"fallback\": \"backup\"}},"
        " {\"id\": \"backup\"}],"
        " \"agents\": [{\"id\": \"a1\", \"skills\": {\"chat\": 1}}, {\"id\": \"a2\", \"skills\": {\"chat\": 1}}]}");
  sb_envelope_free(agent("login", "a1", "", "1"));
  sb_envelope_free(agent("login", "a2", "", "1"));
  /* an offer, not yet an assignment: it holds a1's unit and has a deadline */
  sb_envelope_t *e = message("c1", "x:u1");
  assert_true(e->routing->offer_expires_ms > 0);
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "a1");
  assert_int_equal(hget(P "agent:a1", "free"), 0);
  assert_int_equal(zcard(P "offers"), 1);
  /* a1 declines: offered to a2 at once, a1 gets its unit back */
  e = agent("reject", "a1", "c1", "0");
  assert_string_equal(e->routing->reason, "reoffer_after_rejected");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "a2");
  assert_int_equal(hget(P "agent:a1", "free"), 1);
  /* a1 may no longer act on it */
  expect(agent("accept", "a1", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "a1");
  /* nothing is due yet */
  redisReply *r = tick(0);
  assert_int_equal(r->elements, 1);
  freeReplyObject(r);
  /* a2 lets it time out: two offers made, so it falls back to "backup",
   * where a1 (never offered there) gets it; a2 is set away */
  r = tick(5000);
  assert_int_equal(r->elements, 2);
  sb_envelope_t *d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_non_null(d);
  assert_string_equal(d->routing->reason, "fallback_after_timeout");
  assert_string_equal(d->routing->queue, "backup");
  assert_string_equal(d->routing->agent, "a1");
  assert_string_equal(d->tenant, "acme");
  assert_int_equal(strlen(d->key), SB_EVENT_KEY_LEN);
  /* stored with its lease for sla-timer, like any decision */
  char key[80];
  snprintf(key, sizeof key, P "lease:sla");
  r = redisCommand(rc, "ZSCORE %s %s", key, d->key);
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  freeReplyObject(r);
  sb_envelope_free(d);
  r = redisCommand(rc, "HMGET " P "agent:a2 status reason");
  assert_string_equal(r->element[0]->str, "away");
  assert_string_equal(r->element[1]->str, "offer_timeout");
  freeReplyObject(r);
  assert_int_equal(hget(P "agent:a2", "free"), 1);
  assert_int_equal(hget(P "stats", "offer_timeout"), 1);
  /* a1 accepts: an assignment now, no longer an offer */
  expect(agent("accept", "a1", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "a1");
  assert_int_equal(zcard(P "offers"), 0);
  r = tick(10000);
  assert_int_equal(r->elements, 1); /* nothing expires after the accept */
  freeReplyObject(r);
  expect(agent("reply", "a1", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "a1");
  /* reject of something that is not an offer */
  sb_envelope_t *bad = agent("reject", "a1", "c1", "0");
  assert_string_equal(bad->routing->reason, "not_an_offer");
  expect(bad, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "a1");
}

/* voice.abandoned ("abandon"): the caller hung up. Queued: it leaves its
 * line; offered: the agent gets its unit back and pulls what waits;
 * assigned: closed by its owner, whichever agent the ACD named; already
 * closed or no conversation: rejected, nothing changes. */
static void a_caller_who_hangs_up_ends_the_call_in_any_state(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"chat\", \"skills\": {\"chat\": 1}, \"offer\": {\"timeout_s\": 30}}],"
        " \"agents\": [{\"id\": \"a1\", \"skills\": {\"chat\": 1}}]}");
  sb_envelope_free(agent("login", "a1", "", "1"));
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "a1"); /* offered */
  expect(message("c2", "x:u2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  expect(message("c3", "x:u3"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  assert_int_equal(hget(P "stats", "waiting"), 2);
  /* queued: out of the line (c2 was first in it) */
  sb_envelope_t *e = agent("abandon", "", "c2", "0");
  assert_string_equal(e->routing->reason, "abandoned");
  assert_string_equal(e->routing->conversation, "c2");
  assert_int_equal(e->routing->n_pulled, 0);
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "");
  assert_int_equal(zcard(P "q:chat:wait"), 1);
  assert_int_equal(hget(P "stats", "waiting"), 1);
  redisReply *r = redisCommand(rc, "HMGET " P "conv:c2 state abandoned agent");
  assert_string_equal(r->element[0]->str, "closed");
  assert_string_equal(r->element[1]->str, "queued");
  assert_string_equal(r->element[2]->str, "");
  freeReplyObject(r);
  /* offered: a1's unit comes back and pulls c3, not the abandoned c2 */
  e = agent("abandon", "", "c1", "0");
  assert_string_equal(e->routing->reason, "abandoned");
  assert_int_equal(e->routing->n_pulled, 1);
  assert_string_equal(e->routing->pulled[0]->conversation, "c3");
  assert_string_equal(e->routing->pulled[0]->agent, "a1");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "");
  assert_int_equal(zcard(P "offers"), 1); /* c3's offer, not c1's */
  r = redisCommand(rc, "ZSCORE " P "offers c1");
  assert_int_equal(r->type, REDIS_REPLY_NIL);
  freeReplyObject(r);
  assert_int_equal(zcard(P "q:chat:wait"), 0);
  assert_int_equal(hget(P "stats", "waiting"), 0);
  assert_int_equal(hget(P "agent:a1", "free"), 0);
  /* assigned: closed as its owner's close, though the ACD names another */
  expect(agent("accept", "a1", "c3", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "a1");
  e = agent("abandon", "zed", "c3", "0");
  assert_string_equal(e->routing->reason, "closed");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "a1");
  assert_int_equal(hget(P "agent:a1", "free"), 1);
  r = redisCommand(rc, "GET " P "last:x:u3");
  assert_non_null(strstr(r->str, "a1|"));
  freeReplyObject(r);
  r = redisCommand(rc, "EXISTS " P "last:x:u1");
  assert_int_equal(r->integer, 0); /* no agent served u1 */
  freeReplyObject(r);
  /* twice, or no conversation: rejected */
  e = agent("abandon", "", "c2", "0");
  assert_string_equal(e->routing->reason, "not_open");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, NULL);
  expect(agent("abandon", "", "", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, NULL);
  assert_int_equal(hget(P "stats", "abandoned_queued"), 1);
  assert_int_equal(hget(P "stats", "abandoned_offered"), 1);
  assert_int_equal(hget(P "stats", "closed"), 1);
  assert_int_equal(hget(P "agent:a1", "free"), 1);
}

static void a_long_wait_overflows_then_diverts(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"first\", \"skills\": {\"x\": 1},"
        "  \"max_wait\": {\"after_s\": 60, \"then\": \"second\"}},"
        " {\"id\": \"second\", \"skills\": {\"y\": 1}, \"max_wait\": {\"after_s\": 30, \"then\": \"callback\"}}],"
        " \"agents\": [{\"id\": \"yves\", \"skills\": {\"y\": 1}}]}");
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  redisReply *r = tick(59000); /* not yet */
  assert_int_equal(r->elements, 1);
  assert_true(r->element[0]->integer > 0); /* but the clock knows when */
  freeReplyObject(r);
  r = tick(61000); /* past 60 s: into the overflow queue, nobody there yet */
  assert_int_equal(r->elements, 2);
  sb_envelope_t *d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_string_equal(d->routing->reason, "overflow_after_max_wait");
  assert_string_equal(d->routing->queue, "second");
  assert_int_equal(d->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED);
  assert_string_equal(d->type, "com.switchboard.route.max_wait");
  sb_envelope_free(d);
  assert_int_equal(zcard(P "q:first:wait"), 0);
  assert_int_equal(zcard(P "q:second:wait"), 1);
  assert_int_equal(hget(P "stats", "waiting"), 1);
  /* the overflow queue's own limit (30 s from when it got there): divert */
  r = tick(61000 + 31000);
  assert_int_equal(r->elements, 2);
  d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_int_equal(d->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_DIVERTED);
  assert_string_equal(d->routing->reason, "callback");
  assert_string_equal(sb_envelope_kind(d), "diverted");
  sb_envelope_free(d);
  assert_int_equal(zcard(P "q:second:wait"), 0);
  assert_int_equal(zcard(P "waitdue"), 0);
  assert_int_equal(hget(P "stats", "waiting"), 0);
  assert_int_equal(hget(P "stats", "diverted"), 1);
  /* nobody is assigned a diverted conversation when they log in */
  sb_envelope_t *e = agent("login", "yves", "", "2");
  assert_int_equal(e->routing->n_pulled, 0);
  sb_envelope_free(e);
  /* a diverted caller who hangs up: closed, nobody's */
  e = agent("abandon", "", "c1", "0");
  assert_string_equal(e->routing->reason, "abandoned");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "");
  assert_int_equal(hget(P "stats", "abandoned_diverted"), 1);
  /* a conversation pulled in time leaves no wait timer behind */
  expect(message("c2", "x:u2"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  r = tick(61000 + 31000 + 61000); /* c2 moves to second, where yves is free */
  d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_string_equal(d->routing->agent, "yves");
  assert_int_equal(d->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED);
  sb_envelope_free(d);
  assert_int_equal(zcard(P "waitdue"), 0);
}

static void a_logged_out_agent_keeps_conversations_for_the_grace_period(void **state) {
  (void)state;
  fresh("{\"presence_grace_s\": 60}");
  sb_envelope_free(agent("login", "ann", "", "1"));
  sb_envelope_free(agent("login", "bob", "", "1"));
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  /* the desktop blinks: out and back within the grace period */
  expect(agent("logout", "ann", "", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  assert_int_equal(zcard(P "gone"), 1);
  sb_envelope_free(agent("login", "ann", "", "1"));
  assert_int_equal(zcard(P "gone"), 0);
  redisReply *r = tick(120000);
  assert_int_equal(r->elements, 1); /* nothing moved */
  freeReplyObject(r);
  expect(agent("reply", "ann", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  /* gone for longer: the conversation goes to bob, ann's unit comes back */
  expect(agent("logout", "ann", "", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
  r = tick(30000);
  assert_int_equal(r->elements, 1); /* still within the grace period */
  freeReplyObject(r);
  r = tick(61000);
  assert_int_equal(r->elements, 2);
  sb_envelope_t *d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_string_equal(d->routing->reason, "requeued_after_logout");
  assert_string_equal(d->routing->agent, "bob");
  assert_string_equal(d->type, "com.switchboard.route.presence_timeout");
  sb_envelope_free(d);
  assert_int_equal(hget(P "agent:ann", "free"), 1);
  assert_int_equal(hget(P "agent:bob", "free"), 0);
  expect(agent("reply", "ann", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_REJECTED, "ann");
  expect(agent("reply", "bob", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "bob");
  /* without a grace period nothing is ever taken away */
  fresh(NULL);
  sb_envelope_free(agent("login", "ann", "", "1"));
  sb_envelope_free(agent("login", "bob", "", "1"));
  expect(message("c1", "x:u1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "ann");
  sb_envelope_free(agent("logout", "ann", "", "0"));
  assert_int_equal(zcard(P "gone"), 0);
  expect(agent("close", "ann", "c1", "0"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "ann");
}

/* Lua's unpack limit is a few thousand values and a script that fails
 * half-way keeps its writes: big batches must go through whole. */
/* A message of a spike incident (Classification.spike) meets a rule
 * {"spike": true}; the others go by the rest of the rules. */
static sb_envelope_t *message_in_spike(const char *conv, const char *spike) {
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Classification cl = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_X;
  env.interaction = &in;
  env.classification = &cl;
  cl.spike = (char *)spike;
  sb_route_target_t t = sb_route_config_match(cfg, &env);
  char key[32], prio[8], units[8];
  snprintf(key, sizeof key, "k%d", ++seq);
  snprintf(prio, sizeof prio, "%d", t.priority);
  snprintf(units, sizeof units, "%d", t.units);
  const char *extra[10] = {"m", conv, conv, "1000", "x", t.queue_spec, prio,
                           units, t.rule, sb_route_config_windows(cfg)};
  return route(key, extra, 1);
}

static void spike_messages_go_to_the_incident_queue(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"general\"}, {\"id\": \"incident\", \"priority\": 20,"
        "  \"skills\": {\"crisis\": 1}}],"
        " \"rules\": [{\"name\": \"spikes\", \"if\": {\"spike\": true}, \"queue\": \"incident\"}],"
        " \"agents\": [{\"id\": \"cara\", \"skills\": {\"crisis\": 1}}]}");
  expect(agent("login", "cara", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "cara");
  expect(agent("login", "gus", "", "1"), SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK, "gus");
  sb_envelope_t *e = message_in_spike("c1", "inc-7");
  assert_string_equal(e->routing->queue, "incident");
  assert_string_equal(e->routing->rule, "spikes");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "cara");
  e = message_in_spike("c2", "");
  assert_string_equal(e->routing->queue, "general");
  assert_string_equal(e->routing->rule, "default");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED, "gus");
  /* the incident queue's priority rides on the waiting line */
  e = message_in_spike("c3", "inc-7");
  assert_string_equal(e->routing->queue, "incident");
  expect(e, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED, NULL);
  assert_int_equal(zcard(P "q:incident:wait"), 1);
}

static void a_hand_off_of_thousands_of_items_in_one_call_goes_through(void **state) {
  (void)state;
  enum { ITEMS = 5000, FIXED = 11 };
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  char *src = sb_script_source(sb_script_handoff);
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
      cmocka_unit_test(rules_choose_the_queue_and_skills_choose_the_agents),
      cmocka_unit_test(each_strategy_picks_its_own_agent),
      cmocka_unit_test(round_robin_takes_turns_in_a_fixed_order),
      cmocka_unit_test(capacity_is_counted_in_units_per_channel),
      cmocka_unit_test(the_most_urgent_waiting_conversation_is_pulled_first),
      cmocka_unit_test(a_fairness_window_caps_assignments_per_agent),
      cmocka_unit_test(a_reopened_conversation_goes_back_to_the_same_agent),
      cmocka_unit_test(away_agents_get_nothing_and_pull_when_back),
      cmocka_unit_test(transfers_move_ownership_and_capacity),
      cmocka_unit_test(offers_move_on_until_accepted),
      cmocka_unit_test(a_caller_who_hangs_up_ends_the_call_in_any_state),
      cmocka_unit_test(a_long_wait_overflows_then_diverts),
      cmocka_unit_test(a_logged_out_agent_keeps_conversations_for_the_grace_period),
      cmocka_unit_test(spike_messages_go_to_the_incident_queue),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
