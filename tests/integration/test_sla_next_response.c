/*
 * Next response and replicas, end to end on the real stack:
 *  - after the first reply, each customer message re-arms the
 *    next-response timer (the later message replaces the earlier due time,
 *    one timer pair per conversation), the agent's reply stops it ("met",
 *    nothing fires), and an unanswered message fires its warning and
 *    breach once each;
 *  - with three sla-timer replicas claiming the same timers, each of 150
 *    conversations gets exactly one warning and one breach.
 */
#include "sb_testfeed.h"
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define NEXT_MS 2000
#define TENANTS_NEXT                                                                              \
  "{\"tenants\":[{\"id\":\"nr\",\"sla\":{\"first_response_ms\":60000,\"warn_percent\":50,"       \
  "\"policies\":[{\"channel\":\"x\",\"next_response_ms\":2000}]}}]}"
#define FIRE_MS 800
#define CONVS 150
#define TENANTS_MANY "{\"tenants\":[{\"id\":\"many\",\"sla\":{\"first_response_ms\":800,\"warn_percent\":50}}]}"

typedef struct {
  char topic[48];
  char timer[32];
  char conv[72];
  char id[160];
} event_t;

typedef struct {
  event_t *ev;
  size_t n, cap;
} feed_t;

static void on_message(const char *topic, const sb_envelope_t *env, void *arg) {
  feed_t *f = arg;
  const Switchboard__V1__SlaEvent *sla = NULL; /* body is a oneof: env->sla shares its storage */
  if (env)
    sla = env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA ? env->sla : env->sla_armed;
  if (env && getenv("SB_TEST_VERBOSE")) /* the whole feed, when a run needs explaining */
    fprintf(stderr, "all: %s %s attempt=%u t=%lld\n", topic, env->id, env->attempt, (long long)env->time_ms);
  if (!sla || !strstr(topic, ".sla."))
    return;
  if (f->n == f->cap) {
    f->cap = f->cap ? 2 * f->cap : 64;
    f->ev = realloc(f->ev, f->cap * sizeof *f->ev);
    assert_non_null(f->ev);
  }
  event_t *e = &f->ev[f->n++];
  snprintf(e->topic, sizeof e->topic, "%s", topic);
  snprintf(e->timer, sizeof e->timer, "%s", sla->timer);
  snprintf(e->conv, sizeof e->conv, "%s", sla->conversation);
  snprintf(e->id, sizeof e->id, "%s", env->id);
}

/* Records the feed's SLA events for ms. */
static void read_feed(void *sub, feed_t *f, int ms) { sb_testfeed_read(sub, ms, on_message, f); }

static size_t count(const feed_t *f, const char *topic, const char *timer, const char *conv) {
  size_t n = 0;
  for (size_t i = 0; i < f->n; i++)
    n += strcmp(f->ev[i].topic, topic) == 0 && (!timer || strcmp(f->ev[i].timer, timer) == 0) &&
         (!conv || strcmp(f->ev[i].conv, conv) == 0);
  return n;
}

/* The breach due time of (conv, target), or -1 when not armed. */
static long long breach_due(sb_teststack_t *st, const char *tenant, const char *conv, const char *target) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "ZSCORE sb:{t:%s}:timers b|%s|%s", tenant, conv, target);
  long long due = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  freeReplyObject(r);
  return due;
}

/* Waits until the breach due time of (conv, target) differs from `old`. */
static long long wait_due_change(sb_teststack_t *st, const char *conv, long long old) {
  int64_t until = sb_now_ms() + 5000;
  long long due;
  while ((due = breach_due(st, "nr", conv, "next_response")) == old && sb_now_ms() < until)
    usleep(20000);
  return due;
}

static long long zcard(sb_teststack_t *st, const char *tenant) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "ZCARD sb:{t:%s}:timers", tenant);
  long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
  freeReplyObject(r);
  return n;
}

/* A field of the tenant's stats hash (0 when absent). */
static long long stat_of(sb_teststack_t *st, const char *tenant, const char *field) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:%s}:stats %s", tenant, field);
  long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return v;
}

