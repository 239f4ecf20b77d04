/*
 * sb_lang: language identification of short social text (contract in
 * sb_lang.h), a C API over CLD2.
 *
 * Idea: CLD2 is good on clean prose and poor on what social text adds, so a
 * message is first cleaned into a bounded stack buffer: tokens that are URLs
 * or e-mail addresses and @handles are dropped, the '#' of hashtags is
 * dropped (the word stays), digits, emoji, symbols, control characters and
 * invalid UTF-8 become spaces, runs of the same punctuation collapse to one.
 * The clean text then goes to CLD2 (plain text, the tenant's languages as
 * content-language hints) and the answer is chosen by choose():
 *   1. CLD2's top language if it is reliable, has >= SB_LANG_MIN_PERCENT of
 *      the text, and is allowed (or no list was given);
 *   2. with a list: the first of CLD2's top 3 in the list with at least
 *      SB_LANG_MIN_ALT_PERCENT of the text (reported as not reliable unless
 *      it was a reliable top);
 *   3. text too short for CLD2's default mode (it answers "un"): the
 *      best-effort mode without hints, on SB_LANG_MIN_GUESS_LETTERS letters
 *      or more, accepted only with a score of at least
 *      SB_LANG_MIN_GUESS_SCORE (real words score > 1000, "wtf"/"asdfgh" ~300)
 *      and, with a list, only a listed language; never reliable.
 *   Anything else is "und": CLD2 answers English when unsure, and a wrong
 *   language routes to the wrong agent, an unknown one to the default queue.
 *
 * Invariants: no allocation of ours (the clean text lives on the stack, at
 * most SB_LANG_MAX_INPUT input bytes are examined), only valid UTF-8 reaches
 * CLD2, no global state, no exception crosses the C boundary.
 */
#include "sb_lang.h"

#include "sb_error.h"

#include <cstdint>
#include <cstdio> /* CLD2's header uses FILE without including it */
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

namespace {

/* Only the first bytes matter for the language of a message. */
constexpr size_t SB_LANG_MAX_INPUT = 4096;
constexpr int SB_LANG_MIN_PERCENT = 50;
constexpr int SB_LANG_MIN_ALT_PERCENT = 20;
constexpr double SB_LANG_MIN_GUESS_SCORE = 1000.0;
constexpr int SB_LANG_MIN_GUESS_LETTERS = 4; /* "abc", "lol" -> und */
constexpr int SB_LANG_TOP = 3;               /* CLD2 returns its top 3 */
constexpr size_t SB_LANG_HINT_MAX = 128;     /* "fr,de,nl,..." for CLD2 */
const char SB_LANG_UND[] = "und";

/* ---- UTF-8 and character classes */

/* Decodes the sequence at s[i..len): returns its length (1-4) and the code
 * point in *cp, or 0 if it is not valid UTF-8 (overlong, surrogate, past
 * U+10FFFF or truncated). */
size_t utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp) {
  static const struct {
    unsigned char lead_lo, lead_hi, n;
    uint32_t min;
  } FORMS[] = {{0x00, 0x7F, 1, 0},
               {0xC2, 0xDF, 2, 0x80},
               {0xE0, 0xEF, 3, 0x800},
               {0xF0, 0xF4, 4, 0x10000}};
  unsigned char b = s[i];
  for (const auto &f : FORMS) {
    if (b < f.lead_lo || b > f.lead_hi)
      continue;
    if (f.n > len - i)
      return 0;
    uint32_t c = f.n == 1 ? b : (b & (0xFFu >> (f.n + 1)));
    for (size_t k = 1; k < f.n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < f.min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      return 0;
    *cp = c;
    return f.n;
  }
  return 0;
}

struct cp_range {
  uint32_t lo, hi;
};

bool in_ranges(uint32_t c, const cp_range *r, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (c >= r[k].lo && c <= r[k].hi)
      return true;
  return false;
}

/* Code points that carry no language: digits, controls, symbols, emoji,
 * variation selectors, joiners, non-characters, private use. */
const cp_range NOISE[] = {
    {0x00, 0x1F},        {0x7F, 0x9F},       {'0', '9'},
    {0xA0, 0xBF},        {0xD7, 0xD7},       {0xF7, 0xF7},
    {0x0660, 0x0669},    {0x06F0, 0x06F9},   {0x0966, 0x096F},
    {0x2000, 0x2BFF},    {0x3000, 0x3000},   {0x3030, 0x3030},
    {0x303D, 0x303D},    {0xE000, 0xF8FF},   {0xFDD0, 0xFDEF},
    {0xFE00, 0xFE0F},    {0xFE30, 0xFE6F},   {0xFF00, 0xFF20},
    {0xFFF0, 0xFFFF},    {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F},
    {0xF0000, 0x10FFFF},
};

/* Non-ASCII code points that are punctuation, not letters. */
const cp_range NOT_LETTER[] = {
    {0x3001, 0x303F}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65}, {0x055A, 0x055F},
    {0x060C, 0x060C}, {0x061B, 0x061F}, {0x06D4, 0x06D4}, {0x0964, 0x0965},
};

