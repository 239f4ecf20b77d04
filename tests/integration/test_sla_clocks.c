/*
 * SLA clocks on the real stack (redis-server, the five services, the feed):
 *  - "pending_customer" stops the clock (nothing fires past the original
 *    due time) and the customer's next message restarts it with the time
 *    that was left; "on_hold" is not ended by a customer message, only by
 *    "open". (The status events are handed to sla-timer as route decides
 *    them: AGENT_OK naming the conversation; see the report on route.)
 *  - the periodic "update" target is armed by each agent reply, warns and
 *    breaches when no agent message follows, and stops at the close;
 *  - a transfer to a queue with its own policy re-targets first response
 *    from the original start;
 *  - a public post continued in a DM (identities linked, the same
 *    conversation) keeps its first-response start under the DM's policy;
 *  - raise_priority moves a still-waiting conversation up route's waiting
 *    line (and leaves an assigned one alone);
 *  - alert_supervisor alerts once per incident (per queue within the
 *    window, else per conversation and target), and defers the alert to
 *    the supervisors' next opening when their calendar is closed.
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
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define KEY_SHA "6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0" /* sha256("k1") */
#define TWO40 1099511627776LL
#define EPOCH 1500000000000LL

/* every tenant of the file; df's calendar is open only the day after tomorrow (UTC) */
static const char *const TENANTS =
    "{\"tenants\":["
    "{\"id\":\"pz\",\"sla\":{\"first_response_ms\":4000,\"warn_percent\":50}},"
    "{\"id\":\"up\",\"sla\":{\"first_response_ms\":60000,\"update_ms\":1500,\"warn_percent\":50}},"
    "{\"id\":\"tq\",\"route\":{\"queues\":[{\"id\":\"general\"},{\"id\":\"vip\"}],\"default_queue\":\"general\"},"
    " \"sla\":{\"first_response_ms\":60000,\"policies\":[{\"queue\":\"vip\",\"first_response_ms\":3000}]}},"
    "{\"id\":\"co\",\"api_keys\":[\"sha256:" KEY_SHA "\"],"
    " \"sla\":{\"first_response_ms\":600000,\"policies\":[{\"channel\":\"messenger\",\"first_response_ms\":5000}]}},"
    "{\"id\":\"rp\",\"sla\":{\"first_response_ms\":800,\"warn_percent\":50,\"on_breach\":[\"raise_priority\"],"
    " \"raise_priority_by\":30}},"
    "{\"id\":\"al\",\"sla\":{\"first_response_ms\":500,\"on_breach\":[\"alert_supervisor\"],\"alert_window_ms\":60000}},"
    "{\"id\":\"a2\",\"sla\":{\"first_response_ms\":500,\"on_breach\":[\"alert_supervisor\"]}},"
    "{\"id\":\"df\",\"sla\":{\"first_response_ms\":300,\"on_breach\":[\"alert_supervisor\"],"
    " \"supervisor_calendar\":\"later\",\"calendars\":{\"later\":{\"tz\":\"UTC\",\"hours\":{\"%s\":[[\"00:00\",\"24:00\"]]}}}}}"
    "]}";

typedef struct {
  char topic[48], timer[32], conv[72], alert_key[160];
  int kind, raised, alert;
  long long due, deferred, at;
} event_t;

typedef struct {
  event_t ev[512];
  size_t n;
} feed_t;

static sb_teststack_t *st;
static void *zctx, *sub, *push;
static feed_t feed;
static int64_t later_opens; /* df's calendar opens then */

static int64_t day_after_tomorrow(const char **name) {
  static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  *name = days[(tm.tm_wday + 2) % 7];
  return ((int64_t)now / 86400 + 2) * 86400 * 1000;
}

static int setup(void **state) {
  (void)state;
  char tenants[4096], ep[64];
  const char *day;
  later_opens = day_after_tomorrow(&day);
  snprintf(tenants, sizeof tenants, TENANTS, day);
  st = sb_teststack_start(tenants, NULL);
  if (!st)
    return -1;
  zctx = zmq_ctx_new();
  push = zmq_socket(zctx, ZMQ_PUSH);
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", SB_PORT_SLA_IN + sb_teststack_offset(st));
  zmq_connect(push, ep);
  sub = sb_testfeed_subscribe(st, zctx, "");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  zmq_close(sub);
  zmq_close(push);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
  return 0;
}

