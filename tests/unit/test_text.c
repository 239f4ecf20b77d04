/*
 * test_text: behaviours of sb_text (folding, tokenising, code points).
 *
 * The tokeniser is what makes a tenant's keyword and a customer's word
 * meet, so each folding rule and each kind of hostile input (invisible
 * characters, invalid UTF-8, full-width letters) has a test. Inputs are
 * copied into buffers without a NUL so a sanitizer build sees overreads.
 */
#include "sb_error.h"
#include "sb_text.h"
#include "sb_testutil.h"

#include <stdlib.h>
#include <string.h>

/* Tokens of s joined by '|', flags ignored. */
static void tokens_of(const char *s, char *out, size_t cap) {
  sb_tokens_t t;
  size_t len = strlen(s);
  char *copy = malloc(len ? len : 1);
  memcpy(copy, s, len);
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(copy, len, &t), 0);
  out[0] = '\0';
  for (size_t i = 0; i < t.n; i++) {
    strncat(out, i ? "|" : "", cap - strlen(out) - 1);
    strncat(out, sb_token_norm(&t, i), cap - strlen(out) - 1);
    assert_true(t.v[i].end <= len && t.v[i].start < t.v[i].end);
  }
  sb_tokens_free(&t);
  free(copy);
}

static void expect_tokens(const char *s, const char *want) {
  char got[1024];
  tokens_of(s, got, sizeof got);
  if (strcmp(got, want))
    fail_msg("\"%s\" -> \"%s\", want \"%s\"", s, got, want);
}

static void latin_letters_lose_case_and_accents(void **state) {
  (void)state;
  expect_tokens("Été À Noël", "ete|a|noel");
  expect_tokens("Straße ÆRØ Œuvre", "strasse|aero|oeuvre");
  expect_tokens("Łódź Ščasná Ğüneş", "lodz|scasna|gunes");
}

static void other_scripts_are_lower_cased_and_kept(void **state) {
  (void)state;
  expect_tokens("ΚΑΛΗΜΕΡΑ Привет", "καλημερα|привет");
  expect_tokens("東京 مرحبا", "東京|مرحبا");
}

static void full_width_ascii_becomes_ascii(void **state) {
  (void)state;
  expect_tokens("ＲＥＦＵＮＤ ｎｏｗ１２", "refund|now12");
}

static void invisible_characters_do_not_split_a_word(void **state) {
  (void)state;
  expect_tokens("can\xe2\x80\x8b" "cel re\xc2\xad" "fund \xef\xbb\xbfok", "cancel|refund|ok");
  expect_tokens("e\xcc\x81t\xc3\xa9", "ete"); /* combining acute */
  expect_tokens("\xe2\x80\xae" "abc\xe2\x80\xac", "abc"); /* bidi override */
}

static void punctuation_splits_and_apostrophes_split_except_nt(void **state) {
  (void)state;
  expect_tokens("check-in l'appli, don't CAN'T it's", "check|in|l|appli|don't|can't|it|s");
  expect_tokens("l\xe2\x80\x99" "avion isn\xe2\x80\x99t", "l|avion|isn't");
  expect_tokens("@AcmeAir #fail https://t.co/x", "acmeair|fail|https|t|co|x");
}

static void each_emoji_is_a_token(void **state) {
  (void)state;
  sb_tokens_t t;
  const char *s = "bad😡😡 ❤\xef\xb8\x8f";
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(s, strlen(s), &t), 0);
  assert_int_equal(t.n, 4);
  assert_true(t.v[1].flags & SB_TOKEN_EMOJI);
  assert_string_equal(sb_token_norm(&t, 3), "❤");
  sb_tokens_free(&t);
}

static void clause_breaks_mark_the_next_word(void **state) {
  (void)state;
  sb_tokens_t t;
  const char *s = "not. good, ok!! Fine";
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(s, strlen(s), &t), 0);
  assert_int_equal(t.n, 4);
  assert_false(t.v[0].flags & SB_TOKEN_BREAK);
  assert_true(t.v[1].flags & SB_TOKEN_BREAK);
  assert_true(t.v[2].flags & SB_TOKEN_BREAK);
  assert_true(t.v[3].flags & SB_TOKEN_BREAK);
  assert_int_equal(t.exclaims, 2);
  sb_tokens_free(&t);
}

