/*
 * sb_termset: a dictionary of words and phrases matched against the tokens
 * of a message, in time independent of the number of entries. Intent
 * keywords, competitor names, legal-threat words and sentiment lexicons are
 * all termsets.
 *
 * An entry is a phrase of 1..SB_TERMSET_WORDS words, written as a tenant
 * writes it ("money back", "Sky Budget", "rembours*"). It is folded by the
 * same tokeniser as the message (sb_text.h), so case and accents never
 * matter. A word ending in '*' (allowed on the last word only) matches any
 * word that starts with it ("rembours*" matches "remboursement"); other
 * words are compared after stemming (sb_stem.h) when the set has a stemmer,
 * on both sides. Each entry carries a caller-chosen 32-bit value.
 *
 * Lookup: the first word of each entry is hashed (chained table); at token i
 * a lookup hashes the token's stem once, plus one hash per distinct prefix
 * length in use, and compares the following tokens of each candidate.
 *
 * Invariants: duplicates are kept (two intents may share a word); entries
 * found at one token are returned longest first, then in insertion order.
 * A set is immutable once built and may then be read from any thread.
 */
#ifndef SB_TERMSET_H
#define SB_TERMSET_H

#include "sb_stem.h"
#include "sb_text.h"

#include <stddef.h>
#include <stdint.h>

/* Words per entry. */
#define SB_TERMSET_WORDS 8
/* Bytes of one entry as written. */
#define SB_TERMSET_PHRASE_MAX 256

typedef struct sb_termset sb_termset_t;

typedef struct {
  uint32_t value;  /* as given to sb_termset_add */
  uint32_t ntok;   /* tokens the entry covers, from the token asked about */
} sb_term_hit_t;

sb_termset_t *sb_termset_new(void);
void sb_termset_destroy(sb_termset_t **s);

/* Adds phrase[0..len) with value. stem: the stemmer of the set's language
 * (borrowed for this call only), or NULL. Returns 0; SB_EINVAL if the
 * phrase has no word, more than SB_TERMSET_WORDS words, is longer than
 * SB_TERMSET_PHRASE_MAX bytes, or has '*' elsewhere than at its end or
 * alone; SB_ENOMEM. */
int sb_termset_add(sb_termset_t *s, const char *phrase, size_t len, uint32_t value, sb_stem_t *stem);

/* Entries that start at token i of t (stems as set by sb_stem_tokens),
 * longest first, into hits[0..max). Returns how many matched in total
 * (may exceed max; only max are written). */
size_t sb_termset_match(const sb_termset_t *s, const sb_tokens_t *t, size_t i, sb_term_hit_t *hits,
                        size_t max);

/* Number of entries. */
size_t sb_termset_count(const sb_termset_t *s);

#endif
