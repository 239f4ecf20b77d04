/*
 * libswitchboard-client against a real stack (sb_teststack: redis-server
 * and the five services): a synchronous publish is acknowledged once
 * durable and the same id again is a duplicate; refused events come back
 * with the bus's reason; 500 events published asynchronously in one flush
 * go out as 5 requests and every one is answered through its callback, the
 * caller driving the library from its own poll() on the library's fd; a
 * tenant over its rate gets "retry later" answers that the library retries
 * with back-off until every event is durable; nobody listening ends in a
 * timeout; a subscriber sees the assignments of what was published; a
 * subscriber that resumes a topic is told exactly the numbers it missed,
 * which the topic's history in Redis holds; with a CURVE edge only the
 * allowed key pair is answered. Suggestion feedback: an agent's verdict on
 * the answer classify suggested is counted in the tenant's sugfb hash and
 * what the bus made of it (counted, or why not) comes back on the feed;
 * a malformed answer id is refused before sending. The gap tracker (internal,
 * compiled into this test) is fed synthetic sequences: jumps, late
 * numbers within the grace, splits, resumes and overflow.
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_keys.h"
#include "sb_service.h"
#include "sb_time.h"
#include "sbc_gap.h"
#include "switchboard/client.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* "sug": answers for classify to suggest (as in test_suggest_feedback) */
#define TENANTS                                                                 \
  "{\"tenants\":[{\"id\":\"cl\"},{\"id\":\"late\"},{\"id\":\"desk\"},"            \
  "{\"id\":\"slow\",\"rate\":{\"events_per_s\":10,\"burst\":5}},"                   \
  "{\"id\":\"sug\",\"route\":{\"queues\":[{\"id\":\"general\"}],"                  \
  "\"default_queue\":\"general\"},\"classify\":{\"answers\":["                          \
  "{\"id\":\"bag-a\",\"text\":\"lost baggage claim form\"},"                           \
  "{\"id\":\"refund\",\"text\":\"refund for a cancelled flight\"}]}}]}"
#define BATCH 500
#define SLOW_EVENTS 25
#define WAIT_MS 60000

static sb_teststack_t *st;
static char publish_ep[64], feed_ep[64];

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  if (!st)
    return -1;
  int off = sb_teststack_offset(st);
  snprintf(publish_ep, sizeof publish_ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + off);
  snprintf(feed_ep, sizeof feed_ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + off);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static sbc_publisher_t *publisher(void) {
  sbc_options_t o = {.endpoint = publish_ep};
  sbc_publisher_t *p = NULL;
  assert_int_equal(sbc_publisher_open(&p, &o), 0);
  return p;
}

static sbc_event_t message(const char *tenant, const char *id, const char *customer) {
  return (sbc_event_t){.tenant = tenant, .id = id, .source = "/tests/client",
                       .kind = SBC_EVENT_INTERACTION,
                       .interaction = {.channel = SBC_CHANNEL_WHATSAPP, .customer = customer,
                                       .text = "My parcel has not arrived, can you help?"}};
}

static long long ingested(const char *tenant) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), tenant, &s), 0);
  return s.ingested;
}

static void sync_publish_is_acked_and_a_second_time_a_duplicate(void **state) {
  (void)state;
  sbc_publisher_t *p = publisher();
  long long before = ingested("cl");
  sbc_event_t ev = message("cl", "sync-1", "+4470000001");
  char reason[256];
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_DUPLICATE);
  assert_int_equal(ingested("cl"), before + 1); /* stored once */
  sbc_publisher_stats_t s;
  sbc_publisher_stats(p, &s);
  assert_int_equal(s.ok, 1);
  assert_int_equal(s.duplicate, 1);
  assert_int_equal(sbc_publisher_pending(p), 0);
  sbc_publisher_close(&p);
  assert_null(p);
}

static int calls;
static void count_call(void *arg, const char *id, int result, const char *reason) {
  (void)arg, (void)id, (void)result, (void)reason;
  calls++;
}

