/*
 * sb_pii: personal-data detection and redaction (contract in sb_pii.h).
 *
 * Idea: one left-to-right pass. At each byte that can begin a finding, a table
 * of matchers is tried in priority order (email, IBAN, card, phone,
 * national id, passport, booking reference, street address); the
 * first that matches wins and the pass resumes after its end. Each matcher
 * reads a bounded number of bytes (at most ~300 for an e-mail, ~45 for the
 * others), so a scan is linear in the input.
 *
 * Invariants:
 *  - no byte at or past len is ever read: forward reads go through
 *    byte_at() or bytes_at(), look-behind only down to the floor;
 *  - spans are sorted and disjoint because the pass never goes backwards;
 *    the end of the previous span is a "floor": look-behind stops there, so
 *    a finding is judged the same whether its neighbour is the original
 *    span or its placeholder (this is what keeps redaction idempotent);
 *  - a card inside an IBAN or an e-mail is never reported: those are tried
 *    first at the same start and consume the digits.
 *
 * Heuristics (conservative; a finding needs a checksum or a strong shape):
 *  - "word" characters are ASCII letters and digits, full-width digits and
 *    letters, and Latin letters U+00C0..U+017F. CJK, emoji and other scripts
 *    are not: Japanese writes a number right after a word without a space.
 *  - card: a "run" is digit groups joined by one space or dash (also NBSP,
 *    U+3000, U+FF0D), or by dots when every separator is a dot
 *    ("5105.1051.0510.5100"); full-width digits count. A run starts after a non-word
 *    character that is not itself a separator following a digit. Candidates
 *    are the run's prefixes ending at a group boundary (longest first, 13-19
 *    digits), so "4111 1111 1111 1111 12/25" still finds the card while a
 *    digit string inside a longer contiguous run never matches. A candidate
 *    must pass Luhn and CARD_SCHEMES (prefix + length).
 *  - iban: two letters with a registry length, two check digits (02-98),
 *    then alphanumerics; one space allowed only every 4 characters; exactly
 *    the registry length, not followed by a word character; mod 97 == 1.
 *  - email: local part [A-Za-z0-9._%+-] or Latin letters, 1-64 bytes, not
 *    starting or ending with '.'; domain of >= 2 labels of [A-Za-z0-9-] (not
 *    starting or ending with '-'), the last all letters, >= 2 long; ends at
 *    the last label that qualifies as a TLD ("a@b.com." keeps the dot out).
 *  - phone: "+" then a digit 1-9 and 8-15 digits in all; or a national
 *    number starting with "0" then 1-9, 10-12 digits in all, possibly in
 *    "(0..)". Digits may be separated by one space, dash or dot (dots only if
 *    every separator is a dot, as in "06.12.34.56.78") and one "(...)" group.
 *    Rejected when the number continues: a digit after one of " -.:/," on
 *    either side, or (national) a '#' before. So dates (05.06.2024 14:30),
 *    times, prices (0.99), "#0612345678" and order numbers not starting with
 *    0 stay. Not found: "00" international prefixes, US "(555) 123-4567",
 *    national numbers without a leading 0 (Spain, Italy mobiles).
 *  - national ids: a checksum or a strict shape, no context word needed
 *    (see the matchers); a digit is required (fully omocodic codici fiscali
 *    are not found).
 *  - passport and booking: the code must follow a context word within
 *    CONTEXT_MAX bytes, joined only by fillers (punctuation, "number",
 *    "no.", "ref", "is", ...). Booking codes of six letters must be upper
 *    case and follow a strong word ("PNR", "Buchungsnummer") or a marker
 *    (':', '#', "ref", "code"), so "MY BOOKING REFUND" is not one; digits
 *    only is an order number, not a booking. The look-behind stays above
 *    the floor like the others.
 */
#include "sb_pii.h"

#include "sb_error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
  CARD_MIN_DIGITS = 13,
  CARD_MAX_DIGITS = 19,
  IBAN_MAX_LEN = 34,
  IBAN_GROUP = 4,
  IBAN_CHECK_MIN = 2, /* ISO 13616: check digits are 02..98 */
  IBAN_CHECK_MAX = 98,
  IBAN_MOD = 97,
  EMAIL_MAX_LOCAL = 64,
  EMAIL_MAX_DOMAIN = 253,
  EMAIL_MAX_LABEL = 63,
  EMAIL_MIN_TLD = 2,
  PHONE_INTL_MIN_DIGITS = 8,
  PHONE_INTL_MAX_DIGITS = 15, /* E.164 */
  PHONE_NAT_MIN_DIGITS = 10,
  PHONE_NAT_MAX_DIGITS = 12,
  PHONE_PAREN_MAX_DIGITS = 5,
  REDACT_SLACK = 64, /* initial room for placeholders longer than spans */
};

/* ---- reading the text */

typedef struct {
  const unsigned char *s;
  size_t len;
  size_t floor; /* look-behind never goes below: end of the previous span */
  /* The ASCII alphanumeric run starting at the position being tried (all 0
   * when it is not a word start): filled once per position by pii_next so
   * that the matchers of ids, passports and bookings reject words cheaply. */
  size_t tok_len, tok_digits, tok_upper, tok_lower;
  /* what the whole text holds (text_init): a matcher that needs a digit
   * or an '@' is not tried on a text without one (most messages) */
  bool has_digit; /* an ASCII digit, or a byte 0xEF (full-width forms) */
  bool has_at;    /* an ASCII '@' */
} text_t;

static void text_init(text_t *t, const char *text, size_t len) {
  memset(t, 0, sizeof *t);
  t->s = (const unsigned char *)text;
  t->len = len;
  for (size_t i = 0; i < len && !(t->has_digit && t->has_at); i++) {
    unsigned char c = t->s[i];
    t->has_digit |= (c >= '0' && c <= '9') || c == 0xEF;
    t->has_at |= c == '@';
  }
}

