/*
 * test_termset: behaviours of sb_termset (the phrase dictionary under
 * intents, competitors, legal words and sentiment lexicons).
 */
#include "sb_error.h"
#include "sb_termset.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <string.h>

static sb_termset_t *set_of(const char *const *phrases) {
  sb_termset_t *s = sb_termset_new();
  assert_non_null(s);
  for (uint32_t i = 0; phrases[i]; i++)
    assert_int_equal(sb_termset_add(s, phrases[i], strlen(phrases[i]), i, NULL), 0);
  return s;
}

/* Hits at token i of text; count returned, values in v[]. */
static size_t hits_at(const sb_termset_t *s, const char *text, size_t i, sb_term_hit_t *h, size_t max) {
  sb_tokens_t t;
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(text, strlen(text), &t), 0);
  size_t n = sb_termset_match(s, &t, i, h, max);
  sb_tokens_free(&t);
  return n;
}

static void words_match_whatever_their_case_and_accents(void **state) {
  (void)state;
  static const char *const p[] = {"Remboursé", NULL};
  sb_termset_t *s = set_of(p);
  sb_term_hit_t h[4];
  assert_int_equal(hits_at(s, "REMBOURSE", 0, h, 4), 1);
  assert_int_equal(h[0].ntok, 1);
  assert_int_equal(hits_at(s, "rembourser", 0, h, 4), 0);
  sb_termset_destroy(&s);
  assert_null(s);
}

static void longer_phrases_come_first(void **state) {
  (void)state;
  static const char *const p[] = {"money", "money back", "money back now", NULL};
  sb_termset_t *s = set_of(p);
  sb_term_hit_t h[4];
  assert_int_equal(hits_at(s, "money back now please", 0, h, 4), 3);
  assert_int_equal(h[0].value, 2);
  assert_int_equal(h[1].value, 1);
  assert_int_equal(h[2].value, 0);
  assert_int_equal(hits_at(s, "money back now", 0, h, 1), 3); /* counted, one written */
  assert_int_equal(h[0].value, 2);
  sb_termset_destroy(&s);
}

static void a_phrase_does_not_cross_a_clause_break(void **state) {
  (void)state;
  static const char *const p[] = {"money back", NULL};
  sb_termset_t *s = set_of(p);
  sb_term_hit_t h[2];
  assert_int_equal(hits_at(s, "money. back", 0, h, 2), 0);
  sb_termset_destroy(&s);
}

static void a_final_star_matches_any_ending(void **state) {
  (void)state;
  static const char *const p[] = {"refund*", "money ba*", NULL};
  sb_termset_t *s = set_of(p);
  sb_term_hit_t h[2];
  assert_int_equal(hits_at(s, "refunded", 0, h, 2), 1);
  assert_int_equal(hits_at(s, "refund", 0, h, 2), 1);
  assert_int_equal(hits_at(s, "refun", 0, h, 2), 0);
  assert_int_equal(hits_at(s, "money back", 0, h, 2), 1);
  assert_int_equal(h[0].ntok, 2);
  sb_termset_destroy(&s);
}

static void duplicates_are_kept(void **state) {
  (void)state;
  static const char *const p[] = {"late", "late", NULL};
  sb_termset_t *s = set_of(p);
  sb_term_hit_t h[4];
  assert_int_equal(hits_at(s, "late", 0, h, 4), 2);
  assert_int_equal(sb_termset_count(s), 2);
  sb_termset_destroy(&s);
}

static void malformed_phrases_are_refused(void **state) {
  (void)state;
  sb_termset_t *s = sb_termset_new();
  static const char *const bad[] = {"", "...", "*", "a*b", "word *", "a b c d e f g h i"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (sb_termset_add(s, bad[i], strlen(bad[i]), 0, NULL) != SB_EINVAL)
      fail_msg("accepted \"%s\"", bad[i]);
  char big[SB_TERMSET_PHRASE_MAX + 2];
  memset(big, 'a', sizeof big);
  assert_int_equal(sb_termset_add(s, big, sizeof big, 0, NULL), SB_EINVAL);
  assert_int_equal(sb_termset_count(s), 0);
  sb_termset_destroy(&s);
}

static void thousands_of_entries_still_match_exactly(void **state) {
  (void)state;
  sb_termset_t *s = sb_termset_new();
  char w[32];
  for (uint32_t i = 0; i < 5000; i++) {
    snprintf(w, sizeof w, "kw%u%s", i, i % 2 ? "*" : "");
    assert_int_equal(sb_termset_add(s, w, strlen(w), i, NULL), 0);
  }
  sb_term_hit_t h[8];
  assert_int_equal(hits_at(s, "kw4242", 0, h, 8), 1);
  assert_int_equal(h[0].value, 4242);
  assert_int_equal(hits_at(s, "kw4243xyz", 0, h, 8), 1); /* prefix entry */
  assert_int_equal(hits_at(s, "kw4244xyz", 0, h, 8), 0);
  sb_termset_destroy(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(words_match_whatever_their_case_and_accents),
      cmocka_unit_test(longer_phrases_come_first),
      cmocka_unit_test(a_phrase_does_not_cross_a_clause_break),
      cmocka_unit_test(a_final_star_matches_any_ending),
      cmocka_unit_test(duplicates_are_kept),
      cmocka_unit_test(malformed_phrases_are_refused),
      cmocka_unit_test(thousands_of_entries_still_match_exactly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