bool is_noise(uint32_t c) {
  return in_ranges(c, NOISE, sizeof NOISE / sizeof NOISE[0]) ||
         (c & 0xFFFE) == 0xFFFE;
}

bool is_letter(uint32_t c) {
  if (c < 0x80)
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return c >= 0xC0 && !is_noise(c) &&
         !in_ranges(c, NOT_LETTER, sizeof NOT_LETTER / sizeof NOT_LETTER[0]);
}

bool is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

bool is_handle_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

bool starts_with_ci(const unsigned char *s, size_t n, const char *prefix) {
  size_t k = 0;
  for (; prefix[k] != '\0'; k++)
    if (k >= n || (s[k] | 0x20) != prefix[k])
      return false;
  return true;
}

bool contains(const unsigned char *s, size_t n, const char *needle) {
  size_t m = strlen(needle);
  for (size_t k = 0; k + m <= n; k++)
    if (memcmp(s + k, needle, m) == 0)
      return true;
  return false;
}

/* ---- cleaning */

struct clean_text {
  char buf[SB_LANG_MAX_INPUT + 1];
  size_t n;
  int letters;
};

/* The clean text is never longer than the input (every space it adds
 * replaces at least one byte); the guard only makes that local. */
void clean_put(clean_text *c, const unsigned char *s, size_t n) {
  if (n > SB_LANG_MAX_INPUT - c->n)
    return;
  memcpy(c->buf + c->n, s, n);
  c->n += n;
}

void clean_space(clean_text *c) {
  if (c->n > 0 && c->n < SB_LANG_MAX_INPUT && c->buf[c->n - 1] != ' ')
    c->buf[c->n++] = ' ';
}

/* A token that is a URL or an e-mail address says nothing of language. */
bool token_is_noise(const unsigned char *s, size_t n) {
  return starts_with_ci(s, n, "http://") || starts_with_ci(s, n, "https://") ||
         starts_with_ci(s, n, "www.") || contains(s, n, "://") ||
         (n > 1 && s[0] != '@' && contains(s, n, "@"));
}

/* Copies one token, without its handle, hashtag marks, digits and emoji. */
void clean_token(clean_text *c, const unsigned char *s, size_t n) {
  size_t i = 0;
  if (s[0] == '@')
    for (i = 1; i < n && is_handle_char(s[i]); i++) {
    }
  for (; i < n;) {
    uint32_t cp = 0;
    size_t w = utf8_decode(s, n, i, &cp);
    if (w == 0 || is_noise(cp)) {
      clean_space(c);
      i += w ? w : 1;
      continue;
    }
    bool punct = cp < 0x80 && !is_letter(cp);
    bool repeat = punct && c->n > 0 && c->buf[c->n - 1] == (char)cp;
    if (cp != '#' && !repeat)
      clean_put(c, s + i, w);
    c->letters += is_letter(cp) ? 1 : 0;
    i += w;
  }
}

void clean(clean_text *c, const unsigned char *s, size_t len) {
  c->n = 0;
  c->letters = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && is_space(s[i]))
      i++;
    size_t start = i;
    while (i < len && !is_space(s[i]))
      i++;
    if (i > start && !token_is_noise(s + start, i - start)) {
      clean_space(c); /* stands for the whitespace before the token */
      clean_token(c, s + start, i - start);
    }
  }
  c->buf[c->n] = '\0';
}

/* ---- codes */

/* CLD2 codes that are not ISO 639-1, and their ISO code. */
const struct {
  const char *cld2, *iso;
} CODE_MAP[] = {{"no", "nb"}, {"iw", "he"}, {"jw", "jv"}};

