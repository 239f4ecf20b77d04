/*
 * test_pii: behaviours of sb_pii (detection and redaction of personal data).
 *
 * Each test names a behaviour. Positives check the exact bytes of the span,
 * negatives are the look-alikes the design warns about (IMEIs, ISBNs, parcel
 * numbers, dates, prices, order numbers). Inputs are copied into buffers of
 * exactly their length, without a NUL, so a sanitizer build catches any read
 * past len.
 */
#include "sb_error.h"
#include "sb_pii.h"

#include <setjmp.h> /* cmocka needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SPANS = 16 };

typedef struct {
  sb_pii_span_t spans[MAX_SPANS];
  size_t n;
  int rc;
} scan_t;

/* Scans a copy of s that has no NUL after it. */
static scan_t scan(const char *s) {
  scan_t r;
  size_t len = strlen(s);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, s, len);
  r.rc = sb_pii_scan(copy, len, r.spans, MAX_SPANS, &r.n);
  free(copy);
  return r;
}

/* Asserts that s holds exactly one finding, of type t, covering `what`. */
static void expect_one(const char *s, sb_pii_type_t t, const char *what) {
  scan_t r = scan(s);
  const char *at = strstr(s, what);
  assert_non_null(at);
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.n, 1);
  assert_int_equal(r.spans[0].type, t);
  assert_int_equal(r.spans[0].start, (size_t)(at - s));
  assert_int_equal(r.spans[0].end, (size_t)(at - s) + strlen(what));
}

static void expect_none(const char *s) {
  scan_t r = scan(s);
  assert_int_equal(r.rc, 0);
  if (r.n != 0)
    fail_msg("unexpected %s in \"%s\" at [%zu,%zu)",
             sb_pii_type_name(r.spans[0].type), s, r.spans[0].start,
             r.spans[0].end);
}

/* Redacts with mask; returns the malloc'd result. */
static char *redact(const char *s, unsigned mask, unsigned *found) {
  char *out = NULL;
  size_t out_len = 0;
  assert_int_equal(sb_pii_redact(s, strlen(s), mask, &out, &out_len, found), 0);
  assert_non_null(out);
  assert_int_equal(out_len, strlen(out));
  return out;
}

static void expect_redacted(const char *s, const char *want) {
  char *out = redact(s, SB_PII_MASK_ALL, NULL);
  assert_string_equal(out, want);
  free(out);
}

/* ---- cards --------------------------------------------------------------- */

static void card_test_numbers_of_each_scheme_are_found(void **state) {
  (void)state;
  static const char *const numbers[] = {
      "4111111111111111", /* Visa */
      "5555555555554444", /* Mastercard */
      "2223003122003222", /* Mastercard 2-series */
      "378282246310005",  /* American Express */
      "6011111111111117", /* Discover */
      "3530111333300000", /* JCB */
      "36227206271667",   /* Diners Club, 14 digits */
      "3056930009020004", /* Diners Club, 16 digits */
      "6200000000000005", /* UnionPay */
  };
  for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
    char text[64];
    snprintf(text, sizeof text, "card: %s, thanks", numbers[k]);
    expect_one(text, SB_PII_CARD, numbers[k]);
  }
}

static void card_grouped_with_spaces_or_dashes_is_found(void **state) {
  (void)state;
  expect_one("my card 4111 1111 1111 1111 please", SB_PII_CARD,
             "4111 1111 1111 1111");
  expect_one("my card 4111-1111-1111-1111.", SB_PII_CARD,
             "4111-1111-1111-1111");
  expect_one("amex 3782 822463 10005", SB_PII_CARD, "3782 822463 10005");
  expect_one("nbsp 5555\xC2\xA0"
             "5555\xC2\xA0"
             "5555\xC2\xA0"
             "4444",
             SB_PII_CARD,
             "5555\xC2\xA0"
             "5555\xC2\xA0"
             "5555\xC2\xA0"
             "4444");
}

