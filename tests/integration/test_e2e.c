/*
 * End to end through all five services, real processes, Redis, ZeroMQ:
 * 10,000 customer messages for three tenants (with agents logged in) are
 * each acknowledged, classified, routed exactly once and have their
 * first-response timer armed; no conversation has two agents and no agent
 * holds more than its capacity. Prints Redis commands per event.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS 10000
#define CUSTOMERS 2500
#define AGENTS 10
#define CAPACITY 5

static const char *const tenants[] = {"acme-air", "citytransit", "shopco"};
static const char *const channels[] = {"x", "whatsapp", "email", "webchat", "sms"};

static sb_envelope_t *stored(redisContext *rc, const char *tenant, const char *key) {
  char k[SB_KEY_MAX], suffix[64];
  snprintf(suffix, sizeof suffix, "ev:%s", key);
  sb_key_tenant(k, sizeof k, tenant, suffix);
  redisReply *r = redisCommand(rc, "GET %s", k);
  sb_envelope_t *env = r && r->type == REDIS_REPLY_STRING ? sb_envelope_unpack(r->str, r->len) : NULL;
  if (r)
    freeReplyObject(r);
  return env;
}

static void login_agents(sb_teststack_t *st) {
  char id[64], agent[64];
  for (int t = 0; t < 3; t++)
    for (int a = 0; a < AGENTS; a++) {
      snprintf(id, sizeof id, "login-%d-%d", t, a);
      snprintf(agent, sizeof agent, "%s-a%d", tenants[t], a);
      sbctl_client_queue(sb_teststack_client(st),
                         sb_teststack_agent_event(st, tenants[t], id, "login", agent, NULL, CAPACITY));
    }
  assert_int_equal(sb_teststack_publish_all(st, 10000), 0);
}

static void check_event(redisContext *rc, int i, int *new_convs) {
  char id[32], key[SB_EVENT_KEY_LEN + 1];
  snprintf(id, sizeof id, "m-%d", i);
  sb_event_key("/tests", id, key);
  const char *tenant = tenants[i % 3];
  sb_envelope_t *env = stored(rc, tenant, key);
  assert_non_null(env);
  assert_non_null(env->classification);
  assert_true(strlen(env->classification->language) >= 2);
  /* the bundled rules know this one: a cancellation and a refund */
  assert_true(env->classification->n_intents >= 1);
  assert_true(strlen(env->classification->sentiment) > 0);
  assert_non_null(env->routing);
  assert_true(env->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED ||
              env->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED ||
              env->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_EXISTING);
  assert_string_equal(env->routing->conversation, env->conversation);
  if (env->routing->new_conversation) {
    (*new_convs)++;
    assert_non_null(env->sla_armed);
    assert_int_equal(env->sla_armed->kind, SWITCHBOARD__V1__SLA_KIND__SLA_ARMED);
    char k[SB_KEY_MAX], member[80];
    sb_key_tenant(k, sizeof k, tenant, "timers");
    snprintf(member, sizeof member, "b|%s|first_response", env->conversation);
    redisReply *r = redisCommand(rc, "ZSCORE %s %s", k, member);
    assert_int_equal(r->type, REDIS_REPLY_STRING); /* armed, not yet due */
    freeReplyObject(r);
  }
  sb_envelope_free(env);
}

/* Every assigned conversation has one agent; agents hold <= capacity and
 * exactly what their free counter says. */
static void check_agents(redisContext *rc) {
  for (int t = 0; t < 3; t++) {
    int held[AGENTS] = {0};
    char pattern[SB_KEY_MAX];
    sb_key_tenant(pattern, sizeof pattern, tenants[t], "conv:*");
    redisReply *keys = redisCommand(rc, "KEYS %s", pattern);
    for (size_t i = 0; i < keys->elements; i++) {
      redisReply *c = redisCommand(rc, "HMGET %s state agent", keys->element[i]->str);
      if (c->element[0]->str && strcmp(c->element[0]->str, "assigned") == 0) {
        const char *dash = strrchr(c->element[1]->str, 'a');
        held[atoi(dash + 1)]++;
      }
      freeReplyObject(c);
    }
    freeReplyObject(keys);
    for (int a = 0; a < AGENTS; a++) {
      char k[SB_KEY_MAX], suffix[64];
      snprintf(suffix, sizeof suffix, "agent:%s-a%d", tenants[t], a);
      sb_key_tenant(k, sizeof k, tenants[t], suffix);
      redisReply *r = redisCommand(rc, "HMGET %s cap free", k);
      int cap = atoi(r->element[0]->str), free_ = atoi(r->element[1]->str);
      freeReplyObject(r);
      assert_true(held[a] <= cap);
      assert_int_equal(held[a], cap - free_);
    }
  }
}

static void every_event_acknowledged_classified_routed_once_and_timed(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(NULL, "everysec");
  assert_non_null(st);
  redisContext *rc = sb_teststack_redis(st);
  login_agents(st);
  long long before = sbctl_view_commands(rc);
  char id[32], customer[32];
  for (int i = 0; i < EVENTS; i++) {
    snprintf(id, sizeof id, "m-%d", i);
    snprintf(customer, sizeof customer, "cust-%d", i % CUSTOMERS);
    sbctl_client_queue(sb_teststack_client(st),
                       sb_teststack_message(st, tenants[i % 3], id, channels[(i % CUSTOMERS) % 5], customer, "My flight was cancelled and I need a refund please"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 240000), 0);
  sbctl_client_stats_t cs;
  sbctl_client_stats(sb_teststack_client(st), &cs);
  /* a write that outlived ingest's Redis deadline is answered "retry", and
   * its re-send "duplicate": accepted either way, and counted once below */
  assert_int_equal(cs.ok + cs.duplicate, EVENTS + 3 * AGENTS);
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, EVENTS, 240000, &s), 0);
  long long after = sbctl_view_commands(rc);
  assert_int_equal(s.routed_messages, EVENTS); /* exactly once */
  assert_int_equal(s.dead_letters, 0);
  int new_convs = 0;
  for (int i = 0; i < EVENTS; i++)
    check_event(rc, i, &new_convs);
  assert_int_equal(new_convs, s.sla_armed);
  assert_int_equal(s.assigned + s.waiting, new_convs);
  check_agents(rc);
  /* every stage's script reports the Redis time it took (lua_us/lua_calls) */
  const sb_tenants_t *tn = sb_teststack_tenants(st);
  sbctl_script_time_t times;
  assert_int_equal(sbctl_view_script_time(rc, tn, &times), 0);
  const char *stages[] = {"ingest", "classify", "route", "sla_arm", "notify"};
  for (size_t k = 0; k < sizeof stages / sizeof *stages; k++) {
    size_t i = 0;
    while (i < times.n && strcmp(times.s[i].name, stages[k]) != 0)
      i++;
    if (i == times.n)
      fail_msg("no lua_us:%s in the stats", stages[k]);
    assert_true(times.s[i].calls >= 1);
    assert_true(times.s[i].calls <= EVENTS + 3 * AGENTS); /* a call per batch, not more */
    assert_true(times.s[i].us > 0);
  }
  printf("e2e: %d events, %d conversations, %lld assigned, %lld waiting, "
         "redis commands per event %.2f (INFO commandstats, scripts included)\n",
         EVENTS, new_convs, s.assigned, s.waiting, (double)(after - before) / EVENTS);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_event_acknowledged_classified_routed_once_and_timed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
