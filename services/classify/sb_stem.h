/*
 * sb_stem: word stems for intent rules, through Snowball's libstemmer when
 * the build has it (SB_HAVE_STEMMER), so that "cancelled", "cancelling" and
 * "cancellation" meet one keyword. Without libstemmer every function still
 * works and a stem is the word itself (rules then rely on their "word*"
 * prefixes); nothing else changes.
 *
 * A stemmer is applied to folded words (sb_text.h: lower-case, accents
 * removed) on both sides, tenant keywords and customer text, so the stems
 * agree even where folding is not what Snowball expects.
 *
 * Invariants: an sb_stem_t keeps a scratch buffer (libstemmer's): use one
 * object from one thread at a time. Never fails for lack of a stemmer: the
 * word is copied instead. Each thread remembers the stems of recent words
 * (a fixed 224 KiB table, shared by every stemmer the thread uses), so a
 * repeated word costs a hash and a compare; the answer is always
 * Snowball's.
 */
#ifndef SB_STEM_H
#define SB_STEM_H

#include "sb_text.h"

#include <stddef.h>

typedef struct sb_stem sb_stem_t;

/* 1 if this build stems (libstemmer linked), else 0. */
int sb_stem_available(void);

/* A stemmer for an ISO 639-1 language ("en", "fr", "nb", ...), or NULL when
 * there is none for it, the build has no libstemmer, or memory ran out.
 * NULL is a valid argument to the functions below (identity). */
sb_stem_t *sb_stem_new(const char *lang);
void sb_stem_destroy(sb_stem_t **s);

/* Writes the stem of the folded word w[0..n) to out (at most cap-1 bytes
 * and a NUL) and returns its length; the word itself when s is NULL or
 * stemming fails. cap must be > 0. */
size_t sb_stem_word(sb_stem_t *s, const char *w, size_t n, char *out, size_t cap);

/* Sets the stem of every word token of t (emoji are left alone); with s
 * NULL resets stems to the folded words. Returns 0 or SB_ENOMEM. */
int sb_stem_tokens(sb_stem_t *s, sb_tokens_t *t);

#endif
