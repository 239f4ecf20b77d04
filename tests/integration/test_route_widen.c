/*
 * Widening ("bullseye of rings") against a real redis-server: a waiting
 * conversation moves ring to ring (lower skill levels) on route_tick.lua's
 * clock, then to max_wait's target; sla-timer's widen_routing (a ZADD of
 * waitdue at now, done here directly as sla_fire.lua does) advances it one
 * step early without losing or repeating the later steps; a freed agent
 * pulls the best head across its queue and rings.
 * Calls are shaped as sb_stage and sb_route_tick make them.
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
#define OUT(x) SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_##x

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script, *tick_script;
static int seq;
static sb_route_config_t *cfg;
static long long clock_us = 1700000000000000LL; /* +1 ms per route call */

/* billing needs level 4; after 30 s level 3 will do, after 90 s level 1;
 * after 300 s the experts queue takes it */
static const char *const WIDEN =
    "{\"queues\": [{\"id\": \"billing\", \"strategy\": \"best_skill\", \"skills\": {\"billing\": 4},"
    "   \"widen\": [{\"after_s\": 30, \"lower_by\": 1}, {\"after_s\": 90, \"lower_by\": 3}],"
    "   \"max_wait\": {\"after_s\": 300, \"then\": \"experts\"}},"
    "  {\"id\": \"experts\", \"skills\": {\"expert\": 1}},"
    "  {\"id\": \"general\"}],"
    " \"rules\": [{\"name\": \"bills\", \"if\": {\"intent\": [\"billing\"]}, \"queue\": \"billing\"}],"
    " \"default_queue\": \"general\","
    " \"agents\": [{\"id\": \"pro\", \"skills\": {\"billing\": 4}},"
    "   {\"id\": \"mid\", \"skills\": {\"billing\": 3}},"
    "   {\"id\": \"jun\", \"skills\": {\"billing\": 1}},"
    "   {\"id\": \"exp\", \"skills\": {\"expert\": 1}}]}";

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
  return rc && script && tick_script ? 0 : -1;
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

static void fresh(const char *json) {
  freeReplyObject(redisCommand(rc, "FLUSHALL"));
  sb_tenant_t t = {.id = "acme"};
  char err[256] = "";
  sb_route_config_destroy(&cfg);
  if (!(cfg = sb_route_config_new(&t, json, err, sizeof err)))
    fail_msg("config: %s", err);
}

/* One item through route.lua; returns its decision. */
static sb_envelope_t *route(const char *const extra[10]) {
  char key[32], now[32];
  snprintf(key, sizeof key, "k%d", ++seq);
  freeReplyObject(redisCommand(rc, "ZADD " P "lease:route 1 %s", key));
  clock_us += 1000;
  snprintf(now, sizeof now, "%lld", clock_us);
  const char *argv[23] = {"EVAL", script, "1", P "stats", now, "99", "route", "sla",
                          "routed", "10", "3600", key, ""};
  memcpy(argv + 13, extra, 10 * sizeof *extra);
  redisReply *r = redisCommandArgv(rc, 23, argv, NULL);
  if (r->type != REDIS_REPLY_ARRAY)
    fail_msg("route.lua: %s", r->str ? r->str : "?");
  const redisReply *suffix = sb_stage_reply_suffix(r->element[0]);
  assert_non_null(suffix);
  sb_envelope_t *env = sb_envelope_unpack(suffix->str, suffix->len);
  freeReplyObject(r);
  assert_non_null(env);
  return env;
}

/* A customer message; intent "billing" routes it to billing. */
static sb_envelope_t *message(const char *conv, const char *intent, int priority) {
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Classification cl = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  Switchboard__V1__IntentMatch im = SWITCHBOARD__V1__INTENT_MATCH__INIT, *imp = &im;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_X;
  env.interaction = &in;
  env.classification = &cl;
  cl.priority = priority;
  if (intent) {
    im.name = (char *)intent;
    cl.intents = &imp;
    cl.n_intents = 1;
  }
  sb_route_target_t t = sb_route_config_match(cfg, &env);
  char prio[8], units[8], started[32], customer[48];
  snprintf(prio, sizeof prio, "%d", t.priority);
  snprintf(units, sizeof units, "%d", t.units);
  snprintf(started, sizeof started, "%lld", clock_us / 1000 + 1);
  snprintf(customer, sizeof customer, "x:%s", conv);
  const char *extra[10] = {"m", conv, customer, started, "x", t.queue_spec, prio, units, t.rule,
                           sb_route_config_windows(cfg)};
  return route(extra);
}

static sb_envelope_t *agent(const char *action, const char *who, const char *conv, const char *cap) {
  const char *extra[10] = {"a", action, who, conv, cap,
                           strcmp(action, "login") == 0 ? sb_route_config_agent_spec(cfg, who) : "",
                           "", "", "", ""};
  return route(extra);
}