static void on_message(const char *topic, const sb_envelope_t *env, void *arg) {
  (void)arg;
  if (!env || env->body_case != SWITCHBOARD__V1__ENVELOPE__BODY_SLA || !env->sla || feed.n >= 512)
    return;
  const Switchboard__V1__SlaEvent *s = env->sla;
  event_t *e = &feed.ev[feed.n++];
  snprintf(e->topic, sizeof e->topic, "%s", topic);
  snprintf(e->timer, sizeof e->timer, "%s", s->timer);
  snprintf(e->conv, sizeof e->conv, "%s", s->conversation);
  snprintf(e->alert_key, sizeof e->alert_key, "%s", s->alert_key);
  e->kind = s->kind;
  e->raised = s->raised_priority;
  e->alert = s->supervisor_alert;
  e->due = s->due_ms;
  e->deferred = s->alert_deferred_ms;
  e->at = sb_now_ms();
}

/* Records the feed's SLA events for ms. */
static void read_feed(int ms) { sb_testfeed_read(sub, ms, on_message, NULL); }

static const event_t *find(const char *topic, const char *timer, const char *conv, size_t *count) {
  const event_t *first = NULL;
  *count = 0;
  for (size_t i = 0; i < feed.n; i++) {
    const event_t *e = &feed.ev[i];
    if (strcmp(e->topic, topic) == 0 && (!timer || strcmp(e->timer, timer) == 0) &&
        (!conv || strcmp(e->conv, conv) == 0)) {
      first = first ? first : e;
      (*count)++;
    }
  }
  return first;
}

static size_t count(const char *topic, const char *timer, const char *conv) {
  size_t n;
  find(topic, timer, conv, &n);
  return n;
}

static void publish(sb_envelope_t *env) {
  assert_non_null(env);
  sbctl_client_queue(sb_teststack_client(st), env);
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static void conv_of(const char *id, char conv[SB_EVENT_KEY_LEN + 1]) { sb_event_key("/tests", id, conv); }

/* ---- Redis -------------------------------------------------------------------- */

static long long zscore(const char *tenant, const char *member) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "ZSCORE sb:{t:%s}:timers %s", tenant, member);
  long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  freeReplyObject(r);
  return v;
}

static long long breach_due(const char *tenant, const char *conv, const char *target) {
  char m[160];
  snprintf(m, sizeof m, "b|%s|%s", conv, target);
  return zscore(tenant, m);
}

/* Waits (up to 5 s) until the breach due time differs from old. */
static long long wait_due(const char *tenant, const char *conv, const char *target, long long old) {
  int64_t until = sb_now_ms() + 5000;
  long long due;
  while ((due = breach_due(tenant, conv, target)) == old && sb_now_ms() < until)
    usleep(20000);
  return due;
}

/* A timers:open field ("" when absent) into out. */
static void open_field(const char *tenant, const char *conv, const char *what, char *out, size_t cap) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:%s}:timers:open %s|%s", tenant, conv, what);
  snprintf(out, cap, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
  freeReplyObject(r);
}

/* Field i (0-based) of a timers:open target value, as a number. */
static long long open_num(const char *tenant, const char *conv, const char *target, int i) {
  char v[256];
  open_field(tenant, conv, target, v, sizeof v);
  char *p = v;
  for (int k = 0; k < i && p; k++)
    p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
  return p && *v ? atoll(p) : -1;
}

static void conv_field(const char *tenant, const char *conv, const char *field, char *out, size_t cap) {
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:%s}:conv:%s %s", tenant, conv, field);
  snprintf(out, cap, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
  freeReplyObject(r);
}

/* ---- events route would decide ------------------------------------------------ */

/* Hands sla-timer an agent event as route decides it (AGENT_OK naming the
 * conversation), with its lease, as route's hand-off does. (ingest's
 * sb_admit refuses AGENT_STATUS and AGENT_TRANSFER for now, and route
 * treats a status as the agent's own: see the report.) */
