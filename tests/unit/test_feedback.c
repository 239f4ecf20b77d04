/*
 * test_feedback: the tenant's accept/reject counts as route stores them
 * (hash fields "a:<answer>" / "r:<answer>") set into a suggestion engine by
 * sb_feedback_apply: absolute values, totals, bad fields skipped with the
 * rest applied, and the ranking they change. Two answers with the same text
 * tie (the earlier wins) until agents reject the earlier one.
 */
#include "sb_error.h"
#include "sb_feedback.h"
#include "sb_testutil.h"

#include <stdlib.h>
#include <string.h>

static const char RULES[] =
    "{\"answers\": ["
    "  {\"id\": \"bag-a\", \"text\": \"lost baggage claim form\"},"
    "  {\"id\": \"bag-b\", \"text\": \"lost baggage claim form\"},"
    "  {\"id\": \"refund\", \"text\": \"refund for a cancelled flight\"}]}";

typedef struct {
  sb_rules_t *rules;
  sb_suggest_t *s;
  sb_tokens_t t;
} fixture_t;

static int setup(void **state) {
  char err[256];
  fixture_t *f = calloc(1, sizeof *f);
  f->rules = sb_rules_parse(RULES, strlen(RULES), err, sizeof err);
  if (!f->rules)
    fail_msg("%s", err);
  f->s = sb_suggest_new(f->rules);
  sb_tokens_init(&f->t);
  *state = f;
  return f->s ? 0 : -1;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  sb_suggest_destroy(&f->s);
  sb_rules_destroy(&f->rules);
  sb_tokens_free(&f->t);
  free(f);
  return 0;
}

static const char *best(fixture_t *f, const char *text) {
  sb_suggestion_t out;
  assert_int_equal(sb_text_tokenize(text, strlen(text), &f->t), 0);
  return sb_suggest_best(f->s, "en", &f->t, NULL, &out) == 1 ? out.id : NULL;
}

static void counts(fixture_t *f, const char *id, uint64_t want_a,
                   uint64_t want_r) {
  uint64_t a = 99, r = 99;
  assert_int_equal(sb_suggest_counts(f->s, id, &a, &r), 0);
  assert_int_equal(a, want_a);
  assert_int_equal(r, want_r);
}

static void rejected_counts_hand_the_tie_to_the_other_answer(void **state) {
  fixture_t *f = *state;
  assert_string_equal(best(f, "my baggage is lost, where is the claim form?"),
                      "bag-a");
  const char *kv[] = {"r:bag-a", "3"};
  size_t skipped = 9;
  uint64_t acc = 9, rej = 9;
  assert_int_equal(sb_feedback_apply(f->s, kv, 2, &skipped, &acc, &rej), 0);
  assert_int_equal(skipped, 0);
  assert_int_equal(acc, 0);
  assert_int_equal(rej, 3);
  counts(f, "bag-a", 0, 3);
  assert_string_equal(best(f, "my baggage is lost, where is the claim form?"),
                      "bag-b");
}

static void counts_are_absolute_and_a_refresh_replaces_them(void **state) {
  fixture_t *f = *state;
  const char *first[] = {"a:bag-a", "2", "r:bag-a", "7", "a:refund", "1"};
  assert_int_equal(sb_feedback_apply(f->s, first, 6, NULL, NULL, NULL), 0);
  assert_int_equal(sb_feedback_apply(f->s, first, 6, NULL, NULL, NULL),
                   0); /* not added twice */
  counts(f, "bag-a", 2, 7);
  counts(f, "refund", 1, 0);
  const char *second[] = {"a:bag-b", "4"};
  assert_int_equal(sb_feedback_apply(f->s, second, 2, NULL, NULL, NULL), 0);
  counts(f, "bag-a", 0, 0); /* gone from the hash: back to no feedback */
  counts(f, "bag-b", 4, 0);
  assert_int_equal(sb_feedback_apply(f->s, NULL, 0, NULL, NULL, NULL), 0);
  counts(f, "bag-b", 0, 0);
}

static void bad_fields_are_skipped_and_the_rest_applied(void **state) {
  fixture_t *f = *state;
  const char *kv[] = {"r:nope",  "5",  /* no such answer */
                      "x:bag-a", "5",  /* no a:/r: prefix */
                      "a:bag-a", "-1", /* not a count */
                      "a:bag-a", "1x", /* trailing junk */
                      "r:bag-b", "",   /* empty */
                      NULL,      "3",  /* not a string in the reply */
                      "r:bag-b", "2"};
  size_t skipped = 0;
  uint64_t acc = 9, rej = 9;
  assert_int_equal(sb_feedback_apply(f->s, kv, 14, &skipped, &acc, &rej), 0);
  assert_int_equal(skipped, 6);
  assert_int_equal(acc, 0);
  assert_int_equal(rej, 2);
  counts(f, "bag-a", 0, 0);
  counts(f, "bag-b", 0, 2);
}

static void malformed_calls_change_nothing(void **state) {
  fixture_t *f = *state;
  const char *kv[] = {"r:bag-a", "3", "a:bag-a"};
  assert_int_equal(sb_feedback_apply(f->s, kv, 2, NULL, NULL, NULL), 0);
  assert_int_equal(sb_feedback_apply(f->s, kv, 3, NULL, NULL, NULL),
                   SB_EINVAL); /* odd */
  assert_int_equal(sb_feedback_apply(NULL, kv, 2, NULL, NULL, NULL), SB_EINVAL);
  assert_int_equal(sb_feedback_apply(f->s, NULL, 2, NULL, NULL, NULL),
                   SB_EINVAL);
  counts(f, "bag-a", 0, 3);
  assert_int_equal(sb_suggest_set_counts(f->s, "nope", 1, 1), SB_ENOTFOUND);
  assert_true(sb_suggest_knows(f->s, "refund"));
  assert_false(sb_suggest_knows(f->s, "refund-x"));
  assert_false(sb_suggest_knows(NULL, "refund"));
  assert_int_equal(sb_suggest_answer_count(f->s), 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          rejected_counts_hand_the_tie_to_the_other_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(
          counts_are_absolute_and_a_refresh_replaces_them, setup, teardown),
      cmocka_unit_test_setup_teardown(
          bad_fields_are_skipped_and_the_rest_applied, setup, teardown),
      cmocka_unit_test_setup_teardown(malformed_calls_change_nothing, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
