/*
 * sb_sentiment: how the customer feels, from lexicons with negation,
 * intensifiers, contrast and emphasis (in the manner of VADER, Hutto and
 * Gilbert 2014, re-implemented; no code or lexicon taken from it).
 *
 * Lexicons are plain text, one entry a line, '#' starts a comment:
 *   <phrase> TAB <valence>       -4 (furious) .. +4 (delighted)
 *   <phrase> TAB NEG             negator ("not", "jamais", "kein")
 *   <phrase> TAB INT <x>         intensifier (x > 0: "very" 0.3) or
 *                                diminisher (x < 0: "slightly" -0.3)
 *   <phrase> TAB BUT             contrast ("but", "mais", "aber")
 * Phrases follow sb_termset (folded, up to 8 words, final '*' = prefix).
 * The files of the repository are corpus/lexicons/<lang>.txt, and
 * common.txt (emoji, emoticon words) which applies to every language.
 *
 * Scoring, over the tokens of a message: at each token the longest entry of
 * the message's language (else of common.txt) applies.
 *   - a valence v is scaled by (1 + sum of intensifiers met within
 *     SB_SENTIMENT_BOOST_WINDOW tokens before it), gains
 *     SB_SENTIMENT_CAPS_BOOST in magnitude when the word is in capitals
 *     inside mixed-case text, and is multiplied by SB_SENTIMENT_NEGATE
 *     (-0.74) when a negator came within SB_SENTIMENT_NEG_WINDOW tokens
 *     before it in the same clause;
 *   - valences before the last contrast word count SB_SENTIMENT_BEFORE_BUT,
 *     after it SB_SENTIMENT_AFTER_BUT;
 *   - the sum gains SB_SENTIMENT_EXCLAIM_BOOST in magnitude per '!' (up to
 *     SB_SENTIMENT_EXCLAIM_MAX);
 *   - score = sum / sqrt(sum^2 + SB_SENTIMENT_ALPHA), in (-1, 1);
 *   - label: positive if score >= SB_SENTIMENT_POSITIVE_MIN, negative if
 *     score <= -SB_SENTIMENT_NEGATIVE_MIN, else neutral.
 * Topic words (delayed, cancelled, lost) are deliberately absent from the
 * lexicons: they say what happened, not how the customer feels about it.
 *
 * Invariants: the object is immutable once loaded and may be read by any
 * thread; scoring is pure and never fails on any token list.
 */
#ifndef SB_SENTIMENT_H
#define SB_SENTIMENT_H

#include "sb_text.h"

#include <stddef.h>

#define SB_SENTIMENT_NEG_WINDOW 3
#define SB_SENTIMENT_BOOST_WINDOW 2
#define SB_SENTIMENT_NEGATE (-0.74)
#define SB_SENTIMENT_CAPS_BOOST 0.733
#define SB_SENTIMENT_BEFORE_BUT 0.5
#define SB_SENTIMENT_AFTER_BUT 1.5
#define SB_SENTIMENT_EXCLAIM_BOOST 0.292
#define SB_SENTIMENT_EXCLAIM_MAX 4
#define SB_SENTIMENT_ALPHA 15.0
#define SB_SENTIMENT_POSITIVE_MIN 0.3
#define SB_SENTIMENT_NEGATIVE_MIN 0.3
/* Languages with a lexicon file in the repository. */
#define SB_SENTIMENT_LANGS {"en", "fr", "es", "de", "nl", "it", "pt", NULL}
/* The language code of "unknown" (sb_lang.h). */
#define SB_SENTIMENT_UNKNOWN "und"
/* Lexicon text accepted per language. */
#define SB_SENTIMENT_LEXICON_MAX (1u << 20)

typedef enum {
  SB_SENTIMENT_NEGATIVE = -1,
  SB_SENTIMENT_NEUTRAL = 0,
  SB_SENTIMENT_POSITIVE = 1
} sb_sentiment_label_t;

typedef struct {
  double score;               /* -1..1 */
  sb_sentiment_label_t label;
  int hits;                   /* lexicon valences that contributed */
} sb_sentiment_result_t;

typedef struct sb_sentiment sb_sentiment_t;

sb_sentiment_t *sb_sentiment_new(void);
void sb_sentiment_destroy(sb_sentiment_t **s);

/* Adds the lexicon text[0..len) for lang (ISO 639 code, or "*" for every
 * language); entries add to what lang already has. Returns 0; SB_EPARSE
 * with "line N: why" in err for a malformed line (the lines before it stay
 * loaded: treat the object as unusable after an error); SB_ETOOBIG over
 * SB_SENTIMENT_LEXICON_MAX bytes; SB_ENOMEM; SB_EINVAL for bad arguments. */
int sb_sentiment_add_lexicon(sb_sentiment_t *s, const char *lang, const char *text, size_t len, char *err,
                             size_t errlen);

/* Reads <dir>/<lang>.txt for each of langs (NULL: SB_SENTIMENT_LANGS) and
 * <dir>/common.txt as "*". Returns 0, or the first error (SB_EIO for a
 * missing file) with the file and reason in err. */
int sb_sentiment_load_dir(sb_sentiment_t *s, const char *dir, const char *const *langs, char *err,
                          size_t errlen);

/* 1 if lang has its own lexicon. */
int sb_sentiment_has(const sb_sentiment_t *s, const char *lang);

/* Scores the tokens of a message written in lang (any code; without a
 * lexicon only the common one applies). For SB_SENTIMENT_UNKNOWN ("und")
 * every lexicon is tried and the one that recognises the most entries
 * wins (the first on a tie). Returns 0, SB_EINVAL if an argument is NULL. */
int sb_sentiment_score(const sb_sentiment_t *s, const char *lang, const sb_tokens_t *t,
                       sb_sentiment_result_t *out);

/* "negative", "neutral", "positive". */
const char *sb_sentiment_label_name(sb_sentiment_label_t l);

#endif
