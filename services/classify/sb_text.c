/*
 * sb_text: folding and tokenising (see sb_text.h for the contract).
 *
 * One pass over the bytes: each code point is decoded, classified (letter,
 * separator, clause break, emoji, apostrophe, invisible) and, for letters,
 * folded into the current word. Words are copied NUL-terminated into one
 * growing buffer so tokens are offsets, never pointers (the buffer may move).
 * The classification is a short table of ranges: scripts we do not fold are
 * letters; punctuation, symbols and spaces separate.
 */
#include "sb_text.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

enum { CC_SEP, CC_BREAK, CC_LETTER, CC_IGNORE, CC_EMOJI, CC_APOS };

#define FULLWIDTH_FIRST 0xFF01u
#define FULLWIDTH_LAST 0xFF5Eu
#define FULLWIDTH_SHIFT 0xFEE0u
#define INITIAL_TOKENS 64
#define INITIAL_BUF 1024
#define EXCLAIMS_MAX 255

/* Base letters of Latin-1 U+00C0-U+00FF (index cp - 0xC0); '-' marks the
 * two symbols (multiplication, division) and '*' the multi-letter ones. */
static const char latin1_base[] = "aaaaaa*ceeeeiiiidnooooo-ouuuuy**"
                                  "aaaaaa*ceeeeiiiidnooooo-ouuuuy*y";
