/*
 * sb_service_level: figures from the samples sla_arm.lua records.
 */
#include "sb_testutil.h"

#include "sb_envelope.h"
#include "sb_error.h"
#include "sb_service_level.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADD_R(sl, s) sb_service_level_add_response(sl, s, strlen(s))
#define ADD_O(sl, s, now) sb_service_level_add_open(sl, s, strlen(s), now)

static const sb_service_level_row_t *find(const sb_service_level_t *sl, const char *ch, const char *q) {
  for (size_t i = 0; i < sb_service_level_count(sl); i++) {
    const sb_service_level_row_t *r = sb_service_level_row(sl, i);
    if (!strcmp(r->channel, ch) && !strcmp(r->queue, q))
      return r;
  }
  return NULL;
}

static void average_p90_and_share_in_target_per_channel_and_queue(void **state) {
  (void)state;
  sb_service_level_t *sl = sb_service_level_new();
  /* x|general: 10 answers of 10..100 s, the last two late */
  char m[128];
  for (int i = 1; i <= 10; i++) {
    snprintf(m, sizeof m, "%d|%d|x|conv%d|general", i * 10000, i <= 8, i);
    assert_int_equal(ADD_R(sl, m), 0);
  }
  assert_int_equal(ADD_R(sl, "5000|1|email|c-e|billing|fr"), 0); /* a queue may hold '|' */
  assert_int_equal(sb_service_level_compute(sl), 0);
  assert_int_equal(sb_service_level_count(sl), 3);
  const sb_service_level_row_t *x = find(sl, "x", "general");
  assert_non_null(x);
  assert_int_equal(x->answered, 10);
  assert_int_equal(x->answered_in_target, 8);
  assert_int_equal(x->avg_ms, 55000);
  assert_int_equal(x->p90_ms, 90000); /* nearest rank: the 9th of 10 */
  assert_true(x->answered_in_target_share > 0.799 && x->answered_in_target_share < 0.801);
  assert_int_equal(x->unanswered, 0);
  assert_true(x->unanswered_share == 0);
  const sb_service_level_row_t *e = find(sl, "email", "billing|fr");
  assert_non_null(e);
  assert_int_equal(e->answered, 1);
  assert_int_equal(e->p90_ms, 5000);
  /* rows after the tenant's are sorted by channel, then queue */
  assert_string_equal(sb_service_level_row(sl, 1)->channel, "email");
  assert_string_equal(sb_service_level_row(sl, 2)->channel, "x");
  sb_service_level_destroy(&sl);
  assert_null(sl);
}

static void tenant_row_pools_every_group(void **state) {
  (void)state;
  sb_service_level_t *sl = sb_service_level_new();
  assert_int_equal(ADD_R(sl, "1000|1|x|a|q1"), 0);
  assert_int_equal(ADD_R(sl, "3000|0|facebook|b|q2"), 0);
  assert_int_equal(ADD_R(sl, "2000|1|x|c|q2"), 0);
  assert_int_equal(ADD_O(sl, "500|100|x|q1", 1000), 0); /* past its breach due: unanswered */
  assert_int_equal(sb_service_level_compute(sl), 0);
  const sb_service_level_row_t *all = sb_service_level_row(sl, 0);
  assert_string_equal(all->channel, "*");
  assert_string_equal(all->queue, "*");
  assert_int_equal(all->answered, 3);
  assert_int_equal(all->answered_in_target, 2);
  assert_int_equal(all->avg_ms, 2000);
  assert_int_equal(all->p90_ms, 3000);
  assert_int_equal(all->unanswered, 1);
  assert_int_equal(all->backlog, 1);
  assert_true(all->unanswered_share > 0.249 && all->unanswered_share < 0.251);
  assert_int_equal(sb_service_level_count(sl), 4);
  sb_service_level_destroy(&sl);
}

static void backlog_counts_waiting_and_unanswered_counts_only_past_target(void **state) {
  (void)state;
  sb_service_level_t *sl = sb_service_level_new();
  int64_t now = 10000;
  assert_int_equal(ADD_O(sl, "9999|0|x|q", now), 0);   /* overdue */
  assert_int_equal(ADD_O(sl, "10000|0|x|q", now), 0);  /* due right now: not yet */
  assert_int_equal(ADD_O(sl, "20000|5000|x|q", now), 0);
  assert_int_equal(sb_service_level_compute(sl), 0);
  const sb_service_level_row_t *r = find(sl, "x", "q");
  assert_int_equal(r->backlog, 3);
  assert_int_equal(r->unanswered, 1);
  assert_int_equal(r->answered, 0);
  assert_int_equal(r->avg_ms, 0);
  assert_int_equal(r->p90_ms, 0);
  assert_true(r->answered_in_target_share == 0);
  assert_true(r->unanswered_share == 1.0);
  sb_service_level_destroy(&sl);
}

