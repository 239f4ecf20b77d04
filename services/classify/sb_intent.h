/*
 * sb_intent: what the message is about, from the tenant's rules: intents
 * (keywords, phrases, regexes), competitor mentions and legal threats.
 *
 * Matching: the message's tokens are stemmed for its language and looked up
 * in the rules' termset of that language, then (unstemmed) in the "*"
 * termset; a message of unknown language ("und") is tried against every
 * language of the rules. Regexes of the language and of "*" run on the
 * first SB_RULES_REGEX_SCAN bytes of the text.
 *
 * Scores: each distinct token position where a keyword of an intent starts
 * is one hit (a phrase of two or more words counts SB_INTENT_PHRASE_HITS),
 * each matching regex one hit; score = 1 - 2^-hits (one hit 0.5, two 0.75,
 * three 0.875). Intents are reported primary first (rules "secondary"
 * intents such as complaint or praise qualify a message rather than say
 * what it is about, so they come after every primary one), then by score,
 * weight and rule order; at most SB_INTENT_MAX.
 *
 * Invariants: an sb_intent_t holds the stemmers and scratch space of one
 * thread; the rules it borrows must outlive it and are never changed.
 */
#ifndef SB_INTENT_H
#define SB_INTENT_H

#include "sb_rules.h"
#include "sb_text.h"

#include <stddef.h>

#define SB_INTENT_MAX 8
#define SB_INTENT_COMPETITORS_MAX 8
#define SB_INTENT_PHRASE_HITS 2

typedef struct {
  int index;        /* into the rules' intents */
  const char *name; /* borrowed from the rules */
  double score;     /* 0..1 */
  int hits;
  int weight;       /* 0..100, from the rules */
  int secondary;    /* from the rules */
} sb_intent_hit_t;

typedef struct {
  sb_intent_hit_t intents[SB_INTENT_MAX];
  size_t n;
  int competitors[SB_INTENT_COMPETITORS_MAX]; /* indexes, in order of first mention */
  size_t n_competitors;
  int legal;        /* legal-threat words found */
  int account;      /* a matched intent needs account access */
  int top_weight;   /* largest weight of the matched intents, 0 if none */
} sb_intent_result_t;

typedef struct sb_intent sb_intent_t;

/* A matcher over rules (borrowed). NULL if memory runs out. */
sb_intent_t *sb_intent_new(const sb_rules_t *rules);
void sb_intent_destroy(sb_intent_t **m);

/* Matches a message: text[0..len) as written (for regexes), t its tokens
 * (sb_text_tokenize of the same text; their stems are overwritten), lang its
 * language ("und" if unknown). Returns 0, SB_EINVAL for a NULL argument,
 * SB_ENOMEM. out is always initialised. */
int sb_intent_match(sb_intent_t *m, const char *lang, const char *text, size_t len, sb_tokens_t *t,
                    sb_intent_result_t *out);

#endif
