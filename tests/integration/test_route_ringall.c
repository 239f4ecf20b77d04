/*
 * Ring-all offers against a real redis-server: a new conversation offered
 * to several agents at once, the first to take it wins and the others'
 * offers are withdrawn in the same script; late accepts are refused
 * ("offer_taken") and change nothing; rejects and timeouts move on as
 * offers do. Then four processes (as four route replicas would) race to
 * accept the same offers: one winner each, capacity never exceeded.
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
#include <sys/wait.h>
#include <unistd.h>

#define P "sb:{t:acme}:"
#define OUT(x) SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_##x

static sb_redisd_t *redisd;
static redisContext *rc;
static char *script, *tick_script;
static int seq;
static sb_route_config_t *cfg;
static long long clock_us = 1700000000000000LL; /* +1 ms per route call */

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

/* One item through route.lua on connection c with its own key; the
 * decision, or NULL when Redis did not give one. */
static sb_envelope_t *route_on(redisContext *c, const char *key, const char *const extra[10]) {
  char now[32];
  freeReplyObject(redisCommand(c, "ZADD " P "lease:route 1 %s", key));
  clock_us += 1000;
  snprintf(now, sizeof now, "%lld", clock_us);
  const char *argv[23] = {"EVAL", script, "1", P "stats", now, "99", "route", "sla",
                          "routed", "10", "3600", key, ""};
  memcpy(argv + 13, extra, 10 * sizeof *extra);
  redisReply *r = redisCommandArgv(c, 23, argv, NULL);
  sb_envelope_t *env = NULL;
  const redisReply *suffix =
      r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? sb_stage_reply_suffix(r->element[0]) : NULL;
  if (suffix)
    env = sb_envelope_unpack(suffix->str, suffix->len);
  freeReplyObject(r);
  return env;
}

static sb_envelope_t *route(const char *const extra[10]) {
  char key[32];
  snprintf(key, sizeof key, "k%d", ++seq);
  sb_envelope_t *env = route_on(rc, key, extra);
  assert_non_null(env);
  assert_non_null(env->routing);
  return env;
}

static sb_envelope_t *message(const char *conv) {
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  Switchboard__V1__Classification cl = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.channel = SWITCHBOARD__V1__CHANNEL__CHANNEL_MESSENGER;
  env.interaction = &in;
  env.classification = &cl;
  sb_route_target_t t = sb_route_config_match(cfg, &env);
  char prio[8], units[8], started[32], customer[48];
  snprintf(prio, sizeof prio, "%d", t.priority);
  snprintf(units, sizeof units, "%d", t.units);
  snprintf(started, sizeof started, "%lld", clock_us / 1000 + 1);
  snprintf(customer, sizeof customer, "messenger:%s", conv);
  const char *extra[10] = {"m", conv, customer, started, "messenger", t.queue_spec, prio, units,
                           t.rule, sb_route_config_windows(cfg)};
  return route(extra);
}

static void agent_extra(const char *extra[10], const char *action, const char *who,
                        const char *conv, const char *cap) {
  const char *e[10] = {"a", action, who, conv, cap,
                       strcmp(action, "login") == 0 ? sb_route_config_agent_spec(cfg, who) : "",
                       strcmp(action, "reject") == 0 ? sb_route_config_all_specs(cfg) : "",
                       "", "", ""};
  memcpy(extra, e, sizeof e);
}

static sb_envelope_t *agent(const char *action, const char *who, const char *conv, const char *cap) {
  const char *extra[10];
  agent_extra(extra, action, who, conv, cap);
  return route(extra);
}

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

