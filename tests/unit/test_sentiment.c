/*
 * test_sentiment: behaviours of sb_sentiment (lexicon scoring with
 * negation, intensifiers, contrast and emphasis).
 *
 * Most tests use a tiny inline lexicon so that each checks one rule of the
 * model; the last ones load the repository's lexicons and check plain
 * customer messages in every language the issue names.
 */
#include "sb_error.h"
#include "sb_sentiment.h"
#include "sb_testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char TINY[] = "# tiny test lexicon\n"
                           "good\t2\n"
                           "bad\t-2\n"
                           "thanks\t0.8\n"
                           "thanks in advance\t0\n"
                           "not\tNEG\n"
                           "very\tINT 0.5\n"
                           "slightly\tINT -0.5\n"
                           "but\tBUT\n"
                           "disappoint*\t-2\n";

static sb_sentiment_t *tiny(void) {
  char err[128];
  sb_sentiment_t *s = sb_sentiment_new();
  assert_non_null(s);
  assert_int_equal(sb_sentiment_add_lexicon(s, "en", TINY, strlen(TINY), err, sizeof err), 0);
  return s;
}

static sb_sentiment_result_t score(const sb_sentiment_t *s, const char *lang, const char *text) {
  sb_tokens_t t;
  sb_sentiment_result_t r;
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(text, strlen(text), &t), 0);
  assert_int_equal(sb_sentiment_score(s, lang, &t, &r), 0);
  sb_tokens_free(&t);
  return r;
}

static void a_negative_word_makes_a_negative_message(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  sb_sentiment_result_t r = score(s, "en", "The food was bad");
  assert_int_equal(r.label, SB_SENTIMENT_NEGATIVE);
  assert_true(r.score < 0 && r.score > -1);
  assert_int_equal(r.hits, 1);
  sb_sentiment_destroy(&s);
}

static void no_lexicon_word_is_neutral_zero(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  sb_sentiment_result_t r = score(s, "en", "My flight leaves at nine");
  assert_int_equal(r.label, SB_SENTIMENT_NEUTRAL);
  assert_true(r.score == 0);
  sb_sentiment_destroy(&s);
}

static void a_negator_flips_the_next_words(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_int_equal(score(s, "en", "it was not good").label, SB_SENTIMENT_NEGATIVE);
  assert_int_equal(score(s, "en", "not so very bad").label, SB_SENTIMENT_POSITIVE);
  sb_sentiment_destroy(&s);
}

static void negation_ends_at_a_clause_break(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_int_equal(score(s, "en", "Not. Good").label, SB_SENTIMENT_POSITIVE);
  sb_sentiment_destroy(&s);
}

static void negation_reaches_three_words_only(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_true(score(s, "en", "not one two three four good").score > 0);
  sb_sentiment_destroy(&s);
}

static void an_intensifier_raises_and_a_diminisher_lowers_the_magnitude(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  double plain = score(s, "en", "good").score;
  assert_true(score(s, "en", "very good").score > plain);
  assert_true(score(s, "en", "slightly good").score < plain);
  sb_sentiment_destroy(&s);
}

static void after_but_weighs_more_than_before(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_int_equal(score(s, "en", "the crew was good but the food was bad").label, SB_SENTIMENT_NEGATIVE);
  assert_int_equal(score(s, "en", "the food was bad but the crew was good").label, SB_SENTIMENT_POSITIVE);
  sb_sentiment_destroy(&s);
}

static void capitals_in_mixed_case_text_add_emphasis(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_true(score(s, "en", "this is BAD really").score < score(s, "en", "this is bad really").score);
  /* all in capitals is shouting everywhere: no extra emphasis */
  assert_true(fabs(score(s, "en", "THIS IS BAD").score - score(s, "en", "this is bad").score) < 1e-9);
  sb_sentiment_destroy(&s);
}

static void exclamation_marks_add_magnitude_up_to_four(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  double one = score(s, "en", "bad").score, three = score(s, "en", "bad!!!").score;
  assert_true(three < one);
  assert_true(fabs(score(s, "en", "bad!!!!").score - score(s, "en", "bad!!!!!!!!").score) < 1e-9);
  sb_sentiment_destroy(&s);
}

static void the_longest_phrase_wins(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_true(score(s, "en", "Thanks in advance").score == 0);
  assert_true(score(s, "en", "Thanks").score > 0);
  sb_sentiment_destroy(&s);
}

static void a_prefix_entry_matches_every_ending(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  assert_int_equal(score(s, "en", "so disappointing").label, SB_SENTIMENT_NEGATIVE);
  assert_int_equal(score(s, "en", "DISAPPOINTED").label, SB_SENTIMENT_NEGATIVE);
  sb_sentiment_destroy(&s);
}

static void scores_stay_inside_minus_one_and_one(void **state) {
  (void)state;
  sb_sentiment_t *s = tiny();
  char text[8192] = "";
  for (int i = 0; i < 1000; i++)
    strcat(text, "bad ");
  sb_sentiment_result_t r = score(s, "en", text);
  assert_true(r.score > -1 && r.score < -0.99);
  sb_sentiment_destroy(&s);
}

static void an_unknown_language_uses_the_lexicon_that_knows_most_words(void **state) {
  (void)state;
  char err[64];
  sb_sentiment_t *s = tiny();
  static const char fr[] = "mauvais\t-2\nhorrible\t-3\n";
  assert_int_equal(sb_sentiment_add_lexicon(s, "fr", fr, strlen(fr), err, sizeof err), 0);
  assert_int_equal(score(s, "und", "horrible et mauvais").label, SB_SENTIMENT_NEGATIVE);
  assert_int_equal(score(s, "sv", "horrible et mauvais").label, SB_SENTIMENT_NEUTRAL);
  sb_sentiment_destroy(&s);
}