static void routed_agent_event(const char *tenant, const char *id, Switchboard__V1__AgentAction action,
                               const char *conv, const char *status, const char *queue, const char *reason) {
  char key[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests/agents", id, key);
  Switchboard__V1__AgentEvent ag = SWITCHBOARD__V1__AGENT_EVENT__INIT;
  ag.action = action;
  ag.agent = "bo";
  ag.conversation = (char *)conv;
  ag.status = (char *)status;
  ag.target_queue = (char *)queue;
  Switchboard__V1__RoutingDecision rd = SWITCHBOARD__V1__ROUTING_DECISION__INIT;
  rd.outcome = SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  rd.conversation = (char *)conv;
  rd.agent = "bo";
  rd.reason = (char *)reason;
  Switchboard__V1__Envelope env = SWITCHBOARD__V1__ENVELOPE__INIT;
  env.id = (char *)id;
  env.source = "/tests/agents";
  env.type = "com.switchboard.agent";
  env.specversion = "1.0";
  env.tenant = (char *)tenant;
  env.key = key;
  env.conversation = (char *)conv;
  env.time_ms = sb_now_ms();
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_AGENT;
  env.agent = &ag;
  env.routing = &rd;
  size_t n = switchboard__v1__envelope__get_packed_size(&env);
  uint8_t *buf = malloc(n);
  switchboard__v1__envelope__pack(&env, buf);
  redisReply *r = redisCommand(sb_teststack_redis(st), "SET sb:{t:%s}:ev:%s %b EX 600", tenant, key, buf, n);
  freeReplyObject(r);
  r = redisCommand(sb_teststack_redis(st), "ZADD sb:{t:%s}:lease:sla %lld %s", tenant,
                   (long long)(sb_now_ms() + 60000), key);
  freeReplyObject(r);
  assert_int_equal(zmq_send(push, buf, n, 0), (int)n);
  free(buf);
}

static void status_event(const char *tenant, const char *id, const char *conv, const char *status) {
  routed_agent_event(tenant, id, SWITCHBOARD__V1__AGENT_ACTION__AGENT_STATUS, conv, status, "",
                     "conversation_status");
}

static void transfer(const char *tenant, const char *id, const char *conv, const char *queue) {
  routed_agent_event(tenant, id, SWITCHBOARD__V1__AGENT_ACTION__AGENT_TRANSFER, conv, "", queue,
                     "transferred_queued");
}

/* ---- tests -------------------------------------------------------------------- */

static void waiting_on_the_customer_stops_the_clock_and_their_message_restarts_it(void **state) {
  (void)state;
  char c1[SB_EVENT_KEY_LEN + 1], c2[SB_EVENT_KEY_LEN + 1], v[256];
  conv_of("pz-1", c1);
  conv_of("pz-2", c2);
  publish(sb_teststack_message(st, "pz", "pz-1", "x", "@p1", "where is my refund"));
  publish(sb_teststack_message(st, "pz", "pz-2", "x", "@p2", "my bag is lost"));
  long long due0 = wait_due("pz", c1, "first_response", -1);
  assert_int_not_equal(due0, -1);
  assert_int_not_equal(wait_due("pz", c2, "first_response", -1), -1);
  long long started = open_num("pz", c1, "first_response", 0);
  assert_int_equal(due0, started + 4000);

  status_event("pz", "st-1", c1, "pending_customer");
  status_event("pz", "st-2", c2, "on_hold");
  int64_t until = sb_now_ms() + 5000;
  for (*v = '\0'; !*v && sb_now_ms() < until; usleep(20000))
    open_field("pz", c1, "paused", v, sizeof v);
  assert_string_equal(v, "pending_customer");
  long long paused_at = open_num("pz", c1, "first_response", 5);
  assert_true(paused_at >= started);
  assert_int_equal(breach_due("pz", c1, "first_response"), -1); /* no timer while paused */
  char w[160];
  snprintf(w, sizeof w, "w|%s|first_response", c1);
  assert_int_equal(zscore("pz", w), -1);

  /* well past the original breach: nothing fired */
  read_feed((int)(due0 + 800 - sb_now_ms()));
  assert_int_equal(count("pz.sla.breach", NULL, c1), 0);
  assert_int_equal(count("pz.sla.warning", NULL, c1), 0);

  /* the customer answers: the clock runs again with what was left */
  int64_t before = sb_now_ms();
  publish(sb_teststack_message(st, "pz", "pz-1b", "x", "@p1", "here is the booking number"));
  long long due1 = wait_due("pz", c1, "first_response", -1);
  int64_t after = sb_now_ms();
  assert_int_not_equal(due1, -1);
  long long paused_ms = open_num("pz", c1, "first_response", 4);
  assert_true(paused_ms >= before - paused_at - 1000); /* the customer's event time, at most a second early */
  assert_true(paused_ms <= after - paused_at);
  assert_int_equal(due1, due0 + paused_ms);
  assert_int_equal(open_num("pz", c1, "first_response", 5), 0);
  open_field("pz", c1, "paused", v, sizeof v);
  assert_string_equal(v, "");

  /* on hold: the customer's message does not end it; "open" does */
  publish(sb_teststack_message(st, "pz", "pz-2b", "x", "@p2", "hello?"));
  usleep(600000);
  open_field("pz", c2, "paused", v, sizeof v);
  assert_string_equal(v, "on_hold");
  assert_int_equal(breach_due("pz", c2, "first_response"), -1);
  status_event("pz", "st-3", c2, "open");
  assert_int_not_equal(wait_due("pz", c2, "first_response", -1), -1);

  /* the breach comes at the new due time, not before */
  read_feed((int)(due1 + 1500 - sb_now_ms()));
  size_t n;
  const event_t *b = find("pz.sla.breach", "first_response", c1, &n);
  assert_int_equal(n, 1);
  assert_int_equal(b->due, due1);
  assert_true(b->at >= due1);
}

static void an_update_is_due_after_each_reply_until_the_close(void **state) {
  (void)state;
  char c[SB_EVENT_KEY_LEN + 1];
  conv_of("up-1", c);
  publish(sb_teststack_agent_event(st, "up", "up-login", "login", "bo", NULL, 5));
  publish(sb_teststack_message(st, "up", "up-1", "x", "@u1", "my flight was cancelled"));
  assert_int_not_equal(wait_due("up", c, "first_response", -1), -1);
  assert_int_equal(breach_due("up", c, "update"), -1); /* first response is the promise */
  int64_t before = sb_now_ms();
  publish(sb_teststack_agent_event(st, "up", "up-r1", "reply", "bo", c, 0));
  long long due1 = wait_due("up", c, "update", -1);
  int64_t after = sb_now_ms();
  assert_true(due1 >= before + 1500 && due1 <= after + 1500);
  assert_int_equal(breach_due("up", c, "first_response"), -1);

  /* no agent message: warning at 50 %, then the breach, once each */
  read_feed((int)(due1 + 700 - sb_now_ms()));
  assert_int_equal(count("up.sla.warning", "update", c), 1);
  assert_int_equal(count("up.sla.breach", "update", c), 1);

  /* the next reply re-arms it, the close ends it */
  publish(sb_teststack_agent_event(st, "up", "up-r2", "reply", "bo", c, 0));
  long long due2 = wait_due("up", c, "update", -1);
  assert_true(due2 > due1);
  publish(sb_teststack_agent_event(st, "up", "up-close", "close", "bo", c, 0));
  int64_t until = sb_now_ms() + 5000;
  while (open_num("up", c, "update", 0) != -1 && sb_now_ms() < until)
    usleep(20000);
  assert_int_equal(open_num("up", c, "update", 0), -1);
  assert_int_equal(breach_due("up", c, "update"), -1);
  read_feed(2000);
  assert_int_equal(count("up.sla.breach", "update", c), 1); /* still only the first */
}

static void a_transfer_to_another_queue_retargets_from_the_start(void **state) {
  (void)state;
  char c[SB_EVENT_KEY_LEN + 1], q[64];
  conv_of("tq-1", c);
  publish(sb_teststack_agent_event(st, "tq", "tq-login", "login", "bo", NULL, 5));
  publish(sb_teststack_message(st, "tq", "tq-1", "x", "@t1", "I want a refund"));
  long long due0 = wait_due("tq", c, "first_response", -1);
  long long started = open_num("tq", c, "first_response", 0);
  assert_int_equal(due0, started + 60000); /* queue general: the default */
  conv_field("tq", c, "started_ms", q, sizeof q);
  assert_int_equal(atoll(q), started);
  usleep(500000);
  transfer("tq", "tq-t1", c, "vip");
  long long due1 = wait_due("tq", c, "first_response", due0);
  assert_int_equal(due1, started + 3000); /* vip's target, from the original start */
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:tq}:sl:open %s", c);
  assert_true(r && r->type == REDIS_REPLY_STRING);
  assert_int_equal(atoll(r->str), started + 3000); /* the service level judges by the new due time */
  freeReplyObject(r);
  read_feed((int)(due1 + 1500 - sb_now_ms()));
  size_t n;
  const event_t *b = find("tq.sla.breach", "first_response", c, &n);
  assert_int_equal(n, 1);
  assert_int_equal(b->due, started + 3000);
}