/* route_tick.lua at the test clock + ahead_ms. */
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

/* The one decision a tick at ahead_ms makes (fails on none or more). */
static sb_envelope_t *tick_one(long long ahead_ms) {
  redisReply *r = tick(ahead_ms);
  if (r->elements != 2)
    fail_msg("tick +%lld ms: %zu decisions, want 1", ahead_ms, r->elements - 1);
  sb_envelope_t *d = sb_envelope_unpack(r->element[1]->str, r->element[1]->len);
  freeReplyObject(r);
  assert_non_null(d);
  assert_non_null(d->routing);
  return d;
}

static void tick_none(long long ahead_ms) {
  redisReply *r = tick(ahead_ms);
  if (r->elements != 1)
    fail_msg("tick +%lld ms: %zu decisions, want none", ahead_ms, r->elements - 1);
  freeReplyObject(r);
}

static long long num(const char *fmt, const char *a, const char *b) {
  redisReply *r = redisCommand(rc, fmt, a, b);
  long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : r->str ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

static long long waitdue(const char *conv) { return num("ZSCORE " P "waitdue %s%s", conv, ""); }
static long long conv_ms(const char *conv, const char *f) {
  return num("HGET " P "conv:%s %s", conv, f);
}
static long long stat_of(const char *f) { return num("HGET " P "stats %s%s", f, ""); }

static void decided(sb_envelope_t *d, int outcome, const char *agent_name, const char *reason,
                    const char *queue) {
  assert_int_equal(d->routing->outcome, outcome);
  if (agent_name)
    assert_string_equal(d->routing->agent, agent_name);
  assert_string_equal(d->routing->reason, reason);
  assert_string_equal(d->routing->queue, queue);
  sb_envelope_free(d);
}

/* Level 1 agents are asked only after 90 s, level 3 after 30 s; the
 * experts after 300 s. Each move is its own decision, explained. */
static void a_waiting_conversation_widens_ring_by_ring(void **state) {
  (void)state;
  fresh(WIDEN);
  sb_envelope_free(agent("login", "jun", "", "1"));
  decided(message("c1", "billing", 0), OUT(QUEUED), NULL, "no_agent_free", "billing");
  long long qin = conv_ms("c1", "qin_ms");
  assert_true(qin > 0);
  assert_int_equal(waitdue("c1"), qin + 30000);
  tick_none(29000); /* not yet */
  /* 30 s: ring 1 (level 3): jun (level 1) is not in it, nobody is */
  sb_envelope_t *d = tick_one(31000);
  assert_string_equal(d->type, "com.switchboard.route.widen");
  assert_string_equal(d->routing->rule, "widen");
  assert_string_equal(d->routing->strategy, "best_skill");
  assert_int_equal(d->routing->n_candidates, 0);
  decided(d, OUT(QUEUED), NULL, "widened", "billing~1");
  assert_int_equal(num("ZCARD " P "q:%s:wait%s", "billing", ""), 0);
  assert_int_equal(num("ZCARD " P "q:%s:wait%s", "billing~1", ""), 1);
  assert_int_equal(stat_of("waiting"), 1);
  /* the next step counts from when it began to wait, not from ring 1 */
  assert_int_equal(waitdue("c1"), qin + 90000);
  tick_none(89000);
  /* 90 s: ring 2 (level 1): jun, the only candidate, gets it */
  d = tick_one(91000);
  assert_int_equal(d->routing->n_candidates, 1);
  assert_string_equal(d->routing->candidates[0]->agent, "jun");
  assert_string_equal(d->routing->candidates[0]->verdict, "chosen");
  /* handed on like any decision: stored with its lease for sla-timer */
  assert_true(num("ZSCORE " P "lease:sla %s%s", d->key, "") > 0);
  assert_true(num("EXISTS " P "ev:%s%s", d->key, "") == 1);
  decided(d, OUT(ASSIGNED), "jun", "widened", "billing~2");
  assert_int_equal(waitdue("c1"), -1);
  assert_int_equal(stat_of("waiting"), 0);
  assert_int_equal(stat_of("widened"), 2);
  /* c2: jun is busy now; through both rings to the experts at 300 s */
  decided(message("c2", "billing", 0), OUT(QUEUED), NULL, "no_agent_free", "billing");
  decided(tick_one(31000), OUT(QUEUED), NULL, "widened", "billing~1");
  decided(tick_one(91000), OUT(QUEUED), NULL, "widened", "billing~2");
  tick_none(299000);
  d = tick_one(301000);
  assert_string_equal(d->type, "com.switchboard.route.max_wait");
  decided(d, OUT(QUEUED), NULL, "overflow_after_max_wait", "experts");
  assert_int_equal(waitdue("c2"), -1); /* experts has no next step */
  /* an expert logging in pulls it */
  d = agent("login", "exp", "", "1");
  assert_int_equal(d->routing->n_pulled, 1);
  assert_string_equal(d->routing->pulled[0]->conversation, "c2");
  assert_string_equal(d->routing->pulled[0]->queue, "experts");
  sb_envelope_free(d);
  /* a full-level agent free at once never waits for a ring */
  sb_envelope_free(agent("login", "pro", "", "1"));
  decided(message("c3", "billing", 0), OUT(ASSIGNED), "pro", "best_skill", "billing");
  assert_int_equal(waitdue("c3"), -1);
}

/* sla-timer's widen_routing: ZADD waitdue <now> for a queued conversation.
 * Each such request moves it exactly one step out; the steps after keep
 * their times; with no step left it stays and is counted. */
static void an_sla_widen_request_advances_one_step(void **state) {
  (void)state;
  fresh(WIDEN);
  decided(message("c1", "billing", 0), OUT(QUEUED), NULL, "no_agent_free", "billing");
  long long qin = conv_ms("c1", "qin_ms");
  char now[32];
  snprintf(now, sizeof now, "%lld", clock_us / 1000 + 5000);
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c1", now));
  decided(tick_one(5000), OUT(QUEUED), NULL, "widened", "billing~1");
  assert_int_equal(waitdue("c1"), qin + 90000); /* ring 2 still at 90 s */
  tick_none(31000);                             /* the 30 s step is not taken twice */
  /* early again, at 40 s: ring 2; max_wait still at 300 s */
  snprintf(now, sizeof now, "%lld", qin + 40000);
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c1", now));
  decided(tick_one(40000), OUT(QUEUED), NULL, "widened", "billing~2");
  assert_int_equal(waitdue("c1"), qin + 300000);
  tick_none(91000);
  /* early from the last ring: the max_wait action now */
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c1", now));
  decided(tick_one(41000), OUT(QUEUED), NULL, "overflow_after_max_wait", "experts");
  assert_int_equal(waitdue("c1"), -1);
  /* nothing further out: it stays where it is, counted */
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c1", now));
  tick_none(42000);
  assert_int_equal(stat_of("widen_nothing"), 1);
  assert_int_equal(waitdue("c1"), -1);
  assert_int_equal(num("ZCARD " P "q:%s:wait%s", "experts", ""), 1);
  assert_int_equal(stat_of("waiting"), 1);
  /* a queue without widen or max_wait: the same */
  decided(message("c2", NULL, 0), OUT(QUEUED), NULL, "no_agent_free", "general");
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c2", now));
  tick_none(43000);
  assert_int_equal(stat_of("widen_nothing"), 2);
  assert_int_equal(num("ZCARD " P "q:%s:wait%s", "general", ""), 1);
  /* a request for a conversation no longer waiting changes nothing */
  sb_envelope_free(agent("login", "any", "", "1")); /* pulls c2 from general */
  freeReplyObject(redisCommand(rc, "ZADD " P "waitdue %s c2", now));
  tick_none(44000);
  assert_int_equal(stat_of("widen_nothing"), 2);
  redisReply *r = redisCommand(rc, "HGET " P "conv:c2 state");
  assert_string_equal(r->str, "assigned");
  freeReplyObject(r);
}

/* An agent of the queue is in every ring too: freed, it takes the best
 * waiting conversation of all of them, priority first, then age. */
static void a_freed_agent_pulls_the_best_head_across_rings(void **state) {
  (void)state;
  fresh(WIDEN);
  decided(message("c1", "billing", 0), OUT(QUEUED), NULL, "no_agent_free", "billing");
  decided(tick_one(31000), OUT(QUEUED), NULL, "widened", "billing~1");
  decided(message("c2", "billing", 0), OUT(QUEUED), NULL, "no_agent_free", "billing");
  decided(message("c3", "billing", 50), OUT(QUEUED), NULL, "no_agent_free", "billing");
  /* mid (level 3) only serves ring 1: c1 */
  sb_envelope_t *d = agent("login", "mid", "", "3");
  assert_int_equal(d->routing->n_pulled, 1);
  assert_string_equal(d->routing->pulled[0]->conversation, "c1");
  assert_string_equal(d->routing->pulled[0]->queue, "billing~1");
  sb_envelope_free(d);
  assert_int_equal(waitdue("c1"), -1);
  /* pro serves all: c3 (priority 50) before the older c2 */
  d = agent("login", "pro", "", "2");
  assert_int_equal(d->routing->n_pulled, 2);
  assert_string_equal(d->routing->pulled[0]->conversation, "c3");
  assert_string_equal(d->routing->pulled[1]->conversation, "c2");
  sb_envelope_free(d);
  assert_int_equal(stat_of("waiting"), 0);
  assert_int_equal(num("ZCARD " P "waitdue%s%s", "", ""), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_waiting_conversation_widens_ring_by_ring),
      cmocka_unit_test(an_sla_widen_request_advances_one_step),
      cmocka_unit_test(a_freed_agent_pulls_the_best_head_across_rings),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
