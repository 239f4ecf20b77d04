/*
 * test_lang: behaviours of sb_lang_detect on short, noisy customer messages.
 *
 * Sentences are realistic social-care messages (30-120 characters) with the
 * noise that real traffic carries: @handles, URLs, hashtags, emoji, digits,
 * repeated punctuation. Inputs are copied into buffers of exactly their
 * length, without a NUL, so a sanitizer build catches any read past len.
 */
#include "sb_error.h"
#include "sb_lang.h"

#include <setjmp.h> /* cmocka needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static sb_lang_result_t detect_n(const char *s, size_t len,
                                 const char *const *allowed) {
  sb_lang_result_t r;
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, s, len);
  assert_int_equal(sb_lang_detect(copy, len, allowed, &r), 0);
  free(copy);
  return r;
}

static sb_lang_result_t detect(const char *s, const char *const *allowed) {
  return detect_n(s, strlen(s), allowed);
}

static void expect_lang(const char *s, const char *const *allowed,
                        const char *code) {
  sb_lang_result_t r = detect(s, allowed);
  if (strcmp(r.code, code) != 0)
    fail_msg("\"%s\": got %s (%d%%), want %s", s, r.code, r.percent, code);
}

static const struct {
  const char *code, *text;
} SAMPLES[] = {
    {"en", "@AcmeAir my flight was cancelled and nobody answers the phone!!! "
           "😡😡 https://t.co/abc123"},
    {"fr", "@AcmeSupport Bonjour, ma commande n°45678 n'est toujours pas "
           "arrivée 😢 vous pouvez vérifier ? #colis"},
    {"de", "Hallo @AcmeDE, meine Bestellung ist seit 10 Tagen unterwegs, wann "
           "kommt sie endlich an??? 🙄"},
    {"es", "@Acme_ES hola, llevo 3 días esperando una respuesta sobre mi "
           "reembolso 😤 #atencionalcliente"},
    {"nl", "@AcmeNL mijn pakket is nog steeds niet bezorgd, kunnen jullie even "
           "kijken? 🙏 https://acme.nl/track"},
    {"it", "Ciao @AcmeIT, il mio ordine è in ritardo di una settimana, potete "
           "aiutarmi??? 😞"},
    {"pt", "Olá @AcmePT, a minha encomenda ainda não chegou e já paguei há "
           "duas semanas 😠"},
    {"sv", "Hej @AcmeSE, min beställning har inte kommit än, kan ni hjälpa "
           "mig?"},
    {"nb", "Hei @AcmeNO, pakken min har ikke kommet ennå, kan dere hjelpe "
           "meg?"},
    {"pl", "@AcmePL dzień dobry, moja paczka nadal nie dotarła, proszę o "
           "pomoc"},
    {"tr", "@AcmeTR merhaba, siparişim hala gelmedi, yardımcı olur musunuz?"},
    {"zh", "@AcmeCN 你好，我的订单还没有到，请帮我查一下 😭"},
    {"ja",
     "@AcmeJP こんにちは、注文した商品がまだ届きません。確認してください。"},
};
#define SAMPLE_COUNT (sizeof SAMPLES / sizeof SAMPLES[0])

static void noisy_customer_messages_get_their_language(void **state) {
  (void)state;
  for (size_t k = 0; k < SAMPLE_COUNT; k++) {
    sb_lang_result_t r = detect(SAMPLES[k].text, NULL);
    if (strcmp(r.code, SAMPLES[k].code) != 0)
      fail_msg("\"%s\": got %s, want %s", SAMPLES[k].text, r.code,
               SAMPLES[k].code);
    assert_true(r.reliable);
    assert_true(r.percent >= 50);
  }
}

static void traditional_chinese_is_reported_as_zh(void **state) {
  (void)state;
  expect_lang("你好，我的訂單還沒到，請幫忙查詢一下，謝謝", NULL, "zh");
}

static void norwegian_in_the_tenant_list_matches_either_code(void **state) {
  (void)state;
  const char *const nb[] = {"nb", NULL}, *const no[] = {"no", NULL};
  expect_lang(SAMPLES[8].text, nb, "nb");
  expect_lang(SAMPLES[8].text, no, "nb");
}

static void noise_alone_does_not_decide_the_language(void **state) {
  (void)state;
  /* English handles, hashtags and URLs around a German sentence. */
  expect_lang("@CustomerCareTeam @HelpDeskSupport #FlightDelayed "
              "https://www.example.com/help/contact-us Wo ist mein Koffer? "
              "Seit gestern warte ich!",
              NULL, "de");
}

static void allowed_list_restricts_the_answer(void **state) {
  (void)state;
  const char *const fr_de[] = {"fr", "de", NULL};
  /* English is not served: "und", never a wrong language. */
  expect_lang(SAMPLES[0].text, fr_de, "und");
  expect_lang(SAMPLES[1].text, fr_de, "fr");
  expect_lang(SAMPLES[2].text, fr_de, "de");
  const char *const sv_only[] = {"sv", NULL};
  expect_lang(SAMPLES[7].text, sv_only, "sv");
  expect_lang(SAMPLES[8].text, sv_only, "und");
}

