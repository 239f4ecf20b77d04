/*
 * test_spike: behaviours of sb_spike (EWMA baselines that raise incidents).
 *
 * Traffic is simulated with explicit times: a steady baseline of messages
 * per minute, then a burst. Everything is deterministic, so each test
 * asserts exact outcomes (which message raises the incident).
 */
#include "sb_error.h"
#include "sb_spike.h"
#include "sb_testutil.h"

#include <string.h>

#define MINUTE 60000

/* n messages spread over minute m, one in `neg_every` negative (0: none).
 * Returns how many incidents (of any kind) they raised. */
static int feed(sb_spike_t *d, const char *key, int m, int n, int neg_every, unsigned *kinds) {
  int incidents = 0;
  for (int i = 0; i < n; i++) {
    sb_spike_event_t ev;
    int rc = sb_spike_observe(d, "acme", key, (int64_t)m * MINUTE + i * (MINUTE / (n + 1)),
                              neg_every && i % neg_every == 0, &ev);
    assert_true(rc == 0 || rc == 1);
    incidents += rc;
    if (rc && kinds)
      *kinds |= ev.kinds;
  }
  return incidents;
}

static sb_spike_t *detector(void) {
  sb_spike_t *d = sb_spike_new(NULL);
  assert_non_null(d);
  return d;
}

static void steady_traffic_raises_nothing(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  for (int m = 0; m < 120; m++)
    assert_int_equal(feed(d, "*", m, 20 + (m % 3), 10, NULL), 0);
  sb_spike_destroy(&d);
  assert_null(d);
}

static void nothing_is_raised_during_warm_up(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  feed(d, "*", 0, 5, 0, NULL);
  assert_int_equal(feed(d, "*", 1, 500, 1, NULL), 0);
  sb_spike_destroy(&d);
}

static void a_volume_burst_raises_one_incident_then_becomes_the_baseline(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  unsigned kinds = 0;
  for (int m = 0; m < 30; m++)
    feed(d, "delay", m, 20, 10, NULL);
  assert_int_equal(feed(d, "delay", 30, 200, 10, &kinds), 1);
  assert_true(kinds & SB_SPIKE_VOLUME);
  /* the burst widened the baseline: the same volume a minute later is not news */
  assert_int_equal(feed(d, "delay", 31, 200, 10, NULL), 0);
  sb_spike_destroy(&d);
}

static void the_burst_is_reported_while_it_happens(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  for (int m = 0; m < 30; m++)
    feed(d, "*", m, 20, 0, NULL);
  sb_spike_event_t ev;
  int at = -1;
  for (int i = 0; i < 200 && at < 0; i++)
    if (sb_spike_observe(d, "acme", "*", 30 * MINUTE + i, 0, &ev) == 1)
      at = i;
  /* baseline 20 with a floor sd of 1: the 25th message crosses 20 + 4 */
  assert_int_equal(at, 24);
  assert_int_equal(ev.count, 25);
  assert_true(ev.mean > 19.9 && ev.mean < 20.1);
  assert_int_equal(ev.bucket_start_ms, 30 * MINUTE);
  sb_spike_destroy(&d);
}

static void a_jump_in_negative_share_raises_a_negative_incident(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  unsigned kinds = 0;
  for (int m = 0; m < 30; m++)
    feed(d, "*", m, 20, 10, NULL); /* 10 % negative */
  assert_int_equal(feed(d, "*", 30, 20, 1, &kinds), 1); /* all negative, same volume */
  assert_int_equal(kinds, SB_SPIKE_NEGATIVE);
  sb_spike_destroy(&d);
}

static void keys_and_tenants_are_independent(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  for (int m = 0; m < 30; m++) {
    feed(d, "delay", m, 20, 0, NULL);
    feed(d, "refund", m, 20, 0, NULL);
  }
  assert_int_equal(feed(d, "refund", 30, 20, 0, NULL), 0);
  assert_int_equal(feed(d, "delay", 30, 100, 0, NULL), 1);
  sb_spike_event_t ev;
  assert_int_equal(sb_spike_observe(d, "other", "delay", 30 * MINUTE, 0, &ev), 0);
  assert_int_equal(ev.count, 1);
  assert_int_equal(sb_spike_keys(d), 3);
  sb_spike_destroy(&d);
}