static void card_grouped_with_dots_is_found_but_not_mixed_runs(void **state) {
  (void)state;
  expect_one("card 5105.1051.0510.5100 thanks", SB_PII_CARD, "5105.1051.0510.5100");
  /* dots and spaces do not mix within one run: "4111.1111 1111.1111" is
   * two short numbers, not a card */
  expect_none("ref 4111.1111 1111.1111 ok");
}

static void card_followed_by_expiry_group_is_still_found(void **state) {
  (void)state;
  expect_one("4111 1111 1111 1111 12/25 cvv", SB_PII_CARD,
             "4111 1111 1111 1111");
}

static void card_in_fullwidth_digits_is_found(void **state) {
  (void)state;
  const char *fw = "\xEF\xBC\x94\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91"
                   "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91"
                   "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91"
                   "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91";
  char text[128];
  snprintf(text, sizeof text, "カード番号%sです", fw);
  expect_one(text, SB_PII_CARD, fw);
}

static void card_next_to_cjk_text_is_found(void **state) {
  (void)state;
  expect_one("カード番号4111111111111111です", SB_PII_CARD, "4111111111111111");
}

static void imei_is_not_a_card(void **state) {
  (void)state;
  expect_none("IMEI 490154203237518"); /* 15 digits, Luhn-valid */
  expect_none("imei: 35-209900-176148-1");
}

static void isbn_is_not_a_card(void **state) {
  (void)state;
  expect_none("ISBN 9780306406157");
  expect_none("ISBN 9783064061569"); /* ISBN-13 and Luhn-valid */
  expect_none("ISBN 978-3-06-406156-9");
}

static void ean13_product_code_is_not_a_card(void **state) {
  (void)state;
  expect_none("item 4010000000005 broken"); /* Luhn-valid, starts with 4 */
}

static void parcel_numbers_are_not_cards(void **state) {
  (void)state;
  expect_none("UPS 1Z999AA10123456784");
  expect_none("USPS 9400111899223344556677");
  expect_none("USPS 9400 1118 9922 3344 5566 77");
  expect_none("FedEx 961234567890126"); /* 15 digits, Luhn-valid */
}

static void luhn_valid_number_with_unknown_prefix_is_not_a_card(void **state) {
  (void)state;
  expect_none("ref 1234567812345670");
  expect_none("ref 501234567890123"); /* Maestro prefix, 15 digits */
}

static void card_with_one_wrong_digit_is_not_found(void **state) {
  (void)state;
  expect_none("4111111111111121");
  expect_none("5555 5555 5555 4445");
}

static void digits_inside_a_longer_run_are_not_a_card(void **state) {
  (void)state;
  expect_none("94111111111111111");
  expect_none("41111111111111110");
  expect_none("x4111111111111111");
  expect_none("4111111111111111x");
  expect_none("ref4111111111111111");
}

/* ---- IBANs ------------------------------------------------------------------
 */

static void ibans_grouped_and_compact_are_found(void **state) {
  (void)state;
  static const char *const ibans[] = {
      "DE89 3704 0044 0532 0130 00",
      "DE89370400440532013000",
      "FR14 2004 1010 0505 0001 3M02 606",
      "FR1420041010050500013M02606",
      "NL91 ABNA 0417 1643 00",
      "NL91ABNA0417164300",
      "ES91 2100 0418 4502 0005 1332",
      "ES9121000418450200051332",
      "GB82 WEST 1234 5698 7654 32",
      "GB82WEST12345698765432",
      "BE68539007547034",
      "IT60X0542811101000000123456",
  };
  for (size_t k = 0; k < sizeof ibans / sizeof ibans[0]; k++) {
    char text[96];
    snprintf(text, sizeof text, "IBAN: %s.", ibans[k]);
    expect_one(text, SB_PII_IBAN, ibans[k]);
  }
}