static void allowed_list_picks_a_listed_language_of_mixed_text(void **state) {
  (void)state;
  const char *const fr_only[] = {"fr", NULL};
  /* Two thirds English, one third French: a French-only tenant gets fr
   * (CLD2's second candidate), everyone else en. */
  const char *s =
      "Hello, I ordered a jacket from your online store two weeks ago and it "
      "still has not arrived. The tracking page has said in transit for ten "
      "days now and nobody answers the phone. Bonjour, ma commande n'est "
      "toujours pas arrivée, pouvez-vous vérifier s'il vous plaît ? Merci "
      "beaucoup.";
  sb_lang_result_t r = detect(s, NULL);
  assert_string_equal(r.code, "en");
  expect_lang(s, fr_only, "fr");
}

static void short_words_are_guessed_only_when_cld2_is_confident(void **state) {
  (void)state;
  const char *const fr_de[] = {"fr", "de", NULL};
  expect_lang("merci !!!", NULL, "fr");
  expect_lang("danke", fr_de, "de");
  /* Best-effort English on junk is not taken. */
  expect_lang("wtf", NULL, "und");
  expect_lang("abc", NULL, "und"); /* best effort says en; too short */
  expect_lang("asdfgh jkl", NULL, "und");
  expect_lang("thanks!", fr_de, "und");
  expect_lang("wtf", fr_de, "und");
  sb_lang_result_t r = detect("merci !!!", NULL);
  assert_false(r.reliable);
}

static void empty_whitespace_and_emoji_only_are_und(void **state) {
  (void)state;
  static const char *const inputs[] = {
      "",
      "   \t\n  ",
      "😀😀😀",
      "👍",
      "!!! ??? ...",
      "12345 67890",
      "@AcmeSupport https://t.co/xyz #",
      "ok",
      "🇫🇷🇩🇪 ❤️‍🔥",
  };
  for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
    sb_lang_result_t r = detect(inputs[k], NULL);
    assert_string_equal(r.code, "und");
    assert_int_equal(r.percent, 0);
    assert_int_equal(r.reliable, 0);
  }
}

static void invalid_utf8_is_skipped_not_fatal(void **state) {
  (void)state;
  expect_lang("\xff\xfe ma commande \xc3 n'est jamais arriv\xc3\xa9"
              "e, pouvez-vous m'aider \xe2\x82 \xed\xa0\x80 ?",
              NULL, "fr");
  static const char junk[] = "\xc0\xaf\xe0\x80\xaf\xf8\x88\x80\x80\x80\xff"
                             "\xf4\x90\x80\x80\xed\xbf\xbf\x80\x80";
  expect_lang(junk, NULL, "und");
  /* A sequence cut by len is not read past it. */
  sb_lang_result_t r = detect_n("ab \xe2\x82\xac", 5, NULL);
  assert_string_equal(r.code, "und");
}

static void text_need_not_be_nul_terminated(void **state) {
  (void)state;
  const char *s =
      "Bonjour, ma commande n'est jamais arrivée. WHERE IS MY ORDER";
  size_t len = (size_t)(strstr(s, " WHERE") - s);
  sb_lang_result_t r = detect_n(s, len, NULL);
  assert_string_equal(r.code, "fr");
}

static void long_input_is_bounded_and_still_detected(void **state) {
  (void)state;
  const char *unit = "Meine Bestellung ist seit zwei Wochen unterwegs. ";
  size_t ulen = strlen(unit), reps = 2000;
  char *big = malloc(ulen * reps);
  assert_non_null(big);
  for (size_t k = 0; k < reps; k++)
    memcpy(big + k * ulen, unit, ulen);
  sb_lang_result_t r = detect_n(big, ulen * reps, NULL);
  assert_string_equal(r.code, "de");
  free(big);
}

static void bad_arguments_are_einval_and_und(void **state) {
  (void)state;
  sb_lang_result_t r;
  assert_int_equal(sb_lang_detect("x", 1, NULL, NULL), SB_EINVAL);
  memset(&r, 0x55, sizeof r);
  assert_int_equal(sb_lang_detect(NULL, 3, NULL, &r), SB_EINVAL);
  assert_string_equal(r.code, "und");
  assert_int_equal(sb_lang_detect(NULL, 0, NULL, &r), 0);
  assert_string_equal(r.code, "und");
}

static void tuning_malloc_keeps_answers(void **state) {
  (void)state;
  int rc = sb_lang_tune_malloc(); /* ASan's allocator refuses mallopt */
  assert_true(rc == 0 || rc == SB_EINVAL);
  for (size_t k = 0; k < SAMPLE_COUNT; k++)
    expect_lang(SAMPLES[k].text, NULL, SAMPLES[k].code);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(noisy_customer_messages_get_their_language),
      cmocka_unit_test(traditional_chinese_is_reported_as_zh),
      cmocka_unit_test(norwegian_in_the_tenant_list_matches_either_code),
      cmocka_unit_test(noise_alone_does_not_decide_the_language),
      cmocka_unit_test(allowed_list_restricts_the_answer),
      cmocka_unit_test(allowed_list_picks_a_listed_language_of_mixed_text),
      cmocka_unit_test(short_words_are_guessed_only_when_cld2_is_confident),
      cmocka_unit_test(empty_whitespace_and_emoji_only_are_und),
      cmocka_unit_test(invalid_utf8_is_skipped_not_fatal),
      cmocka_unit_test(text_need_not_be_nul_terminated),
      cmocka_unit_test(long_input_is_bounded_and_still_detected),
      cmocka_unit_test(bad_arguments_are_einval_and_und),
      cmocka_unit_test(tuning_malloc_keeps_answers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