/* The byte at i, or -1 past the end. */
static int byte_at(const text_t *t, size_t i) {
  return i < t->len ? t->s[i] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static int to_upper(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }

/* Full-width forms: EF BC 90..99 digits, EF BC A1..BA and EF BD 81..9A
 * letters. Returns 1 digit, 2 letter, 0 neither, for the 3 bytes at i. */
static int fullwidth_kind(const text_t *t, size_t i) {
  int b0 = byte_at(t, i), b1 = byte_at(t, i + 1), b2 = byte_at(t, i + 2);
  if (b0 != 0xEF)
    return 0;
  if (b1 == 0xBC && b2 >= 0x90 && b2 <= 0x99)
    return 1;
  if ((b1 == 0xBC && b2 >= 0xA1 && b2 <= 0xBA) ||
      (b1 == 0xBD && b2 >= 0x81 && b2 <= 0x9A))
    return 2;
  return 0;
}

/* Latin letters U+00C0..U+017F (two bytes, lead C3..C5), minus × and ÷. */
static bool latin_at(const text_t *t, size_t i) {
  int b0 = byte_at(t, i), b1 = byte_at(t, i + 1);
  if (b0 < 0xC3 || b0 > 0xC5 || b1 < 0x80 || b1 > 0xBF)
    return false;
  return !(b0 == 0xC3 && (b1 == 0x97 || b1 == 0xB7));
}

/* Digit value at i (ASCII or full-width) and its width, or -1. */
static int digit_at(const text_t *t, size_t i, size_t *w) {
  int c = byte_at(t, i);
  if (is_digit(c)) {
    *w = 1;
    return c - '0';
  }
  if (fullwidth_kind(t, i) == 1) {
    *w = 3;
    return t->s[i + 2] - 0x90;
  }
  return -1;
}

static bool word_at(const text_t *t, size_t i) {
  return is_alnum(byte_at(t, i)) || fullwidth_kind(t, i) != 0 || latin_at(t, i);
}

/* Is there a word character ending just before i (and not below floor)? */
static bool word_before(const text_t *t, size_t i) {
  if (i <= t->floor)
    return false;
  if (is_alnum(t->s[i - 1]))
    return true;
  if (i >= t->floor + 2 && latin_at(t, i - 2))
    return true;
  return i >= t->floor + 3 && fullwidth_kind(t, i - 3) != 0;
}

static bool digit_before(const text_t *t, size_t i) {
  if (i <= t->floor)
    return false;
  if (is_digit(t->s[i - 1]))
    return true;
  return i >= t->floor + 3 && fullwidth_kind(t, i - 3) == 1;
}

/* ---- separators between digit groups */

enum {
  SEP_SPACE = 1u << 0, /* space, NBSP, narrow NBSP, ideographic space */
  SEP_DASH = 1u << 1,  /* '-', hyphen, non-breaking hyphen, full-width '-' */
  SEP_DOT = 1u << 2,   /* '.' */
  SEP_PUNCT = 1u << 3, /* ':', '/', ',' : join numbers, never inside one */
};

static const struct {
  unsigned kind;
  unsigned char len;
  unsigned char bytes[3];
} SEPARATORS[] = {
    {SEP_SPACE, 1, {' '}},
    {SEP_SPACE, 2, {0xC2, 0xA0}},
    {SEP_SPACE, 3, {0xE2, 0x80, 0xAF}},
    {SEP_SPACE, 3, {0xE3, 0x80, 0x80}},
    {SEP_DASH, 1, {'-'}},
    {SEP_DASH, 3, {0xE2, 0x80, 0x90}},
    {SEP_DASH, 3, {0xE2, 0x80, 0x91}},
    {SEP_DASH, 3, {0xEF, 0xBC, 0x8D}},
    {SEP_DOT, 1, {'.'}},
    {SEP_PUNCT, 1, {':'}},
    {SEP_PUNCT, 1, {'/'}},
    {SEP_PUNCT, 1, {','}},
};
#define SEPARATOR_COUNT (sizeof SEPARATORS / sizeof SEPARATORS[0])

static bool bytes_at(const text_t *t, size_t i, const unsigned char *b,
                     size_t n) {
  return i <= t->len && n <= t->len - i && memcmp(t->s + i, b, n) == 0;
}

/* Width of a separator of one of `kinds` starting at i (0 if none); its kind
 * in *kind if kind is not NULL. */
static size_t sep_at(const text_t *t, size_t i, unsigned kinds,
                     unsigned *kind) {
  for (size_t k = 0; k < SEPARATOR_COUNT; k++) {
    if ((SEPARATORS[k].kind & kinds) &&
        bytes_at(t, i, SEPARATORS[k].bytes, SEPARATORS[k].len)) {
      if (kind)
        *kind = SEPARATORS[k].kind;
      return SEPARATORS[k].len;
    }
  }
  return 0;
}

/* Width of a separator of `kinds` ending just before i, not below floor. */
static size_t sep_before(const text_t *t, size_t i, unsigned kinds) {
  for (size_t k = 0; k < SEPARATOR_COUNT; k++) {
    size_t n = SEPARATORS[k].len;
    if ((SEPARATORS[k].kind & kinds) && i >= t->floor + n &&
        bytes_at(t, i - n, SEPARATORS[k].bytes, n))
      return n;
  }
  return 0;
}

/* Does a number end just before i, joined by one of `kinds`? */
static bool number_before(const text_t *t, size_t i, unsigned kinds) {
  size_t w = sep_before(t, i, kinds);
  return w > 0 && digit_before(t, i - w);
}

/* Does a number go on at i, joined by one of `kinds`? */
static bool number_after(const text_t *t, size_t i, unsigned kinds) {
  size_t w = sep_at(t, i, kinds, NULL), dw;
  return w > 0 && digit_at(t, i + w, &dw) >= 0;
}

/* ---- payment cards */

/* Issuer table: the first `digits` digits in [lo,hi] and a length whose bit
 * is set in `lengths`. Deliberately absent: 15-digit numbers except Amex
 * (IMEIs are 15 digits and Luhn-valid), 13-digit Visa (no longer issued;
 * German EAN-13 product codes start with 40-44), Maestro below 16 digits. */
#define LEN(n) (1u << (n))
#define LEN_16_19 (LEN(16) | LEN(17) | LEN(18) | LEN(19))
static const struct {
  unsigned char digits;
  unsigned lo, hi;
  unsigned lengths;
} CARD_SCHEMES[] = {
    {1, 4, 4, LEN(16) | LEN(19)},         /* Visa */
    {2, 51, 55, LEN(16)},                 /* Mastercard */
    {4, 2221, 2720, LEN(16)},             /* Mastercard 2-series */
    {2, 34, 34, LEN(15)},                 /* American Express */
    {2, 37, 37, LEN(15)},                 /* American Express */
    {4, 6011, 6011, LEN_16_19},           /* Discover */
    {3, 644, 649, LEN_16_19},             /* Discover */
    {2, 65, 65, LEN_16_19},               /* Discover */
    {4, 3528, 3589, LEN_16_19},           /* JCB */
    {3, 300, 305, LEN(14) | LEN_16_19},   /* Diners Club */
    {4, 3095, 3095, LEN(14) | LEN_16_19}, /* Diners Club */
    {2, 36, 36, LEN(14) | LEN_16_19},     /* Diners Club */
    {2, 38, 39, LEN(14) | LEN_16_19},     /* Diners Club */
    {2, 62, 62, LEN_16_19},               /* UnionPay */
    {2, 50, 50, LEN_16_19},               /* Maestro */
    {2, 56, 69, LEN_16_19},               /* Maestro */
};
#define CARD_SCHEME_COUNT (sizeof CARD_SCHEMES / sizeof CARD_SCHEMES[0])

static bool card_scheme_ok(const unsigned char *d, size_t n) {
  for (size_t k = 0; k < CARD_SCHEME_COUNT; k++) {
    unsigned prefix = 0;
    for (size_t j = 0; j < CARD_SCHEMES[k].digits; j++)
      prefix = prefix * 10 + d[j];
    if (prefix >= CARD_SCHEMES[k].lo && prefix <= CARD_SCHEMES[k].hi &&
        (CARD_SCHEMES[k].lengths & LEN(n)))
      return true;
  }
  return false;
}

static bool luhn_ok(const unsigned char *d, size_t n) {
  unsigned sum = 0;
  for (size_t j = 0; j < n; j++) {
    unsigned v = d[n - 1 - j];
    if (j % 2 == 1)
      v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    sum += v;
  }
  return sum % 10 == 0;
}

/* Digit groups of one run; group g ends at byte end[g] after upto[g] digits.
 * A group cut by the digit limit is not recorded (it has no end). */
typedef struct {
  unsigned char digits[CARD_MAX_DIGITS];
  size_t ndigits, ngroups;
  size_t end[CARD_MAX_DIGITS], upto[CARD_MAX_DIGITS];
  unsigned sep_kind; /* the first separator's kind; dots only with dots */
} card_run_t;

static void card_run_read(const text_t *t, size_t pos, card_run_t *r) {
  for (;;) {
    size_t w;
    int d;
    while ((d = digit_at(t, pos, &w)) >= 0) {
      if (r->ndigits == CARD_MAX_DIGITS)
        return;
      r->digits[r->ndigits++] = (unsigned char)d;
      pos += w;
    }
    r->end[r->ngroups] = pos;
    r->upto[r->ngroups++] = r->ndigits;
    unsigned kind = 0;
    size_t sw = sep_at(t, pos, SEP_SPACE | SEP_DASH | SEP_DOT, &kind);
    if (sw == 0 || digit_at(t, pos + sw, &w) < 0)
      return;
    if (r->sep_kind && (r->sep_kind == SEP_DOT) != (kind == SEP_DOT))
      return; /* "5105.1051.0510.5100" is a card, "12.50 4111 ..." is not one run */
    if (!r->sep_kind)
      r->sep_kind = kind;
    pos += sw;
  }
}

static size_t card_match(const text_t *t, size_t i) {
  size_t w;
  if (digit_at(t, i, &w) < 0 || word_before(t, i) ||
      number_before(t, i, SEP_SPACE | SEP_DASH | SEP_DOT))
    return 0;
  card_run_t r = {.ndigits = 0, .ngroups = 0, .sep_kind = 0};
  card_run_read(t, i, &r);
  for (size_t g = r.ngroups; g-- > 0;) {
    size_t n = r.upto[g];
    if (n < CARD_MIN_DIGITS)
      break;
    if (!word_at(t, r.end[g]) && card_scheme_ok(r.digits, n) &&
        luhn_ok(r.digits, n))
      return r.end[g];
  }
  return 0;
}

/* ---- IBAN */

/* IBAN lengths of the SWIFT IBAN registry (89 countries). */
static const struct {
  char cc[3];
  unsigned char len;
} IBAN_LENGTHS[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HN", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30},
    {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20},
    {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MK", 19}, {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28},
    {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29},
    {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24},
    {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27},
    {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26},
    {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};
#define IBAN_COUNTRY_COUNT (sizeof IBAN_LENGTHS / sizeof IBAN_LENGTHS[0])

/* Registry length for upper-case country code a b, or 0 if none. */
static size_t iban_length(int a, int b) {
  for (size_t k = 0; k < IBAN_COUNTRY_COUNT; k++)
    if (IBAN_LENGTHS[k].cc[0] == a && IBAN_LENGTHS[k].cc[1] == b)
      return IBAN_LENGTHS[k].len;
  return 0;
}

/* mod 97 of the IBAN with its first four characters moved to the end and
 * letters read as 10..35; s holds n upper-case alphanumerics. */
static unsigned iban_mod97(const char *s, size_t n) {
  unsigned r = 0;
  for (size_t j = 0; j < n; j++) {
    int c = s[(j + IBAN_GROUP) % n];
    if (is_digit(c))
      r = (r * 10 + (unsigned)(c - '0')) % IBAN_MOD;
    else
      r = (r * 100 + (unsigned)(c - 'A' + 10)) % IBAN_MOD;
  }
  return r;
}

/* Reads `want` alphanumerics from pos into buf (upper-cased), allowing one
 * space before each group of 4; returns the end offset, or 0. */
static size_t iban_read(const text_t *t, size_t pos, char *buf, size_t want) {
  size_t n = 0;
  while (n < want) {
    int c = byte_at(t, pos);
    if (is_alnum(c)) {
      buf[n++] = (char)to_upper(c);
      pos++;
      continue;
    }
    size_t sw = sep_at(t, pos, SEP_SPACE, NULL);
    if (n == 0 || n % IBAN_GROUP != 0 || sw == 0 ||
        !is_alnum(byte_at(t, pos + sw)))
      return 0;
    pos += sw;
  }
  return pos;
}

static size_t iban_match(const text_t *t, size_t i) {
  int a = byte_at(t, i), b = byte_at(t, i + 1);
  if (!is_alpha(a) || !is_alpha(b) || word_before(t, i))
    return 0;
  size_t want = iban_length(to_upper(a), to_upper(b));
  int c0 = byte_at(t, i + 2), c1 = byte_at(t, i + 3);
  if (want == 0 || !is_digit(c0) || !is_digit(c1))
    return 0;
  int check = (c0 - '0') * 10 + (c1 - '0');
  if (check < IBAN_CHECK_MIN || check > IBAN_CHECK_MAX)
    return 0;
  char buf[IBAN_MAX_LEN];
  size_t end = iban_read(t, i, buf, want);
  if (end == 0 || word_at(t, end) || iban_mod97(buf, want) != 1)
    return 0;
  return end;
}

/* ---- e-mail */

static bool email_local_byte(int c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
         c == '-';
}

/* Width of one local-part character at i (ASCII or Latin letter), or 0. */
static size_t email_local_char(const text_t *t, size_t i) {
  if (email_local_byte(byte_at(t, i)))
    return 1;
  return latin_at(t, i) ? 2 : 0;
}

static bool email_local_before(const text_t *t, size_t i) {
  if (i <= t->floor)
    return false;
  return email_local_byte(t->s[i - 1]) ||
         (i >= t->floor + 2 && latin_at(t, i - 2));
}

/* Reads one domain label at pos; *all_alpha tells whether it is letters only.
 * Returns its end, or 0 if there is no valid label. */
static size_t email_label(const text_t *t, size_t pos, bool *all_alpha) {
  size_t start = pos;
  *all_alpha = true;
  while (pos - start <= EMAIL_MAX_LABEL) {
    int c = byte_at(t, pos);
    if (is_alnum(c) || c == '-') {
      *all_alpha = *all_alpha && is_alpha(c);
      pos++;
    } else if (latin_at(t, pos)) {
      *all_alpha = false;
      pos += 2;
    } else {
      break;
    }
  }
  if (pos == start || pos - start > EMAIL_MAX_LABEL ||
      byte_at(t, start) == '-' || byte_at(t, pos - 1) == '-')
    return 0;
  return pos;
}

/* Reads the domain after '@' at pos; returns the end of its last label that
 * can be a TLD (letters only, >= 2) with at least 2 labels, or 0. */
static size_t email_domain(const text_t *t, size_t pos) {
  size_t start = pos, best = 0, labels = 0;
  for (;;) {
    bool alpha;
    size_t end = email_label(t, pos, &alpha);
    if (end == 0 || end - start > EMAIL_MAX_DOMAIN)
      return best;
    labels++;
    if (labels >= 2 && alpha && end - pos >= EMAIL_MIN_TLD)
      best = end;
    if (byte_at(t, end) != '.')
      return best;
    pos = end + 1;
  }
}

static size_t email_match(const text_t *t, size_t i) {
  if (email_local_char(t, i) == 0 || byte_at(t, i) == '.' ||
      email_local_before(t, i))
    return 0;
  size_t pos = i, w;
  while ((w = email_local_char(t, pos)) > 0 && pos - i < EMAIL_MAX_LOCAL)
    pos += w;
  if (byte_at(t, pos) != '@' || byte_at(t, pos - 1) == '.')
    return 0;
  return email_domain(t, pos + 1);
}

/* ---- phone numbers */

typedef struct {
  size_t end;        /* after the last digit or ')' */
  size_t ndigits;    /* all digits, "(0)" included */
  int first, second; /* first two digits, -1 if absent */
  unsigned sep_kind; /* kind of the first separator, 0 if none yet */
  bool paren_used;
} phone_body_t;

static bool phone_digit(phone_body_t *b, int c, size_t max) {
  if (b->ndigits == 0)
    b->first = c - '0';
  else if (b->ndigits == 1)
    b->second = c - '0';
  return ++b->ndigits <= max;
}

/* Reads "(" 1-5 digits ")" at pos into *b; returns the end, or 0 (then *b
 * is unchanged). */
static size_t phone_paren(const text_t *t, size_t pos, phone_body_t *b,
                          size_t max) {
  phone_body_t tmp = *b;
  size_t j = pos + 1;
  while (is_digit(byte_at(t, j)) && j - pos <= PHONE_PAREN_MAX_DIGITS) {
    if (!phone_digit(&tmp, byte_at(t, j), max))
      return 0;
    j++;
  }
  if (j == pos + 1 || byte_at(t, j) != ')')
    return 0;
  tmp.paren_used = true;
  *b = tmp;
  return j + 1;
}

/* A separator at pos that may be crossed: followed by a digit or '(', and
 * dots only if every separator is a dot. Returns its width or 0. */
static size_t phone_sep(const text_t *t, size_t pos, phone_body_t *b) {
  unsigned kind = 0;
  size_t w = sep_at(t, pos, SEP_SPACE | SEP_DASH | SEP_DOT, &kind);
  int next = byte_at(t, pos + w);
  if (w == 0 || !(is_digit(next) || (next == '(' && !b->paren_used)))
    return 0;
  bool dot = kind == SEP_DOT, first_dot = b->sep_kind == SEP_DOT;
  if (b->sep_kind != 0 && dot != first_dot)
    return 0;
  b->sep_kind = kind;
  return w;
}

/* Reads digits, separators and one paren group from pos. False if more
 * than max digits (the number goes on: not a phone). */
static bool phone_body(const text_t *t, size_t pos, size_t max,
                       phone_body_t *b) {
  for (;;) {
    int c = byte_at(t, pos);
    size_t w;
    if (is_digit(c)) {
      if (!phone_digit(b, c, max))
        return false;
      b->end = ++pos;
    } else if (c == '(' && !b->paren_used &&
               (w = phone_paren(t, pos, b, max))) {
      b->end = pos = w;
    } else if (b->end == pos && (w = phone_sep(t, pos, b)) > 0) {
      pos += w;
    } else {
      return b->end > 0;
    }
  }
}

/* Does the number go on after end (a word, or a digit after a joiner)? */
static bool phone_continues(const text_t *t, size_t end) {
  return word_at(t, end) ||
         number_after(t, end, SEP_SPACE | SEP_DASH | SEP_DOT | SEP_PUNCT);
}

static size_t phone_intl(const text_t *t, size_t i) {
  int c = byte_at(t, i + 1);
  if (word_before(t, i) || (i > t->floor && t->s[i - 1] == '+') ||
      !is_digit(c) || c == '0')
    return 0;
  phone_body_t b = {.end = 0, .first = -1, .second = -1};
  if (!phone_body(t, i + 1, PHONE_INTL_MAX_DIGITS, &b) ||
      b.ndigits < PHONE_INTL_MIN_DIGITS || phone_continues(t, b.end))
    return 0;
  return b.end;
}

static size_t phone_national(const text_t *t, size_t i) {
  if (word_before(t, i) || (i > t->floor && t->s[i - 1] == '#') ||
      number_before(t, i, SEP_SPACE | SEP_DASH | SEP_DOT | SEP_PUNCT))
    return 0;
  phone_body_t b = {.end = 0, .first = -1, .second = -1};
  if (!phone_body(t, i, PHONE_NAT_MAX_DIGITS, &b) || b.first != 0 ||
      b.second <= 0 || b.ndigits < PHONE_NAT_MIN_DIGITS ||
      phone_continues(t, b.end))
    return 0;
  return b.end;
}

static size_t phone_match(const text_t *t, size_t i) {
  int c = byte_at(t, i);
  if (c == '+')
    return phone_intl(t, i);
  if (c == '0' || (c == '(' && byte_at(t, i + 1) == '0'))
    return phone_national(t, i);
  return 0;
}

/* ---- national identity numbers */

/* The ASCII alphanumeric token at i: its length if it starts and ends at a
 * word boundary and is at most max long, else 0. */
static size_t token_at(const text_t *t, size_t i, size_t max) {
  if (word_before(t, i) || !is_alnum(byte_at(t, i)))
    return 0;
  size_t n = 0;
  while (is_alnum(byte_at(t, i + n)) && n <= max)
    n++;
  if (n > max || word_at(t, i + n))
    return 0;
  /* "MS-683869", "683869-2": part of a longer code */
  if ((byte_at(t, i + n) == '-' && is_alnum(byte_at(t, i + n + 1))) ||
      (i >= t->floor + 2 && t->s[i - 1] == '-' && is_alnum(t->s[i - 2])))
    return 0;
  return n;
}

/* UK National Insurance number: two prefix letters (not D F I Q U V, second
 * not O either, not BG GB KN NK NT TN ZZ), six digits (optionally in pairs
 * separated by single spaces), suffix A-D. Upper case only. No check digit:
 * the shape is the check. */
static size_t nino_match(const text_t *t, size_t i) {
  int a = byte_at(t, i), b = byte_at(t, i + 1);
  if (a < 'A' || a > 'Z' || b < 'A' || b > 'Z' || word_before(t, i) ||
      strchr("DFIQUV", a) || strchr("DFIOQUV", b))
    return 0;
  static const char bad[][3] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    if (a == bad[k][0] && b == bad[k][1])
      return 0;
  size_t pos = i + 2;
  bool spaced = byte_at(t, pos) == ' ';
  for (int pair = 0; pair < 3; pair++) {
    if (spaced) {
      if (byte_at(t, pos) != ' ')
        return 0;
      pos++;
    }
    if (!is_digit(byte_at(t, pos)) || !is_digit(byte_at(t, pos + 1)))
      return 0;
    pos += 2;
  }
  if (spaced && byte_at(t, pos) == ' ')
    pos++;
  int s = byte_at(t, pos);
  if (s < 'A' || s > 'D' || word_at(t, pos + 1))
    return 0;
  return pos + 1;
}

/* Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the
 * letter is DNI_LETTERS[number mod 23] (X Y Z read as 0 1 2). The letter may
 * follow a '-' or, in upper case, one space. */
static const char DNI_LETTERS[] = "TRWAGMYFPDXBNJZSQVHLCKE";

static size_t dni_match(const text_t *t, size_t i) {
  int c = to_upper(byte_at(t, i));
  unsigned long n = 0;
  size_t pos = i, want = 8;
  if (word_before(t, i) || number_before(t, i, SEP_SPACE | SEP_DASH | SEP_DOT | SEP_PUNCT))
    return 0;
  if (c == 'X' || c == 'Y' || c == 'Z') {
    n = (unsigned long)(c - 'X');
    pos++;
    want = 7;
  }
  for (size_t k = 0; k < want; k++, pos++) {
    int d = byte_at(t, pos);
    if (!is_digit(d))
      return 0;
    n = n * 10 + (unsigned long)(d - '0');
  }
  int sep = byte_at(t, pos);
  if (sep == '-' || sep == ' ')
    pos++;
  int l = byte_at(t, pos);
  if (sep == ' ' ? !(l >= 'A' && l <= 'Z') : !is_alpha(l))
    return 0;
  if (to_upper(l) != DNI_LETTERS[n % 23] || word_at(t, pos + 1) ||
      number_after(t, pos + 1, SEP_DASH | SEP_DOT | SEP_PUNCT))
    return 0;
  return pos + 1;
}

/* Italian codice fiscale: LLLLLL DD M DD L DDD C (16 characters, any case),
 * M a month letter, digits possibly replaced by LMNPQRSTUV (omocodia), C
 * the check character (odd/even tables of the Agenzia delle Entrate). */
static size_t cf_match(const text_t *t, size_t i) {
  static const char shape[] = "LLLLLLDDMDDLDDDL";
  static const unsigned char odd[36] = {
      1,  0,  5,  7,  9,  13, 15, 17, 19, 21, /* 0-9 */
      1,  0,  5,  7,  9,  13, 15, 17, 19, 21, 2,  4,  18, 20, 11, 3,
      6,  8,  12, 14, 16, 10, 22, 25, 24, 23}; /* A-Z */
  if (token_at(t, i, 16) != 16)
    return 0;
  unsigned sum = 0;
  for (size_t k = 0; k < 16; k++) {
    int c = to_upper(t->s[i + k]);
    char want = shape[k];
    if (want == 'L' && !is_alpha(c))
      return 0;
    if (want == 'M' && (!is_alpha(c) || !strchr("ABCDEHLMPRST", c)))
      return 0;
    if (want == 'D' && !is_digit(c) && !(is_alpha(c) && strchr("LMNPQRSTUV", c)))
      return 0;
    if (k == 15)
      break;
    unsigned v = is_digit(c) ? (unsigned)(c - '0') : (unsigned)(c - 'A');
    unsigned idx = is_digit(c) ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
    sum += (k % 2 == 0) ? odd[idx] : v; /* k even = 1st, 3rd... (odd) */
  }
  return to_upper(t->s[i + 15]) == (int)('A' + sum % 26) ? i + 16 : 0;
}

/* French NIR (numéro de sécurité sociale): sex 1 2 7 8, year, month 01-12
 * or 20-42, department (2A/2B for Corsica), commune, order, then a key of
 * 97 - (13 digits mod 97). Digits may be grouped by single spaces. */
static size_t nir_match(const text_t *t, size_t i) {
  int c = byte_at(t, i);
  if ((c != '1' && c != '2' && c != '7' && c != '8') || word_before(t, i) ||
      number_before(t, i, SEP_SPACE | SEP_DASH | SEP_DOT | SEP_PUNCT))
    return 0;
  char d[15];
  size_t n = 0, pos = i;
  while (n < 15) {
    int b = byte_at(t, pos);
    if (is_digit(b) || (n == 6 && (b == 'A' || b == 'B') && d[5] == '2')) {
      d[n++] = (char)b;
      pos++;
    } else if (b == ' ' && n > 0 && is_alnum(byte_at(t, pos + 1)) &&
               t->s[pos - 1] != ' ') {
      pos++;
    } else {
      return 0;
    }
  }
  if (word_at(t, pos) || number_after(t, pos, SEP_SPACE | SEP_DASH | SEP_DOT | SEP_PUNCT))
    return 0;
  int month = (d[3] - '0') * 10 + (d[4] - '0');
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42)))
    return 0;
  uint64_t num = 0;
  for (size_t k = 0; k < 13; k++)
    num = num * 10 + (uint64_t)(is_digit(d[k]) ? d[k] - '0' : 0);
  if (d[6] == 'A') /* 2A: read as 19, 2B as 18 */
    num -= 1000000;
  else if (d[6] == 'B')
    num -= 2000000;
  if (!is_digit(d[13]) || !is_digit(d[14]))
    return 0;
  unsigned key = (unsigned)((d[13] - '0') * 10 + (d[14] - '0'));
  return key == 97 - num % 97 ? pos : 0;
}