static void a_public_post_continued_in_a_dm_keeps_its_first_response_start(void **state) {
  (void)state;
  char c[SB_EVENT_KEY_LEN + 1], out[1024], attrs[256];
  const char *body = "{\"tenant\":\"co\",\"customer\":\"c-9\",\"identities\":[{\"channel\":\"x\",\"id\":\"@cat\"},"
                     "{\"channel\":\"messenger\",\"id\":\"cat-psid\"}]}";
  assert_int_equal(sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", "/v1/identities",
                                            "Authorization: Bearer k1", "application/json", body, strlen(body),
                                            out, sizeof out),
                   200);
  conv_of("co-1", c);
  publish(sb_teststack_message(st, "co", "co-1", "x", "@cat", "@acme my card was charged twice"));
  long long due0 = wait_due("co", c, "first_response", -1);
  long long started = open_num("co", c, "first_response", 0);
  assert_int_equal(due0, started + 600000);
  usleep(1200000);
  int64_t dm_at = sb_now_ms();
  publish(sb_teststack_message(st, "co", "co-2", "messenger", "cat-psid", "here are the details"));
  long long due1 = wait_due("co", c, "first_response", due0);
  /* messenger's 5 s from the public post, not from the DM */
  assert_int_equal(due1, started + 5000);
  assert_true(dm_at - started >= 1200);
  assert_int_equal(open_num("co", c, "first_response", 0), started);
  open_field("co", c, "attrs", attrs, sizeof attrs);
  assert_true(strncmp(attrs, "messenger|", 10) == 0);
  read_feed((int)(due1 + 1500 - sb_now_ms()));
  assert_int_equal(count("co.sla.breach", "first_response", c), 1);
}

