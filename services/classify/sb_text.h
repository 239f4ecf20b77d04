/*
 * sb_text: the one normaliser and tokeniser of classify. Sentiment, intent
 * rules, competitor lists and suggested replies all see text through it, so
 * a keyword written by a tenant and a word typed by a customer meet in the
 * same form.
 *
 * Folding: UTF-8 is decoded; letters are lower-cased and stripped of accents
 * for Latin scripts (Latin-1 and Latin Extended-A: "Été" -> "ete",
 * "Straße" -> "strasse", "Œuvre" -> "oeuvre"); Greek and Cyrillic capitals
 * are lower-cased; full-width ASCII (U+FF01-U+FF5E) becomes ASCII. Invisible
 * characters that could split a word (zero-width space/joiners, soft hyphen,
 * BOM, bidirectional controls, variation selectors, combining accents) are
 * dropped without breaking the word, so "can\u200bcel" is "cancel".
 * Words are runs of letters and digits; other scripts (CJK, Arabic, Hebrew,
 * ...) count as letters and are kept as written. An apostrophe splits a word
 * ("l'appli" -> "l", "appli") except the English "n't" ("don't" stays one
 * token). Each emoji is a token of its own (flag SB_TOKEN_EMOJI). Invalid
 * UTF-8 bytes separate words, like U+FFFD.
 *
 * Invariants: never reads past len; tokens are in text order with byte
 * offsets into the caller's text; a folded token is at most
 * SB_TEXT_WORD_MAX bytes (longer words are cut, the rest is skipped); at
 * most SB_TEXT_TOKENS_MAX tokens are kept. Pure: no global state.
 */
#ifndef SB_TEXT_H
#define SB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one folded word; the rest of a longer word is skipped. */
#define SB_TEXT_WORD_MAX 64
/* Tokens kept per text; later words are ignored (the analysers cap text). */
#define SB_TEXT_TOKENS_MAX 8192

/* Token flags. */
#define SB_TOKEN_CAPS 1u  /* every cased letter was upper-case, at least two */
#define SB_TOKEN_EMOJI 2u /* a single emoji / pictograph */
#define SB_TOKEN_BREAK 4u /* a clause break (. , ; : ! ? newline) precedes it */

typedef struct {
  uint32_t start, end; /* bytes [start,end) of the word in the source text */
  uint32_t norm;       /* offset of the folded word in sb_tokens_t.buf */
  uint32_t stem;       /* offset of its stem (== norm until stemmed) */
  uint8_t norm_len, stem_len;
  uint8_t flags;
} sb_token_t;

/* The tokens of one text. Owns its arrays; reuse it across texts to avoid
 * allocations (sb_text_tokenize resets it). */
typedef struct {
  sb_token_t *v;
  size_t n, cap;
  char *buf; /* folded words and stems, each NUL-terminated */
  size_t used, buf_cap;
  unsigned exclaims; /* '!' seen in the text (capped at 255) */
  unsigned mixed_case; /* 1 if the text has both lower- and upper-case words */
} sb_tokens_t;

void sb_tokens_init(sb_tokens_t *t);
/* Frees the arrays; the struct may be reused after sb_tokens_init. */
void sb_tokens_free(sb_tokens_t *t);

/* Folded word i (NUL-terminated, borrowed from t). */
const char *sb_token_norm(const sb_tokens_t *t, size_t i);
/* Stem of word i (the folded word when no stemmer ran). */
const char *sb_token_stem(const sb_tokens_t *t, size_t i);
/* Sets the stem of word i to s[0..n) (copied into t). SB_ENOMEM. */
int sb_token_set_stem(sb_tokens_t *t, size_t i, const char *s, size_t n);
/* Resets every stem to its folded word. */
void sb_tokens_unstem(sb_tokens_t *t);

/* Tokenises text[0..len) into t (previous content is dropped).
 * Returns 0, SB_EINVAL (t NULL, or text NULL with len > 0), SB_ENOMEM. */
int sb_text_tokenize(const char *text, size_t len, sb_tokens_t *t);

/* Decodes one code point at s[0..len): returns bytes consumed (1-4) and
 * writes the code point, or returns 1 with *cp = SB_TEXT_INVALID for a byte
 * that does not start a valid, shortest-form, non-surrogate sequence.
 * len must be > 0. */
#define SB_TEXT_INVALID 0xFFFFFFFFu
size_t sb_text_decode(const char *s, size_t len, uint32_t *cp);

/* Number of code points in s[0..len), each invalid byte counting as one
 * (as if replaced by U+FFFD). */
size_t sb_text_codepoints(const char *s, size_t len);

/* The largest n <= max such that s[0..n) does not end inside a UTF-8
 * sequence (invalid bytes are single units). n == len when len <= max. */
size_t sb_text_cut(const char *s, size_t len, size_t max);

/* A malloc'd NUL-terminated copy of s[0..len) that is valid UTF-8: each
 * invalid byte and each NUL becomes U+FFFD. NULL if memory runs out.
 * *out_len (if not NULL) receives the length. */
char *sb_text_sanitize(const char *s, size_t len, size_t *out_len);

#endif