static void refused_events_come_back_with_the_reason(void **state) {
  (void)state;
  sbc_publisher_t *p = publisher();
  char reason[256];
  sbc_event_t ev = message("nobody", "rej-1", "+4470000002");
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_EUNKNOWN_TENANT);
  assert_non_null(strstr(reason, "unknown tenant"));
  ev = message("bad tenant!", "rej-2", "+4470000002");
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_EREJECTED);
  assert_non_null(strstr(reason, "tenant must match"));
  ev = message("cl", "rej-3", "+4470000002");
  ev.interaction.channel = SBC_CHANNEL_UNKNOWN;
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_EREJECTED);
  assert_string_equal(reason, "unknown channel");
  /* checked before sending: an error, and the callback is never called */
  calls = 0;
  ev = message("cl", "rej-4", NULL);
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_EINVAL);
  ev.id = NULL;
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_EINVAL);
  assert_int_equal(sbc_publisher_drain(p, 1000), 0);
  assert_int_equal(calls, 0);
  sbc_publisher_close(&p);
}

typedef struct {
  int answers, ok;
  char seen[BATCH];
} batch_t;

static void on_batch_ack(void *arg, const char *id, int result, const char *reason) {
  (void)reason;
  batch_t *b = arg;
  int i = atoi(id + strlen("batch-"));
  assert_in_range(i, 0, BATCH - 1);
  assert_int_equal(b->seen[i], 0); /* exactly once */
  b->seen[i] = 1;
  b->answers++;
  b->ok += result == SBC_OK;
}

static void async_batch_of_500_is_answered_through_callbacks(void **state) {
  (void)state;
  sbc_publisher_t *p = publisher();
  batch_t b = {0};
  char ids[BATCH][32], customers[BATCH][32];
  int64_t t0 = sb_now_ms();
  for (int i = 0; i < BATCH; i++) {
    snprintf(ids[i], sizeof ids[i], "batch-%d", i);
    snprintf(customers[i], sizeof customers[i], "+4471%06d", i % 50);
    sbc_event_t ev = message("cl", ids[i], customers[i]);
    assert_int_equal(sbc_publish(p, &ev, on_batch_ack, &b), 0);
  }
  assert_int_equal(sbc_publisher_pending(p), BATCH);
  assert_int_equal(sbc_publisher_flush(p), 0);
  assert_int_equal(b.answers, 0); /* callbacks only run from the polling calls */
  sbc_publisher_stats_t s;
  sbc_publisher_stats(p, &s);
  assert_int_equal(s.requests, BATCH / 100);
  assert_int_equal(s.sent, BATCH);
  /* the caller's own loop: poll() on the library's fd and its next timeout */
  int fd = -1;
  assert_int_equal(sbc_publisher_fd(p, &fd), 0);
  assert_true(fd >= 0);
  int64_t until = sb_now_ms() + WAIT_MS;
  while (b.answers < BATCH && sb_now_ms() < until) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int next = sbc_publisher_next_timeout(p);
    poll(&pfd, 1, next >= 0 && next < 100 ? next : 100);
    assert_true(sbc_publisher_poll(p, 0) >= 0);
  }
  assert_int_equal(b.answers, BATCH);
  assert_int_equal(b.ok, BATCH);
  assert_int_equal(sbc_publisher_pending(p), 0);
  sbc_publisher_stats(p, &s);
  assert_int_equal(s.ok, BATCH);
  assert_int_equal(s.requests, BATCH / 100); /* nothing had to be sent again */
  printf("batch: %d events acknowledged in %lld ms\n", BATCH, (long long)(sb_now_ms() - t0));
  sbc_publisher_close(&p);
}

static void retry_later_answers_are_retried_with_back_off(void **state) {
  (void)state;
  sbc_options_t o = {.endpoint = publish_ep, .max_retries = 100, .retry_base_ms = 20,
                     .retry_max_ms = 200};
  sbc_publisher_t *p = NULL;
  assert_int_equal(sbc_publisher_open(&p, &o), 0);
  batch_t b = {0};
  char ids[SLOW_EVENTS][32];
  for (int i = 0; i < SLOW_EVENTS; i++) {
    snprintf(ids[i], sizeof ids[i], "batch-%d", i);
    sbc_event_t ev = message("slow", ids[i], "+4472000000");
    assert_int_equal(sbc_publish(p, &ev, on_batch_ack, &b), 0);
  }
  int64_t t0 = sb_now_ms();
  assert_int_equal(sbc_publisher_drain(p, WAIT_MS), 0);
  int64_t took = sb_now_ms() - t0;
  assert_int_equal(b.answers, SLOW_EVENTS);
  assert_int_equal(b.ok, SLOW_EVENTS);
  sbc_publisher_stats_t s;
  sbc_publisher_stats(p, &s);
  /* burst 5, then 10 a second: 20 events wait for tokens, 2 s at least */
  assert_true(s.retried >= SLOW_EVENTS - 5);
  assert_true(took >= 1800);
  printf("rate-limited: %d events durable after %lld ms, %llu retries\n", SLOW_EVENTS,
         (long long)took, (unsigned long long)s.retried);
  assert_int_equal(ingested("slow"), SLOW_EVENTS);
  sbc_publisher_close(&p);
}

