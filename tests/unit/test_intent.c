/*
 * test_intent: behaviours of sb_intent (intents, competitors and legal
 * threats from a tenant's rules).
 *
 * One small rule set covers the behaviours; its keywords are written with
 * accents and capitals on purpose, the messages without (and the other way
 * round), since folding must make them meet.
 */
#include "sb_error.h"
#include "sb_intent.h"
#include "sb_stem.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char RULES[] =
    "{\"languages\": [\"en\", \"fr\"],"
    " \"intents\": ["
    "  {\"name\": \"refund\", \"weight\": 60, \"account\": true,"
    "   \"keywords\": {\"en\": [\"refund*\", \"money back\"], \"fr\": [\"Rembours*\"], \"*\": [\"chargeback\"]}},"
    "  {\"name\": \"delay\", \"weight\": 50, \"keywords\": {\"en\": [\"delay*\", \"late\"], \"fr\": [\"retard*\"]},"
    "   \"regex\": {\"en\": [\"[0-9]+ hours? late\"]}},"
    "  {\"name\": \"complaint\", \"weight\": 40, \"secondary\": true, \"keywords\": {\"en\": [\"rude\", \"worst\"]}},"
    "  {\"name\": \"cancel\", \"weight\": 60, \"keywords\": {\"en\": [\"cancel\"]}}],"
    " \"competitors\": [{\"name\": \"FlyNow\", \"aliases\": [\"fly now\"]}, \"SkyBudget\"],"
    " \"legal\": {\"en\": [\"lawyer*\", \"legal action\"], \"fr\": [\"avocat\"]}}";

typedef struct {
  sb_rules_t *rules;
  sb_intent_t *m;
  sb_tokens_t t;
} fixture_t;

static int setup(void **state) {
  char err[256];
  fixture_t *f = calloc(1, sizeof *f);
  f->rules = sb_rules_parse(RULES, strlen(RULES), err, sizeof err);
  if (!f->rules)
    fail_msg("%s", err);
  f->m = sb_intent_new(f->rules);
  sb_tokens_init(&f->t);
  *state = f;
  return f->m ? 0 : -1;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  sb_intent_destroy(&f->m);
  assert_null(f->m);
  sb_rules_destroy(&f->rules);
  sb_tokens_free(&f->t);
  free(f);
  return 0;
}

static sb_intent_result_t match(fixture_t *f, const char *lang, const char *text) {
  sb_intent_result_t r;
  assert_int_equal(sb_text_tokenize(text, strlen(text), &f->t), 0);
  assert_int_equal(sb_intent_match(f->m, lang, text, strlen(text), &f->t, &r), 0);
  return r;
}

static void one_keyword_gives_its_intent_with_score_one_half(void **state) {
  sb_intent_result_t r = match(*state, "en", "When do I get my refund?");
  assert_int_equal(r.n, 1);
  assert_string_equal(r.intents[0].name, "refund");
  assert_true(r.intents[0].score == 0.5);
  assert_true(r.account);
  assert_int_equal(r.top_weight, 60);
}

static void more_hits_raise_the_score(void **state) {
  sb_intent_result_t r = match(*state, "en", "Refund please, I was refunded only half");
  assert_int_equal(r.intents[0].hits, 2);
  assert_true(r.intents[0].score == 0.75);
}

static void a_phrase_counts_as_two_hits(void **state) {
  sb_intent_result_t r = match(*state, "en", "I want my money back");
  assert_int_equal(r.n, 1);
  assert_int_equal(r.intents[0].hits, SB_INTENT_PHRASE_HITS);
}

static void case_and_accents_do_not_matter(void **state) {
  sb_intent_result_t r = match(*state, "fr", "Je veux un REMBOURSEMENT");
  assert_int_equal(r.n, 1);
  assert_string_equal(r.intents[0].name, "refund");
  r = match(*state, "fr", "le vol a du retard, c'est prevu quand ?");
  assert_string_equal(r.intents[0].name, "delay");
}

static void keywords_of_another_language_do_not_match(void **state) {
  sb_intent_result_t r = match(*state, "fr", "my refund is late");
  assert_int_equal(r.n, 0);
}

static void star_keywords_match_every_language(void **state) {
  sb_intent_result_t r = match(*state, "fr", "je fais un chargeback");
  assert_int_equal(r.n, 1);
  assert_string_equal(r.intents[0].name, "refund");
}

static void an_unknown_language_tries_every_language(void **state) {
  sb_intent_result_t r = match(*state, "und", "remboursement and delay");
  assert_int_equal(r.n, 2);
}

static void a_regex_adds_a_hit(void **state) {
  sb_intent_result_t r = match(*state, "en", "We are 3 hours late");
  assert_string_equal(r.intents[0].name, "delay");
  assert_int_equal(r.intents[0].hits, 2); /* "late" and the regex */
}

