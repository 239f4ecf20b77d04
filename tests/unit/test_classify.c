/*
 * test_classify: behaviours of the whole classify verdict
 * (sb_classify_message) with the bundled rules and lexicons: PII found and
 * redacted before anything else reads the text, the public -> private
 * verdict, flags and priority, and hostile input.
 */
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  sb_rules_t *rules;
  sb_sentiment_t *sentiment;
  sb_classify_t *c;
} fixture_t;

/* Loaded once for the group: rules compile and lexicons load are the slow part. */
static int setup(void **state) {
  char path[4096], err[256];
  fixture_t *f = calloc(1, sizeof *f);
  snprintf(path, sizeof path, "%s/corpus/rules/default.json", sb_test_source_dir());
  f->rules = sb_rules_load(path, err, sizeof err);
  snprintf(path, sizeof path, "%s/corpus/lexicons", sb_test_source_dir());
  f->sentiment = sb_sentiment_new();
  if (!f->rules || sb_sentiment_load_dir(f->sentiment, path, NULL, err, sizeof err))
    fail_msg("%s", err);
  f->c = sb_classify_new(f->rules, f->sentiment);
  *state = f;
  return f->c ? 0 : -1;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  sb_classify_destroy(&f->c);
  assert_null(f->c);
  sb_sentiment_destroy(&f->sentiment);
  sb_rules_destroy(&f->rules);
  free(f);
  return 0;
}

static sb_classify_verdict_t run(fixture_t *f, const char *text, size_t len, int is_public) {
  sb_classify_input_t in = {.text = text, .len = len, .is_public = is_public, .followers = 5000};
  sb_classify_verdict_t v;
  assert_int_equal(sb_classify_message(f->c, &in, &v), 0);
  return v;
}

static void personal_data_is_redacted_and_spans_are_code_points(void **state) {
  const char *text = "Hé 😀 card 4111 1111 1111 1111, mail a.b@example.com";
  sb_classify_verdict_t v = run(*state, text, strlen(text), 0);
  assert_int_equal(v.n_pii, 2);
  size_t cp[4];
  sb_classify_pii_codepoints(text, strlen(text), &v, cp);
  assert_int_equal(cp[0], 10); /* "Hé 😀 card " is 10 code points */
  assert_int_equal(cp[1], 29);
  assert_int_equal(cp[3] - cp[2], strlen("a.b@example.com"));
  assert_null(strstr(v.redacted, "4111"));
  assert_non_null(strstr(v.redacted, "[CARD]"));
  assert_false(v.move_private); /* private channel */
  sb_classify_verdict_clear(&v);
  assert_null(v.redacted);
}

static void a_public_post_with_personal_data_moves_private(void **state) {
  const char *text = "@NordAir my IBAN is DE89 3704 0044 0532 0130 00, what now?";
  sb_classify_verdict_t v = run(*state, text, strlen(text), 1);
  assert_true(v.move_private);
  assert_true(v.lang.move_private);
  assert_true(v.pii_mask & SB_PII_MASK(SB_PII_IBAN));
  sb_classify_verdict_clear(&v);
}

static void a_public_post_needing_the_account_moves_private(void **state) {
  const char *text = "@NordAir I still have not received my refund for the cancelled flight.";
  sb_classify_verdict_t v = run(*state, text, strlen(text), 1);
  assert_int_equal(v.n_pii, 0);
  assert_true(v.intent.account);
  assert_true(v.move_private);
  sb_classify_verdict_clear(&v);
  const char *question = "@NordAir what time does the lounge open?";
  v = run(*state, question, strlen(question), 1);
  assert_false(v.move_private);
  sb_classify_verdict_clear(&v);
}

static void an_angry_public_legal_threat_gets_high_priority(void **state) {
  const char *text = "@NordAir absolutely disgraceful, my bag is lost and nobody answers. "
                     "I am taking legal action. Next time I fly SkyBudget.";
  sb_classify_verdict_t v = run(*state, text, strlen(text), 1);
  assert_string_equal(v.lang.language, "en");
  assert_int_equal(v.sentiment.label, SB_SENTIMENT_NEGATIVE);
  assert_true(v.intent.legal > 0);
  assert_int_equal(v.intent.n_competitors, 1);
  assert_string_equal(v.intent.intents[0].name, "baggage");
  assert_true(v.priority.score >= 70);
  assert_true(v.has_suggestion);
  assert_string_equal(v.suggestion.id, "baggage-en");
  sb_classify_verdict_clear(&v);
}

