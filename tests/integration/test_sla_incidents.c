/*
 * Supervisors' incidents and breach actions on the real stack
 * (redis-server, the five services, the feed):
 *  - a queue whose next conversation waits past sla.stuck.after_ms raises
 *    one "queue_stuck" Incident on "<tenant>.incident", not before the
 *    threshold and only one however long it stays stuck; once the queue
 *    moves again, the next stuck spell is a new incident;
 *  - on_breach "widen_routing" moves a conversation nobody in its queue can
 *    take to the queue's overflow at the breach, long before its max_wait;
 *    the same tenant without the action keeps it waiting.
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

#define STUCK_MS 1500
#define BREACH_MS 1000

/* sq: nobody ever logs in to billing; wd and wn: billing needs a skill
 * nobody has, its overflow queue takes anyone, and max_wait is 10 min */
#define WIDEN_ROUTE(id)                                                                                \
  "{\"id\":\"" id "\",\"route\":{\"queues\":[{\"id\":\"billing\",\"skills\":{\"billing\":1},"           \
  "\"max_wait\":{\"after_s\":600,\"then\":\"overflow\"}},{\"id\":\"overflow\"}],"                     \
  "\"default_queue\":\"billing\"},"
static const char *const TENANTS =
    "{\"tenants\":["
    "{\"id\":\"sq\",\"route\":{\"queues\":[{\"id\":\"billing\"}],\"default_queue\":\"billing\"},"
    " \"sla\":{\"first_response_ms\":600000,\"stuck\":{\"after_ms\":1500,\"queues\":[\"billing\"]}}},"
    WIDEN_ROUTE("wd") "\"sla\":{\"first_response_ms\":1000,\"on_breach\":[\"widen_routing\"]}},"
    WIDEN_ROUTE("wn") "\"sla\":{\"first_response_ms\":1000,\"on_breach\":[\"alert_supervisor\"]}}"
    "]}";

typedef struct {
  char topic[48], kind[24], key[64], id[96], agent[32], reason[48], conv[72];
  double observed, baseline;
  unsigned waiting;
  int widen, outcome;
  long long at;
} event_t;

static sb_teststack_t *st;
static void *zctx, *sub;
static event_t feed[1024];
static size_t nfeed;

static int setup(void **state) {
  (void)state;
  setenv("SB_STUCK_CHECK_MS", "200", 1);
  st = sb_teststack_start(TENANTS, NULL);
  unsetenv("SB_STUCK_CHECK_MS");
  if (!st)
    return -1;
  zctx = zmq_ctx_new();
  sub = sb_testfeed_subscribe(st, zctx, "");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
  return 0;
}

static void keep(event_t *e, const char *topic, const sb_envelope_t *env) {
  memset(e, 0, sizeof *e);
  snprintf(e->topic, sizeof e->topic, "%s", topic);
  snprintf(e->conv, sizeof e->conv, "%s", env->conversation ? env->conversation : "");
  e->at = sb_now_ms();
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT && env->incident) {
    const Switchboard__V1__Incident *in = env->incident;
    snprintf(e->kind, sizeof e->kind, "%s", in->kind);
    snprintf(e->key, sizeof e->key, "%s", in->key);
    snprintf(e->id, sizeof e->id, "%s", in->id);
    e->observed = in->observed;
    e->baseline = in->baseline;
    e->waiting = in->waiting;
  }
  if (env->body_case == SWITCHBOARD__V1__ENVELOPE__BODY_SLA && env->sla) {
    snprintf(e->kind, sizeof e->kind, "sla%d", env->sla->kind);
    e->widen = env->sla->widen_requested;
  }
  if (env->routing) {
    e->outcome = env->routing->outcome;
    snprintf(e->agent, sizeof e->agent, "%s", env->routing->agent ? env->routing->agent : "");
    snprintf(e->reason, sizeof e->reason, "%s", env->routing->reason ? env->routing->reason : "");
    if (env->routing->conversation && *env->routing->conversation)
      snprintf(e->conv, sizeof e->conv, "%s", env->routing->conversation);
  }
}

static void on_message(const char *topic, const sb_envelope_t *env, void *arg) {
  (void)arg;
  if (env && nfeed < sizeof feed / sizeof feed[0])
    keep(&feed[nfeed++], topic, env);
}

/* Records the feed for ms. */
static void read_feed(int ms) { sb_testfeed_read(sub, ms, on_message, NULL); }

static size_t count_topic(const char *topic, size_t from) {
  size_t n = 0;
  for (size_t i = from; i < nfeed; i++)
    n += strcmp(feed[i].topic, topic) == 0;
  return n;
}

static const event_t *first_topic(const char *topic, size_t from) {
  for (size_t i = from; i < nfeed; i++)
    if (strcmp(feed[i].topic, topic) == 0)
      return &feed[i];
  return NULL;
}

