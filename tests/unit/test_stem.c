/*
 * test_stem: behaviours of sb_stem (word stems for intent rules). The
 * stems come from a per-thread cache after the first time; what it returns
 * must be what Snowball says, whatever the collisions and languages.
 */
#include "sb_stem.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <string.h>

#ifdef SB_HAVE_STEMMER
#include <libstemmer.h>

/* Snowball's own answer, with no cache in between. */
static size_t direct(const char *lang, const char *w, char *out, size_t cap) {
  struct sb_stemmer *sn = sb_stemmer_new(strcmp(lang, "nb") ? lang : "no", "UTF_8");
  assert_non_null(sn);
  const sb_symbol *st = sb_stemmer_stem(sn, (const sb_symbol *)w, (int)strlen(w));
  assert_non_null(st);
  size_t n = (size_t)sb_stemmer_length(sn);
  assert_true(n < cap);
  memcpy(out, st, n);
  out[n] = '\0';
  sb_stemmer_delete(sn);
  return n;
}
#endif

static void words_of_one_family_share_a_stem(void **state) {
  (void)state;
  if (!sb_stem_available())
    skip();
  sb_stem_t *en = sb_stem_new("en");
  assert_non_null(en);
  char a[80], b[80];
  sb_stem_word(en, "cancelled", 9, a, sizeof a);
  sb_stem_word(en, "cancelling", 10, b, sizeof b);
  assert_string_equal(a, b);
  sb_stem_destroy(&en);
  assert_null(en);
}

/* The same words through two languages, over and over, with more distinct
 * words than the cache holds: every answer is Snowball's for that
 * language (a cached stem of one language never answers for another). */
static void cached_stems_are_snowballs_in_every_language(void **state) {
  (void)state;
#ifndef SB_HAVE_STEMMER
  skip();
#else
  const char *langs[] = {"en", "fr", "de", "nl", "es", "nb"};
  const char *roots[] = {"nation", "parl", "rembours", "verspät", "retras", "kund", "avbestill"};
  const char *ends[] = {"", "s", "es", "ement", "ungen", "ando", "ing", "ed", "ene", "heid"};
  sb_stem_t *st[6];
  for (size_t l = 0; l < 6; l++)
    assert_non_null(st[l] = sb_stem_new(langs[l]));
  char w[64], got[80], want[80];
  for (int pass = 0; pass < 2; pass++) {
    for (unsigned i = 0; i < 6000; i++) { /* > the cache's 4,096 slots */
      snprintf(w, sizeof w, "%s%s%u", roots[i % 7], ends[(i / 7) % 10], i / 70);
      size_t l = (i + pass) % 6;
      size_t n = sb_stem_word(st[l], w, strlen(w), got, sizeof got);
      size_t m = direct(langs[l], w, want, sizeof want);
      assert_int_equal(n, m);
      if (strcmp(got, want)) {
        print_error("%s: %s stems to \"%s\", Snowball says \"%s\"\n", langs[l], w, got, want);
        fail();
      }
      /* and the same word again, now from the cache */
      sb_stem_word(st[l], w, strlen(w), got, sizeof got);
      assert_string_equal(got, want);
    }
  }
  for (size_t l = 0; l < 6; l++)
    sb_stem_destroy(&st[l]);
#endif
}

static void long_words_and_small_buffers_are_safe(void **state) {
  (void)state;
  sb_stem_t *en = sb_stem_new("en");
  char w[65], out[8];
  memset(w, 'a', 64);
  w[64] = '\0';
  for (int k = 0; k < 2; k++) { /* past the cache's word size, twice */
    size_t n = sb_stem_word(en, w, 64, out, sizeof out);
    assert_int_equal(n, 7);
    assert_int_equal(strlen(out), 7);
  }
  /* no stemmer: the word itself */
  assert_int_equal(sb_stem_word(NULL, "running", 7, out, sizeof out), 7);
  assert_string_equal(out, "running");
  sb_stem_destroy(&en);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(words_of_one_family_share_a_stem),
      cmocka_unit_test(cached_stems_are_snowballs_in_every_language),
      cmocka_unit_test(long_words_and_small_buffers_are_safe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