static void nobody_listening_ends_in_a_timeout(void **state) {
  (void)state;
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", sb_test_free_port());
  sbc_options_t o = {.endpoint = ep, .ack_timeout_ms = 600, .resend_after_ms = 100};
  sbc_publisher_t *p = NULL;
  assert_int_equal(sbc_publisher_open(&p, &o), 0);
  sbc_event_t ev = message("cl", "lost-1", "+4473000000");
  char reason[128];
  int64_t t0 = sb_now_ms();
  assert_int_equal(sbc_publish_sync(p, &ev, 0, reason, sizeof reason), SBC_ETIMEOUT);
  int64_t took = sb_now_ms() - t0;
  assert_true(took >= 600);
  assert_true(took < 10000);
  sbc_publisher_stats_t s;
  sbc_publisher_stats(p, &s);
  assert_int_equal(s.timed_out, 1);
  /* an unreachable publisher with a queued event: closing answers it */
  calls = 0;
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), 0);
  sbc_publisher_close(&p);
  assert_int_equal(calls, 1);
}

static void bad_options_are_refused(void **state) {
  (void)state;
  sbc_publisher_t *p = NULL;
  sbc_options_t o = {.endpoint = NULL};
  assert_int_equal(sbc_publisher_open(&p, &o), SBC_EINVAL);
  o.endpoint = "not-an-endpoint";
  assert_int_equal(sbc_publisher_open(&p, &o), SBC_EZMQ);
  o.endpoint = publish_ep;
  o.server_public = "short";
  o.client_secret = "also short";
  assert_int_equal(sbc_publisher_open(&p, &o), SBC_ECURVE);
  o.client_secret = NULL; /* half a key set */
  assert_int_equal(sbc_publisher_open(&p, &o), SBC_EINVAL);
  assert_null(p);
  assert_string_equal(sbc_strerror(SBC_ETIMEOUT), "no acknowledgement before the deadline");
  assert_string_equal(sbc_strerror(12345), "unknown result code");
  for (int a = SBC_ESUGGESTION; a <= SBC_DUPLICATE; a++)
    for (int c = a + 1; c <= SBC_DUPLICATE; c++)
      assert_string_not_equal(sbc_strerror(a), sbc_strerror(c));
}

/* ---- the feed ------------------------------------------------------------ */

typedef struct {
  int assigned, events, logins;
  uint64_t last_seq;
  char topic[64];
  char agent[64], conversation[64];
  int gaps;
  uint64_t gap_first, gap_last;
  char gap_topic[64];
} follow_t;

static void on_feed(void *arg, const sbc_feed_event_t *ev) {
  follow_t *f = arg;
  f->events++;
  snprintf(f->topic, sizeof f->topic, "%s", ev->topic);
  if (ev->seq)
    f->last_seq = ev->seq;
  if (ev->event.kind == SBC_EVENT_AGENT && ev->event.agent.action == SBC_AGENT_LOGIN)
    f->logins++;
  if (strcmp(ev->kind, "assigned") == 0 && strncmp(ev->event.id, "feed-", 5) == 0) {
    assert_int_equal(ev->event.kind, SBC_EVENT_INTERACTION);
    assert_int_equal(ev->event.interaction.channel, SBC_CHANNEL_WHATSAPP);
    assert_string_equal(ev->event.tenant, "desk");
    assert_int_equal(ev->route_outcome, 1); /* ROUTE_ASSIGNED */
    snprintf(f->agent, sizeof f->agent, "%s", ev->agent);
    snprintf(f->conversation, sizeof f->conversation, "%s", ev->conversation);
    f->assigned++;
  }
}

static void on_gap(void *arg, const char *topic, uint64_t first, uint64_t last) {
  follow_t *f = arg;
  f->gaps++;
  f->gap_first = first, f->gap_last = last;
  snprintf(f->gap_topic, sizeof f->gap_topic, "%s", topic);
}

