/*
 * sb_suggest: the tenant's best canned answer for a message, for the agent
 * to accept or reject (never sent on its own).
 *
 * Candidates are the answers of the rules (sb_rules.h "answers") whose
 * language is the message's (or "*") and whose intent is one the message
 * matched (answers without an intent are always candidates). Each is scored
 *   score = (bm25 + SB_SUGGEST_INTENT_BONUS * intent_score) * learned
 * where bm25 is Okapi BM25 (k1 = SB_SUGGEST_K1, b = SB_SUGGEST_B) of the
 * message's folded words against the answer's text, with document
 * frequencies over all answers; intent_score is the message's score for the
 * answer's intent (0 without one); and
 *   learned = 2 * (accepts + 1) / (accepts + rejects + 2)
 * is 1 with no feedback, rises towards 2 for answers agents keep, falls
 * towards 0 for answers they reject. The best candidate with a score of at
 * least SB_SUGGEST_MIN_SCORE is suggested; ties go to the earlier answer.
 *
 * Invariants: borrows the rules (they must outlive the object); keeps the
 * accept/reject counters and a scratch array, so one object per thread.
 */
#ifndef SB_SUGGEST_H
#define SB_SUGGEST_H

#include "sb_intent.h"
#include "sb_rules.h"
#include "sb_text.h"

#include <stddef.h>
#include <stdint.h>

#define SB_SUGGEST_K1 1.2
#define SB_SUGGEST_B 0.75
#define SB_SUGGEST_INTENT_BONUS 2.0
#define SB_SUGGEST_MIN_SCORE 0.5

typedef struct {
  int index;        /* into the rules' answers */
  const char *id;   /* borrowed from the rules */
  double score, bm25;
} sb_suggestion_t;

typedef struct sb_suggest sb_suggest_t;

/* Indexes the answers of rules. NULL if memory runs out. */
sb_suggest_t *sb_suggest_new(const sb_rules_t *rules);
void sb_suggest_destroy(sb_suggest_t **s);

/* The best answer for a message in lang with tokens t and matched intents
 * (may be NULL: no intent matched). Returns 1 and fills out when there is
 * one, 0 when none qualifies, SB_EINVAL for a NULL argument. */
int sb_suggest_best(sb_suggest_t *s, const char *lang, const sb_tokens_t *t, const sb_intent_result_t *intents,
                    sb_suggestion_t *out);

/* Records the agent's choice on answer id. Returns 0 or SB_ENOTFOUND. */
int sb_suggest_feedback(sb_suggest_t *s, const char *id, int accepted);

/* Sets the counters of answer id to absolute values (the tenant's totals
 * as stored in Redis by route, see sb_feedback.h). Returns 0 or
 * SB_ENOTFOUND. */
int sb_suggest_set_counts(sb_suggest_t *s, const char *id, uint64_t accepts, uint64_t rejects);

/* Zeroes every answer's counters (before a full refresh). */
void sb_suggest_reset_counts(sb_suggest_t *s);

/* Number of answers (0 for NULL). */
size_t sb_suggest_answer_count(const sb_suggest_t *s);

/* 1 if id names one of the answers, else 0. */
int sb_suggest_knows(const sb_suggest_t *s, const char *id);

/* Counters of answer id. Returns 0 or SB_ENOTFOUND. */
int sb_suggest_counts(const sb_suggest_t *s, const char *id, uint64_t *accepts, uint64_t *rejects);

#endif