static void iban_is_case_insensitive(void **state) {
  (void)state;
  expect_one("iban gb82west12345698765432 ok", SB_PII_IBAN,
             "gb82west12345698765432");
}

static void iban_with_wrong_check_digits_is_not_found(void **state) {
  (void)state;
  expect_none("DE88 3704 0044 0532 0130 00");
  expect_none("GB83WEST12345698765432");
  expect_none("NL00ABNA0417164300"); /* check digits 00 are never valid */
}

static void iban_with_wrong_length_is_not_found(void **state) {
  (void)state;
  expect_none("DE89 3704 0044 0532 0130 0");
  expect_none("DE8937040044053201300012");
  expect_none("XX89370400440532013000"); /* no such country */
}

static void card_digits_inside_an_iban_are_only_the_iban(void **state) {
  (void)state;
  /* The BBAN tail alone is a Diners card; inside the IBAN it is not. */
  expect_one("3600 0000 0000 08", SB_PII_CARD, "3600 0000 0000 08");
  expect_one("pay to GB81 WEST 3600 0000 0000 08 today", SB_PII_IBAN,
             "GB81 WEST 3600 0000 0000 08");
  expect_one("AT704111111111111111", SB_PII_IBAN, "AT704111111111111111");
  unsigned found = 0;
  char *out = redact("pay to GB81 WEST 3600 0000 0000 08 today",
                     SB_PII_MASK(SB_PII_CARD), &found);
  assert_string_equal(out, "pay to GB81 WEST 3600 0000 0000 08 today");
  assert_int_equal(found, SB_PII_MASK(SB_PII_IBAN));
  free(out);
}

/* ---- e-mail
 * ------------------------------------------------------------------ */

static void email_addresses_are_found(void **state) {
  (void)state;
  expect_one("write to john.doe@example.com.", SB_PII_EMAIL,
             "john.doe@example.com");
  expect_one("<a.b+tag@mail.example.co.uk>", SB_PII_EMAIL,
             "a.b+tag@mail.example.co.uk");
  expect_one("mail: Jürgen.Müller@beispiel.de", SB_PII_EMAIL,
             "Jürgen.Müller@beispiel.de");
}

static void email_like_text_without_domain_is_not_found(void **state) {
  (void)state;
  expect_none("thanks @AcmeSupport!");
  expect_none("user@localhost");
  expect_none("x@y.1com");
  expect_none("meet @ 5pm");
}

static void card_inside_email_local_part_is_the_email(void **state) {
  (void)state;
  expect_one("4111111111111111@example.com", SB_PII_EMAIL,
             "4111111111111111@example.com");
}

/* ---- phones
 * ------------------------------------------------------------------ */

static void international_phone_numbers_are_found(void **state) {
  (void)state;
  expect_one("call +44 20 7946 0958 now", SB_PII_PHONE, "+44 20 7946 0958");
  expect_one("tel +33 6 12 34 56 78", SB_PII_PHONE, "+33 6 12 34 56 78");
  expect_one("US +1 (555) 123-4567.", SB_PII_PHONE, "+1 (555) 123-4567");
  expect_one("+44 (0)20 7946 0958", SB_PII_PHONE, "+44 (0)20 7946 0958");
  expect_one("+4915112345678", SB_PII_PHONE, "+4915112345678");
}

static void national_phone_numbers_with_leading_zero_are_found(void **state) {
  (void)state;
  expect_one("ring 020 7946 0958", SB_PII_PHONE, "020 7946 0958");
  expect_one("06 12 34 56 78", SB_PII_PHONE, "06 12 34 56 78");
  expect_one("06.12.34.56.78", SB_PII_PHONE, "06.12.34.56.78");
  expect_one("mobiel 06-12345678", SB_PII_PHONE, "06-12345678");
  expect_one("0612345678", SB_PII_PHONE, "0612345678");
  expect_one("(030) 1234 5678", SB_PII_PHONE, "(030) 1234 5678");
}