static size_t national_id_match(const text_t *t, size_t i) {
  size_t end;
  if (t->tok_digits == 0 && t->tok_len != 2) /* every id has a digit; "AB 12..." */
    return 0;
  if ((t->tok_len == 2 || t->tok_len == 9) && (end = nino_match(t, i)))
    return end;
  if (t->tok_digits >= 7 && (end = dni_match(t, i)))
    return end;
  if (t->tok_len == 16 && (end = cf_match(t, i)))
    return end;
  return nir_match(t, i);
}

/* ---- numbers that need a context word: passports, booking references */

enum {
  CONTEXT_MAX = 48,    /* bytes from the context word to the number */
  CONTEXT_WORDS = 4,   /* filler words allowed in between */
  PASSPORT_MIN = 6,
  PASSPORT_MAX = 9,
  PASSPORT_MIN_DIGITS = 4,
  BOOKING_LEN = 6,
};

/* Context words, lower case (ASCII folded only). */
static const char *const PASSPORT_WORDS[] = {
    "passport", "passeport", "reisepass", "reisepassnummer", "passnummer",
    "pasaporte", "passaporto", "paspoort", "passaporte", NULL};
/* "strong" words name the code itself; the others ("booking") need a
 * marker (':', '#', "ref", "code"...) or a digit in the code. */
