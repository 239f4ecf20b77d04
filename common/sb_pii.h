/*
 * sb_pii: finds and redacts personal data in UTF-8 customer text before
 * anything is written to Redis, logs or notifications (no clear PII at rest).
 *
 * Eight kinds are recognised, each by a check stronger than a pattern:
 *   card   13-19 digits (ASCII or full-width), optionally grouped by single
 *          spaces or dashes, Luhn-valid AND matching an issuer prefix/length
 *          (Luhn alone would also take IMEIs, ISBNs and parcel numbers);
 *   iban   country code + check digits + BBAN, optionally grouped by spaces in
 *          4s, length equal to the SWIFT registry length of the country,
 *          mod-97 == 1, case-insensitive;
 *   email  pragmatic local@domain.tld;
 *   phone  "+<country>..." or "00<country>..." with 8-15 digits, or a national
 *          number of 10-12 digits starting with one 0 (see sb_pii.c);
 *   national_id  UK National Insurance number (prefix rules, suffix A-D),
 *          Spanish DNI / NIE (check letter mod 23), Italian codice fiscale
 *          (check character), French NIR (key 97 - n mod 97);
 *   passport  6-9 letters/digits with >= 4 digits, only right after a
 *          context word ("passport", "passeport", "Reisepass", ...);
 *   booking  airline booking reference / PNR: 6 letters/digits, only right
 *          after a context word ("booking", "PNR", "réservation", ...).
 *   address  a street address: a house number and a street-type word
 *          (EN street/st/road/avenue/lane/drive..., FR rue/avenue/boulevard/
 *          bd/chemin, ES calle/avenida, DE -straße/-strasse/str./weg/platz,
 *          NL -straat/-laan/-weg), with the street's capitalized name,
 *          optionally followed by a postal code (UK, US ZIP, FR/DE/ES five
 *          digits, NL 1234 AB) and city; a UK or NL postcode alone only
 *          right after an address word ("postcode", "address", "adres").
 *          Order numbers, flights, dates, times and prices are not taken.
 *
 * Invariants: spans are byte offsets [start,end) into the caller's buffer,
 * sorted, non-overlapping, never past len; a card is never reported inside an
 * IBAN or an e-mail address (the earlier, stronger match wins). The text need
 * not be NUL-terminated and is never read past len. Pure functions: no state,
 * no I/O, safe from any thread.
 */
#ifndef SB_PII_H
#define SB_PII_H

#include <stddef.h>

typedef enum {
  SB_PII_CARD,
  SB_PII_IBAN,
  SB_PII_EMAIL,
  SB_PII_PHONE,
  SB_PII_NATIONAL_ID,
  SB_PII_PASSPORT,
  SB_PII_BOOKING,
  SB_PII_ADDRESS,
  SB_PII__COUNT
} sb_pii_type_t;

/* One finding: bytes [start,end) of the input hold personal data of `type`. */
typedef struct {
  sb_pii_type_t type;
  size_t start, end;
} sb_pii_span_t;

/* Bit of one type in a mask, and the mask of all types. */
#define SB_PII_MASK(t) (1u << (unsigned)(t))
#define SB_PII_MASK_ALL ((1u << (unsigned)SB_PII__COUNT) - 1u)

/* Stable lower-case name ("card", "iban", "email", "phone", "national_id",
 * "passport", "booking", "address"), usable as a metric label; "unknown" for a value
 * out of range. Never NULL. */
const char *sb_pii_type_name(sb_pii_type_t t);

/* Text that replaces a span: "[CARD]", "[IBAN]", "[EMAIL]", "[PHONE]",
 * "[NATIONAL_ID]", "[PASSPORT]", "[BOOKING]", "[ADDRESS]"; "[PII]" for a value out of
 * range. Never NULL. */
const char *sb_pii_placeholder(sb_pii_type_t t);

/* Finds the spans of `text` (len bytes), non-overlapping, sorted by start,
 * into spans[0..max). *n receives how many were written.
 * Returns 0; SB_ETOOBIG if there were more than max (the first max are
 * written and *n = max; max 0 with spans NULL asks "any PII at all?");
 * SB_EINVAL if text, n, or spans (with max > 0) is NULL. */
int sb_pii_scan(const char *text, size_t len, sb_pii_span_t *spans, size_t max,
                size_t *n);

/* Writes to *out a malloc'd, NUL-terminated copy of text with every span whose
 * type is in `mask` (SB_PII_MASK(t) bits; SB_PII_MASK_ALL for all) replaced by
 * its placeholder; the caller frees *out. *out_len (if not NULL) receives the
 * length without the NUL; *found_mask (if not NULL) the types detected,
 * whether redacted or not. Bytes outside spans are copied unchanged.
 * Returns 0; SB_ENOMEM (then *out is NULL); SB_EINVAL if text or out is
 * NULL. */
int sb_pii_redact(const char *text, size_t len, unsigned mask, char **out,
                  size_t *out_len, unsigned *found_mask);

/* As sb_pii_redact, over spans[0..n) found before by sb_pii_scan on the
 * same text (sorted, disjoint, inside it; else SB_EINVAL): the text is not
 * scanned again. */
int sb_pii_redact_spans(const char *text, size_t len, const sb_pii_span_t *spans, size_t n, unsigned mask,
                        char **out, size_t *out_len, unsigned *found_mask);

#endif