static void a_breach_raises_a_waiting_conversation_in_its_queue(void **state) {
  (void)state;
  char assigned[SB_EVENT_KEY_LEN + 1], waiting[SB_EVENT_KEY_LEN + 1], v[64];
  conv_of("rp-1", assigned);
  conv_of("rp-2", waiting);
  publish(sb_teststack_agent_event(st, "rp", "rp-login", "login", "bo", NULL, 1));
  publish(sb_teststack_message(st, "rp", "rp-1", "x", "@r1", "hello"));
  publish(sb_teststack_message(st, "rp", "rp-2", "x", "@r2", "hello there"));
  assert_int_not_equal(wait_due("rp", waiting, "first_response", -1), -1);
  conv_field("rp", waiting, "state", v, sizeof v);
  assert_string_equal(v, "queued");
  conv_field("rp", waiting, "prio", v, sizeof v);
  int prio0 = atoi(v);
  conv_field("rp", assigned, "prio", v, sizeof v);
  int prio_assigned = atoi(v);
  conv_field("rp", waiting, "started_ms", v, sizeof v);
  long long started = atoll(v);
  redisReply *r = redisCommand(sb_teststack_redis(st), "ZSCORE sb:{t:rp}:q:default:wait %s", waiting);
  assert_true(r && r->type == REDIS_REPLY_STRING);
  long long score0 = atoll(r->str);
  freeReplyObject(r);
  assert_int_equal(score0, (200 - prio0) * TWO40 + (started - EPOCH)); /* route's encoding */

  read_feed(2500);
  size_t n;
  const event_t *b = find("rp.sla.breach", "first_response", waiting, &n);
  assert_int_equal(n, 1);
  int want = prio0 + 30 > 100 ? 100 : prio0 + 30;
  assert_int_equal(b->raised, want);
  conv_field("rp", waiting, "prio", v, sizeof v);
  assert_int_equal(atoi(v), want);
  r = redisCommand(sb_teststack_redis(st), "ZSCORE sb:{t:rp}:q:default:wait %s", waiting);
  assert_true(r && r->type == REDIS_REPLY_STRING);
  assert_int_equal(atoll(r->str), (200 - want) * TWO40 + (started - EPOCH));
  freeReplyObject(r);
  /* the assigned one is not in the waiting line: left alone */
  b = find("rp.sla.breach", "first_response", assigned, &n);
  assert_int_equal(n, 1);
  assert_int_equal(b->raised, 0);
  conv_field("rp", assigned, "prio", v, sizeof v);
  assert_int_equal(atoi(v), prio_assigned);
  r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:rp}:stats sla_raised_priority");
  assert_true(r && r->type == REDIS_REPLY_STRING && atoi(r->str) == 1);
  freeReplyObject(r);
}

