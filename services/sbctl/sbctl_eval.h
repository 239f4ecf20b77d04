/*
 * sbctl_eval: scores classify verdicts against gold labels and reports
 * accuracy, precision, recall and F1 per label, as `sbctl classify --eval`
 * prints them.
 *
 * A labelled line carries, next to the input fields, a "gold" object with
 * any of (a missing member is not scored for that line):
 *   "language":     ISO 639-1 code
 *   "sentiment":    "negative" | "neutral" | "positive"
 *   "intents":      [intent names] (multi-label; [] = none)
 *   "top_intent":   the one intent the line is about, or null (none);
 *                   compared with the best-ranked predicted intent
 *   "pii":          [{"type", "start", "end"}] code-point offsets; a span
 *                   counts as found only if type, start and end all match
 *   "pii_types":    [types] labelled in "pii" (absent: all); predicted
 *                   spans of other types are then not scored
 *   "move_private": true | false
 *   "competitor":   true | false;  "legal": true | false
 * Language accuracy is also reported on messages of at least
 * SBCTL_EVAL_MIN_CHARS code points (the goal is stated on those).
 * Sentiment is reported overall and per gold language with macro-F1 (the
 * mean F1 of the labels that occur in the gold).
 *
 * Invariants: counts only; undefined ratios (no prediction, no gold) are
 * printed as null, never as 0 or 1.
 */
#ifndef SBCTL_EVAL_H
#define SBCTL_EVAL_H

#include "sb_classify.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#define SBCTL_EVAL_MIN_CHARS 20

typedef struct sbctl_eval sbctl_eval_t;

sbctl_eval_t *sbctl_eval_new(void);
void sbctl_eval_destroy(sbctl_eval_t **e);

/* Scores one verdict. gold: the line's "gold" object (NULL: only counted);
 * text/len: the input text (for code-point offsets); v: its verdict;
 * rules: names of the intents and competitors; elapsed_ns: time spent in
 * sb_classify_message. Returns 0, SB_EPARSE if gold is malformed (the
 * line is then not scored), SB_ENOMEM. */
int sbctl_eval_add(sbctl_eval_t *e, const cJSON *gold, const char *text, size_t len,
                   const sb_classify_verdict_t *v, const sb_rules_t *rules, uint64_t elapsed_ns);

/* Prints the report as one indented JSON object. */
void sbctl_eval_print(const sbctl_eval_t *e, FILE *f);

#endif