static long long num(const char *fmt, const char *a, const char *b) {
  redisReply *r = redisCommand(rc, fmt, a, b);
  long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : r->str ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

static long long free_of(const char *a) { return num("HGET " P "agent:%s%s free", a, ""); }

/* a hash field as text into out ("" when missing) */
static const char *field(const char *key, const char *f, char *out, size_t n) {
  redisReply *r = redisCommand(rc, "HGET %s %s", key, f);
  snprintf(out, n, "%s", r->str ? r->str : "");
  freeReplyObject(r);
  return out;
}

static void outcome(sb_envelope_t *d, int want, const char *reason) {
  assert_int_equal(d->routing->outcome, want);
  assert_string_equal(d->routing->reason, reason);
  sb_envelope_free(d);
}

static const char *const SMALL_TEAM =
    "{\"queues\": [{\"id\": \"small\", \"offer\": {\"timeout_s\": 20, \"ring_all\": 3,"
    "  \"away_on_timeout\": true}}]}";

static void the_first_to_accept_wins_and_the_others_are_withdrawn(void **state) {
  (void)state;
  fresh(SMALL_TEAM);
  const char *team[] = {"a1", "a2", "a3", "a4"};
  for (int i = 0; i < 4; i++)
    sb_envelope_free(agent("login", team[i], "", "1"));
  /* the three longest idle are rung, a4 ranks lower */
  sb_envelope_t *d = message("c1");
  assert_int_equal(d->routing->outcome, OUT(ASSIGNED));
  assert_string_equal(d->routing->reason, "ring_all");
  assert_string_equal(d->routing->agent, "a1");
  assert_true(d->routing->offer_expires_ms > 0);
  assert_int_equal(d->routing->n_candidates, 4);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(d->routing->candidates[i]->agent, team[i]);
    assert_string_equal(d->routing->candidates[i]->verdict, "rung");
  }
  assert_string_equal(d->routing->candidates[3]->verdict, "ranked_lower");
  sb_envelope_free(d);
  char buf[64];
  assert_string_equal(field(P "conv:c1", "rung", buf, sizeof buf), "a1,a2,a3");
  assert_string_equal(field(P "conv:c1", "agent", buf, sizeof buf), "");
  for (int i = 0; i < 3; i++)
    assert_int_equal(free_of(team[i]), 0); /* each holds the units */
  /* c2: a4 alone is free: a ring of one */
  d = message("c2");
  assert_string_equal(d->routing->agent, "a4");
  sb_envelope_free(d);
  /* c3 waits */
  outcome(message("c3"), OUT(QUEUED), "no_agent_free");
  /* a2 takes c1: a1 and a3 get their units back, and a1 pulls c3 */
  d = agent("accept", "a2", "c1", "0");
  assert_int_equal(d->routing->outcome, OUT(AGENT_OK));
  assert_int_equal(d->routing->n_pulled, 1);
  assert_string_equal(d->routing->pulled[0]->conversation, "c3");
  assert_string_equal(d->routing->pulled[0]->agent, "a1");
  outcome(d, OUT(AGENT_OK), "accepted");
  assert_string_equal(field(P "conv:c1", "state", buf, sizeof buf), "assigned");
  assert_string_equal(field(P "conv:c1", "agent", buf, sizeof buf), "a2");
  assert_int_equal(free_of("a1"), 0); /* c3 now */
  assert_int_equal(free_of("a2"), 0);
  assert_int_equal(free_of("a3"), 1);
  assert_string_equal(field(P "agent:a3", "convs", buf, sizeof buf), "");
  assert_string_equal(field(P "agent:a1", "convs", buf, sizeof buf), "c3");
  assert_int_equal(num("ZSCORE " P "offers %s%s", "c1", ""), -1);
  /* too late: refused with the reason, nothing changes */
  outcome(agent("accept", "a3", "c1", "0"), OUT(REJECTED), "offer_taken");
  outcome(agent("reply", "a1", "c1", "0"), OUT(REJECTED), "offer_taken");
  outcome(agent("close", "a3", "c1", "0"), OUT(REJECTED), "offer_taken");
  outcome(agent("accept", "a4", "c1", "0"), OUT(REJECTED), "not_owner");
  assert_string_equal(field(P "conv:c1", "agent", buf, sizeof buf), "a2");
  assert_int_equal(free_of("a3"), 1);
  /* a reply counts as taking it too (c2, rung to a4 alone) */
  outcome(agent("reply", "a4", "c2", "0"), OUT(AGENT_OK), "first_reply");
  assert_string_equal(field(P "conv:c2", "state", buf, sizeof buf), "assigned");
  assert_int_equal(num("ZCARD " P "offers%s%s", "", ""), 1); /* c3, a1's own offer */
}

static void rejects_withdraw_one_and_timeouts_move_on(void **state) {
  (void)state;
  fresh(SMALL_TEAM);
  const char *team[] = {"a1", "a2", "a3", "a4"};
  for (int i = 0; i < 4; i++)
    sb_envelope_free(agent("login", team[i], "", "1"));
  sb_envelope_free(message("c1")); /* a1, a2, a3 */
  /* a1 declines: only its offer goes */
  outcome(agent("reject", "a1", "c1", "0"), OUT(AGENT_OK), "offer_withdrawn");
  char buf[64];
  assert_string_equal(field(P "conv:c1", "rung", buf, sizeof buf), "a2,a3");
  assert_int_equal(free_of("a1"), 1);
  outcome(agent("accept", "a1", "c1", "0"), OUT(REJECTED), "not_owner");
  outcome(agent("reject", "a2", "c1", "0"), OUT(AGENT_OK), "offer_withdrawn");
  /* the last one declines too: on to those not rung yet (a4) */
  sb_envelope_t *d = agent("reject", "a3", "c1", "0");
  assert_int_equal(d->routing->outcome, OUT(ASSIGNED));
  assert_string_equal(d->routing->reason, "reoffer_after_rejected");
  assert_string_equal(d->routing->agent, "a4");
  sb_envelope_free(d);
  assert_string_equal(field(P "conv:c1", "rung", buf, sizeof buf), "a4");
  for (int i = 0; i < 3; i++)
    assert_int_equal(free_of(team[i]), 1);
  assert_int_equal(free_of("a4"), 0);
  /* c2 rung to a1, a2, a3; nobody answers: all three get their units
   * back and are set away; nobody else to offer it to: it waits */
  sb_envelope_free(message("c2"));
  redisReply *r = tick(21000);
  int queued = 0;
  for (size_t i = 1; i < r->elements; i++) {
    sb_envelope_t *e = sb_envelope_unpack(r->element[i]->str, r->element[i]->len);
    assert_non_null(e);
    if (strcmp(e->routing->conversation, "c2") == 0) {
      assert_int_equal(e->routing->outcome, OUT(QUEUED));
      assert_string_equal(e->routing->reason, "reoffer_after_timeout");
      queued++;
    }
    sb_envelope_free(e);
  }
  freeReplyObject(r);
  assert_int_equal(queued, 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(free_of(team[i]), 1);
    char key[64];
    snprintf(key, sizeof key, P "agent:%s", team[i]);
    assert_string_equal(field(key, "status", buf, sizeof buf), "away");
    assert_string_equal(field(key, "convs", buf, sizeof buf), "");
  }
  assert_string_equal(field(P "conv:c2", "state", buf, sizeof buf), "queued");
  assert_string_equal(field(P "conv:c2", "rung", buf, sizeof buf), "");
}