static const char *const BOOKING_STRONG[] = {
    "pnr", "localizador", "buchungscode", "buchungsnummer", "buchungsreferenz",
    "reservierungsnummer", "boekingscode", "boekingsnummer",
    "boekingsreferentie", "dossier", NULL};
static const char *const BOOKING_WEAK[] = {
    "booking", "reservation", "réservation", "reserva", "reserve",
    "prenotazione", "boeking", "reservering", "buchung", "reference",
    "référence", "referencia", "referência", "riferimento", "referentie", NULL};
/* Words allowed between the context word and the number; the first group
 * are markers (they say "a code follows"). */
static const char *const FILLER_MARKERS[] = {
    "ref", "reference", "référence", "referencia", "referência", "riferimento",
    "referentie", "réf", "code", "código", "codice", "number", "no", "nr", "num", "n", "numéro", "nummer", "número",
    "numero", "locator", "id", "nº", NULL};
static const char *const FILLER_WORDS[] = {
    "is", "was", "est", "ist", "es", "è", "é", "my", "mon", "ma", "mein", "meine",
    "mi", "il", "le", "la", "de", "du", "del", "di", "van", "the", "our",
    "record", "confirmation", "reservation", "réservation", "reserva",
    "booking", NULL};

/* Does the word w (lower case) start at pos, case-insensitively, and end at
 * a word boundary? Returns its length or 0. */