static void dates_times_prices_and_order_numbers_are_not_phones(void **state) {
  (void)state;
  expect_none("order #0612345678");
  expect_none("order 123456789");
  expect_none("on 05.06.2024 14:30");
  expect_none("2024-05-06 10:30:00");
  expect_none("price 0.99 EUR, total 1,299.99");
  expect_none("+12 34");
  expect_none("0012345678");
  expect_none("ref 12-0612345678");
}

/* ---- national ids, passports, booking references ------------------------ */

static void uk_nino_is_found_compact_and_spaced(void **state) {
  (void)state;
  expect_one("my NI number is AB123456C thanks", SB_PII_NATIONAL_ID, "AB123456C");
  expect_one("NINO: JG 10 37 65 D.", SB_PII_NATIONAL_ID, "JG 10 37 65 D");
  expect_redacted("ni AB123456C", "ni [NATIONAL_ID]");
}

static void uk_nino_with_forbidden_prefix_or_suffix_is_not_found(void **state) {
  (void)state;
  expect_none("code GB123456A");  /* GB prefix never issued */
  expect_none("code DA123456A");  /* D never first */
  expect_none("code AO123456A");  /* O never second */
  expect_none("code AB123456E");  /* suffix is A-D */
  expect_none("code ab123456c");  /* upper case only */
  expect_none("code XAB123456C"); /* inside a longer token */
}

static void spanish_dni_and_nie_with_right_letter_are_found(void **state) {
  (void)state;
  expect_one("DNI 12345678Z por favor", SB_PII_NATIONAL_ID, "12345678Z");
  expect_one("DNI 12345678-z", SB_PII_NATIONAL_ID, "12345678-z");
  expect_one("mi NIE es X1234567L.", SB_PII_NATIONAL_ID, "X1234567L");
  expect_one("NIE Y7654321-G", SB_PII_NATIONAL_ID, "Y7654321-G");
}

static void spanish_dni_with_wrong_letter_is_not_found(void **state) {
  (void)state;
  expect_none("DNI 12345678A");
  expect_none("NIE X1234567M");
  expect_none("pedido 123456789Z");  /* nine digits */
  expect_none("ref 12345678 z");     /* a lone lower-case letter after a space */
  expect_none("1.12345678Z");        /* continues a number */
}

static void italian_codice_fiscale_with_check_character_is_found(void **state) {
  (void)state;
  expect_one("CF RSSMRA85T10A562S grazie", SB_PII_NATIONAL_ID, "RSSMRA85T10A562S");
  expect_one("cf: mrtmtt25d09f205z", SB_PII_NATIONAL_ID, "mrtmtt25d09f205z");
}

static void italian_codice_fiscale_with_bad_check_is_not_found(void **state) {
  (void)state;
  expect_none("CF RSSMRA85T10A562T");
  expect_none("CF RSSMRA85Z10A562S");  /* Z is not a month letter */
  expect_none("CF RSSMRA85T10A562SX"); /* 17 characters */
}

static void french_nir_with_key_is_found(void **state) {
  (void)state;
  expect_one("n° sécu 1 85 05 78 006 084 91 merci", SB_PII_NATIONAL_ID,
             "1 85 05 78 006 084 91");
  expect_one("NIR 185057800608491.", SB_PII_NATIONAL_ID, "185057800608491");
  expect_one("NIR 1 85 05 2A 123 456 33", SB_PII_NATIONAL_ID, "1 85 05 2A 123 456 33");
}

static void french_nir_with_bad_key_or_month_is_not_found(void **state) {
  (void)state;
  expect_none("NIR 1 85 05 78 006 084 92");
  expect_none("NIR 185157800608491");       /* month 15 */
  expect_none("NIR 385057800608491");       /* sex digit 3 */
  expect_none("NIR 1 85 05 78 006 084 91 7"); /* the number goes on */
}