/* ISO 639-1 code of a CLD2 language into out; "und" for unknown, "xx-*"
 * script pseudo-languages and CLD2's private "zz*" codes. */
void iso_code(CLD2::Language lang, char out[SB_LANG_CODE_MAX]) {
  const char *c = CLD2::LanguageCode(lang);
  if (lang == CLD2::UNKNOWN_LANGUAGE || c == nullptr || c[0] == '\0' ||
      strncmp(c, "xx", 2) == 0 || strncmp(c, "zz", 2) == 0 ||
      strcmp(c, "un") == 0) {
    snprintf(out, SB_LANG_CODE_MAX, "%s", SB_LANG_UND);
    return;
  }
  for (const auto &m : CODE_MAP) {
    if (strcmp(c, m.cld2) == 0) {
      snprintf(out, SB_LANG_CODE_MAX, "%s", m.iso);
      return;
    }
  }
  size_t n = strcspn(c, "-");
  snprintf(out, SB_LANG_CODE_MAX, "%.*s", (int)n, c);
}

/* The tenant's list as detection needs it, worked out once per message
 * (CLD2's name lookup is a binary search of strings): each entry's
 * normalised ISO code, and CLD2's content-language hint. */
constexpr size_t SB_LANG_LIST_MAX = 32; /* entries past these: looked up each time */

struct allowed_list {
  bool any; /* no list given: every language is allowed */
  const char *const *raw;
  size_t n;
  char norm[SB_LANG_LIST_MAX][SB_LANG_CODE_MAX];
  char hint[SB_LANG_HINT_MAX]; /* "fr,de,no": entries that fit */
};

/* An entry of the list as an ISO code, normalised the same way as CLD2's
 * answers ("no" and "nb" both mean Norwegian Bokmal; a name CLD2 does not
 * know stays as written); returns its CLD2 language. */
CLD2::Language normalise(const char *name, char norm[SB_LANG_CODE_MAX]) {
  CLD2::Language l = CLD2::GetLanguageFromName(name);
  if (l != CLD2::UNKNOWN_LANGUAGE)
    iso_code(l, norm);
  else
    snprintf(norm, SB_LANG_CODE_MAX, "%s", name);
  return l;
}

/* "fr,de,nb" gives the hint "fr,de,no". */
void allowed_build(const char *const *allowed, allowed_list *out) {
  out->any = allowed == nullptr;
  out->raw = allowed;
  out->n = 0;
  out->hint[0] = '\0';
  size_t h = 0;
  bool hint_full = false;
  for (size_t k = 0; allowed != nullptr && allowed[k] != nullptr && k < SB_LANG_LIST_MAX; k++) {
    CLD2::Language l = normalise(allowed[k], out->norm[out->n++]);
    if (l == CLD2::UNKNOWN_LANGUAGE || hint_full)
      continue; /* a hint only biases: what does not fit is left out */
    int w = snprintf(out->hint + h, sizeof out->hint - h, "%s%s", h ? "," : "",
                     CLD2::LanguageCode(l));
    if (w < 0 || (size_t)w >= sizeof out->hint - h) {
      out->hint[h] = '\0';
      hint_full = true;
    } else {
      h += (size_t)w;
    }
  }
}

/* Is the ISO code `code` allowed? */
bool allowed_has(const allowed_list *al, const char *code) {
  if (al->any)
    return true;
  for (size_t k = 0; k < al->n; k++)
    if (strcmp(al->norm[k], code) == 0)
      return true;
  for (size_t k = al->n; al->raw[k] != nullptr; k++) { /* a list this long is rare */
    char norm[SB_LANG_CODE_MAX];
    normalise(al->raw[k], norm);
    if (strcmp(norm, code) == 0)
      return true;
  }
  return false;
}

/* ---- detection */

struct cld2_answer {
  CLD2::Language lang[SB_LANG_TOP];
  int percent[SB_LANG_TOP];
  double score[SB_LANG_TOP];
  bool reliable;
  bool ok; /* the text was valid UTF-8 for CLD2 */
};