static sbc_subscriber_t *subscriber(follow_t *f, const char *prefix) {
  sbc_options_t o = {.endpoint = feed_ep, .gap_grace_ms = 50};
  sbc_subscriber_t *s = NULL;
  assert_int_equal(sbc_subscriber_open(&s, &o, on_feed, on_gap, f), 0);
  assert_int_equal(sbc_subscriber_subscribe(s, prefix), 0);
  for (int i = 0; i < 3; i++) /* the subscription reaches the feed */
    sbc_subscriber_poll(s, 100);
  return s;
}

static void follow_until(sbc_subscriber_t *s, const int *counter, int want) {
  int64_t until = sb_now_ms() + WAIT_MS;
  while (*counter < want && sb_now_ms() < until)
    assert_true(sbc_subscriber_poll(s, 100) >= 0);
}

static void subscriber_sees_the_assignments_of_what_was_published(void **state) {
  (void)state;
  follow_t f = {0};
  sbc_subscriber_t *s = subscriber(&f, "desk.");
  sbc_publisher_t *p = publisher();
  sbc_event_t login = {.tenant = "desk", .id = "login-feed", .source = "/tests/client",
                       .kind = SBC_EVENT_AGENT,
                       .agent = {.action = SBC_AGENT_LOGIN, .agent = "desk-1", .capacity = 10}};
  assert_int_equal(sbc_publish_sync(p, &login, 10000, NULL, 0), SBC_OK);
  follow_until(s, &f.logins, 1); /* routed: the messages find the agent there */
  assert_int_equal(f.logins, 1);
  char ids[5][16], cust[5][16];
  for (int i = 0; i < 5; i++) {
    snprintf(ids[i], sizeof ids[i], "feed-%d", i);
    snprintf(cust[i], sizeof cust[i], "+4474%06d", i); /* one conversation each */
    sbc_event_t ev = message("desk", ids[i], cust[i]);
    assert_int_equal(sbc_publish(p, &ev, NULL, NULL), 0);
  }
  assert_int_equal(sbc_publisher_drain(p, WAIT_MS), 0);
  follow_until(s, &f.assigned, 5);
  assert_int_equal(f.assigned, 5);
  assert_string_equal(f.agent, "desk-1");
  assert_true(strlen(f.conversation) > 0);
  assert_true(f.last_seq >= 5);
  assert_int_equal(f.gaps, 0);
  sbc_subscriber_stats_t ss;
  sbc_subscriber_stats(s, &ss);
  assert_int_equal(ss.malformed, 0);
  assert_int_equal(ss.gaps, 0);
  sbc_publisher_close(&p);
  sbc_subscriber_close(&s);
}

/* Waits until notify numbered the to-th "queued" event of tenant late
 * (and so published it). */
static void wait_numbered(uint64_t to) {
  int64_t until = sb_now_ms() + WAIT_MS;
  uint64_t n = 0;
  while (n < to && sb_now_ms() < until) {
    redisReply *r = redisCommand(sb_teststack_redis(st), "HGET sb:{t:late}:feed:seq queued");
    assert_non_null(r);
    n = r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    if (n < to)
      usleep(20000);
  }
  assert_int_equal(n, to);
  usleep(200000); /* the PUB socket sends right after the commit */
}

static void publish_late(sbc_publisher_t *p, int from, int to) {
  for (int i = from; i <= to; i++) {
    char id[16], cust[16];
    snprintf(id, sizeof id, "late-%d", i);
    snprintf(cust, sizeof cust, "@late%d", i);
    sbc_event_t ev = message("late", id, cust);
    assert_int_equal(sbc_publish(p, &ev, NULL, NULL), 0);
  }
  assert_int_equal(sbc_publisher_drain(p, WAIT_MS), 0);
  wait_numbered((uint64_t)to);
}