static void malformed_samples_are_refused_and_not_counted(void **state) {
  (void)state;
  sb_service_level_t *sl = sb_service_level_new();
  assert_int_equal(ADD_R(sl, "12|1|x|conv"), SB_EINVAL);     /* no queue field */
  assert_int_equal(ADD_R(sl, "abc|1|x|conv|q"), SB_EINVAL);
  assert_int_equal(ADD_R(sl, "12|2|x|conv|q"), SB_EINVAL);   /* met is 0 or 1 */
  assert_int_equal(ADD_R(sl, "12|1||conv|q"), SB_EINVAL);    /* no channel */
  assert_int_equal(ADD_R(sl, ""), SB_EINVAL);
  assert_int_equal(ADD_O(sl, "x|1|x|q", 0), SB_EINVAL);
  assert_int_equal(ADD_O(sl, "1|1|x", 0), SB_EINVAL);
  assert_int_equal(sb_service_level_compute(sl), 0);
  assert_int_equal(sb_service_level_count(sl), 1); /* the tenant's row, empty */
  assert_int_equal(sb_service_level_row(sl, 0)->answered, 0);
  assert_int_equal(sb_service_level_row(sl, 0)->backlog, 0);
  /* reset forgets everything */
  assert_int_equal(ADD_R(sl, "12|1|x|conv|q"), 0);
  sb_service_level_reset(sl);
  assert_int_equal(sb_service_level_compute(sl), 0);
  assert_int_equal(sb_service_level_count(sl), 1);
  sb_service_level_destroy(&sl);
}

static void envelope_carries_rows_under_a_stable_id(void **state) {
  (void)state;
  sb_service_level_t *sl = sb_service_level_new();
  assert_int_equal(ADD_R(sl, "4000|1|x|a|general"), 0);
  assert_int_equal(ADD_O(sl, "1|0|email|general", 2), 0);
  assert_int_equal(sb_service_level_compute(sl), 0);
  char key[SB_EVENT_KEY_LEN + 1], want[SB_EVENT_KEY_LEN + 1];
  size_t len = 0;
  uint8_t *blob = sb_service_level_pack(sl, "acme", 600000, 300000, 3600000, 601234, key, &len);
  assert_non_null(blob);
  sb_envelope_t *env = sb_envelope_unpack(blob, len);
  assert_non_null(env);
  const char *why = NULL;
  assert_int_equal(sb_envelope_check(env, &why), 0);
  assert_string_equal(env->id, "service-level-acme-600000");
  sb_event_key("/sla-timer", "service-level-acme-600000", want);
  assert_string_equal(env->key, want);
  assert_string_equal(key, want);
  assert_string_equal(env->tenant, "acme");
  assert_int_equal(env->body_case, SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL);
  assert_int_equal(env->service_level->window_ms, 3600000);
  assert_int_equal(env->service_level->period_ms, 300000);
  assert_int_equal(env->service_level->computed_ms, 601234);
  assert_int_equal(env->service_level->n_rows, 3);
  const Switchboard__V1__ServiceLevelRow *all = env->service_level->rows[0];
  assert_string_equal(all->channel, "*");
  assert_int_equal(all->answered, 1);
  assert_int_equal(all->avg_first_response_ms, 4000);
  assert_int_equal(all->unanswered, 1);
  assert_int_equal(all->backlog, 1);
  assert_true(all->unanswered_share == 0.5);
  assert_true(all->answered_in_target_share == 1.0);
  sb_envelope_free(env);
  free(blob);
  sb_service_level_destroy(&sl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(average_p90_and_share_in_target_per_channel_and_queue),
      cmocka_unit_test(tenant_row_pools_every_group),
      cmocka_unit_test(backlog_counts_waiting_and_unanswered_counts_only_past_target),
      cmocka_unit_test(malformed_samples_are_refused_and_not_counted),
      cmocka_unit_test(envelope_carries_rows_under_a_stable_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