static void publish(sb_teststack_t *st, sb_envelope_t *env) {
  sbctl_client_queue(sb_teststack_client(st), env);
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static void next_response_rearms_on_each_message_and_the_reply_stops_it(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS_NEXT, NULL);
  assert_non_null(st);
  void *zctx = zmq_ctx_new(), *sub = sb_testfeed_subscribe(st, zctx, "nr.");
  feed_t f = {0};
  char conv[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "m1", conv); /* a new conversation is named after its first event */
  publish(st, sb_teststack_agent_event(st, "nr", "login", "login", "bo", NULL, 5));
  publish(st, sb_teststack_message(st, "nr", "m1", "x", "@ann", "my bag is lost"));
  usleep(200000);
  /* no next-response timer while the first response is pending */
  publish(st, sb_teststack_message(st, "nr", "m1b", "x", "@ann", "hello??"));
  assert_int_not_equal(breach_due(st, "nr", conv, "first_response"), -1);
  usleep(300000);
  assert_int_equal(breach_due(st, "nr", conv, "next_response"), -1);
  publish(st, sb_teststack_agent_event(st, "nr", "r1", "reply", "bo", conv, 0));
  read_feed(sub, &f, 1000);
  assert_int_equal(count(&f, "nr.sla.met", "first_response", conv), 1);
  assert_int_equal(breach_due(st, "nr", conv, "first_response"), -1);

  /* the customer writes again: next response armed; again: re-armed later */
  publish(st, sb_teststack_message(st, "nr", "m2", "x", "@ann", "any news?"));
  long long due1 = wait_due_change(st, conv, -1);
  assert_int_not_equal(due1, -1);
  usleep(400000);
  publish(st, sb_teststack_message(st, "nr", "m3", "x", "@ann", "still waiting"));
  long long due2 = wait_due_change(st, conv, due1);
  assert_true(due2 >= due1 + 300); /* counted from the later message */
  assert_int_equal(zcard(st, "nr"), 2); /* one warning and one breach: replaced, not added */
  /* the agent replies before the warning: stopped and met, nothing fires */
  publish(st, sb_teststack_agent_event(st, "nr", "r2", "reply", "bo", conv, 0));
  read_feed(sub, &f, NEXT_MS + 500);
  assert_int_equal(breach_due(st, "nr", conv, "next_response"), -1);
  assert_int_equal(zcard(st, "nr"), 0);
  assert_int_equal(count(&f, "nr.sla.met", "next_response", conv), 1);
  assert_int_equal(count(&f, "nr.sla.warning", NULL, NULL), 0);
  assert_int_equal(count(&f, "nr.sla.breach", NULL, NULL), 0);

  /* unanswered: the re-armed timer warns and breaches once each */
  publish(st, sb_teststack_message(st, "nr", "m4", "x", "@ann", "hello?"));
  read_feed(sub, &f, NEXT_MS * 2);
  assert_int_equal(count(&f, "nr.sla.warning", "next_response", conv), 1);
  assert_int_equal(count(&f, "nr.sla.breach", "next_response", conv), 1);
  assert_int_equal(zcard(st, "nr"), 0);
  /* the late reply reports it missed */
  publish(st, sb_teststack_agent_event(st, "nr", "r3", "reply", "bo", conv, 0));
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 5, 5000, &s), 0);
  assert_int_equal(stat_of(st, "nr", "sla_next_response_met"), 1);
  assert_int_equal(stat_of(st, "nr", "sla_next_response_missed"), 1);
  assert_int_equal(stat_of(st, "nr", "sla_armed_next_response"), 3); /* m2, m3, m4; not m1b */
  free(f.ev);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

/* sb_sla_fired_total summed over its labels, from one replica's /metrics. */
static long long fired_total(sb_teststack_t *st, int admin_port) {
  static char body[1 << 16];
  int status = sb_teststack_http(st, admin_port - sb_teststack_offset(st), "GET", "/metrics", NULL, "", 0,
                                 body, sizeof body);
  assert_int_equal(status, 200);
  long long n = 0;
  for (const char *l = strstr(body, "\nsb_sla_fired_total{"); l; l = strstr(l + 1, "\nsb_sla_fired_total{"))
    n += atoll(strchr(l, '}') + 1);
  return n;
}

static void three_replicas_fire_each_timer_exactly_once(void **state) {
  (void)state;
  sb_teststack_t *st = sb_teststack_start(TENANTS_MANY, NULL);
  assert_non_null(st);
  int admin[3] = {SB_PORT_ADMIN_SLA + sb_teststack_offset(st), sb_teststack_add_replica(st, "sla-timer"),
                   sb_teststack_add_replica(st, "sla-timer")};
  assert_true(admin[1] > 0 && admin[2] > 0);
  void *zctx = zmq_ctx_new(), *sub = sb_testfeed_subscribe(st, zctx, "many.sla.");
  feed_t f = {0};
  for (int i = 0; i < CONVS; i++) { /* nobody logged in: every conversation waits */
    char id[32], customer[32];
    snprintf(id, sizeof id, "w-%d", i);
    snprintf(customer, sizeof customer, "@c%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "many", id, "x", customer, "hi"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 10000), 0);
  read_feed(sub, &f, 3 * FIRE_MS + 2000);
  assert_int_equal(count(&f, "many.sla.warning", "first_response", NULL), CONVS);
  assert_int_equal(count(&f, "many.sla.breach", "first_response", NULL), CONVS);
  for (int i = 0; i < CONVS; i++) {
    char id[32], conv[SB_EVENT_KEY_LEN + 1];
    snprintf(id, sizeof id, "w-%d", i);
    sb_event_key("/tests", id, conv);
    assert_int_equal(count(&f, "many.sla.warning", NULL, conv), 1);
    assert_int_equal(count(&f, "many.sla.breach", NULL, conv), 1);
  }
  for (size_t i = 0; i < f.n; i++) /* no event id twice */
    for (size_t j = i + 1; j < f.n; j++)
      assert_string_not_equal(f.ev[i].id, f.ev[j].id);
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, CONVS, 5000, &s), 0);
  assert_int_equal(s.sla_armed, CONVS);
  assert_int_equal(s.sla_breach, CONVS);
  assert_int_equal(zcard(st, "many"), 0);
  long long fired[3], sum = 0;
  for (int i = 0; i < 3; i++)
    sum += fired[i] = fired_total(st, admin[i]);
  fprintf(stderr, "timers fired by replica: %lld %lld %lld\n", fired[0], fired[1], fired[2]);
  assert_int_equal(sum, 2 * CONVS);
  free(f.ev);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(next_response_rearms_on_each_message_and_the_reply_stops_it),
      cmocka_unit_test(three_replicas_fire_each_timer_exactly_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