/* Four clients (one per replica) accept every offer at once, each for its
 * own agent. Must hold: one winner per conversation, every agent's free
 * units = capacity - what it won, its convs exactly those. */
#define RACERS 4
#define OFFERS 60
#define RACE_CAP 100

static int racer(int i, const char *url) {
  redisContext *c = sbctl_view_connect(url);
  if (!c)
    return 255;
  char who[8], conv[16], key[32];
  snprintf(who, sizeof who, "r%d", i);
  int won = 0;
  for (int k = 0; k < OFFERS; k++) {
    int n = (k + i * 17) % OFFERS; /* each starts elsewhere: collisions vary */
    snprintf(conv, sizeof conv, "c%d", n);
    snprintf(key, sizeof key, "race-%d-%d", i, n);
    const char *extra[10];
    agent_extra(extra, k % 2 ? "reply" : "accept", who, conv, "0");
    sb_envelope_t *d = route_on(c, key, extra);
    if (!d || !d->routing)
      return 254;
    if (d->routing->outcome == OUT(AGENT_OK))
      won++;
    else if (strcmp(d->routing->reason, "offer_taken") != 0)
      return 253;
    sb_envelope_free(d);
  }
  redisFree(c);
  return won;
}

static void racing_accepts_have_one_winner_each(void **state) {
  (void)state;
  fresh("{\"queues\": [{\"id\": \"small\", \"offer\": {\"timeout_s\": 600, \"ring_all\": 4}}]}");
  char cap[8], who[8], conv[16];
  snprintf(cap, sizeof cap, "%d", RACE_CAP);
  for (int i = 0; i < RACERS; i++) {
    snprintf(who, sizeof who, "r%d", i);
    sb_envelope_free(agent("login", who, "", cap));
  }
  for (int k = 0; k < OFFERS; k++) {
    snprintf(conv, sizeof conv, "c%d", k);
    sb_envelope_t *d = message(conv);
    assert_int_equal(d->routing->outcome, OUT(ASSIGNED));
    assert_string_equal(d->routing->reason, "ring_all");
    sb_envelope_free(d);
  }
  for (int i = 0; i < RACERS; i++)
    assert_int_equal(free_of((snprintf(who, sizeof who, "r%d", i), who)), RACE_CAP - OFFERS);
  pid_t pids[RACERS];
  for (int i = 0; i < RACERS; i++) {
    if ((pids[i] = fork()) == 0)
      _exit(racer(i, sb_redisd_url(redisd)));
    assert_true(pids[i] > 0);
  }
  int total = 0;
  for (int i = 0; i < RACERS; i++) {
    int st = 0;
    assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
    assert_true(WIFEXITED(st));
    int won = WEXITSTATUS(st);
    if (won > OFFERS)
      fail_msg("racer %d failed (%d)", i, won);
    total += won;
  }
  assert_int_equal(total, OFFERS); /* exactly one winner per offer */
  int held = 0;
  for (int i = 0; i < RACERS; i++) {
    snprintf(who, sizeof who, "r%d", i);
    char key[32], convs[2048];
    snprintf(key, sizeof key, P "agent:%s", who);
    field(key, "convs", convs, sizeof convs);
    int n = convs[0] ? 1 : 0;
    for (const char *p = convs; *p; p++)
      n += *p == ',';
    assert_int_equal(free_of(who), RACE_CAP - n);
    held += n;
  }
  assert_int_equal(held, OFFERS);
  for (int k = 0; k < OFFERS; k++) {
    char buf[32], key[32];
    snprintf(key, sizeof key, P "conv:c%d", k);
    assert_string_equal(field(key, "state", buf, sizeof buf), "assigned");
    assert_true(field(key, "agent", buf, sizeof buf)[0] == 'r');
  }
  assert_int_equal(num("ZCARD " P "offers%s%s", "", ""), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_first_to_accept_wins_and_the_others_are_withdrawn),
      cmocka_unit_test(rejects_withdraw_one_and_timeouts_move_on),
      cmocka_unit_test(racing_accepts_have_one_winner_each),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