static void passport_number_after_context_word_is_found(void **state) {
  (void)state;
  expect_one("my passport number is 123456789, expires soon", SB_PII_PASSPORT,
             "123456789");
  expect_one("Passeport n° 09AA12345", SB_PII_PASSPORT, "09AA12345");
  expect_one("Reisepass-Nr.: C01X00T47", SB_PII_PASSPORT, "C01X00T47");
  expect_one("pasaporte: PAA123456", SB_PII_PASSPORT, "PAA123456");
  expect_redacted("passport 533380006 lost", "passport [PASSPORT] lost");
}

static void passport_shaped_number_without_context_word_is_not_found(void **state) {
  (void)state;
  expect_none("order 123456789 shipped");
  expect_none("flight C01X00T47");
  expect_none("my passport expired on 12/05/2024"); /* no code shape */
  expect_none("passport office AB12"); /* too short */
  expect_none("passport photo ABCDEFGH"); /* no digits */
  /* context too far or something else between */
  expect_none("passport renewal took weeks and cost 123456789");
}

static void booking_reference_after_context_word_is_found(void **state) {
  (void)state;
  expect_one("booking ref: XKJTQB please", SB_PII_BOOKING, "XKJTQB");
  expect_one("PNR XKJTQB", SB_PII_BOOKING, "XKJTQB");
  expect_one("my booking is AB12CD", SB_PII_BOOKING, "AB12CD");
  expect_one("référence de réservation : K7Q2ZP", SB_PII_BOOKING, "K7Q2ZP");
  expect_one("Buchungsnummer 4XK9PL.", SB_PII_BOOKING, "4XK9PL");
  expect_one("reservation #q7x2ab", SB_PII_BOOKING, "q7x2ab");
  expect_redacted("PNR: XKJTQB", "PNR: [BOOKING]");
}

static void six_letter_words_near_booking_are_not_references(void **state) {
  (void)state;
  expect_none("MY BOOKING REFUND IS LATE");   /* no marker, no digit */
  expect_none("booking please help");        /* lower-case word */
  expect_none("booking 123456");             /* digits only: an order number */
  expect_none("code XKJTQB");                /* no booking word */
  expect_none("booking ref MS-683869");      /* part of a longer code */
  expect_none("booking ref AB12CDE");        /* 7 characters */
}

static void new_types_redact_idempotently_and_leave_card_rules_alone(void **state) {
  (void)state;
  const char *s = "PNR: XKJTQB, passport 533380006, DNI 12345678Z, card "
                  "4111 1111 1111 1111";
  char *once = redact(s, SB_PII_MASK_ALL, NULL);
  char *twice = redact(once, SB_PII_MASK_ALL, NULL);
  assert_string_equal(once, "PNR: [BOOKING], passport [PASSPORT], DNI "
                            "[NATIONAL_ID], card [CARD]");
  assert_string_equal(twice, once);
  free(once);
  free(twice);
}

/* ---- offsets, limits and the API ------------------------------------------
 */

static void offsets_are_right_around_emoji_and_multibyte_text(void **state) {
  (void)state;
  const char *s = "Grüße 👋 Karte 4111 1111 1111 1111 🙏, IBAN "
                  "DE89370400440532013000 ✅ mail zoë@exämple.de 😀 +33 6 12 "
                  "34 56 78 日本";
  scan_t r = scan(s);
  static const struct {
    sb_pii_type_t type;
    const char *text;
  } want[] = {{SB_PII_CARD, "4111 1111 1111 1111"},
              {SB_PII_IBAN, "DE89370400440532013000"},
              {SB_PII_EMAIL, "zoë@exämple.de"},
              {SB_PII_PHONE, "+33 6 12 34 56 78"}};
  assert_int_equal(r.rc, 0);
  assert_int_equal(r.n, 4);
  for (size_t k = 0; k < 4; k++) {
    size_t at = (size_t)(strstr(s, want[k].text) - s);
    assert_int_equal(r.spans[k].type, want[k].type);
    assert_int_equal(r.spans[k].start, at);
    assert_int_equal(r.spans[k].end, at + strlen(want[k].text));
  }
  expect_redacted(s, "Grüße 👋 Karte [CARD] 🙏, IBAN [IBAN] ✅ mail [EMAIL] "
                     "😀 [PHONE] 日本");
}