static void capitals_are_flagged_and_mixed_case_noticed(void **state) {
  (void)state;
  sb_tokens_t t;
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize("this is SO bad I", 16, &t), 0);
  assert_true(t.v[2].flags & SB_TOKEN_CAPS);
  assert_false(t.v[4].flags & SB_TOKEN_CAPS); /* one letter is not shouting */
  assert_true(t.mixed_case);
  assert_int_equal(sb_text_tokenize("ALL CAPS", 8, &t), 0);
  assert_false(t.mixed_case);
  sb_tokens_free(&t);
}

static void invalid_utf8_separates_words(void **state) {
  (void)state;
  expect_tokens("ab\xff" "cd\xc3" "ef\xed\xa0\x80gh\xf4\x90\x80\x80ij", "ab|cd|ef|gh|ij");
  expect_tokens("\xc0\xaf overlong", "overlong");
}

static void long_words_are_cut_and_token_count_is_bounded(void **state) {
  (void)state;
  char word[300];
  memset(word, 'a', sizeof word - 1);
  word[sizeof word - 1] = '\0';
  sb_tokens_t t;
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize(word, strlen(word), &t), 0);
  assert_int_equal(t.n, 1);
  assert_int_equal(strlen(sb_token_norm(&t, 0)), SB_TEXT_WORD_MAX);
  size_t n = 3 * SB_TEXT_TOKENS_MAX;
  char *many = malloc(2 * n);
  for (size_t i = 0; i < n; i++)
    many[2 * i] = 'x', many[2 * i + 1] = ' ';
  assert_int_equal(sb_text_tokenize(many, 2 * n, &t), 0);
  assert_int_equal(t.n, SB_TEXT_TOKENS_MAX);
  free(many);
  sb_tokens_free(&t);
}

static void code_points_count_invalid_bytes_as_one(void **state) {
  (void)state;
  assert_int_equal(sb_text_codepoints("héllo", strlen("héllo")), 5);
  assert_int_equal(sb_text_codepoints("😀x", strlen("😀x")), 2);
  assert_int_equal(sb_text_codepoints("a\xff\xfe", 3), 3);
  assert_int_equal(sb_text_codepoints("", 0), 0);
}

static void cutting_never_splits_a_character(void **state) {
  (void)state;
  const char *s = "ab😀cd"; /* the emoji is bytes 2..5 */
  assert_int_equal(sb_text_cut(s, strlen(s), 100), strlen(s));
  assert_int_equal(sb_text_cut(s, strlen(s), 3), 2);
  assert_int_equal(sb_text_cut(s, strlen(s), 5), 2);
  assert_int_equal(sb_text_cut(s, strlen(s), 6), 6);
  assert_int_equal(sb_text_cut("a\xff\xff\xff", 4, 2), 2);
}

static void sanitising_replaces_invalid_bytes_and_nul(void **state) {
  (void)state;
  size_t n;
  char *s = sb_text_sanitize("a\xff" "b\0c", 5, &n);
  assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
  assert_int_equal(n, strlen(s));
  free(s);
}

static void stems_can_be_set_and_reset(void **state) {
  (void)state;
  sb_tokens_t t;
  sb_tokens_init(&t);
  assert_int_equal(sb_text_tokenize("cancelled", 9, &t), 0);
  assert_int_equal(sb_token_set_stem(&t, 0, "cancel", 6), 0);
  assert_string_equal(sb_token_stem(&t, 0), "cancel");
  sb_tokens_unstem(&t);
  assert_string_equal(sb_token_stem(&t, 0), "cancelled");
  assert_int_equal(sb_text_tokenize(NULL, 1, &t), SB_EINVAL);
  sb_tokens_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(latin_letters_lose_case_and_accents),
      cmocka_unit_test(other_scripts_are_lower_cased_and_kept),
      cmocka_unit_test(full_width_ascii_becomes_ascii),
      cmocka_unit_test(invisible_characters_do_not_split_a_word),
      cmocka_unit_test(punctuation_splits_and_apostrophes_split_except_nt),
      cmocka_unit_test(each_emoji_is_a_token),
      cmocka_unit_test(clause_breaks_mark_the_next_word),
      cmocka_unit_test(capitals_are_flagged_and_mixed_case_noticed),
      cmocka_unit_test(invalid_utf8_separates_words),
      cmocka_unit_test(long_words_are_cut_and_token_count_is_bounded),
      cmocka_unit_test(code_points_count_invalid_bytes_as_one),
      cmocka_unit_test(cutting_never_splits_a_character),
      cmocka_unit_test(sanitising_replaces_invalid_bytes_and_nul),
      cmocka_unit_test(stems_can_be_set_and_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