static void publish(sb_envelope_t *env) {
  assert_non_null(env);
  sbctl_client_queue(sb_teststack_client(st), env);
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static void message(const char *tenant, const char *id, const char *customer) {
  publish(sb_teststack_message(st, tenant, id, "webchat", customer, "where is my refund?"));
}

static void a_stuck_queue_raises_one_incident_per_spell(void **state) {
  (void)state;
  size_t from = nfeed;
  long long sent = sb_now_ms();
  message("sq", "sq-1", "cust-1");
  read_feed(STUCK_MS + 4000);
  assert_int_equal(count_topic("sq.incident", from), 1);
  const event_t *e = first_topic("sq.incident", from);
  assert_string_equal(e->kind, "queue_stuck");
  assert_string_equal(e->key, "billing");
  assert_int_equal(e->waiting, 1);
  assert_true(e->observed >= STUCK_MS && e->baseline == STUCK_MS);
  assert_true(e->at - sent >= STUCK_MS); /* never before the threshold */
  char first_id[96];
  snprintf(first_id, sizeof first_id, "%s", e->id);

  /* still stuck, and a second conversation joins: the same incident */
  message("sq", "sq-2", "cust-2");
  read_feed(2000);
  assert_int_equal(count_topic("sq.incident", from), 1);
  char metrics[65536];
  assert_int_equal(sb_teststack_http(st, SB_PORT_ADMIN_SLA, "GET", "/metrics", NULL, NULL, 0, metrics,
                                     sizeof metrics),
                   200);
  assert_int_equal(sb_test_metric(metrics, "sb_queue_waiting", "queue=\"billing\",tenant=\"sq\""), 2);
  assert_int_equal(sb_test_metric(metrics, "sb_queue_stuck_incidents_total", "service=\"sla-timer\""), 1);

  /* an agent takes both: the queue moves; a later stuck spell is a new incident */
  publish(sb_teststack_agent_event(st, "sq", "sq-login", "login", "ann", NULL, 2));
  read_feed(1500);
  size_t mid = nfeed;
  message("sq", "sq-3", "cust-3");
  read_feed(STUCK_MS + 4000);
  assert_int_equal(count_topic("sq.incident", mid), 1);
  assert_string_not_equal(first_topic("sq.incident", mid)->id, first_id);
}

/* The routing decision that assigned conv (after from), or NULL. */
static const event_t *assigned(const char *tenant_topic, const char *conv, size_t from) {
  for (size_t i = from; i < nfeed; i++)
    if (strcmp(feed[i].topic, tenant_topic) == 0 && strcmp(feed[i].conv, conv) == 0)
      return &feed[i];
  return NULL;
}

static void widen_routing_moves_a_waiting_conversation_at_the_breach(void **state) {
  (void)state;
  size_t from = nfeed;
  publish(sb_teststack_agent_event(st, "wd", "wd-login", "login", "ovf", NULL, 3));
  publish(sb_teststack_agent_event(st, "wn", "wn-login", "login", "ovf", NULL, 3));
  long long sent = sb_now_ms();
  message("wd", "wd-1", "cust-w");
  message("wn", "wn-1", "cust-n");
  sb_envelope_t *wd = sb_teststack_routed(st, "wd", "/tests", "wd-1", 10000);
  sb_envelope_t *wn = sb_teststack_routed(st, "wn", "/tests", "wn-1", 10000);
  assert_non_null(wd);
  assert_non_null(wn);
  assert_int_equal(wd->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED);
  assert_int_equal(wn->routing->outcome, SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED);
  char conv_wd[72], conv_wn[72];
  snprintf(conv_wd, sizeof conv_wd, "%s", wd->conversation);
  snprintf(conv_wn, sizeof conv_wn, "%s", wn->conversation);
  sb_envelope_free(wd);
  sb_envelope_free(wn);

  read_feed(BREACH_MS + 6000);
  const event_t *a = assigned("wd.assigned", conv_wd, from);
  assert_non_null(a);
  assert_string_equal(a->agent, "ovf");
  assert_true(a->at - sent >= BREACH_MS); /* not before the breach */
  int widened = 0;
  for (size_t i = from; i < nfeed; i++)
    widened |= strcmp(feed[i].topic, "wd.sla.breach") == 0 && strcmp(feed[i].conv, conv_wd) == 0 && feed[i].widen;
  assert_true(widened);
  /* without the action the breach leaves it waiting for its max_wait */
  assert_null(assigned("wn.assigned", conv_wn, from));
  assert_non_null(first_topic("wn.sla.breach", from));
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:wn}:conv:%s state", conv_wn);
  assert_true(r && r->type == REDIS_REPLY_STRING);
  assert_string_equal(r->str, "queued");
  freeReplyObject(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_stuck_queue_raises_one_incident_per_spell),
      cmocka_unit_test(widen_routing_moves_a_waiting_conversation_at_the_breach),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