static void scan_never_reads_past_len(void **state) {
  (void)state;
  const char *s = "4111111111111111";
  sb_pii_span_t sp[2];
  size_t n = 9;
  /* The same bytes cut one short are not a card any more. */
  assert_int_equal(sb_pii_scan(s, strlen(s) - 1, sp, 2, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(sb_pii_scan(s, strlen(s), sp, 2, &n), 0);
  assert_int_equal(n, 1);
}

static void too_many_spans_fills_max_and_says_toobig(void **state) {
  (void)state;
  const char *s = "a@x.com b@x.com c@x.com";
  sb_pii_span_t sp[2];
  size_t n = 0;
  assert_int_equal(sb_pii_scan(s, strlen(s), sp, 2, &n), SB_ETOOBIG);
  assert_int_equal(n, 2);
  assert_int_equal(sp[0].start, 0);
  assert_int_equal(sp[1].start, 8);
  assert_int_equal(sb_pii_scan(s, strlen(s), NULL, 0, &n), SB_ETOOBIG);
  assert_int_equal(n, 0);
  assert_int_equal(sb_pii_scan("hello", 5, NULL, 0, &n), 0);
}

static void null_arguments_are_einval(void **state) {
  (void)state;
  sb_pii_span_t sp[1];
  size_t n;
  char *out = (char *)1;
  assert_int_equal(sb_pii_scan(NULL, 0, sp, 1, &n), SB_EINVAL);
  assert_int_equal(sb_pii_scan("x", 1, NULL, 1, &n), SB_EINVAL);
  assert_int_equal(sb_pii_scan("x", 1, sp, 1, NULL), SB_EINVAL);
  assert_int_equal(sb_pii_redact(NULL, 0, SB_PII_MASK_ALL, &out, NULL, NULL),
                   SB_EINVAL);
  assert_int_equal(sb_pii_redact("x", 1, SB_PII_MASK_ALL, NULL, NULL, NULL),
                   SB_EINVAL);
}

static void redact_replaces_only_masked_types(void **state) {
  (void)state;
  const char *s = "card 4111111111111111 mail a@b.com";
  unsigned found = 0;
  char *out = redact(s, SB_PII_MASK(SB_PII_EMAIL), &found);
  assert_string_equal(out, "card 4111111111111111 mail [EMAIL]");
  assert_int_equal(found, SB_PII_MASK(SB_PII_CARD) | SB_PII_MASK(SB_PII_EMAIL));
  free(out);
  expect_redacted(s, "card [CARD] mail [EMAIL]");
}

static void redact_copies_text_without_pii_unchanged(void **state) {
  (void)state;
  unsigned found = 99;
  char *out = redact("", SB_PII_MASK_ALL, &found);
  assert_string_equal(out, "");
  assert_int_equal(found, 0);
  free(out);
  expect_redacted("Order 123456 arrived on 2024-05-06 at 10:30, €12.99 😀",
                  "Order 123456 arrived on 2024-05-06 at 10:30, €12.99 😀");
  /* Embedded NUL bytes are copied like any other byte. */
  char *o = NULL;
  size_t ol = 0;
  assert_int_equal(sb_pii_redact("a\0b", 3, SB_PII_MASK_ALL, &o, &ol, NULL), 0);
  assert_int_equal(ol, 3);
  assert_memory_equal(o, "a\0b", 4);
  free(o);
}

static void redacting_found_spans_gives_the_same_text(void **state) {
  (void)state;
  const char *s = "card 4111 1111 1111 1111, IBAN DE89370400440532013000, mail x@y.org";
  sb_pii_span_t sp[8];
  size_t n = 0, a_len = 0, b_len = 0;
  char *a = NULL, *b = NULL;
  unsigned fa = 0, fb = 0;
  assert_int_equal(sb_pii_scan(s, strlen(s), sp, 8, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(sb_pii_redact(s, strlen(s), SB_PII_MASK_ALL, &a, &a_len, &fa), 0);
  assert_int_equal(sb_pii_redact_spans(s, strlen(s), sp, n, SB_PII_MASK_ALL, &b, &b_len, &fb), 0);
  assert_string_equal(b, "card [CARD], IBAN [IBAN], mail [EMAIL]");
  assert_string_equal(a, b);
  assert_int_equal(a_len, b_len);
  assert_int_equal(fa, fb);
  free(a);
  free(b);
  /* spans that cannot come from a scan of this text are refused */
  sb_pii_span_t bad[2] = {sp[1], sp[0]}; /* out of order */
  assert_int_equal(sb_pii_redact_spans(s, strlen(s), bad, 2, SB_PII_MASK_ALL, &b, NULL, NULL), SB_EINVAL);
  assert_null(b);
  bad[0] = sp[2], bad[0].end = strlen(s) + 1; /* past the end */
  assert_int_equal(sb_pii_redact_spans(s, strlen(s), bad, 1, SB_PII_MASK_ALL, &b, NULL, NULL), SB_EINVAL);
  assert_int_equal(sb_pii_redact_spans(s, strlen(s), NULL, 1, SB_PII_MASK_ALL, &b, NULL, NULL), SB_EINVAL);
  assert_int_equal(sb_pii_redact_spans(s, strlen(s), NULL, 0, SB_PII_MASK_ALL, &b, &b_len, NULL), 0);
  assert_string_equal(b, s); /* no span: the text as it is */
  free(b);
}

static void redacting_twice_changes_nothing_more(void **state) {
  (void)state;
  const char *s = "4111 1111 1111 1111 5555555555554444 DE89370400440532013000 "
                  "4111111111111111 x@y.org +44 20 7946 0958";
  char *once = redact(s, SB_PII_MASK_ALL, NULL);
  char *twice = redact(once, SB_PII_MASK_ALL, NULL);
  assert_string_equal(once, "[CARD] [CARD] [IBAN] [CARD] [EMAIL] [PHONE]");
  assert_string_equal(twice, once);
  free(once);
  free(twice);
}

static void type_names_and_placeholders_are_stable(void **state) {
  (void)state;
  assert_string_equal(sb_pii_type_name(SB_PII_CARD), "card");
  assert_string_equal(sb_pii_type_name(SB_PII_IBAN), "iban");
  assert_string_equal(sb_pii_type_name(SB_PII_EMAIL), "email");
  assert_string_equal(sb_pii_type_name(SB_PII_PHONE), "phone");
  assert_string_equal(sb_pii_type_name(SB_PII__COUNT), "unknown");
  assert_string_equal(sb_pii_placeholder(SB_PII_CARD), "[CARD]");
  assert_string_equal(sb_pii_placeholder(SB_PII_IBAN), "[IBAN]");
  assert_string_equal(sb_pii_placeholder(SB_PII_EMAIL), "[EMAIL]");
  assert_string_equal(sb_pii_placeholder(SB_PII_PHONE), "[PHONE]");
  assert_string_equal(sb_pii_placeholder((sb_pii_type_t)42), "[PII]");
  assert_string_equal(sb_pii_type_name(SB_PII_NATIONAL_ID), "national_id");
  assert_string_equal(sb_pii_type_name(SB_PII_PASSPORT), "passport");
  assert_string_equal(sb_pii_type_name(SB_PII_BOOKING), "booking");
  assert_string_equal(sb_pii_placeholder(SB_PII_NATIONAL_ID), "[NATIONAL_ID]");
  assert_string_equal(sb_pii_placeholder(SB_PII_PASSPORT), "[PASSPORT]");
  assert_string_equal(sb_pii_placeholder(SB_PII_BOOKING), "[BOOKING]");
  assert_string_equal(sb_pii_type_name(SB_PII_ADDRESS), "address");
  assert_string_equal(sb_pii_placeholder(SB_PII_ADDRESS), "[ADDRESS]");
  assert_int_equal(SB_PII_MASK_ALL, 0xFFu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(card_test_numbers_of_each_scheme_are_found),
      cmocka_unit_test(card_grouped_with_spaces_or_dashes_is_found),
      cmocka_unit_test(card_grouped_with_dots_is_found_but_not_mixed_runs),
      cmocka_unit_test(card_followed_by_expiry_group_is_still_found),
      cmocka_unit_test(card_in_fullwidth_digits_is_found),
      cmocka_unit_test(card_next_to_cjk_text_is_found),
      cmocka_unit_test(imei_is_not_a_card),
      cmocka_unit_test(isbn_is_not_a_card),
      cmocka_unit_test(ean13_product_code_is_not_a_card),
      cmocka_unit_test(parcel_numbers_are_not_cards),
      cmocka_unit_test(luhn_valid_number_with_unknown_prefix_is_not_a_card),
      cmocka_unit_test(card_with_one_wrong_digit_is_not_found),
      cmocka_unit_test(digits_inside_a_longer_run_are_not_a_card),
      cmocka_unit_test(ibans_grouped_and_compact_are_found),
      cmocka_unit_test(iban_is_case_insensitive),
      cmocka_unit_test(iban_with_wrong_check_digits_is_not_found),
      cmocka_unit_test(iban_with_wrong_length_is_not_found),
      cmocka_unit_test(card_digits_inside_an_iban_are_only_the_iban),
      cmocka_unit_test(email_addresses_are_found),
      cmocka_unit_test(email_like_text_without_domain_is_not_found),
      cmocka_unit_test(card_inside_email_local_part_is_the_email),
      cmocka_unit_test(international_phone_numbers_are_found),
      cmocka_unit_test(national_phone_numbers_with_leading_zero_are_found),
      cmocka_unit_test(dates_times_prices_and_order_numbers_are_not_phones),
      cmocka_unit_test(uk_nino_is_found_compact_and_spaced),
      cmocka_unit_test(uk_nino_with_forbidden_prefix_or_suffix_is_not_found),
      cmocka_unit_test(spanish_dni_and_nie_with_right_letter_are_found),
      cmocka_unit_test(spanish_dni_with_wrong_letter_is_not_found),
      cmocka_unit_test(italian_codice_fiscale_with_check_character_is_found),
      cmocka_unit_test(italian_codice_fiscale_with_bad_check_is_not_found),
      cmocka_unit_test(french_nir_with_key_is_found),
      cmocka_unit_test(french_nir_with_bad_key_or_month_is_not_found),
      cmocka_unit_test(passport_number_after_context_word_is_found),
      cmocka_unit_test(passport_shaped_number_without_context_word_is_not_found),
      cmocka_unit_test(booking_reference_after_context_word_is_found),
      cmocka_unit_test(six_letter_words_near_booking_are_not_references),
      cmocka_unit_test(new_types_redact_idempotently_and_leave_card_rules_alone),
      cmocka_unit_test(offsets_are_right_around_emoji_and_multibyte_text),
      cmocka_unit_test(scan_never_reads_past_len),
      cmocka_unit_test(too_many_spans_fills_max_and_says_toobig),
      cmocka_unit_test(null_arguments_are_einval),
      cmocka_unit_test(redact_replaces_only_masked_types),
      cmocka_unit_test(redact_copies_text_without_pii_unchanged),
      cmocka_unit_test(redacting_found_spans_gives_the_same_text),
      cmocka_unit_test(redacting_twice_changes_nothing_more),
      cmocka_unit_test(type_names_and_placeholders_are_stable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
