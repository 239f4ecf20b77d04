/*
 * test_suggest: behaviours of sb_suggest (BM25 over canned answers,
 * filtered by intent and language, learning from agents' choices).
 */
#include "sb_error.h"
#include "sb_suggest.h"
#include "sb_testutil.h"

#include <stdlib.h>
#include <string.h>

static const char RULES[] =
    "{\"intents\": [{\"name\": \"refund\", \"keywords\": {\"*\": [\"refund*\", \"rembours*\"]}},"
    "              {\"name\": \"baggage\", \"keywords\": {\"*\": [\"bag\", \"suitcase\"]}}],"
    " \"answers\": ["
    "  {\"id\": \"refund-en\", \"intent\": \"refund\", \"language\": \"en\","
    "   \"text\": \"Sorry for the wait: your refund is on its way and reaches your card within 7 days.\"},"
    "  {\"id\": \"refund-fr\", \"intent\": \"refund\", \"language\": \"fr\","
    "   \"text\": \"Le remboursement arrive sur votre carte sous 7 jours.\"},"
    "  {\"id\": \"voucher-en\", \"intent\": \"refund\", \"language\": \"en\","
    "   \"text\": \"You can also choose a voucher instead of a refund.\"},"
    "  {\"id\": \"bag-en\", \"intent\": \"baggage\", \"language\": \"en\","
    "   \"text\": \"Please send us your bag file reference.\"},"
    "  {\"id\": \"hours\", \"language\": \"*\","
    "   \"text\": \"Our lounge opening hours are 6am to 10pm every day.\"}]}";

typedef struct {
  sb_rules_t *rules;
  sb_intent_t *m;
  sb_suggest_t *s;
  sb_tokens_t t;
} fixture_t;

static int setup(void **state) {
  char err[256];
  fixture_t *f = calloc(1, sizeof *f);
  f->rules = sb_rules_parse(RULES, strlen(RULES), err, sizeof err);
  if (!f->rules)
    fail_msg("%s", err);
  f->m = sb_intent_new(f->rules);
  f->s = sb_suggest_new(f->rules);
  sb_tokens_init(&f->t);
  *state = f;
  return f->s && f->m ? 0 : -1;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  sb_suggest_destroy(&f->s);
  assert_null(f->s);
  sb_intent_destroy(&f->m);
  sb_rules_destroy(&f->rules);
  sb_tokens_free(&f->t);
  free(f);
  return 0;
}

/* The suggestion for text in lang; its id, or NULL for none. */
static const char *suggest(fixture_t *f, const char *lang, const char *text, sb_suggestion_t *out) {
  sb_intent_result_t in;
  assert_int_equal(sb_text_tokenize(text, strlen(text), &f->t), 0);
  assert_int_equal(sb_intent_match(f->m, lang, text, strlen(text), &f->t, &in), 0);
  int rc = sb_suggest_best(f->s, lang, &f->t, &in, out);
  assert_true(rc == 0 || rc == 1);
  return rc ? out->id : NULL;
}

static void the_answer_of_the_matched_intent_and_language_wins(void **state) {
  sb_suggestion_t s;
  assert_string_equal(suggest(*state, "en", "Where is my refund? It has been two weeks", &s), "refund-en");
  assert_true(s.score >= SB_SUGGEST_MIN_SCORE);
  assert_string_equal(suggest(*state, "fr", "Toujours pas de remboursement", &s), "refund-fr");
}

static void words_shared_with_the_answer_break_ties(void **state) {
  sb_suggestion_t s;
  assert_string_equal(suggest(*state, "en", "Can I get a voucher instead of a refund?", &s), "voucher-en");
  assert_true(s.bm25 > 0);
}

static void answers_of_intents_not_matched_are_never_suggested(void **state) {
  sb_suggestion_t s;
  assert_string_equal(suggest(*state, "en", "my suitcase is lost", &s), "bag-en");
  assert_null(suggest(*state, "en", "hello there", &s));
}

static void an_answer_without_intent_needs_similar_words(void **state) {
  sb_suggestion_t s;
  assert_string_equal(suggest(*state, "de", "lounge opening hours?", &s), "hours");
  assert_true(s.bm25 > 0);
}

static void another_language_gets_no_answer_of_this_language(void **state) {
  sb_suggestion_t s;
  assert_null(suggest(*state, "es", "refund", &s));
}

static void rejections_push_an_answer_down_and_counts_are_kept(void **state) {
  fixture_t *f = *state;
  sb_suggestion_t s;
  uint64_t acc, rej;
  const char *text = "Where is my refund?";
  assert_string_equal(suggest(f, "en", text, &s), "refund-en");
  for (int i = 0; i < 5; i++)
    assert_int_equal(sb_suggest_feedback(f->s, "refund-en", 0), 0);
  assert_int_equal(sb_suggest_feedback(f->s, "voucher-en", 1), 0);
  assert_string_equal(suggest(f, "en", text, &s), "voucher-en");
  assert_int_equal(sb_suggest_counts(f->s, "refund-en", &acc, &rej), 0);
  assert_int_equal(acc, 0);
  assert_int_equal(rej, 5);
  assert_int_equal(sb_suggest_feedback(f->s, "nope", 1), SB_ENOTFOUND);
  assert_int_equal(sb_suggest_counts(f->s, "nope", &acc, &rej), SB_ENOTFOUND);
}

static void rules_without_answers_suggest_nothing(void **state) {
  (void)state;
  char err[64];
  sb_rules_t *r = sb_rules_parse("{}", 2, err, sizeof err);
  sb_suggest_t *s = sb_suggest_new(r);
  sb_tokens_t t;
  sb_suggestion_t out;
  sb_tokens_init(&t);
  sb_text_tokenize("refund", 6, &t);
  assert_int_equal(sb_suggest_best(s, "en", &t, NULL, &out), 0);
  assert_int_equal(sb_suggest_best(NULL, "en", &t, NULL, &out), SB_EINVAL);
  sb_tokens_free(&t);
  sb_suggest_destroy(&s);
  sb_rules_destroy(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(the_answer_of_the_matched_intent_and_language_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(words_shared_with_the_answer_break_ties, setup, teardown),
      cmocka_unit_test_setup_teardown(answers_of_intents_not_matched_are_never_suggested, setup, teardown),
      cmocka_unit_test_setup_teardown(an_answer_without_intent_needs_similar_words, setup, teardown),
      cmocka_unit_test_setup_teardown(another_language_gets_no_answer_of_this_language, setup, teardown),
      cmocka_unit_test_setup_teardown(rejections_push_an_answer_down_and_counts_are_kept, setup, teardown),
      cmocka_unit_test(rules_without_answers_suggest_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