static void a_vip_customer_is_flagged(void **state) {
  fixture_t *f = *state;
  sb_classify_input_t in = {.text = "Hallo", .len = 5, .customer = "vip-demo-0001"};
  sb_classify_verdict_t v;
  assert_int_equal(sb_classify_message(f->c, &in, &v), 0);
  assert_true(v.vip);
  assert_true(v.priority.parts[SB_PRIORITY_PART_VIP] > 0);
  sb_classify_verdict_clear(&v);
}

static void a_huge_text_is_redacted_whole_but_analysed_in_part(void **state) {
  size_t n = 1u << 20;
  char *big = malloc(n);
  memset(big, 'x', n);
  for (size_t i = 0; i + 1 < n; i += 64)
    big[i] = ' ';
  memcpy(big + n - 40, " 4111 1111 1111 1111 ", 21);
  sb_classify_verdict_t v = run(*state, big, n, 0);
  assert_true(v.truncated);
  assert_int_equal(v.n_pii, 1);
  assert_null(strstr(v.redacted, "4111 1111"));
  sb_classify_verdict_clear(&v);
  free(big);
}

static void empty_and_invalid_text_get_a_clear_verdict(void **state) {
  static const char *const odd[] = {"", "\xff\xfe\xfd", "\xd8\xa7\xd9\x84\xd8\xb3\xd9\x84\xd8\xa7\xd9\x85 \xe2\x80\x8f",
                                    "a\0b", "((((((((((((((((((((((((((((((a"};
  static const size_t len[] = {0, 3, 13, 3, 31};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    sb_classify_verdict_t v = run(*state, odd[i], len[i], 1);
    assert_non_null(v.redacted);
    assert_true(v.priority.score >= 0 && v.priority.score <= 100);
    sb_classify_verdict_clear(&v);
  }
}

static void the_verdict_fills_the_envelope(void **state) {
  const char *text = "@NordAir my card 4111 1111 1111 1111 was charged twice";
  sb_classify_verdict_t v = run(*state, text, strlen(text), 1);
  Switchboard__V1__Interaction in = SWITCHBOARD__V1__INTERACTION__INIT;
  sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
  in.public_ = 1;
  env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_INTERACTION;
  env.interaction = &in;
  assert_int_equal(sb_classify_envelope_apply(&env, &v), 0);
  assert_non_null(env.classification);
  assert_string_equal(env.classification->language, "en");
  assert_true(env.classification->move_private);
  assert_true(strlen(env.classification->sentiment) > 0);
  assert_int_equal(env.classification->priority, v.priority.score);
  assert_int_equal(sb_classify_envelope_apply(&env, &v), SB_EEXISTS); /* once */
  switchboard__v1__classification__free_unpacked(env.classification, NULL);
  sb_envelope_t agent = SWITCHBOARD__V1__ENVELOPE__INIT;
  assert_int_equal(sb_classify_envelope_apply(&agent, &v), SB_EINVAL);
  sb_classify_verdict_clear(&v);
}

static void null_arguments_are_refused(void **state) {
  fixture_t *f = *state;
  sb_classify_verdict_t v;
  sb_classify_input_t in = {.text = NULL, .len = 3};
  assert_int_equal(sb_classify_message(f->c, &in, &v), SB_EINVAL);
  assert_int_equal(sb_classify_message(NULL, &in, &v), SB_EINVAL);
  assert_null(sb_classify_new(NULL, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(personal_data_is_redacted_and_spans_are_code_points),
      cmocka_unit_test(a_public_post_with_personal_data_moves_private),
      cmocka_unit_test(a_public_post_needing_the_account_moves_private),
      cmocka_unit_test(an_angry_public_legal_threat_gets_high_priority),
      cmocka_unit_test(a_vip_customer_is_flagged),
      cmocka_unit_test(a_huge_text_is_redacted_whole_but_analysed_in_part),
      cmocka_unit_test(empty_and_invalid_text_get_a_clear_verdict),
      cmocka_unit_test(the_verdict_fills_the_envelope),
      cmocka_unit_test(null_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
