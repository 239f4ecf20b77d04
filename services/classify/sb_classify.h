/*
 * sb_classify: what classify knows about one message, as pure functions
 * (no Redis, no ZeroMQ). Two levels:
 *
 *   - sb_classify_text / sb_classify_envelope: language and the public ->
 *     private verdict, as the service has always done (text arrives already
 *     redacted from ingest, with the kinds of personal data found);
 *   - sb_classify_message: the whole verdict of one raw message against a
 *     tenant's rules and the sentiment lexicons: personal data spans and
 *     redaction, language, sentiment, intents, competitor / legal / VIP
 *     flags, priority and a suggested reply. `sbctl classify` and the
 *     service run this same code.
 *
 * Order in sb_classify_message: personal data is found and redacted over the
 * WHOLE text first (no clear PII ever reaches the other analysers or the
 * output); the other analysers then read the redacted text, cut at
 * SB_CLASSIFY_TEXT_MAX bytes on a character boundary (verdict.truncated
 * says so). The verdict is move_private when the message is public and
 * carries personal data or matched an intent that needs account access.
 *
 * Invariants: an sb_classify_t borrows the rules and the lexicons (both
 * immutable, shareable) and owns per-thread matchers: one per thread. Any
 * bytes are accepted (empty, invalid UTF-8, NUL, megabytes); the verdict is
 * always complete when 0 is returned.
 */
#ifndef SB_CLASSIFY_H
#define SB_CLASSIFY_H

#include "sb_envelope.h"
#include "sb_intent.h"
#include "sb_pii.h"
#include "sb_priority.h"
#include "sb_rules.h"
#include "sb_sentiment.h"
#include "sb_suggest.h"
#include "sb_tenants.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of (redacted) text the analysers read; the rest is not analysed. */
#define SB_CLASSIFY_TEXT_MAX 16384
/* Personal-data spans reported per message (all are redacted regardless). */
#define SB_CLASSIFY_PII_MAX 64

typedef struct {
  char language[8]; /* ISO 639-1 or "und" */
  int percent;
  int reliable;
  int move_private; /* a public message that carried personal data */
} sb_classify_result_t;

/* languages: the tenant's, NULL-terminated, or NULL for any.
 * pii_found: number of kinds of personal data found in the original. */
int sb_classify_text(const char *text, size_t len, const char *const *languages, int is_public,
                     size_t pii_found, sb_classify_result_t *out);

/* Classifies an interaction envelope in place: fills env->classification
 * (keeping the PII findings ingest put there). Other bodies are left as
 * they are. Returns 0 or SB_ENOMEM. */
int sb_classify_envelope(sb_envelope_t *env, const sb_tenant_t *tenant);

/* ------------------------------------------------------- full verdict */

typedef struct {
  const char *text;     /* raw message text (need not be NUL-terminated) */
  size_t len;
  int is_public;
  const char *customer; /* for the VIP list; may be NULL */
  int64_t followers;
  int repeat_contact;   /* a repeat contact (caller knows; the service
                           adds it in classify.lua, see sb_priority.h) */
} sb_classify_input_t;

typedef struct {
  sb_classify_result_t lang;
  sb_pii_span_t pii[SB_CLASSIFY_PII_MAX]; /* byte offsets into the input */
  size_t n_pii;
  int pii_truncated;   /* more spans than SB_CLASSIFY_PII_MAX (all redacted) */
  unsigned pii_mask;   /* SB_PII_MASK bits of the kinds found */
  char *redacted;      /* malloc'd, NUL-terminated; owned by the verdict */
  size_t redacted_len;
  int truncated;       /* analysers saw only SB_CLASSIFY_TEXT_MAX bytes */
  int move_private;
  sb_sentiment_result_t sentiment;
  sb_intent_result_t intent;
  int vip;
  sb_priority_result_t priority;
  int has_suggestion;
  sb_suggestion_t suggestion;
} sb_classify_verdict_t;

typedef struct sb_classify sb_classify_t;

/* A classifier over rules and sentiment lexicons (both borrowed: they must
 * outlive it; sentiment may be NULL for neutral everywhere). NULL if memory
 * runs out. */
sb_classify_t *sb_classify_new(const sb_rules_t *rules, const sb_sentiment_t *sentiment);
void sb_classify_destroy(sb_classify_t **c);

/* The suggestion engine, for agents' accept/reject feedback. */
sb_suggest_t *sb_classify_suggest(sb_classify_t *c);

/* Fills *out (which the caller releases with sb_classify_verdict_clear,
 * also after an error). Returns 0, SB_EINVAL (NULL argument, or text NULL
 * with len > 0), SB_ENOMEM. */
int sb_classify_message(sb_classify_t *c, const sb_classify_input_t *in, sb_classify_verdict_t *out);

/* Code-point offsets of the verdict's PII spans in the input text[0..len)
 * (the text given to sb_classify_message; invalid bytes count as one code
 * point each): cp[2k] and cp[2k+1] are the start and end of span k; cp
 * must hold 2 * v->n_pii values. */
void sb_classify_pii_codepoints(const char *text, size_t len, const sb_classify_verdict_t *v, size_t *cp);

/* Frees what a verdict owns and zeroes it. */
void sb_classify_verdict_clear(sb_classify_verdict_t *v);

/* Copies the verdict into env->classification (keeps ingest's PII
 * findings: a public message with any is move_private too); competitors
 * are not named (see _rules). Returns 0, SB_EINVAL if env is not an
 * interaction, SB_EEXISTS if it was classified already, SB_ENOMEM. */
int sb_classify_envelope_apply(sb_envelope_t *env, const sb_classify_verdict_t *v);
/* The same, also naming competitors (their names come from rules). The
 * whole verdict goes into the envelope's Classification: language,
 * move_private, sentiment, intents, priority, competitors, legal threat,
 * VIP and the suggested reply. SB_EEXISTS if it was classified already. */
int sb_classify_envelope_apply_rules(sb_envelope_t *env, const sb_classify_verdict_t *v,
                                     const sb_rules_t *rules);

#endif
