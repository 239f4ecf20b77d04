/*
 * test_spike_service_hours: a spike incident respects the supervisors'
 * hours (classify's spike.supervisor_calendar, one of the tenant's
 * sla.calendars). Two tenants get the same steady trickle, then the same
 * burst of "refund" messages:
 *   - "day" has a calendar open all week: its Incident reaches notify's
 *     feed at once, not deferred;
 *   - "night" has a calendar whose only shift is two days from now: its
 *     Incident is stored, due in lease:notify at that opening, carries
 *     alert_deferred_ms = the opening, outlives the wait (TTL), and is
 *     not published now; its messages still carry Classification.spike
 *     (routing on spikes does not wait); the stats count it deferred.
 *   - Deferred, not dropped: moved due now, the stored event is published.
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

#define BUCKET_MS 1000
#define WARM_BUCKETS 5
#define TRICKLE 3
#define BURST 40
#define DAY_MS 86400000LL

#define INTENTS                                                                                              \
  "\"intents\":[{\"name\":\"refund\",\"keywords\":{\"*\":[\"refund\"]}},"                                    \
  "{\"name\":\"delay\",\"keywords\":{\"*\":[\"delayed\"]}}],"                                                \
  "\"spike\":{\"bucket_s\":1,\"warmup_buckets\":3,\"min_count\":8,\"supervisor_calendar\":\"office\"}"

static const char *const WDAYS[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* The next opening of "night"'s calendar: 09:00 UTC two days from the
 * test's start (computed once: the test may cross midnight). */
static int64_t night_opening(void) {
  static int64_t at;
  if (!at) {
    int64_t now = sb_now_ms();
    at = now - now % DAY_MS + 2 * DAY_MS + 9 * 3600000LL;
  }
  return at;
}

static char *tenants_json(void) {
  time_t in2 = (time_t)(night_opening() / 1000);
  struct tm tm;
  gmtime_r(&in2, &tm);
  char *json = malloc(4096);
  snprintf(json, 4096,
           "{\"tenants\":["
           "{\"id\":\"night\",\"classify\":{" INTENTS "},"
           "\"sla\":{\"calendars\":{\"office\":{\"tz\":\"UTC\",\"hours\":{\"%s\":[[\"09:00\",\"10:00\"]]}}}}},"
           "{\"id\":\"day\",\"classify\":{" INTENTS "},"
           "\"sla\":{\"calendars\":{\"office\":{\"tz\":\"UTC\",\"hours\":{"
           "\"mon\":[[\"00:00\",\"24:00\"]],\"tue\":[[\"00:00\",\"24:00\"]],\"wed\":[[\"00:00\",\"24:00\"]],"
           "\"thu\":[[\"00:00\",\"24:00\"]],\"fri\":[[\"00:00\",\"24:00\"]],\"sat\":[[\"00:00\",\"24:00\"]],"
           "\"sun\":[[\"00:00\",\"24:00\"]]}}}}}]}",
           WDAYS[tm.tm_wday]);
  return json;
}

static void next_bucket(void) {
  int64_t now = sb_now_ms();
  usleep((useconds_t)((BUCKET_MS - now % BUCKET_MS) * 1000 + 20000));
}

static void send_both(sb_teststack_t *st, const char *kind, int bucket, int n, const char *text) {
  char id[64];
  for (int i = 0; i < n; i++)
    for (int t = 0; t < 2; t++) {
      const char *tenant = t ? "day" : "night";
      snprintf(id, sizeof id, "%s-%s-%d-%d", tenant, kind, bucket, i);
      sbctl_client_queue(sb_teststack_client(st), sb_teststack_message(st, tenant, id, "x", "@c", text));
    }
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

static void trickle(sb_teststack_t *st, int bucket) {
  send_both(st, "r", bucket, TRICKLE, "please refund my ticket");
  send_both(st, "d", bucket, TRICKLE, "is my flight delayed");
}

/* The "refund" volume incidents seen on one topic (others, e.g. the
 * tenant's whole volume "*", are skipped): how many, and the last one's id
 * and alert_deferred_ms. */
typedef struct {
  const char *topic;
  int n;
  char id[128];
  int64_t deferred_ms;
} seen_t;

/* arg: seen_t[2], day's and night's */
static void on_feed(const char *topic, const sb_envelope_t *env, void *arg) {
  seen_t *s = arg;
  if (strcmp(topic, s->topic) && strcmp(topic, (++s)->topic))
    return;
  assert_non_null(env);
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT);
  assert_true(env->incident->supervisor_alert);
  if (strcmp(env->incident->kind, "spike_volume") || strcmp(env->incident->key, "refund"))
    return;
  s->n++;
  snprintf(s->id, sizeof s->id, "%s", env->incident->id);
  s->deferred_ms = env->incident->alert_deferred_ms;
}