static void resumed_subscriber_is_told_exactly_what_it_missed(void **state) {
  (void)state;
  sbc_publisher_t *p = publisher();
  /* nobody logged in for "late": every message is "queued", numbered 1.. */
  follow_t a = {0};
  sbc_subscriber_t *s = subscriber(&a, "late.");
  publish_late(p, 1, 2);
  follow_until(s, &a.events, 2);
  assert_int_equal(a.events, 2);
  assert_string_equal(a.topic, "late.queued");
  uint64_t seen = a.last_seq;
  assert_int_equal(seen, 2);
  sbc_subscriber_close(&s);
  publish_late(p, 3, 5); /* nobody follows: numbers 3..5 go by */
  sbc_subscriber_stats_t ss;
  follow_t b = {0};
  sbc_options_t o = {.endpoint = feed_ep, .gap_grace_ms = 50};
  assert_int_equal(sbc_subscriber_open(&s, &o, on_feed, on_gap, &b), 0);
  assert_int_equal(sbc_subscriber_expect(s, "late.queued", seen + 1), 0);
  assert_int_equal(sbc_subscriber_subscribe(s, "late."), 0);
  for (int i = 0; i < 3; i++)
    sbc_subscriber_poll(s, 100);
  publish_late(p, 6, 6);
  follow_until(s, &b.gaps, 1);
  assert_int_equal(b.events, 1);
  assert_int_equal(b.last_seq, 6);
  assert_int_equal(b.gaps, 1);
  assert_string_equal(b.gap_topic, "late.queued");
  assert_int_equal(b.gap_first, 3);
  assert_int_equal(b.gap_last, 5);
  sbc_subscriber_stats(s, &ss);
  assert_int_equal(ss.missed, 3);
  /* what was missed is in the topic's history, exactly those numbers */
  redisReply *r = redisCommand(sb_teststack_redis(st), "XRANGE sb:{t:late}:feed:queued %llu %llu",
                               (unsigned long long)b.gap_first, (unsigned long long)b.gap_last);
  assert_non_null(r);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  assert_int_equal(r->elements, 3);
  assert_string_equal(r->element[0]->element[0]->str, "3-0");
  assert_string_equal(r->element[2]->element[0]->str, "5-0");
  freeReplyObject(r);
  for (int i = 0; i < 3; i++) /* reported once */
    sbc_subscriber_poll(s, 50);
  assert_int_equal(b.gaps, 1);
  sbc_subscriber_close(&s);
  sbc_publisher_close(&p);
}

/* A stack whose publish door and feed are CURVE servers: the right keys
 * publish and follow; a key the edge does not allow never gets an answer. */
static void curve_edge_needs_the_right_keys(void **state) {
  (void)state;
  sb_teststack_t *cs = sb_teststack_start_edge_curve("{\"tenants\":[{\"id\":\"sec\"}]}", NULL, NULL);
  assert_non_null(cs);
  const sb_teststack_keys_t *k = sb_teststack_edge_keys(cs);
  int off = sb_teststack_offset(cs);
  char pub_ep[64], sub_ep[64];
  snprintf(pub_ep, sizeof pub_ep, "tcp://127.0.0.1:%d", SB_PORT_INGEST_ZMQ + off);
  snprintf(sub_ep, sizeof sub_ep, "tcp://127.0.0.1:%d", SB_PORT_NOTIFY_PUB + off);
  sbc_options_t o = {.endpoint = sub_ep, .server_public = k->server_public,
                     .client_public = k->client_public, .client_secret = k->client_secret};
  follow_t f = {0};
  sbc_subscriber_t *s = NULL;
  assert_int_equal(sbc_subscriber_open(&s, &o, on_feed, on_gap, &f), 0);
  assert_int_equal(sbc_subscriber_subscribe(s, "sec."), 0);
  for (int i = 0; i < 3; i++)
    sbc_subscriber_poll(s, 100);
  o.endpoint = pub_ep;
  sbc_publisher_t *p = NULL;
  assert_int_equal(sbc_publisher_open(&p, &o), 0);
  sbc_event_t ev = message("sec", "curve-1", "+4475000000");
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, NULL, 0), SBC_OK);
  follow_until(s, &f.events, 1);
  assert_int_equal(f.events, 1);
  sbc_publisher_close(&p);
  /* a key pair of our own, not in the edge's allow-list */
  char other_pub[41], other_sec[41];
  assert_int_equal(zmq_curve_keypair(other_pub, other_sec), 0);
  o.client_public = other_pub, o.client_secret = other_sec;
  o.ack_timeout_ms = 1500;
  assert_int_equal(sbc_publisher_open(&p, &o), 0);
  ev.id = "curve-2";
  assert_int_equal(sbc_publish_sync(p, &ev, 0, NULL, 0), SBC_ETIMEOUT);
  sbc_publisher_close(&p);
  o.client_public = k->server_public; /* not the public key of that secret key */
  assert_int_equal(sbc_publisher_open(&p, &o), SBC_ECURVE);
  sbc_subscriber_close(&s);
  sb_teststack_stop(&cs);
}