static void a_malformed_lexicon_line_is_reported_with_its_number(void **state) {
  (void)state;
  char err[128];
  sb_sentiment_t *s = sb_sentiment_new();
  static const char bad[] = "good\t2\n# fine\nbad -2\n";
  assert_int_equal(sb_sentiment_add_lexicon(s, "en", bad, strlen(bad), err, sizeof err), SB_EPARSE);
  assert_non_null(strstr(err, "line 3"));
  static const char range[] = "good\t9\n";
  assert_int_equal(sb_sentiment_add_lexicon(s, "en", range, strlen(range), err, sizeof err), SB_EPARSE);
  static const char intens[] = "very\tINT x\n";
  assert_int_equal(sb_sentiment_add_lexicon(s, "en", intens, strlen(intens), err, sizeof err), SB_EPARSE);
  sb_sentiment_destroy(&s);
}

static sb_sentiment_t *bundled(void) {
  char dir[4096], err[256];
  snprintf(dir, sizeof dir, "%s/corpus/lexicons", sb_test_source_dir());
  sb_sentiment_t *s = sb_sentiment_new();
  if (sb_sentiment_load_dir(s, dir, NULL, err, sizeof err) != 0)
    fail_msg("%s", err);
  return s;
}

static void the_bundled_lexicons_load_for_every_language(void **state) {
  (void)state;
  static const char *const langs[] = SB_SENTIMENT_LANGS;
  sb_sentiment_t *s = bundled();
  for (size_t i = 0; langs[i]; i++)
    assert_true(sb_sentiment_has(s, langs[i]));
  assert_false(sb_sentiment_has(s, "sv"));
  sb_sentiment_destroy(&s);
}

static void the_bundled_lexicons_read_real_messages(void **state) {
  (void)state;
  static const struct {
    const char *lang, *text;
    sb_sentiment_label_t want;
  } cases[] = {
      {"en", "Absolutely disgraceful, nobody has answered for two days.", SB_SENTIMENT_NEGATIVE},
      {"en", "The crew were lovely, thank you so much!", SB_SENTIMENT_POSITIVE},
      {"en", "What time does the lounge open? Thanks in advance.", SB_SENTIMENT_NEUTRAL},
      {"en", "I am not happy with this at all.", SB_SENTIMENT_NEGATIVE},
      {"fr", "C'est scandaleux, personne ne répond depuis deux jours.", SB_SENTIMENT_NEGATIVE},
      {"fr", "Personnel adorable, merci beaucoup !", SB_SENTIMENT_POSITIVE},
      {"fr", "Je ne suis pas du tout satisfait.", SB_SENTIMENT_NEGATIVE},
      {"es", "Una vergüenza de servicio, estoy harto.", SB_SENTIMENT_NEGATIVE},
      {"es", "¡Mil gracias, sois geniales!", SB_SENTIMENT_POSITIVE},
      {"de", "Eine Frechheit, ich bin total enttäuscht.", SB_SENTIMENT_NEGATIVE},
      {"de", "Super freundliche Crew, vielen Dank!", SB_SENTIMENT_POSITIVE},
      {"de", "Das war nicht gut.", SB_SENTIMENT_NEGATIVE},
      {"nl", "Schandalig, ik ben echt boos.", SB_SENTIMENT_NEGATIVE},
      {"nl", "Geweldige service, heel erg bedankt!", SB_SENTIMENT_POSITIVE},
      {"nl", "Hoe laat opent het loket? Alvast bedankt.", SB_SENTIMENT_NEUTRAL},
  };
  sb_sentiment_t *s = bundled();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sb_sentiment_result_t r = score(s, cases[i].lang, cases[i].text);
    if (r.label != cases[i].want)
      fail_msg("%s \"%s\": %s (%.3f), want %s", cases[i].lang, cases[i].text, sb_sentiment_label_name(r.label),
               r.score, sb_sentiment_label_name(cases[i].want));
  }
  sb_sentiment_destroy(&s);
}

static void null_arguments_are_refused(void **state) {
  (void)state;
  sb_tokens_t t;
  sb_sentiment_result_t r;
  sb_tokens_init(&t);
  assert_int_equal(sb_sentiment_score(NULL, "en", &t, &r), SB_EINVAL);
  assert_int_equal(sb_sentiment_add_lexicon(NULL, "en", "", 0, NULL, 0), SB_EINVAL);
  assert_string_equal(sb_sentiment_label_name(SB_SENTIMENT_NEGATIVE), "negative");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_negative_word_makes_a_negative_message),
      cmocka_unit_test(no_lexicon_word_is_neutral_zero),
      cmocka_unit_test(a_negator_flips_the_next_words),
      cmocka_unit_test(negation_ends_at_a_clause_break),
      cmocka_unit_test(negation_reaches_three_words_only),
      cmocka_unit_test(an_intensifier_raises_and_a_diminisher_lowers_the_magnitude),
      cmocka_unit_test(after_but_weighs_more_than_before),
      cmocka_unit_test(capitals_in_mixed_case_text_add_emphasis),
      cmocka_unit_test(exclamation_marks_add_magnitude_up_to_four),
      cmocka_unit_test(the_longest_phrase_wins),
      cmocka_unit_test(a_prefix_entry_matches_every_ending),
      cmocka_unit_test(scores_stay_inside_minus_one_and_one),
      cmocka_unit_test(an_unknown_language_uses_the_lexicon_that_knows_most_words),
      cmocka_unit_test(a_malformed_lexicon_line_is_reported_with_its_number),
      cmocka_unit_test(the_bundled_lexicons_load_for_every_language),
      cmocka_unit_test(the_bundled_lexicons_read_real_messages),
      cmocka_unit_test(null_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
