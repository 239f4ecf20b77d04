/*
 * test_priority: behaviours of sb_priority (the documented weighted score).
 *
 * The worked example of sb_priority.h is checked to the point, then each
 * part on its own, the clamping, and out-of-range inputs.
 */
#include "sb_error.h"
#include "sb_priority.h"
#include "sb_testutil.h"

#include <math.h>
#include <string.h>

static sb_priority_result_t score(const sb_priority_input_t *in) {
  sb_priority_weights_t w;
  sb_priority_result_t r;
  sb_priority_weights_default(&w);
  assert_int_equal(sb_priority_score(&w, in, &r), 0);
  return r;
}

static void the_documented_example_scores_92(void **state) {
  (void)state;
  sb_priority_input_t in = {.sentiment = -1, .is_public = 1, .followers = 10000, .intent_weight = 60, .legal = 1};
  sb_priority_result_t r = score(&in);
  assert_int_equal(r.score, 92);
  assert_true(fabs(r.parts[SB_PRIORITY_PART_REACH] - 10.0) < 0.01);
  assert_true(r.parts[SB_PRIORITY_PART_INTENT] == 12);
}

static void a_neutral_private_question_scores_zero(void **state) {
  (void)state;
  sb_priority_input_t in = {0};
  assert_int_equal(score(&in).score, 0);
}

static void only_negative_sentiment_counts(void **state) {
  (void)state;
  sb_priority_input_t happy = {.sentiment = 0.9}, angry = {.sentiment = -0.5};
  assert_int_equal(score(&happy).score, 0);
  assert_int_equal(score(&angry).score, 15);
}

static void reach_counts_only_on_a_public_post(void **state) {
  (void)state;
  sb_priority_input_t dm = {.followers = 500000}, post = {.followers = 500000, .is_public = 1};
  assert_true(score(&dm).parts[SB_PRIORITY_PART_REACH] == 0);
  assert_true(score(&post).parts[SB_PRIORITY_PART_REACH] > 14);
}

static void reach_grows_on_a_log_scale_and_saturates(void **state) {
  (void)state;
  double prev = -1;
  for (int64_t f = 1; f <= 100000000; f *= 10) {
    sb_priority_input_t in = {.is_public = 1, .followers = f};
    double p = score(&in).parts[SB_PRIORITY_PART_REACH];
    assert_true(p >= prev);
    assert_true(p <= SB_PRIORITY_W_REACH);
    prev = p;
  }
  assert_true(prev == SB_PRIORITY_W_REACH);
}

static void vip_repeat_and_legal_add_their_weight(void **state) {
  (void)state;
  sb_priority_input_t vip = {.vip = 1}, rep = {.repeat_contact = 1}, legal = {.legal = 1};
  assert_int_equal(score(&vip).score, SB_PRIORITY_W_VIP);
  assert_int_equal(score(&rep).score, SB_PRIORITY_W_REPEAT);
  assert_int_equal(score(&legal).score, SB_PRIORITY_W_LEGAL);
}

static void the_sum_is_clamped_to_one_hundred(void **state) {
  (void)state;
  sb_priority_input_t in = {.sentiment = -1, .is_public = 1, .followers = 1000000, .vip = 1,
                            .intent_weight = 100, .repeat_contact = 1, .legal = 1};
  assert_int_equal(score(&in).score, 100);
}

static void out_of_range_inputs_are_clamped(void **state) {
  (void)state;
  sb_priority_input_t in = {.sentiment = NAN, .followers = -5, .is_public = 1, .intent_weight = 1e9};
  sb_priority_result_t r = score(&in);
  assert_true(r.parts[SB_PRIORITY_PART_SENTIMENT] == 0);
  assert_true(r.parts[SB_PRIORITY_PART_REACH] == 0);
  assert_true(r.parts[SB_PRIORITY_PART_INTENT] == SB_PRIORITY_W_INTENT);
  sb_priority_input_t worse = {.sentiment = -7};
  assert_int_equal(score(&worse).score, SB_PRIORITY_W_SENTIMENT);
}

static void tenant_weights_replace_the_defaults(void **state) {
  (void)state;
  sb_priority_weights_t w;
  sb_priority_result_t r;
  sb_priority_weights_default(&w);
  w.legal = 80, w.public_ = 0, w.reach_max = 100;
  sb_priority_input_t in = {.legal = 1, .is_public = 1, .followers = 100};
  assert_int_equal(sb_priority_score(&w, &in, &r), 0);
  assert_int_equal(r.score, 80 + SB_PRIORITY_W_REACH);
  w.vip = 1e6; /* over the limit: counts as the limit */
  sb_priority_input_t vip = {.vip = 1};
  assert_int_equal(sb_priority_score(&w, &vip, &r), 0);
  assert_int_equal(r.score, SB_PRIORITY_W_LIMIT);
}

static void parts_have_stable_names(void **state) {
  (void)state;
  assert_string_equal(sb_priority_part_name(SB_PRIORITY_PART_SENTIMENT), "sentiment");
  assert_string_equal(sb_priority_part_name(SB_PRIORITY_PART_LEGAL), "legal");
  assert_string_equal(sb_priority_part_name(SB_PRIORITY__PARTS), "unknown");
}

static void null_arguments_are_refused(void **state) {
  (void)state;
  sb_priority_input_t in = {0};
  sb_priority_result_t r;
  assert_int_equal(sb_priority_score(NULL, &in, &r), SB_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_documented_example_scores_92),
      cmocka_unit_test(a_neutral_private_question_scores_zero),
      cmocka_unit_test(only_negative_sentiment_counts),
      cmocka_unit_test(reach_counts_only_on_a_public_post),
      cmocka_unit_test(reach_grows_on_a_log_scale_and_saturates),
      cmocka_unit_test(vip_repeat_and_legal_add_their_weight),
      cmocka_unit_test(the_sum_is_clamped_to_one_hundred),
      cmocka_unit_test(out_of_range_inputs_are_clamped),
      cmocka_unit_test(tenant_weights_replace_the_defaults),
      cmocka_unit_test(parts_have_stable_names),
      cmocka_unit_test(null_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