/* ---- suggestion feedback ------------------------------------------------- */

#define SUG_EVENTS 16

/* What the feed said about one event of tenant sug, by id. */
typedef struct {
  char id[32], kind[32], result[32], reason[64], suggested[80], conversation[128];
} sug_seen_t;

typedef struct {
  int n;
  sug_seen_t ev[SUG_EVENTS];
} sug_feed_t;

static void on_sug_feed(void *arg, const sbc_feed_event_t *ev) {
  sug_feed_t *f = arg;
  if (f->n == SUG_EVENTS || strncmp(ev->event.id, "sug-", 4) != 0)
    return;
  sug_seen_t *s = &f->ev[f->n++];
  snprintf(s->id, sizeof s->id, "%s", ev->event.id);
  snprintf(s->kind, sizeof s->kind, "%s", ev->kind);
  snprintf(s->result, sizeof s->result, "%s", ev->suggestion_result);
  snprintf(s->reason, sizeof s->reason, "%s", ev->route_reason);
  snprintf(s->suggested, sizeof s->suggested, "%s", ev->suggested_reply);
  snprintf(s->conversation, sizeof s->conversation, "%s", ev->conversation);
}

/* Polls the feed until the event id was seen; what the feed said. */
static const sug_seen_t *sug_wait(sbc_subscriber_t *s, sug_feed_t *f, const char *id) {
  int64_t until = sb_now_ms() + WAIT_MS;
  for (;;) {
    for (int i = 0; i < f->n; i++)
      if (strcmp(f->ev[i].id, id) == 0)
        return &f->ev[i];
    if (sb_now_ms() >= until)
      fail_msg("%s never came on the feed", id);
    assert_true(sbc_subscriber_poll(s, 100) >= 0);
  }
}

/* A field of tenant sug's counts hash (route's), 0 when absent. */
static long long sug_counted(const char *field) {
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, "sug", "sugfb");
  redisReply *r = redisCommand(sb_teststack_redis(st), "HGET %s %s", key, field);
  assert_non_null(r);
  long long n = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
  freeReplyObject(r);
  return n;
}

static sbc_event_t sug_agent(const char *id, sbc_agent_action_t action, const char *conv,
                             const char *answer, int accepted) {
  return (sbc_event_t){.tenant = "sug", .id = id, .source = "/tests/client", .kind = SBC_EVENT_AGENT,
                       .agent = {.action = action, .agent = "sug-1", .conversation = conv,
                                 .capacity = 5, .text = action == SBC_AGENT_REPLY ? "Here." : NULL,
                                 .suggestion = answer, .accepted = accepted}};
}