static void one_alert_per_incident(void **state) {
  (void)state;
  char id[32], cust[32], c[SB_EVENT_KEY_LEN + 1];
  for (int i = 0; i < 4; i++) { /* one queue, one window: one incident */
    snprintf(id, sizeof id, "al-%d", i);
    snprintf(cust, sizeof cust, "@al%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "al", id, "x", cust, "hi"));
  }
  for (int i = 0; i < 2; i++) { /* no window: one incident per conversation */
    snprintf(id, sizeof id, "a2-%d", i);
    snprintf(cust, sizeof cust, "@a2%d", i);
    sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, "a2", id, "x", cust, "hi"));
  }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
  read_feed(2500);
  assert_int_equal(count("al.sla.breach", "first_response", NULL), 4);
  size_t alerts = 0;
  const char *key = NULL;
  for (size_t i = 0; i < feed.n; i++) {
    const event_t *e = &feed.ev[i];
    if (strcmp(e->topic, "al.sla.breach") != 0)
      continue;
    alerts += e->alert;
    assert_true(strncmp(e->alert_key, "queue:default:", 14) == 0);
    if (key)
      assert_string_equal(e->alert_key, key);
    key = e->alert_key;
  }
  assert_int_equal(alerts, 1);
  redisReply *r = redisCommand(sb_teststack_redis(st), "GET sb:{t:al}:alert:queue:default");
  assert_true(r && r->type == REDIS_REPLY_STRING);
  assert_string_equal(r->str, key);
  freeReplyObject(r);
  for (int i = 0; i < 2; i++) {
    snprintf(id, sizeof id, "a2-%d", i);
    conv_of(id, c);
    size_t n;
    const event_t *e = find("a2.sla.breach", "first_response", c, &n);
    assert_int_equal(n, 1);
    assert_int_equal(e->alert, 1);
    char want[160];
    snprintf(want, sizeof want, "conv:%s:first_response", c);
    assert_string_equal(e->alert_key, want);
  }
}

static void an_alert_waits_for_the_supervisors_hours(void **state) {
  (void)state;
  char c[SB_EVENT_KEY_LEN + 1], want[256];
  conv_of("df-1", c);
  publish(sb_teststack_message(st, "df", "df-1", "x", "@d1", "hi"));
  read_feed(2000);
  size_t n;
  const event_t *b = find("df.sla.breach", "first_response", c, &n);
  assert_int_equal(n, 1);
  assert_int_equal(b->alert, 0);
  assert_int_equal(b->deferred, later_opens);
  snprintf(want, sizeof want, "conv:%s:first_response", c);
  assert_string_equal(b->alert_key, want);
  /* not dropped: due at the opening */
  redisReply *r = redisCommand(sb_teststack_redis(st), "ZRANGEBYSCORE sb:{t:df}:timers %lld %lld",
                               (long long)later_opens, (long long)later_opens);
  assert_true(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
  snprintf(want, sizeof want, "a|%s|first_response|", c);
  assert_true(strncmp(r->element[0]->str, want, strlen(want)) == 0);
  freeReplyObject(r);
  assert_int_equal(count("df.sla", NULL, c), 0); /* no alert yet */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(waiting_on_the_customer_stops_the_clock_and_their_message_restarts_it),
      cmocka_unit_test(an_update_is_due_after_each_reply_until_the_close),
      cmocka_unit_test(a_transfer_to_another_queue_retargets_from_the_start),
      cmocka_unit_test(a_public_post_continued_in_a_dm_keeps_its_first_response_start),
      cmocka_unit_test(a_breach_raises_a_waiting_conversation_in_its_queue),
      cmocka_unit_test(one_alert_per_incident),
      cmocka_unit_test(an_alert_waits_for_the_supervisors_hours),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