static size_t word_is(const text_t *t, size_t pos, const char *w) {
  size_t n = 0;
  for (; w[n]; n++) { /* no strlen first: most words differ at once */
    int c = byte_at(t, pos + n);
    if (c < 0 || (c < 0x80 ? to_upper(c) != to_upper((unsigned char)w[n])
                           : c != (unsigned char)w[n]))
      return 0;
  }
  return word_at(t, pos + n) ? 0 : n;
}

static size_t word_in(const text_t *t, size_t pos, const char *const *list) {
  for (size_t k = 0; list[k]; k++) {
    size_t n = word_is(t, pos, list[k]);
    if (n)
      return n;
  }
  return 0;
}

/* Width of filler punctuation at pos: space, NBSP, ':', '#', '.', '-', '(',
 * ')', '=', '°', 'º'; *marker set for ':', '#' and '='. */
static size_t filler_punct(const text_t *t, size_t pos, bool *marker) {
  int c = byte_at(t, pos);
  if (c == ':' || c == '#' || c == '=') {
    *marker = true;
    return 1;
  }
  if (c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '\t')
    return 1;
  int c1 = byte_at(t, pos + 1);
  if (c == 0xC2 && (c1 == 0xA0 || c1 == 0xB0 || c1 == 0xBA))
    return 2;
  return 0;
}

/* From pos (just after a context word), can fillers reach exactly i?
 * *marker tells whether a marker was crossed. */
static bool fillers_reach(const text_t *t, size_t pos, size_t i, bool *marker) {
  int words = 0;
  while (pos < i) {
    size_t w = filler_punct(t, pos, marker);
    if (w == 0 && words < CONTEXT_WORDS) {
      if ((w = word_in(t, pos, FILLER_MARKERS)) > 0)
        *marker = true;
      else
        w = word_in(t, pos, FILLER_WORDS);
      words += w > 0;
    }
    if (w == 0)
      return false;
    pos += w;
  }
  return pos == i && pos > 0 && !word_before(t, pos);
}

/* Is there a context word from `list` before i, joined to it by fillers?
 * Look-behind stays within CONTEXT_MAX bytes and above the floor. */
static bool context_before(const text_t *t, size_t i, const char *const *list,
                           bool *marker) {
  size_t lo = i > t->floor + CONTEXT_MAX ? i - CONTEXT_MAX : t->floor;
  for (size_t s = lo; s < i; s++) {
    if (word_before(t, s) || !is_alpha(byte_at(t, s)))
      continue;
    size_t w = word_in(t, s, list);
    bool m = false;
    if (w && fillers_reach(t, s + w, i, &m)) {
      *marker = m;
      return true;
    }
  }
  return false;
}

/* Passport number: 6-9 ASCII letters and digits with at least 4 digits,
 * right after "passport" (or its translations) and optional fillers
 * ("number", "no.", ':'...). */
static size_t passport_match(const text_t *t, size_t i) {
  if (t->tok_digits < PASSPORT_MIN_DIGITS || t->tok_len > PASSPORT_MAX)
    return 0;
  size_t n = token_at(t, i, PASSPORT_MAX), digits = 0;
  if (n < PASSPORT_MIN)
    return 0;
  for (size_t k = 0; k < n; k++)
    digits += is_digit(t->s[i + k]);
  bool marker;
  if (digits < PASSPORT_MIN_DIGITS || !context_before(t, i, PASSPORT_WORDS, &marker))
    return 0;
  return i + n;
}

/* Booking reference (PNR): 6 ASCII letters and digits with at least one
 * letter, after a booking context word. All-letter codes must be upper
 * case and follow a strong word ("PNR") or a marker ("booking ref:"), so
 * "BOOKING REFUND" stays; a lower-case code needs a digit. */
static size_t booking_match(const text_t *t, size_t i) {
  if (t->tok_len != BOOKING_LEN || (t->tok_digits == 0 && t->tok_upper != BOOKING_LEN) ||
      token_at(t, i, BOOKING_LEN) != BOOKING_LEN)
    return 0;
  size_t digits = 0, lower = 0;
  for (size_t k = 0; k < BOOKING_LEN; k++) {
    int c = t->s[i + k];
    digits += is_digit(c);
    lower += c >= 'a' && c <= 'z';
  }
  if (digits == BOOKING_LEN || (lower && !digits))
    return 0;
  bool marker = false;
  if (context_before(t, i, BOOKING_STRONG, &marker))
    return i + BOOKING_LEN;
  if (context_before(t, i, BOOKING_WEAK, &marker) && (marker || digits))
    return i + BOOKING_LEN;
  return 0;
}

/* ---- street addresses
 *
 * Four shapes, each anchored on a house number and a street-type word:
 *   EN  "<num> <Name>{1,3} <type>[.] [NW]"   10 Downing Street, 725 5th Ave.
 *   FR  "<num>[,] [bis|ter] <type> <name>"   12 rue de la Paix, 3 bd Haussmann
 *   ES  "<type> <name>[,] [nº] <num>"        Calle Mayor 5, Avenida de Mayo 1370
 *   DE/NL "[<Adj>] <Compound-type> <num>"    Hauptstraße 5, Berliner Str. 5,
 *                                            Kerkstraat 12, Marktplatz 1
 * then optionally a postal code and city, in either order: UK postcode
 * (SW1A 2AA), US ZIP (20500, 20500-0003, after a state), FR/DE/ES five
 * digits, NL "1234 AB". A name is capitalized words (articles such as "de
 * la" may be lower case) or an ordinal ("5th"); all lower case only right
 * after an address word ("my address is 12 baker street"). A UK or NL
 * postcode on its own counts only right after an address word ("postcode
 * SW1A 1AA"). A house number glued to another number (10:30, 1.5, $12,
 * #12) starts nothing, so times, prices, dates and "order 12345" stay. */