static void suggestion_feedback_is_counted_and_refusals_come_back_on_the_feed(void **state) {
  (void)state;
  sug_feed_t f = {0};
  sbc_options_t o = {.endpoint = feed_ep, .gap_grace_ms = 50};
  sbc_subscriber_t *s = NULL;
  assert_int_equal(sbc_subscriber_open(&s, &o, on_sug_feed, NULL, &f), 0);
  assert_int_equal(sbc_subscriber_subscribe(s, "sug."), 0);
  for (int i = 0; i < 3; i++)
    sbc_subscriber_poll(s, 100);
  sbc_publisher_t *p = publisher();
  char reason[256];
  sbc_event_t ev = sug_agent("sug-login", SBC_AGENT_LOGIN, NULL, NULL, 0);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  sug_wait(s, &f, "sug-login");
  ev = message("sug", "sug-msg", "+4476000000");
  ev.interaction.text = "My baggage is lost, where is the claim form?";
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  const sug_seen_t *m = sug_wait(s, &f, "sug-msg");
  assert_string_equal(m->kind, "assigned");
  assert_string_equal(m->suggested, "bag-a"); /* the feed shows what classify suggests */
  char conv[128];
  snprintf(conv, sizeof conv, "%s", m->conversation);
  assert_true(conv[0] != '\0');

  /* turned down: acknowledged, counted once, "rejected" on the feed */
  ev = sug_agent("sug-no", SBC_AGENT_SUGGESTION, conv, "bag-a", 0);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  const sug_seen_t *no = sug_wait(s, &f, "sug-no");
  assert_string_equal(no->kind, "agent");
  assert_string_equal(no->result, "rejected");
  assert_string_equal(no->reason, "suggestion_rejected");
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_DUPLICATE);
  assert_int_equal(sug_counted("r:bag-a"), 1);

  /* an answer the tenant lacks: durable (acknowledged), refused by the bus
   * with its reason on the feed, counted nowhere */
  ev = sug_agent("sug-unknown", SBC_AGENT_SUGGESTION, conv, "nope", 0);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  const sug_seen_t *unk = sug_wait(s, &f, "sug-unknown");
  assert_string_equal(unk->kind, "rejected");
  assert_string_equal(unk->result, "unknown_suggestion");
  assert_string_equal(unk->reason, "unknown_suggestion");
  assert_int_equal(sug_counted("r:nope"), 0);

  /* a reply naming the answer it used: an accept */
  ev = sug_agent("sug-reply", SBC_AGENT_REPLY, conv, "bag-a", 0);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  const sug_seen_t *rep = sug_wait(s, &f, "sug-reply");
  assert_string_equal(rep->kind, "sla.met"); /* a reply still: the first response */
  assert_string_equal(rep->result, "accepted");
  assert_int_equal(sug_counted("a:bag-a"), 1);

  /* malformed answer ids never leave the client; 64 characters do */
  char longest[SBC_AGENT_SUGGESTION_MAX + 2];
  memset(longest, 'x', sizeof longest - 1);
  longest[sizeof longest - 1] = '\0'; /* 65 characters */
  calls = 0;
  ev = sug_agent("sug-long", SBC_AGENT_SUGGESTION, conv, longest, 0);
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_ESUGGESTION);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_ESUGGESTION);
  assert_non_null(strstr(reason, "answer id"));
  assert_non_null(strstr(sbc_strerror(SBC_ESUGGESTION), "1..64"));
  ev.agent.suggestion = "bag a";
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_ESUGGESTION);
  ev.agent.suggestion = NULL; /* a suggestion event must name its answer */
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_ESUGGESTION);
  ev.agent.suggestion = "";
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_ESUGGESTION);
  ev = sug_agent("sug-reply-long", SBC_AGENT_REPLY, conv, longest, 0);
  assert_int_equal(sbc_publish(p, &ev, count_call, NULL), SBC_ESUGGESTION);
  assert_int_equal(sbc_publisher_drain(p, 1000), 0);
  assert_int_equal(calls, 0);
  longest[SBC_AGENT_SUGGESTION_MAX] = '\0'; /* the bus's limit exactly: sent, then unknown */
  ev = sug_agent("sug-64", SBC_AGENT_SUGGESTION, conv, longest, 1);
  assert_int_equal(sbc_publish_sync(p, &ev, 10000, reason, sizeof reason), SBC_OK);
  assert_string_equal(sug_wait(s, &f, "sug-64")->result, "unknown_suggestion");

  /* the counts hash holds exactly the two counted verdicts */
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, "sug", "sugfb");
  redisReply *r = redisCommand(sb_teststack_redis(st), "HLEN %s", key);
  assert_non_null(r);
  assert_int_equal(r->integer, 2);
  freeReplyObject(r);
  sbc_publisher_close(&p);
  sbc_subscriber_close(&s);
}

/* ---- the gap tracker, synthetic sequences ----------------------------------- */

typedef struct {
  int n;
  uint64_t first[8], last[8];
} reports_t;

static void collect(void *arg, const char *topic, uint64_t first, uint64_t last) {
  (void)topic;
  reports_t *r = arg;
  assert_true(r->n < 8);
  r->first[r->n] = first, r->last[r->n] = last;
  r->n++;
}

