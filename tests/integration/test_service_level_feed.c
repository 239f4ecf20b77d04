/*
 * Published service level end to end (sb_sla_level): with a 1 s period and
 * two sla-timer replicas, a known scenario (x: one reply at once, one after
 * the 1 s target; email: one never answered) is published on the feed
 * under "<tenant>.service_level" with the right figures, once per period
 * (the replicas never both publish a period), numbered on its topic like
 * any feed event, and shown as gauges on sla-timer's /metrics.
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

#define TENANTS "{\"tenants\":[{\"id\":\"lvl\",\"sla\":{\"first_response_ms\":1000}}]}"
#define TARGET_MS 1000
#define IDS_MAX 32

static const Switchboard__V1__ServiceLevelRow *row(const Switchboard__V1__ServiceLevel *l, const char *channel) {
  for (size_t i = 0; i < l->n_rows; i++)
    if (!strcmp(l->rows[i]->channel, channel))
      return l->rows[i];
  return NULL;
}

/* The scenario is complete in an event when x has both answers and email
 * is overdue. */
static int complete(const Switchboard__V1__ServiceLevel *l) {
  const Switchboard__V1__ServiceLevelRow *x = row(l, "x"), *e = row(l, "email");
  return x && e && x->answered == 2 && e->unanswered == 1;
}

typedef struct {
  char ids[IDS_MAX][96];
  uint64_t seq[IDS_MAX];
  int n;
  sb_envelope_t *last_complete;
} seen_t;

static void on_message(const char *topic, const sb_envelope_t *env, void *arg) {
  seen_t *seen = arg;
  if (seen->n >= IDS_MAX)
    return;
  assert_string_equal(topic, "lvl.service_level");
  assert_non_null(env);
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL);
  snprintf(seen->ids[seen->n], sizeof seen->ids[0], "%s", env->id);
  seen->seq[seen->n++] = env->feed_seq;
  if (complete(env->service_level)) { /* keep a copy: the loop frees env */
    size_t len = 0;
    uint8_t *blob = sb_envelope_pack(env, &len);
    assert_non_null(blob);
    sb_envelope_free(seen->last_complete);
    seen->last_complete = sb_envelope_unpack(blob, len);
    free(blob);
  }
}

static void read_feed(void *sub, seen_t *seen, int ms) { sb_testfeed_read(sub, ms, on_message, seen); }

static void publish_one(sb_teststack_t *st, sb_envelope_t *env) {
  sbctl_client_queue(sb_teststack_client(st), env);
  assert_int_equal(sb_teststack_publish_all(st, 5000), 0);
}

/* The value of the first /metrics line that starts with prefix, or -1. */
static double metric(sb_teststack_t *st, const char *prefix) {
  static char body[1 << 17];
  int status = sb_teststack_http(st, SB_PORT_ADMIN_SLA, "GET", "/metrics", NULL, NULL, 0, body, sizeof body);
  assert_int_equal(status, 200);
  for (char *line = strtok(body, "\n"); line; line = strtok(NULL, "\n"))
    if (!strncmp(line, prefix, strlen(prefix)))
      return atof(strrchr(line, ' ') + 1);
  return -1;
}