static void read_feed(void *sub, int ms, seen_t seen[2]) { sb_testfeed_read(sub, ms, on_feed, seen); }

static redisReply *cmd(sb_teststack_t *st, const char *fmt, const char *arg) {
  redisReply *r = redisCommand(sb_teststack_redis(st), fmt, arg);
  assert_non_null(r);
  return r;
}

static void a_spike_outside_supervisor_hours_waits_for_the_opening(void **state) {
  (void)state;
  char *json = tenants_json();
  sb_teststack_t *st = sb_teststack_start(json, NULL);
  free(json);
  assert_non_null(st);
  void *zctx = zmq_ctx_new(), *sub = sb_testfeed_subscribe(st, zctx, "");
  for (int b = 0; b < WARM_BUCKETS; b++) {
    next_bucket();
    trickle(st, b);
  }
  next_bucket();
  send_both(st, "burst", 0, BURST, "please refund my ticket");
  seen_t seen[2] = {{.topic = "day.incident"}, {.topic = "night.incident"}};
  read_feed(sub, 4000, seen);
  int64_t opening = night_opening();
  print_message("day: %d incident(s); night: %d now, due at %lld\n", seen[0].n, seen[1].n, (long long)opening);
  assert_int_equal(seen[0].n, 1);
  assert_int_equal(seen[0].deferred_ms, 0);
  assert_int_equal(seen[1].n, 0);

  /* night's incidents: stored, due at the opening, deferred in their body */
  char from[32]; /* past any lease of an event on its way */
  snprintf(from, sizeof from, "%lld", (long long)(sb_now_ms() + DAY_MS));
  redisReply *r = cmd(st, "ZRANGEBYSCORE sb:{t:night}:lease:notify %s +inf WITHSCORES", from);
  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  int deferred = 0;
  char key[64] = "";
  sb_envelope_t *stored = NULL;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    assert_int_equal(atoll(r->element[i + 1]->str), opening);
    deferred++;
    char evkey[128];
    snprintf(evkey, sizeof evkey, "sb:{t:night}:ev:%s", r->element[i]->str);
    redisReply *ev = cmd(st, "GET %s", evkey);
    assert_int_equal(ev->type, REDIS_REPLY_STRING);
    sb_envelope_t *env = sb_envelope_unpack(ev->str, ev->len);
    freeReplyObject(ev);
    assert_non_null(env);
    assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_INCIDENT);
    assert_int_equal(env->incident->alert_deferred_ms, opening);
    redisReply *ttl = cmd(st, "TTL %s", evkey);
    assert_true(ttl->integer > (opening - sb_now_ms()) / 1000); /* kept until delivered */
    freeReplyObject(ttl);
    if (!strcmp(env->incident->key, "refund") && !stored) {
      stored = env;
      snprintf(key, sizeof key, "%s", r->element[i]->str);
    } else {
      sb_envelope_free(env);
    }
  }
  freeReplyObject(r);
  assert_non_null(stored);
  assert_string_equal(stored->incident->kind, "spike_volume");
  r = cmd(st, "HGET sb:{t:night}:stats %s", "spike_incidents_deferred");
  assert_int_equal(r->type, REDIS_REPLY_STRING);
  assert_int_equal(atoi(r->str), deferred);
  freeReplyObject(r);
  /* routing does not wait: the burst's messages carry the incident */
  int carried = 0;
  for (int i = 0; i < BURST; i++) {
    char id[64];
    snprintf(id, sizeof id, "night-burst-0-%d", i);
    sb_envelope_t *env = sb_teststack_routed(st, "night", "/tests", id, 10000);
    assert_non_null(env);
    carried += strcmp(env->classification->spike, stored->incident->id) == 0;
    sb_envelope_free(env);
  }
  print_message("%d of %d night burst messages carry %s\n", carried, BURST, stored->incident->id);
  assert_true(carried >= BURST / 4);

  /* deferred, not dropped: due now, the stored event goes out */
  char zadd[256];
  snprintf(zadd, sizeof zadd, "ZADD sb:{t:night}:lease:notify XX %lld %%s", (long long)sb_now_ms());
  freeReplyObject(cmd(st, zadd, key));
  read_feed(sub, 3000, seen);
  assert_int_equal(seen[1].n, 1);
  assert_string_equal(seen[1].id, stored->incident->id);
  assert_int_equal(seen[1].deferred_ms, opening);
  sb_envelope_free(stored);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_spike_outside_supervisor_hours_waits_for_the_opening),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