enum {
  ADDR_NUM_DIGITS = 5,   /* house number digits at most */
  ADDR_NAME_WORDS = 4,   /* words in a street name */
  ADDR_CITY_WORDS = 3,   /* words in a city name */
  ADDR_WORD_MAX = 40,    /* bytes of one word */
  ADDR_STEM_MIN = 2,     /* bytes before a compound's type ("Hauptstraße") */
};

static const char *const ADDRESS_WORDS[] = {
    "address", "adres", "adresse", "dirección", "direccion", "domicilio", "anschrift",
    "postcode", "postal", "post", "indirizzo", NULL};
static const char *const ADDR_TYPE_EN[] = {
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr",
    "boulevard", "blvd", "way", "terrace", "crescent", "square", "sq",
    "highway", "hwy", "parkway", "pkwy", NULL};
static const char *const ADDR_TYPE_FR[] = {
    "rue", "avenue", "av", "boulevard", "bd", "blvd", "chemin", "allée", "allee",
    "impasse", "place", "quai", "route", "cours", NULL};
static const char *const ADDR_TYPE_ES[] = {
    "calle", "avenida", "avda", "paseo", "plaza", "camino", "carrer", "carretera", "ronda", NULL};
/* DE/NL: a compound ending so ("Hauptstraße"), or the word alone after an
 * adjective ("Berliner Straße"). */
static const char *const ADDR_TYPE_SUFFIX[] = {
    "straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "straat", "laan", "gracht",
    "plein", NULL};
static const char *const ADDR_ARTICLES[] = {
    "de", "du", "des", "la", "le", "les", "del", "las", "los", "el", "van", "der", "den",
    "of", "the", "d", "l", "y", NULL};
static const char *const ADDR_FR_EXTRA[] = {"bis", "ter", NULL};
static const char *const ADDR_NUMBER_MARKS[] = {"nº", "n.º", "no.", "num.", "número", "numero", NULL};
static const char *const ADDR_DIRECTIONS[] = {"n", "s", "e", "w", "ne", "nw", "se", "sw", NULL};

static bool is_upper(int c) { return c >= 'A' && c <= 'Z'; }

/* Latin capitals U+00C0..U+00DE (C3 80..9E, minus the multiplication sign). */
static bool latin_upper_at(const text_t *t, size_t i) {
  int b1 = byte_at(t, i + 1);
  return byte_at(t, i) == 0xC3 && b1 >= 0x80 && b1 <= 0x9E && b1 != 0x97;
}

/* A word of letters at pos (ASCII and Latin; '-' or '\'' between letters),
 * not glued to a digit: its length, or 0. *cap: it starts upper case. */
static size_t alpha_word(const text_t *t, size_t pos, bool *cap) {
  size_t n = 0;
  for (;;) {
    int c = byte_at(t, pos + n);
    size_t w = is_alpha(c) ? 1 : latin_at(t, pos + n) ? 2 : 0;
    if (!w && (c == '-' || c == '\'') && n > 0 &&
        (is_alpha(byte_at(t, pos + n + 1)) || latin_at(t, pos + n + 1)))
      w = 1;
    if (!w)
      break;
    n += w;
    if (n > ADDR_WORD_MAX)
      return 0;
  }
  if (n == 0 || word_at(t, pos + n))
    return 0;
  *cap = is_upper(byte_at(t, pos)) || latin_upper_at(t, pos);
  return n;
}

/* One space (or ", ") between parts at pos: its width, or 0. */
static size_t addr_gap(const text_t *t, size_t pos, bool comma_ok) {
  size_t n = comma_ok && byte_at(t, pos) == ',' ? 1 : 0;
  return byte_at(t, pos + n) == ' ' && byte_at(t, pos + n + 1) != ' ' ? n + 1 : 0;
}

/* An ordinal "5th", "42nd", "1st", "3rd" (EN street names). */
static size_t ordinal_at(const text_t *t, size_t pos) {
  size_t n = 0;
  while (is_digit(byte_at(t, pos + n)) && n < 3)
    n++;
  static const char *const SUFFIX[] = {"st", "nd", "rd", "th", NULL};
  size_t s = n ? word_in(t, pos + n, SUFFIX) : 0;
  return s ? n + s : 0;
}

/* A house number: 1-5 digits, then one letter ("221B") or "-<digits>"
 * ("12-14"), at a word boundary and not part of a time, decimal, price,
 * date or "#12". Its length, or 0. */
static size_t house_number(const text_t *t, size_t pos) {
  int before = pos > t->floor ? t->s[pos - 1] : ' ';
  if (word_before(t, pos) || before == '#' || before == '$' || before == '.' ||
      number_before(t, pos, SEP_PUNCT | SEP_DOT | SEP_DASH) || (pos > t->floor && t->s[pos - 1] >= 0x80))
    return 0; /* €12, £12 (multi-byte currency signs end in a byte >= 0x80) */
  size_t n = 0;
  while (is_digit(byte_at(t, pos + n)) && n <= ADDR_NUM_DIGITS)
    n++;
  if (n == 0 || n > ADDR_NUM_DIGITS || byte_at(t, pos) == '0')
    return 0;
  if (byte_at(t, pos + n) == '-' && is_digit(byte_at(t, pos + n + 1))) {
    size_t k = n + 1;
    while (is_digit(byte_at(t, pos + k)) && k - n <= ADDR_NUM_DIGITS)
      k++;
    n = k;
  } else if (is_alpha(byte_at(t, pos + n)) && !word_at(t, pos + n + 1)) {
    n++;
  }
  if (word_at(t, pos + n) || number_after(t, pos + n, SEP_PUNCT | SEP_DOT))
    return 0;
  return n;
}

/* Street name words from pos; at most max words, stopping before a word
 * of `stop` (the EN type) when at least one name word was read. Returns
 * the end of the name (0 if none; 0 too if stop is given and not met) and
 * sets *caps (a proper name: a capitalized word or ordinal, and no lower-
 * case word but articles such as "de la") and *stop_at (start of the stop
 * word, or 0). */
static size_t street_name(const text_t *t, size_t pos, int max, const char *const *stop, bool *caps,
                          size_t *stop_at) {
  size_t end = 0;
  bool seen = false, plain = false;
  *caps = false, *stop_at = 0;
  for (int k = 0; k < max; k++) {
    bool cap = false;
    if (k > 0 && stop && word_in(t, pos, stop)) {
      *stop_at = pos;
      return end;
    }
    size_t w = ordinal_at(t, pos);
    if (w)
      cap = true;
    else
      w = alpha_word(t, pos, &cap);
    if (!w)
      break;
    seen |= cap;
    plain |= !cap && !word_in(t, pos, ADDR_ARTICLES);
    *caps = seen && !plain;
    end = pos + w;
    size_t g = addr_gap(t, end, false);
    if (!g)
      break;
    pos = end + g;
  }
  return stop ? 0 : end;
}

/* ---- postal codes */

/* UK postcode "SW1A 2AA", "M1 1AE", "B33 8TH" (upper case; one optional
 * space). Its length, or 0. */
static size_t uk_postcode(const text_t *t, size_t pos) {
  size_t n = 0;
  if (!is_upper(byte_at(t, pos)) || strchr("QVX", byte_at(t, pos)))
    return 0;
  n = is_upper(byte_at(t, pos + 1)) ? 2 : 1;
  if (!is_digit(byte_at(t, pos + n)))
    return 0;
  n++;
  if (is_digit(byte_at(t, pos + n)) || is_upper(byte_at(t, pos + n)))
    n++;
  if (byte_at(t, pos + n) == ' ')
    n++;
  if (!is_digit(byte_at(t, pos + n)))
    return 0;
  for (int k = 1; k <= 2; k++) {
    int c = byte_at(t, pos + n + (size_t)k);
    if (!is_upper(c) || strchr("CIKMOV", c))
      return 0;
  }
  n += 3;
  return word_at(t, pos + n) ? 0 : n;
}