static void gap_tracker_waits_for_late_numbers_and_reports_the_rest(void **state) {
  (void)state;
  sbc__gap_t *g = sbc__gap_new(100);
  reports_t r = {0};
  assert_int_equal(sbc__gap_observe(g, "t.a", 0, 0, collect, &r), SBC_GAP_IN_ORDER);
  assert_int_equal(sbc__gap_observe(g, "t.a", 7, 0, collect, &r), SBC_GAP_IN_ORDER); /* baseline */
  assert_int_equal(sbc__gap_observe(g, "t.a", 8, 0, collect, &r), SBC_GAP_IN_ORDER);
  assert_int_equal(sbc__gap_observe(g, "t.a", 10, 0, collect, &r), SBC_GAP_JUMP); /* 9 missing */
  assert_int_equal(sbc__gap_next_due(g), 100);
  assert_int_equal(sbc__gap_expire(g, 99, collect, &r), 0);
  assert_int_equal(sbc__gap_observe(g, "t.a", 9, 50, collect, &r), SBC_GAP_LATE); /* swapped */
  assert_int_equal(sbc__gap_next_due(g), -1);
  assert_int_equal(sbc__gap_expire(g, 1000, collect, &r), 0);
  /* 11..15 missing; 13 arrives: two ranges left, reported when due */
  assert_int_equal(sbc__gap_observe(g, "t.a", 16, 200, collect, &r), SBC_GAP_JUMP);
  assert_int_equal(sbc__gap_observe(g, "t.a", 13, 250, collect, &r), SBC_GAP_LATE);
  assert_int_equal(sbc__gap_observe(g, "t.a", 8, 250, collect, &r), SBC_GAP_OLD);
  assert_int_equal(sbc__gap_expire(g, 300, collect, &r), 2);
  assert_int_equal(r.n, 2);
  assert_int_equal(r.first[0], 11);
  assert_int_equal(r.last[0], 12);
  assert_int_equal(r.first[1], 14);
  assert_int_equal(r.last[1], 15);
  assert_int_equal(sbc__gap_observe(g, "t.a", 12, 400, collect, &r), SBC_GAP_OLD); /* too late */
  /* a resumed topic: everything from next on counts */
  assert_int_equal(sbc__gap_expect(g, "t.b", 5), 0);
  assert_int_equal(sbc__gap_observe(g, "t.b", 5, 0, collect, &r), SBC_GAP_IN_ORDER);
  assert_int_equal(sbc__gap_expect(g, "t.c", 1), 0);
  assert_int_equal(sbc__gap_observe(g, "t.c", 4, 0, collect, &r), SBC_GAP_JUMP);
  r.n = 0;
  assert_int_equal(sbc__gap_expire(g, 100, collect, &r), 1);
  assert_int_equal(r.first[0], 1);
  assert_int_equal(r.last[0], 3);
  sbc__gap_free(&g);
  assert_null(g);
}

static void gap_tracker_reports_the_oldest_when_too_many_wait(void **state) {
  (void)state;
  sbc__gap_t *g = sbc__gap_new(1000);
  reports_t r = {0};
  sbc__gap_observe(g, "t", 1, 0, collect, &r);
  for (int i = 0; i < SBC_GAP_PENDING_MAX; i++) /* 2, 4, 6, ... missing */
    assert_int_equal(sbc__gap_observe(g, "t", 3 + 2 * (uint64_t)i, 0, collect, &r), SBC_GAP_JUMP);
  assert_int_equal(r.n, 0);
  sbc__gap_observe(g, "t", 3 + 2 * SBC_GAP_PENDING_MAX, 0, collect, &r);
  assert_int_equal(r.n, 1); /* at once, without waiting for the grace */
  assert_int_equal(r.first[0], 2);
  assert_int_equal(r.last[0], 2);
  assert_int_equal(sbc__gap_expire(g, 999, NULL, NULL), 0);
  assert_int_equal(sbc__gap_expire(g, 1000, NULL, NULL), SBC_GAP_PENDING_MAX);
  sbc__gap_free(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gap_tracker_waits_for_late_numbers_and_reports_the_rest),
      cmocka_unit_test(gap_tracker_reports_the_oldest_when_too_many_wait),
      cmocka_unit_test(bad_options_are_refused),
      cmocka_unit_test(sync_publish_is_acked_and_a_second_time_a_duplicate),
      cmocka_unit_test(refused_events_come_back_with_the_reason),
      cmocka_unit_test(async_batch_of_500_is_answered_through_callbacks),
      cmocka_unit_test(retry_later_answers_are_retried_with_back_off),
      cmocka_unit_test(nobody_listening_ends_in_a_timeout),
      cmocka_unit_test(subscriber_sees_the_assignments_of_what_was_published),
      cmocka_unit_test(resumed_subscriber_is_told_exactly_what_it_missed),
      cmocka_unit_test(suggestion_feedback_is_counted_and_refusals_come_back_on_the_feed),
      cmocka_unit_test(curve_edge_needs_the_right_keys),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