/* Base letters of Latin Extended-A U+0100-U+017F ('*': ij, oe). */
static const char latin_a_base[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkklllllll"
                                   "lllnnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

typedef struct {
  uint32_t lo, hi;
  unsigned char cls;
} range_t;

/* Non-ASCII ranges that are not letters, in ascending order. */
static const range_t ranges[] = {
    {0x80, 0xAC, CC_SEP},       {0xAD, 0xAD, CC_IGNORE},    {0xAE, 0xBF, CC_SEP},
    {0xD7, 0xD7, CC_SEP},       {0xF7, 0xF7, CC_SEP},       {0x2B0, 0x2BB, CC_SEP},
    {0x2BC, 0x2BC, CC_APOS},    {0x2BD, 0x2FF, CC_SEP},     {0x300, 0x36F, CC_IGNORE},
    {0x60C, 0x60C, CC_BREAK},   {0x61B, 0x61F, CC_BREAK},   {0x640, 0x640, CC_IGNORE},
    {0x964, 0x965, CC_BREAK},   {0x1AB0, 0x1AFF, CC_IGNORE}, {0x1DC0, 0x1DFF, CC_IGNORE},
    {0x2000, 0x200A, CC_SEP},   {0x200B, 0x200F, CC_IGNORE}, {0x2010, 0x2018, CC_SEP},
    {0x2019, 0x2019, CC_APOS},  {0x201A, 0x2025, CC_SEP},   {0x2026, 0x2026, CC_BREAK},
    {0x2027, 0x2029, CC_SEP},   {0x202A, 0x202E, CC_IGNORE}, {0x202F, 0x205F, CC_SEP},
    {0x2060, 0x206F, CC_IGNORE}, {0x2070, 0x20CF, CC_SEP},  {0x20D0, 0x20FF, CC_IGNORE},
    {0x2100, 0x22FF, CC_SEP},   {0x2300, 0x23FF, CC_EMOJI}, {0x2400, 0x25FF, CC_SEP},
    {0x2600, 0x27BF, CC_EMOJI}, {0x27C0, 0x2AFF, CC_SEP},   {0x2B00, 0x2BFF, CC_EMOJI},
    {0x2E00, 0x2E7F, CC_SEP},   {0x3000, 0x3000, CC_SEP},   {0x3001, 0x3002, CC_BREAK},
    {0x3003, 0x303F, CC_SEP},   {0xD800, 0xDFFF, CC_SEP},   {0xE000, 0xF8FF, CC_SEP},
    {0xFE00, 0xFE0F, CC_IGNORE}, {0xFE10, 0xFE6F, CC_SEP},  {0xFEFF, 0xFEFF, CC_IGNORE},
    {0xFF00, 0xFF00, CC_SEP},   {0xFF5F, 0xFF65, CC_SEP},   {0xFFE0, 0xFFFF, CC_SEP},
    {0x1F000, 0x1F3FA, CC_EMOJI}, {0x1F3FB, 0x1F3FF, CC_IGNORE}, {0x1F400, 0x1FAFF, CC_EMOJI},
    {0x1FB00, 0x1FFFF, CC_SEP}, {0xE0000, 0xE0FFF, CC_IGNORE}, {0xF0000, 0x10FFFF, CC_SEP},
};
#define NRANGES (sizeof ranges / sizeof ranges[0])

static int ascii_alnum(uint32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int classify_ascii(uint32_t c) {
  if (ascii_alnum(c))
    return CC_LETTER;
  if (c == '\'')
    return CC_APOS;
  return strchr(".,;:!?\n\r", (int)c) && c ? CC_BREAK : CC_SEP;
}

static int classify_cp(uint32_t cp) {
  if (cp < 0x80)
    return classify_ascii(cp);
  size_t lo = 0, hi = NRANGES;
  while (lo < hi) { /* binary search for the range holding cp */
    size_t mid = (lo + hi) / 2;
    if (cp < ranges[mid].lo)
      hi = mid;
    else if (cp > ranges[mid].hi)
      lo = mid + 1;
    else
      return ranges[mid].cls;
  }
  return CC_LETTER;
}

size_t sb_text_decode(const char *s, size_t len, uint32_t *cp) {
  const unsigned char *u = (const unsigned char *)s;
  static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t n = u[0] < 0x80 ? 1 : u[0] < 0xC2 ? 0 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : u[0] < 0xF5 ? 4 : 0;
  *cp = SB_TEXT_INVALID;
  if (n == 0 || n > len)
    return 1;
  uint32_t c = n == 1 ? u[0] : (uint32_t)(u[0] & (0x7F >> n));
  for (size_t k = 1; k < n; k++) {
    if ((u[k] & 0xC0) != 0x80)
      return 1;
    c = (c << 6) | (u[k] & 0x3F);
  }
  if (c < min_cp[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 1;
  *cp = c;
  return n;
}

static size_t encode_cp(uint32_t c, char *out) {
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* Upper-case Latin-1 / Latin Extended-A letter? */
static int latin_upper(uint32_t c) {
  if (c >= 0xC0 && c <= 0xDE)
    return 1;
  if (c >= 0x100 && c <= 0x137)
    return !(c & 1) || c == 0x130;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
    return c & 1;
  return (c >= 0x14A && c <= 0x177 && !(c & 1)) || c == 0x178;
}

static size_t fold_latin(uint32_t c, char *out) {
  if (c == 0xC6 || c == 0xE6)
    return memcpy(out, "ae", 2), 2;
  if (c == 0xDE || c == 0xFE)
    return memcpy(out, "th", 2), 2;
  if (c == 0xDF)
    return memcpy(out, "ss", 2), 2;
  if (c == 0x132 || c == 0x133)
    return memcpy(out, "ij", 2), 2;
  if (c == 0x152 || c == 0x153)
    return memcpy(out, "oe", 2), 2;
  out[0] = c < 0x100 ? latin1_base[c - 0xC0] : latin_a_base[c - 0x100];
  return 1;
}

/* Writes the folded form of letter c; *upper says whether c was upper-case.
 * Returns the bytes written (at most 4). */
static size_t fold_cp(uint32_t c, char *out, int *upper) {
  *upper = 0;
  if (c < 0x80) {
    *upper = c >= 'A' && c <= 'Z';
    out[0] = (char)(*upper ? c + 32 : c);
    return 1;
  }
  if (c >= 0xC0 && c <= 0x17F) {
    *upper = latin_upper(c);
    return fold_latin(c, out);
  }
  if (c >= 0x218 && c <= 0x21B) /* Romanian s/t with comma */
    return out[0] = c < 0x21A ? 's' : 't', 1;
  if ((c >= 0x391 && c <= 0x3A9 && c != 0x3A2) || (c >= 0x410 && c <= 0x42F))
    *upper = 1, c += 0x20;
  else if (c >= 0x400 && c <= 0x40F)
    *upper = 1, c += 0x50;
  return encode_cp(c, out);
}

void sb_tokens_init(sb_tokens_t *t) { memset(t, 0, sizeof *t); }

void sb_tokens_free(sb_tokens_t *t) {
  free(t->v);
  free(t->buf);
  memset(t, 0, sizeof *t);
}

const char *sb_token_norm(const sb_tokens_t *t, size_t i) { return t->buf + t->v[i].norm; }
const char *sb_token_stem(const sb_tokens_t *t, size_t i) { return t->buf + t->v[i].stem; }

/* Appends s[0..n) and a NUL to the buffer; its offset in *off. */
static int buf_put(sb_tokens_t *t, const char *s, size_t n, uint32_t *off) {
  if (t->used + n + 1 > t->buf_cap) {
    size_t cap = t->buf_cap ? t->buf_cap * 2 : INITIAL_BUF;
    while (cap < t->used + n + 1)
      cap *= 2;
    char *b = realloc(t->buf, cap);
    if (!b)
      return SB_ENOMEM;
    t->buf = b, t->buf_cap = cap;
  }
  memcpy(t->buf + t->used, s, n);
  t->buf[t->used + n] = '\0';
  *off = (uint32_t)t->used;
  t->used += n + 1;
  return 0;
}

int sb_token_set_stem(sb_tokens_t *t, size_t i, const char *s, size_t n) {
  if (n > SB_TEXT_WORD_MAX)
    n = SB_TEXT_WORD_MAX;
  uint32_t off;
  if (buf_put(t, s, n, &off))
    return SB_ENOMEM;
  t->v[i].stem = off;
  t->v[i].stem_len = (uint8_t)n;
  return 0;
}

void sb_tokens_unstem(sb_tokens_t *t) {
  for (size_t i = 0; i < t->n; i++)
    t->v[i].stem = t->v[i].norm, t->v[i].stem_len = t->v[i].norm_len;
}

/* The word being built. */
typedef struct {
  char w[SB_TEXT_WORD_MAX];
  size_t wlen, start, end;
  unsigned upper, lower;
  int active, pending_break, saw_caps, saw_lower;
} word_t;

static int push_token(sb_tokens_t *t, word_t *w, unsigned flags) {
  if (t->n == SB_TEXT_TOKENS_MAX)
    return 0;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : INITIAL_TOKENS;
    sb_token_t *v = realloc(t->v, cap * sizeof *v);
    if (!v)
      return SB_ENOMEM;
    t->v = v, t->cap = cap;
  }
  sb_token_t *k = &t->v[t->n];
  if (buf_put(t, w->w, w->wlen, &k->norm))
    return SB_ENOMEM;
  k->start = (uint32_t)w->start, k->end = (uint32_t)w->end;
  k->stem = k->norm;
  k->norm_len = k->stem_len = (uint8_t)w->wlen;
  k->flags = (uint8_t)(flags | (w->pending_break ? SB_TOKEN_BREAK : 0));
  w->pending_break = 0;
  t->n++;
  return 0;
}

static int end_word(sb_tokens_t *t, word_t *w) {
  if (!w->active)
    return 0;
  w->active = 0;
  unsigned caps = w->upper >= 2 && w->lower == 0;
  w->saw_caps |= caps;
  w->saw_lower |= w->lower > 0;
  return w->wlen ? push_token(t, w, caps ? SB_TOKEN_CAPS : 0) : 0;
}

static void add_letter(word_t *w, uint32_t cp, size_t pos, size_t n) {
  char f[4];
  int upper;
  size_t fl = fold_cp(cp, f, &upper);
  if (!w->active)
    w->active = 1, w->wlen = 0, w->start = pos, w->upper = w->lower = 0;
  if (w->wlen + fl <= SB_TEXT_WORD_MAX)
    memcpy(w->w + w->wlen, f, fl), w->wlen += fl;
  upper ? w->upper++ : w->lower++;
  w->end = pos + n;
}

static int emit_emoji(sb_tokens_t *t, word_t *w, uint32_t cp, size_t pos, size_t n) {
  int rc = end_word(t, w);
  if (rc)
    return rc;
  w->wlen = encode_cp(cp, w->w);
  w->start = pos, w->end = pos + n;
  return push_token(t, w, SB_TOKEN_EMOJI);
}

/* Code point at pos after full-width folding, and its class. */
static int next_cp(const char *s, size_t len, size_t pos, uint32_t *cp, size_t *n) {
  *n = sb_text_decode(s + pos, len - pos, cp);
  if (*cp == SB_TEXT_INVALID)
    return CC_SEP;
  if (*cp >= FULLWIDTH_FIRST && *cp <= FULLWIDTH_LAST)
    *cp -= FULLWIDTH_SHIFT;
  return classify_cp(*cp);
}

/* English "n't": an apostrophe after "...n" followed by t and no letter. */
static size_t apostrophe_t(const char *s, size_t len, size_t pos, const word_t *w) {
  uint32_t cp, cp2;
  size_t n, n2;
  if (!w->active || w->wlen == 0 || w->w[w->wlen - 1] != 'n' || pos >= len)
    return 0;
  if (next_cp(s, len, pos, &cp, &n) != CC_LETTER || (cp != 't' && cp != 'T'))
    return 0;
  if (pos + n < len && next_cp(s, len, pos + n, &cp2, &n2) == CC_LETTER)
    return 0;
  return n;
}

static int on_apostrophe(sb_tokens_t *t, word_t *w, const char *s, size_t len, size_t *pos) {
  size_t tn = apostrophe_t(s, len, *pos, w);
  if (!tn)
    return end_word(t, w);
  if (w->wlen + 2 <= SB_TEXT_WORD_MAX)
    memcpy(w->w + w->wlen, "'t", 2), w->wlen += 2;
  s[*pos] == 'T' ? w->upper++ : w->lower++;
  *pos += tn;
  w->end = *pos;
  return 0;
}

static int step(sb_tokens_t *t, word_t *w, const char *s, size_t len, size_t *pos) {
  uint32_t cp;
  size_t n;
  int cls = next_cp(s, len, *pos, &cp, &n);
  size_t at = *pos;
  *pos += n;
  switch (cls) {
  case CC_LETTER:
    add_letter(w, cp, at, n);
    return 0;
  case CC_IGNORE:
    return 0;
  case CC_APOS:
    return on_apostrophe(t, w, s, len, pos);
  case CC_EMOJI:
    return emit_emoji(t, w, cp, at, n);
  case CC_BREAK: {
    int rc = end_word(t, w); /* the break precedes the NEXT word */
    w->pending_break = 1;
    if (cp == '!' && t->exclaims < EXCLAIMS_MAX)
      t->exclaims++;
    return rc;
  }
  default:
    return end_word(t, w);
  }
}

int sb_text_tokenize(const char *text, size_t len, sb_tokens_t *t) {
  if (!t || (!text && len))
    return SB_EINVAL;
  t->n = t->used = 0;
  t->exclaims = t->mixed_case = 0;
  word_t w;
  memset(&w, 0, sizeof w);
  size_t pos = 0;
  int rc = 0;
  while (pos < len && !rc)
    rc = step(t, &w, text, len, &pos);
  if (!rc)
    rc = end_word(t, &w);
  t->mixed_case = w.saw_caps && w.saw_lower;
  return rc;
}

size_t sb_text_codepoints(const char *s, size_t len) {
  size_t n = 0, pos = 0;
  uint32_t cp;
  while (pos < len)
    pos += sb_text_decode(s + pos, len - pos, &cp), n++;
  return n;
}

size_t sb_text_cut(const char *s, size_t len, size_t max) {
  if (len <= max)
    return len;
  for (size_t k = 1; k <= 3 && k <= max; k++) {
    unsigned char b = (unsigned char)s[max - k];
    if (b < 0xC0)
      continue;
    uint32_t cp;
    size_t n = sb_text_decode(s + max - k, len - (max - k), &cp);
    return max - k + n > max ? max - k : max;
  }
  return max;
}

char *sb_text_sanitize(const char *s, size_t len, size_t *out_len) {
  static const char replacement[] = "\xEF\xBF\xBD";
  char *out = malloc(3 * len + 1);
  size_t o = 0, pos = 0;
  if (!out)
    return NULL;
  while (pos < len) {
    uint32_t cp;
    size_t n = sb_text_decode(s + pos, len - pos, &cp);
    if (cp == SB_TEXT_INVALID || cp == 0)
      memcpy(out + o, replacement, 3), o += 3;
    else
      memcpy(out + o, s + pos, n), o += n;
    pos += n;
  }
  out[o] = '\0';
  if (out_len)
    *out_len = o;
  return out;
}