static void service_level_published_once_per_period_with_known_figures(void **state) {
  (void)state;
  setenv("SB_SERVICE_LEVEL_S", "1", 1);
  sb_teststack_t *st = sb_teststack_start(TENANTS, NULL);
  assert_non_null(st);
  assert_true(sb_teststack_add_replica(st, "sla-timer") > 0);
  unsetenv("SB_SERVICE_LEVEL_S");
  void *zctx = zmq_ctx_new(), *sub = sb_testfeed_subscribe(st, zctx, "lvl.service_level");
  publish_one(st, sb_teststack_agent_event(st, "lvl", "login-1", "login", "bo", NULL, 5));
  publish_one(st, sb_teststack_message(st, "lvl", "m-a", "x", "@ann", "hello"));
  publish_one(st, sb_teststack_message(st, "lvl", "m-b", "x", "@bob", "hello"));
  publish_one(st, sb_teststack_message(st, "lvl", "m-c", "email", "c@example.com", "hello"));
  sbctl_stats_t s;
  assert_int_equal(sb_teststack_wait_drained(st, 3, 10000, &s), 0);
  char a[SB_EVENT_KEY_LEN + 1], b[SB_EVENT_KEY_LEN + 1];
  sb_event_key("/tests", "m-a", a);
  sb_event_key("/tests", "m-b", b);
  int64_t t0 = sb_now_ms();
  publish_one(st, sb_teststack_agent_event(st, "lvl", "reply-a", "reply", "bo", a, 0)); /* in target */
  usleep(1300 * 1000);
  publish_one(st, sb_teststack_agent_event(st, "lvl", "reply-b", "reply", "bo", b, 0)); /* late */
  int64_t late_ms = sb_now_ms() - t0;
  seen_t seen = {0};
  read_feed(sub, &seen, 3500);
  assert_non_null(seen.last_complete);
  /* one event per period: two replicas never publish the same period */
  assert_true(seen.n >= 2);
  for (int i = 0; i < seen.n; i++)
    for (int j = i + 1; j < seen.n; j++)
      assert_string_not_equal(seen.ids[i], seen.ids[j]);
  for (int i = 1; i < seen.n; i++) /* numbered on its topic without gaps */
    assert_int_equal(seen.seq[i], seen.seq[i - 1] + 1);
  const Switchboard__V1__ServiceLevel *l = seen.last_complete->service_level;
  assert_int_equal(l->period_ms, 1000);
  assert_int_equal(l->window_ms, 3600 * 1000);
  assert_int_equal(l->n_rows, 3);
  const Switchboard__V1__ServiceLevelRow *all = l->rows[0], *x = row(l, "x"), *e = row(l, "email");
  assert_string_equal(all->channel, "*");
  assert_string_equal(all->queue, "*");
  assert_int_equal(all->answered, 2);
  assert_int_equal(all->answered_in_target, 1);
  assert_int_equal(all->unanswered, 1);
  assert_int_equal(all->backlog, 1);
  assert_true(all->unanswered_share > 0.333 && all->unanswered_share < 0.334);
  assert_int_equal(x->answered, 2);
  assert_int_equal(x->answered_in_target, 1);
  assert_true(x->answered_in_target_share == 0.5);
  assert_int_equal(x->unanswered, 0);
  assert_int_equal(x->backlog, 0);
  /* b waited from before t0 until after late_ms: p90 (nearest rank of 2) is b */
  assert_true(x->p90_first_response_ms >= TARGET_MS);
  assert_true(x->p90_first_response_ms >= late_ms);
  assert_true(x->p90_first_response_ms < late_ms + 3000);
  assert_true(x->avg_first_response_ms < x->p90_first_response_ms);
  assert_true(x->avg_first_response_ms >= x->p90_first_response_ms / 2);
  assert_int_equal(e->answered, 0);
  assert_int_equal(e->unanswered, 1);
  assert_int_equal(e->backlog, 1);
  assert_true(e->unanswered_share == 1.0);
  assert_string_equal(e->queue, x->queue);
  /* the same figures as gauges on the sla-timer's /metrics */
  char prefix[256];
  snprintf(prefix, sizeof prefix, "sb_service_level_backlog{service=\"sla-timer\",channel=\"email\",queue=\"%s\",", e->queue);
  assert_true(metric(st, prefix) == 1.0);
  snprintf(prefix, sizeof prefix, "sb_service_level_answered{service=\"sla-timer\",channel=\"x\",queue=\"%s\",", x->queue);
  assert_true(metric(st, prefix) == 2.0);
  assert_true(metric(st, "sb_service_level_answered_in_target_ratio{service=\"sla-timer\",channel=\"*\",queue=\"*\",") == 0.5);
  double p90 = metric(st, "sb_service_level_first_response_p90_seconds{service=\"sla-timer\",channel=\"*\",queue=\"*\",");
  assert_true(p90 >= TARGET_MS / 1000.0);
  sb_envelope_free(seen.last_complete);
  zmq_close(sub);
  zmq_ctx_term(zctx);
  sb_teststack_stop(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(service_level_published_once_per_period_with_known_figures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