static void intents_rank_by_score_and_secondary_ones_last(void **state) {
  sb_intent_result_t r = match(*state, "en", "rude staff, worst ever, and my refund?");
  assert_int_equal(r.n, 2);
  assert_string_equal(r.intents[0].name, "refund");
  assert_string_equal(r.intents[1].name, "complaint");
  assert_true(r.intents[1].score > r.intents[0].score);
}

static void competitors_are_found_by_name_alias_handle_and_hashtag(void **state) {
  sb_intent_result_t r = match(*state, "en", "@FlyNow is cheaper, #skybudget too, and fly now has wifi");
  assert_int_equal(r.n_competitors, 2);
  assert_int_equal(r.competitors[0], 0);
  assert_int_equal(r.competitors[1], 1);
  assert_int_equal(r.n, 0);
}

static void legal_threats_are_counted(void **state) {
  assert_int_equal(match(*state, "en", "My lawyers will take legal action").legal, 2);
  assert_int_equal(match(*state, "fr", "je vais voir un avocat").legal, 1);
  assert_int_equal(match(*state, "en", "I will call my mum").legal, 0);
}

static void an_inflected_word_needs_a_prefix_or_a_stemmer(void **state) {
  sb_intent_result_t r = match(*state, "en", "my flight was cancelled");
  if (sb_stem_available()) /* "cancelled" and "cancel" share the stem "cancel" */
    assert_int_equal(r.n, 1);
  else
    assert_int_equal(r.n, 0);
  assert_int_equal(match(*state, "en", "please cancel it").n, 1);
}

static void empty_and_odd_text_match_nothing(void **state) {
  assert_int_equal(match(*state, "en", "").n, 0);
  assert_int_equal(match(*state, "en", "\xff\xfe refund \xc3").n, 1);
  assert_int_equal(match(*state, "en", "re\xe2\x80\x8b" "fund").n, 1); /* zero-width space inside */
}

static void at_most_the_limit_of_intents_is_reported(void **state) {
  (void)state;
  char json[8192] = "{\"intents\": [", err[256];
  for (int i = 0; i < SB_INTENT_MAX + 4; i++)
    snprintf(json + strlen(json), sizeof json - strlen(json), "%s{\"name\": \"i%d\", \"keywords\": {\"*\": [\"word\"]}}",
             i ? "," : "", i);
  strcat(json, "]}");
  sb_rules_t *rules = sb_rules_parse(json, strlen(json), err, sizeof err);
  assert_non_null(rules);
  sb_intent_t *m = sb_intent_new(rules);
  sb_tokens_t t;
  sb_intent_result_t r;
  sb_tokens_init(&t);
  sb_text_tokenize("word", 4, &t);
  assert_int_equal(sb_intent_match(m, "en", "word", 4, &t, &r), 0);
  assert_int_equal(r.n, SB_INTENT_MAX);
  assert_string_equal(r.intents[0].name, "i0"); /* ties keep the rule order */
  sb_tokens_free(&t);
  sb_intent_destroy(&m);
  sb_rules_destroy(&rules);
}

static void null_arguments_are_refused(void **state) {
  fixture_t *f = *state;
  sb_intent_result_t r;
  assert_int_equal(sb_intent_match(NULL, "en", "x", 1, &f->t, &r), SB_EINVAL);
  assert_int_equal(sb_intent_match(f->m, NULL, "x", 1, &f->t, &r), SB_EINVAL);
  assert_int_equal(r.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(one_keyword_gives_its_intent_with_score_one_half, setup, teardown),
      cmocka_unit_test_setup_teardown(more_hits_raise_the_score, setup, teardown),
      cmocka_unit_test_setup_teardown(a_phrase_counts_as_two_hits, setup, teardown),
      cmocka_unit_test_setup_teardown(case_and_accents_do_not_matter, setup, teardown),
      cmocka_unit_test_setup_teardown(keywords_of_another_language_do_not_match, setup, teardown),
      cmocka_unit_test_setup_teardown(star_keywords_match_every_language, setup, teardown),
      cmocka_unit_test_setup_teardown(an_unknown_language_tries_every_language, setup, teardown),
      cmocka_unit_test_setup_teardown(a_regex_adds_a_hit, setup, teardown),
      cmocka_unit_test_setup_teardown(intents_rank_by_score_and_secondary_ones_last, setup, teardown),
      cmocka_unit_test_setup_teardown(competitors_are_found_by_name_alias_handle_and_hashtag, setup, teardown),
      cmocka_unit_test_setup_teardown(legal_threats_are_counted, setup, teardown),
      cmocka_unit_test_setup_teardown(an_inflected_word_needs_a_prefix_or_a_stemmer, setup, teardown),
      cmocka_unit_test_setup_teardown(empty_and_odd_text_match_nothing, setup, teardown),
      cmocka_unit_test(at_most_the_limit_of_intents_is_reported),
      cmocka_unit_test_setup_teardown(null_arguments_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