static void the_same_sequence_gives_the_same_verdicts(void **state) {
  (void)state;
  int runs[2];
  for (int k = 0; k < 2; k++) {
    sb_spike_t *d = detector();
    runs[k] = 0;
    for (int m = 0; m < 40; m++)
      runs[k] += feed(d, "*", m, m % 7 == 6 ? 90 : 15, 3, NULL);
    sb_spike_destroy(&d);
  }
  assert_true(runs[0] > 0);
  assert_int_equal(runs[0], runs[1]);
}

static void silent_minutes_count_as_zero_and_a_long_silence_restarts(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  for (int m = 0; m < 30; m++)
    feed(d, "*", m, 20, 0, NULL);
  sb_spike_event_t ev;
  sb_spike_observe(d, "acme", "*", 40 * MINUTE, 0, &ev); /* ten silent minutes lower the mean */
  assert_true(ev.mean < 20 * 0.9 * 0.9);
  sb_spike_observe(d, "acme", "*", (40 + SB_SPIKE_GAP_BUCKETS_MAX + 2) * (int64_t)MINUTE, 0, &ev);
  assert_true(ev.mean == 0); /* over a day of silence: the baseline is forgotten */
  assert_int_equal(feed(d, "*", 40 + SB_SPIKE_GAP_BUCKETS_MAX + 3, 300, 0, NULL), 0); /* warming up again */
  sb_spike_destroy(&d);
}

static void time_going_backwards_stays_in_the_open_bucket(void **state) {
  (void)state;
  sb_spike_t *d = detector();
  sb_spike_event_t ev;
  sb_spike_observe(d, "acme", "*", 10 * MINUTE, 0, &ev);
  sb_spike_observe(d, "acme", "*", 2 * MINUTE, 0, &ev);
  assert_int_equal(ev.count, 2);
  assert_int_equal(ev.bucket_start_ms, 10 * MINUTE);
  sb_spike_observe(d, "acme", "late", -5, 0, &ev); /* before the epoch: the epoch */
  assert_int_equal(ev.bucket_start_ms, 0);
  sb_spike_destroy(&d);
}

static void the_least_recent_key_is_evicted_when_full(void **state) {
  (void)state;
  sb_spike_opts_t o;
  sb_spike_opts_default(&o);
  o.max_keys = 2;
  sb_spike_t *d = sb_spike_new(&o);
  sb_spike_event_t ev;
  sb_spike_observe(d, "t", "a", 0, 0, &ev);
  sb_spike_observe(d, "t", "b", 0, 0, &ev);
  sb_spike_observe(d, "t", "a", 1, 0, &ev); /* a is now the most recent */
  sb_spike_observe(d, "t", "c", 2, 0, &ev); /* evicts b */
  assert_int_equal(sb_spike_keys(d), 2);
  sb_spike_observe(d, "t", "a", 3, 0, &ev);
  assert_int_equal(ev.count, 3);
  sb_spike_observe(d, "t", "b", 4, 0, &ev);
  assert_int_equal(ev.count, 1); /* b started again */
  sb_spike_destroy(&d);
}

static void bad_options_and_arguments_are_refused(void **state) {
  (void)state;
  sb_spike_opts_t o;
  sb_spike_opts_default(&o);
  o.alpha = 0;
  assert_null(sb_spike_new(&o));
  sb_spike_opts_default(&o);
  o.bucket_ms = 0;
  assert_null(sb_spike_new(&o));
  sb_spike_t *d = detector();
  char longkey[SB_SPIKE_KEY_MAX + 2];
  memset(longkey, 'k', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  assert_int_equal(sb_spike_observe(d, "t", longkey, 0, 0, NULL), SB_EINVAL);
  assert_int_equal(sb_spike_observe(d, NULL, "k", 0, 0, NULL), SB_EINVAL);
  assert_int_equal(sb_spike_observe(d, "t", "k", 0, 0, NULL), 0);
  sb_spike_destroy(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(steady_traffic_raises_nothing),
      cmocka_unit_test(nothing_is_raised_during_warm_up),
      cmocka_unit_test(a_volume_burst_raises_one_incident_then_becomes_the_baseline),
      cmocka_unit_test(the_burst_is_reported_while_it_happens),
      cmocka_unit_test(a_jump_in_negative_share_raises_a_negative_incident),
      cmocka_unit_test(keys_and_tenants_are_independent),
      cmocka_unit_test(the_same_sequence_gives_the_same_verdicts),
      cmocka_unit_test(silent_minutes_count_as_zero_and_a_long_silence_restarts),
      cmocka_unit_test(time_going_backwards_stays_in_the_open_bucket),
      cmocka_unit_test(the_least_recent_key_is_evicted_when_full),
      cmocka_unit_test(bad_options_and_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