/* NL postcode "1234 AB" / "1234AB" (not SA, SD, SS). */
static size_t nl_postcode(const text_t *t, size_t pos) {
  for (size_t k = 0; k < 4; k++)
    if (!is_digit(byte_at(t, pos + k)))
      return 0;
  if (byte_at(t, pos) == '0')
    return 0;
  size_t n = byte_at(t, pos + 4) == ' ' ? 5 : 4;
  int a = byte_at(t, pos + n), b = byte_at(t, pos + n + 1);
  if (!is_upper(a) || !is_upper(b) || (a == 'S' && (b == 'A' || b == 'D' || b == 'S')))
    return 0;
  return word_at(t, pos + n + 2) ? 0 : n + 2;
}

/* Five digits (FR/DE/ES/US), or a US ZIP+4 "20500-0003". */
static size_t five_digits(const text_t *t, size_t pos) {
  for (size_t k = 0; k < 5; k++)
    if (!is_digit(byte_at(t, pos + k)))
      return 0;
  size_t n = 5;
  if (byte_at(t, pos + 5) == '-' && is_digit(byte_at(t, pos + 6))) {
    for (size_t k = 6; k < 10; k++)
      if (!is_digit(byte_at(t, pos + k)))
        return 0;
    n = 10;
  }
  if (word_at(t, pos + n) || number_after(t, pos + n, SEP_PUNCT | SEP_DOT | SEP_DASH))
    return 0;
  return n;
}

static size_t postcode_at(const text_t *t, size_t pos) {
  size_t n = uk_postcode(t, pos);
  if (!n)
    n = nl_postcode(t, pos);
  return n ? n : five_digits(t, pos);
}

/* 1..max capitalized words (a city); the end, or 0. */
static size_t city_at(const text_t *t, size_t pos, int max) {
  size_t end = 0;
  for (int k = 0; k < max; k++) {
    bool cap = false;
    size_t w = alpha_word(t, pos, &cap);
    if (!w || !cap || (w == 2 && is_upper(byte_at(t, pos + 1))))
      break; /* "IL", "DC": a state, not a city word */
    end = pos + w;
    size_t g = addr_gap(t, end, false);
    if (!g)
      break;
    pos = end + g;
  }
  return end;
}

/* After the street: ", 75002 Paris", " 1234 AB Amsterdam", ", London SW1A
 * 2AA", ", Washington, DC 20500". The new end, or pos when none. */
static size_t address_tail(const text_t *t, size_t pos) {
  size_t g = addr_gap(t, pos, true);
  if (!g)
    return pos;
  size_t p = pos + g, n = postcode_at(t, p);
  if (n) {
    size_t c = addr_gap(t, p + n, true) ? city_at(t, p + n + addr_gap(t, p + n, true), 2) : 0;
    return c ? c : p + n;
  }
  size_t c = city_at(t, p, ADDR_CITY_WORDS);
  if (!c)
    return pos;
  p = c + addr_gap(t, c, true);
  if (p > c && is_upper(byte_at(t, p)) && is_upper(byte_at(t, p + 1)) && !word_at(t, p + 2) &&
      addr_gap(t, p + 2, true))
    p += 2 + addr_gap(t, p + 2, true); /* a US state */
  n = p > c ? postcode_at(t, p) : 0;
  return n ? p + n : pos;
}

/* Right after an address word ("address", "postcode", ...)? */
static bool address_context(const text_t *t, size_t i) {
  bool marker = false;
  return context_before(t, i, ADDRESS_WORDS, &marker);
}

/* An optional '.' after an abbreviation ("St.", "Ave."). */
static size_t abbrev_dot(const text_t *t, size_t pos) { return byte_at(t, pos) == '.' ? 1 : 0; }

/* EN and FR, from the house number at i. */
static size_t address_number_first(const text_t *t, size_t i) {
  size_t n = house_number(t, i), g = n ? addr_gap(t, i + n, true) : 0;
  if (!g)
    return 0;
  size_t p = i + n + g, w, stop = 0, end;
  bool caps;
  if ((w = word_in(t, p, ADDR_FR_EXTRA)) && addr_gap(t, p + w, false))
    p += w + 1;
  if ((w = word_in(t, p, ADDR_TYPE_FR)) && addr_gap(t, p + w, false)) {
    size_t q = p + w + abbrev_dot(t, p + w);
    end = addr_gap(t, q, false) ? street_name(t, q + 1, ADDR_NAME_WORDS, NULL, &caps, &stop) : 0;
    if (end && (caps || address_context(t, i)))
      return address_tail(t, end);
  }
  end = street_name(t, p, ADDR_NAME_WORDS, ADDR_TYPE_EN, &caps, &stop);
  if (!stop || !(caps || address_context(t, i)))
    return 0;
  end = stop + word_in(t, stop, ADDR_TYPE_EN);
  size_t dot = abbrev_dot(t, end); /* "St., London": inside; "St." at the end: the sentence's */
  if (addr_gap(t, end + dot, false) && (w = word_in(t, end + dot + 1, ADDR_DIRECTIONS)) &&
      is_upper(byte_at(t, end + dot + 1)))
    end += dot + 1 + w, dot = 0;
  size_t tail = address_tail(t, end + dot);
  return tail > end + dot ? tail : end;
}

/* Does a word at pos of length n end with a DE/NL street type, after a stem
 * of at least `stem` bytes (ASCII folded)? */
static bool compound_type(const text_t *t, size_t pos, size_t n, size_t stem) {
  for (size_t k = 0; ADDR_TYPE_SUFFIX[k]; k++) {
    const char *s = ADDR_TYPE_SUFFIX[k];
    size_t m = strlen(s);
    if (n < m + stem)
      continue;
    size_t j = 0;
    while (j < m && to_upper(t->s[pos + n - m + j]) == to_upper((unsigned char)s[j]))
      j++;
    if (j == m)
      return true;
  }
  return false;
}

/* "<num>" after a street, with ", " or " " and an optional "nº". */
static size_t number_after_street(const text_t *t, size_t pos) {
  size_t g = addr_gap(t, pos, true), w;
  if (!g)
    return 0;
  pos += g;
  if ((w = word_in(t, pos, ADDR_NUMBER_MARKS)) && addr_gap(t, pos + w, false))
    pos += w + 1;
  else if (bytes_at(t, pos, (const unsigned char *)"nº", 3) && addr_gap(t, pos + 3, false))
    pos += 4;
  size_t n = house_number(t, pos);
  return n ? pos + n : 0;
}

/* A DE/NL word (with its "." for "str."), the end or 0. */
static size_t de_word(const text_t *t, size_t pos, bool *cap) {
  size_t w = alpha_word(t, pos, cap);
  return w && byte_at(t, pos + w) == '.' ? w + 1 : w;
}

/* ES, DE and NL, from the word at i. */
static size_t address_street_first(const text_t *t, size_t i) {
  size_t w, end, stop;
  bool caps, cap;
  if ((w = word_in(t, i, ADDR_TYPE_ES)) || ((byte_at(t, i) | 0x20) == 'c' && byte_at(t, i + 1) == '/' && (w = 2))) {
    size_t q = i + w + abbrev_dot(t, i + w);
    size_t g = addr_gap(t, q, false);
    end = g ? street_name(t, q + g, ADDR_NAME_WORDS, NULL, &caps, &stop) : 0;
    size_t num = end && (caps || address_context(t, i)) ? number_after_street(t, end) : 0;
    if (num)
      return address_tail(t, num);
  }
  w = de_word(t, i, &cap);
  if (!w || !cap)
    return 0;
  size_t p = i;
  if (!compound_type(t, i, w, ADDR_STEM_MIN)) { /* "Berliner Straße 5" */
    size_t g = addr_gap(t, i + w, false);
    p = i + w + g;
    w = g ? de_word(t, p, &cap) : 0;
    if (!w || !cap || !compound_type(t, p, w, 0))
      return 0;
  }
  size_t num = number_after_street(t, p + w);
  return num ? address_tail(t, num) : 0;
}

/* A UK or NL postcode alone, right after an address word. */
static size_t postcode_alone(const text_t *t, size_t i) {
  size_t n = uk_postcode(t, i);
  if (!n)
    n = nl_postcode(t, i);
  return n && address_context(t, i) ? i + n : 0;
}

static size_t address_match(const text_t *t, size_t i) {
  size_t end = is_digit(t->s[i]) ? address_number_first(t, i) : address_street_first(t, i);
  return end ? end : postcode_alone(t, i);
}

