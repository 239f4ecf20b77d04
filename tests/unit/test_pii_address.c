/*
 * test_pii_address: street addresses in sb_pii ([ADDRESS], type "address").
 *
 * Positives check the exact bytes of the span in each of the shapes (EN,
 * FR, ES, DE, NL; with and without postal code and city; a UK or NL
 * postcode alone after an address word). Negatives are what must stay:
 * order and flight numbers, dates, times, prices, rankings, a postcode
 * without an address word, words that merely end like a street type.
 * Inputs are copied into buffers of exactly their length, without a NUL,
 * so a sanitizer build catches any read past len.
 */
#include "sb_error.h"
#include "sb_pii.h"

#include <setjmp.h> /* cmocka needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SPANS = 8 };

typedef struct {
  sb_pii_span_t spans[MAX_SPANS];
  size_t n;
} scan_t;

static scan_t scan(const char *s) {
  scan_t r;
  size_t len = strlen(s);
  char *copy = malloc(len ? len : 1);
  assert_non_null(copy);
  memcpy(copy, s, len);
  assert_int_equal(sb_pii_scan(copy, len, r.spans, MAX_SPANS, &r.n), 0);
  free(copy);
  return r;
}

/* s holds exactly one address, covering `what`. */
static void expect_address(const char *s, const char *what) {
  scan_t r = scan(s);
  const char *at = strstr(s, what);
  assert_non_null(at);
  if (r.n != 1 || r.spans[0].type != SB_PII_ADDRESS)
    fail_msg("\"%s\": %zu findings, first %s", s, r.n,
             r.n ? sb_pii_type_name(r.spans[0].type) : "-");
  if (r.spans[0].start != (size_t)(at - s) ||
      r.spans[0].end != (size_t)(at - s) + strlen(what))
    fail_msg("\"%s\": span [%zu,%zu) is \"%.*s\", want \"%s\"", s,
             r.spans[0].start, r.spans[0].end,
             (int)(r.spans[0].end - r.spans[0].start), s + r.spans[0].start,
             what);
}

static void expect_no_address(const char *s) {
  scan_t r = scan(s);
  for (size_t k = 0; k < r.n; k++)
    if (r.spans[k].type == SB_PII_ADDRESS)
      fail_msg("unexpected address in \"%s\": \"%.*s\"", s,
               (int)(r.spans[k].end - r.spans[k].start), s + r.spans[k].start);
}

static void english_addresses_with_postcode_and_city(void **state) {
  (void)state;
  expect_address("I live at 10 Downing Street, London SW1A 2AA now",
                 "10 Downing Street, London SW1A 2AA");
  expect_address("send it to 221B Baker St. please",
                 "221B Baker St"); /* a final dot stays */
  expect_address("221B Baker St., London NW1 6XE",
                 "221B Baker St., London NW1 6XE");
  expect_address("1600 Pennsylvania Avenue NW, Washington, DC 20500 thanks",
                 "1600 Pennsylvania Avenue NW, Washington, DC 20500");
  expect_address("ship to 725 5th Avenue, New York, NY 10022-1234.",
                 "725 5th Avenue, New York, NY 10022-1234");
  expect_address("12-14 High Street, M1 1AE", "12-14 High Street, M1 1AE");
  expect_address("my address is 12 baker street",
                 "12 baker street"); /* lower case after "address" */
}

static void french_spanish_german_dutch_addresses(void **state) {
  (void)state;
  expect_address("Livrez au 12 rue de la Paix, 75002 Paris svp",
                 "12 rue de la Paix, 75002 Paris");
  expect_address("3 bd Haussmann 75009 Paris", "3 bd Haussmann 75009 Paris");
  expect_address("5 bis avenue Foch", "5 bis avenue Foch");
  expect_address("Vivo en Calle Mayor 5, 28013 Madrid.",
                 "Calle Mayor 5, 28013 Madrid");
  expect_address("Avenida de Mayo 1370", "Avenida de Mayo 1370");
  expect_address("calle de Alcalá, nº 42, Madrid", "calle de Alcalá, nº 42");
  expect_address("Ich wohne in der Hauptstraße 5, 10115 Berlin.",
                 "Hauptstraße 5, 10115 Berlin");
  expect_address("Berliner Str. 12a", "Berliner Str. 12a");
  expect_address("Am Waldweg 3",
                 "Am Waldweg 3"); /* the word before a type is taken along */
  expect_address("Kerkstraat 12, 1234 AB Amsterdam",
                 "Kerkstraat 12, 1234 AB Amsterdam");
  expect_address("Stationsweg 7 2312AV Leiden", "Stationsweg 7 2312AV Leiden");
}

static void a_postcode_alone_needs_an_address_word(void **state) {
  (void)state;
  expect_address("postcode SW1A 1AA", "SW1A 1AA");
  expect_address("my post code is EC1A 1BB.", "EC1A 1BB");
  expect_address("mijn adres: postcode 1234 AB", "1234 AB");
  expect_no_address("SW1A 1AA alone");
  expect_no_address("ticket 1234 AB");
  expect_no_address("Bestelnummer 1234 AB");
}

static void numbers_that_are_not_addresses_stay(void **state) {
  (void)state;
  expect_no_address("order 12345 shipped");
  expect_no_address("flight 1234 to Paris");
  expect_no_address("flight 1234 St Louis");
  expect_no_address("on 12 May 2024 at 10:30");
  expect_no_address(
      "at 10:30 Main Street"); /* a time, then a street without a number */
  expect_no_address("it cost 12.50 Main Street");
  expect_no_address("$12 Main Street");
  expect_no_address("\xE2\x82\xAC"
                    "12 Main Street"); /* €12 */
  expect_no_address("#12 Main Street");
  expect_no_address("I waited 3 hours on the road");
  expect_no_address("5 avenue tickets");
  expect_no_address("room 12 route to Paris");
  expect_no_address("Wir sind auf Platz 1");
  expect_no_address("Spring 2024 sale");
  expect_no_address("Gate 5, 12345 passengers");
  expect_no_address("the 3 Supreme Court judges");
  expect_no_address("refund of 120 EUR on 12/05");
}

static void the_placeholder_replaces_the_address(void **state) {
  (void)state;
  char *out = NULL;
  unsigned found = 0;
  const char *s = "Kerkstraat 12, 1234 AB Amsterdam, card 4111 1111 1111 1111";
  assert_int_equal(
      sb_pii_redact(s, strlen(s), SB_PII_MASK_ALL, &out, NULL, &found), 0);
  assert_string_equal(out, "[ADDRESS], card [CARD]");
  assert_int_equal(found,
                   SB_PII_MASK(SB_PII_ADDRESS) | SB_PII_MASK(SB_PII_CARD));
  free(out);
  /* idempotent: the redacted text finds nothing new */
  scan_t r = scan("[ADDRESS], card [CARD]");
  assert_int_equal(r.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(english_addresses_with_postcode_and_city),
      cmocka_unit_test(french_spanish_german_dutch_addresses),
      cmocka_unit_test(a_postcode_alone_needs_an_address_word),
      cmocka_unit_test(numbers_that_are_not_addresses_stay),
      cmocka_unit_test(the_placeholder_replaces_the_address),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