void cld2_run(const clean_text *c, const char *hint, int flags,
              cld2_answer *a) {
  CLD2::CLDHints hints = {hint[0] ? hint : nullptr, nullptr,
                          CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
  int text_bytes = 0, valid = 0;
  CLD2::ExtDetectLanguageSummaryCheckUTF8(
      c->buf, (int)c->n, true, &hints, flags, a->lang, a->percent, a->score,
      nullptr, &text_bytes, &a->reliable, &valid);
  a->ok = (size_t)valid == c->n;
}

void result_set(sb_lang_result_t *out, const cld2_answer *a, int k,
                bool reliable) {
  iso_code(a->lang[k], out->code);
  out->percent = a->percent[k];
  out->score = a->score[k];
  out->reliable = reliable ? 1 : 0;
}

/* Steps 1 and 2 of the header comment; false if neither applies. */
bool choose(const cld2_answer *a, const allowed_list *allowed,
            sb_lang_result_t *out) {
  char code[SB_LANG_CODE_MAX];
  iso_code(a->lang[0], code);
  bool listed = allowed_has(allowed, code);
  if (strcmp(code, SB_LANG_UND) != 0 && a->reliable && listed &&
      a->percent[0] >= SB_LANG_MIN_PERCENT) {
    result_set(out, a, 0, true);
    return true;
  }
  for (int k = 0; !allowed->any && k < SB_LANG_TOP; k++) {
    iso_code(a->lang[k], code);
    if (strcmp(code, SB_LANG_UND) != 0 && allowed_has(allowed, code) &&
        a->percent[k] >= SB_LANG_MIN_ALT_PERCENT) {
      result_set(out, a, k, k == 0 && a->reliable);
      return true;
    }
  }
  return false;
}

/* Step 3: best-effort guess for text too short for the default mode;
 * without a list only CLD2's top answer is considered. */
bool guess(const cld2_answer *a, const allowed_list *allowed,
           sb_lang_result_t *out) {
  int tops = !allowed->any ? SB_LANG_TOP : 1;
  for (int k = 0; k < tops; k++) {
    char code[SB_LANG_CODE_MAX];
    iso_code(a->lang[k], code);
    if (strcmp(code, SB_LANG_UND) == 0 ||
        a->score[k] < SB_LANG_MIN_GUESS_SCORE ||
        a->percent[k] < SB_LANG_MIN_PERCENT)
      continue;
    if (allowed_has(allowed, code)) {
      result_set(out, a, k, false);
      return true;
    }
  }
  return false;
}

void result_und(sb_lang_result_t *out) {
  snprintf(out->code, sizeof out->code, "%s", SB_LANG_UND);
  out->percent = 0;
  out->reliable = 0;
  out->score = 0.0;
}

void detect(const char *text, size_t len, const char *const *allowed,
            sb_lang_result_t *out) {
  clean_text c;
  clean(&c, (const unsigned char *)text,
        len < SB_LANG_MAX_INPUT ? len : SB_LANG_MAX_INPUT);
  if (c.letters < SB_LANG_MIN_LETTERS)
    return;
  allowed_list al;
  allowed_build(allowed, &al);
  cld2_answer a;
  cld2_run(&c, al.hint, 0, &a);
  if (!a.ok || choose(&a, &al, out))
    return;
  if (a.lang[0] != CLD2::UNKNOWN_LANGUAGE ||
      c.letters < SB_LANG_MIN_GUESS_LETTERS)
    return; /* CLD2 had an answer we do not trust, or too little text */
  /* No hints here: on a word or two they turn anything into a hinted
   * language ("wtf" -> fr with hint "fr"). */
  cld2_run(&c, "", CLD2::kCLDFlagBestEffort, &a);
  if (a.ok)
    guess(&a, &al, out);
}

} // namespace

extern "C" int sb_lang_detect(const char *text, size_t len,
                              const char *const *allowed,
                              sb_lang_result_t *out) {
  if (out == nullptr)
    return SB_EINVAL;
  result_und(out);
  if (text == nullptr && len > 0)
    return SB_EINVAL;
  try {
    if (len > 0)
      detect(text, len, allowed, out);
  } catch (...) {
    result_und(out);
    return SB_ENOMEM; /* CLD2 only allocates; bad_alloc is what can throw */
  }
  return 0;
}

extern "C" int sb_lang_tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
  return mallopt(M_TRIM_THRESHOLD, SB_LANG_TRIM_THRESHOLD) == 1 ? 0 : SB_EINVAL;
#else
  return 0;
#endif
}