/* ---- the pass */

/* A matcher returns the end of its finding starting at i, or 0. */
typedef size_t (*pii_matcher_fn)(const text_t *t, size_t i);

/* word: the finding starts an ASCII word (text_t.tok_len > 0), so the
 * matcher is not even called elsewhere. needs: what the text must hold
 * for the matcher to find anything (NEED_DIGIT: every card, IBAN, phone,
 * id, passport number and address has a digit, full-width for cards and
 * phones; NEED_AT: an e-mail address). */
enum { NEED_DIGIT = 1, NEED_AT = 2 };
static const struct {
  sb_pii_type_t type;
  pii_matcher_fn match;
  bool word;
  unsigned needs;
} MATCHERS[] = {
    {SB_PII_EMAIL, email_match, false, NEED_AT},
    {SB_PII_IBAN, iban_match, false, NEED_DIGIT},
    {SB_PII_CARD, card_match, false, NEED_DIGIT},
    {SB_PII_PHONE, phone_match, false, NEED_DIGIT},
    {SB_PII_NATIONAL_ID, national_id_match, true, NEED_DIGIT},
    {SB_PII_PASSPORT, passport_match, true, NEED_DIGIT},
    {SB_PII_BOOKING, booking_match, true, 0}, /* a PNR may be letters only */
    {SB_PII_ADDRESS, address_match, true, NEED_DIGIT},
};
#define MATCHER_COUNT (sizeof MATCHERS / sizeof MATCHERS[0])

/* Can a finding start with byte c? Cheap filter before the matchers. */
static bool may_start(int c) {
  return is_alnum(c) || c == '+' || c == '(' || c == '_' || c == '%' ||
         c == '-' || (c >= 0xC3 && c <= 0xC5) || c == 0xEF;
}

/* Fills the tok_* fields of t for position i (see text_t). */
static void token_info(text_t *t, size_t i) {
  t->tok_len = t->tok_digits = t->tok_upper = t->tok_lower = 0;
  if (!is_alnum(t->s[i]) || (i > t->floor && is_alnum(t->s[i - 1])) || word_before(t, i))
    return; /* the middle of a word is the common case: cheapest test first */
  for (size_t j = i; j < t->len && is_alnum(t->s[j]) && t->tok_len < 32; j++) {
    int c = t->s[j];
    t->tok_len++;
    t->tok_digits += is_digit(c);
    t->tok_upper += c >= 'A' && c <= 'Z';
    t->tok_lower += c >= 'a' && c <= 'z';
  }
}

/* Finds the first span starting at or after `from` (the end of the previous
 * span, used as floor). Returns true and fills *sp, or false if none. */
static bool pii_next(text_t *t, size_t from, sb_pii_span_t *sp) {
  t->floor = from;
  unsigned held = (t->has_digit ? NEED_DIGIT : 0) | (t->has_at ? NEED_AT : 0);
  for (size_t i = from; i < t->len; i++) {
    if (!may_start(t->s[i]))
      continue;
    token_info(t, i);
    for (size_t k = 0; k < MATCHER_COUNT; k++) {
      if ((MATCHERS[k].word && t->tok_len == 0) || (MATCHERS[k].needs & ~held))
        continue;
      size_t end = MATCHERS[k].match(t, i);
      if (end > i) {
        sp->type = MATCHERS[k].type;
        sp->start = i;
        sp->end = end;
        return true;
      }
    }
  }
  return false;
}

/* ---- public API */

static const char *const TYPE_NAMES[SB_PII__COUNT] = {
    "card", "iban", "email", "phone", "national_id", "passport", "booking", "address"};
static const char *const PLACEHOLDERS[SB_PII__COUNT] = {
    "[CARD]", "[IBAN]", "[EMAIL]", "[PHONE]", "[NATIONAL_ID]", "[PASSPORT]",
    "[BOOKING]", "[ADDRESS]"};

const char *sb_pii_type_name(sb_pii_type_t t) {
  return (unsigned)t < SB_PII__COUNT ? TYPE_NAMES[t] : "unknown";
}

const char *sb_pii_placeholder(sb_pii_type_t t) {
  return (unsigned)t < SB_PII__COUNT ? PLACEHOLDERS[t] : "[PII]";
}

int sb_pii_scan(const char *text, size_t len, sb_pii_span_t *spans, size_t max,
                size_t *n) {
  if (text == NULL || n == NULL || (spans == NULL && max > 0))
    return SB_EINVAL;
  text_t t;
  text_init(&t, text, len);
  sb_pii_span_t sp;
  size_t pos = 0;
  *n = 0;
  while (pii_next(&t, pos, &sp)) {
    if (*n == max)
      return SB_ETOOBIG;
    spans[(*n)++] = sp;
    pos = sp.end;
  }
  return 0;
}

/* A growing output buffer, always NUL-terminated room for one more byte. */
typedef struct {
  char *p;
  size_t len, cap;
} outbuf_t;

static int outbuf_put(outbuf_t *b, const void *s, size_t n) {
  if (n >= b->cap - b->len) {
    size_t cap = b->cap;
    while (n >= cap - b->len) {
      if (cap > SIZE_MAX / 2)
        return SB_ENOMEM;
      cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL)
      return SB_ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

/* Copies text from *pos up to span sp, then sp itself or its placeholder. */
static int redact_one(outbuf_t *b, const char *text, size_t *pos, const sb_pii_span_t *sp, unsigned mask,
                      unsigned *found) {
  bool hide = (mask & SB_PII_MASK(sp->type)) != 0;
  const char *ph = sb_pii_placeholder(sp->type);
  *found |= SB_PII_MASK(sp->type);
  int rc = outbuf_put(b, text + *pos, (hide ? sp->start : sp->end) - *pos);
  if (rc == 0 && hide)
    rc = outbuf_put(b, ph, strlen(ph));
  *pos = sp->end;
  return rc;
}

/* spans NULL: finds them as it goes (sb_pii_redact); else the n given. */
static int redact_into(const char *text, size_t len, const sb_pii_span_t *spans, size_t n, unsigned mask,
                       outbuf_t *b, unsigned *found) {
  text_t t;
  text_init(&t, text, len);
  sb_pii_span_t sp;
  size_t pos = 0;
  int rc = 0;
  if (spans)
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = redact_one(b, text, &pos, &spans[i], mask, found);
  else
    while (rc == 0 && pii_next(&t, pos, &sp))
      rc = redact_one(b, text, &pos, &sp, mask, found);
  return rc == 0 ? outbuf_put(b, text + pos, len - pos) : rc;
}

static int redact(const char *text, size_t len, const sb_pii_span_t *spans, size_t n, unsigned mask,
                  char **out, size_t *out_len, unsigned *found_mask) {
  if (text == NULL || out == NULL)
    return SB_EINVAL;
  *out = NULL;
  if (len > SIZE_MAX - REDACT_SLACK)
    return SB_ENOMEM;
  outbuf_t b = {malloc(len + REDACT_SLACK), 0, len + REDACT_SLACK};
  unsigned found = 0;
  int rc = b.p ? redact_into(text, len, spans, n, mask, &b, &found) : SB_ENOMEM;
  if (rc != 0) {
    free(b.p);
    return rc;
  }
  b.p[b.len] = '\0';
  *out = b.p;
  if (out_len)
    *out_len = b.len;
  if (found_mask)
    *found_mask = found;
  return 0;
}

int sb_pii_redact(const char *text, size_t len, unsigned mask, char **out,
                  size_t *out_len, unsigned *found_mask) {
  return redact(text, len, NULL, 0, mask, out, out_len, found_mask);
}

int sb_pii_redact_spans(const char *text, size_t len, const sb_pii_span_t *spans, size_t n, unsigned mask,
                        char **out, size_t *out_len, unsigned *found_mask) {
  if (out)
    *out = NULL;
  if (n > 0 && spans == NULL)
    return SB_EINVAL;
  for (size_t i = 0, end = 0; i < n; i++) { /* sorted, disjoint, inside text */
    if (spans[i].start < end || spans[i].end <= spans[i].start || spans[i].end > len ||
        (unsigned)spans[i].type >= SB_PII__COUNT)
      return SB_EINVAL;
    end = spans[i].end;
  }
  static const sb_pii_span_t none[1];
  return redact(text, len, n ? spans : none, n, mask, out, out_len, found_mask);
}
