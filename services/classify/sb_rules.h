/*
 * sb_rules: one tenant's classification rules, parsed from the JSON of its
 * "classify" object, validated and compiled once into an immutable object
 * that the analysers read (sb_intent, sb_suggest, sb_priority).
 *
 *   {"languages":   ["en", "fr"],                    tenant's languages
 *    "intents": [{"name": "refund",                   [A-Za-z0-9_.-]{1,64}
 *                 "weight": 60,                       0..100 (priority)
 *                 "account": true,                    needs account access:
 *                                                     move_private if public
 *                 "secondary": false,                 true: says what kind of
 *                                                     message (complaint,
 *                                                     praise), not its topic:
 *                                                     ranked after the others
 *                 "keywords": {"en": ["refund*", "money back"],
 *                              "*":  ["chargeback"]},  "*": any language
 *                 "regex": {"en": ["want (my|the) money"]}}],
 *    "competitors": ["MetroPlus", {"name": "FlyNow", "aliases": ["fly now"]}],
 *    "vip":        ["customer-id", ...],
 *    "legal":      {"en": ["lawyer", "legal action"], "fr": ["avocat"]},
 *    "priority":   {"sentiment": 30, "public": 10, "reach": 15, "vip": 20,
 *                   "intent": 20, "repeat": 10, "legal": 30,
 *                   "reach_max": 1000000},
 *    "answers": [{"id": "refund-en", "intent": "refund", "language": "en",
 *                 "text": "We're sorry ..."}],
 *    "repeat_window_s": 604800,   a customer's earlier contacts count as
 *                                 repeats within this window (0: off)
 *    "repeat_min": 1,             earlier contacts in the window that make
 *                                 a repeat contact (raises priority by the
 *                                 "repeat" weight; see classify.lua)
 *    "spike": {"enabled": true,   spike incidents (sb_incident.h); every
 *              "bucket_s": 60,    member optional, defaults from sb_spike.h:
 *              "k": 4,            bucket width (s), standard deviations,
 *              "alpha": 0.1,      EWMA weight of the newest bucket,
 *              "warmup_buckets": 10,  buckets before anything is judged,
 *              "min_count": 10}}  messages a bucket needs to be an incident
 *
 * Every member is optional; an empty object is a valid (empty) rule set.
 * Keywords, competitor names and legal words are phrases of up to
 * SB_TERMSET_WORDS words, matched on folded text (case and accents do not
 * matter); a final '*' makes the last word a prefix; words are stemmed for
 * their language when the build has libstemmer (sb_stem.h). A regex is a
 * POSIX extended expression, case-insensitive, matched against the first
 * SB_RULES_REGEX_SCAN bytes of the message as written; back-references are
 * refused (they make matching exponential). With Hyperscan in the build
 * (SB_HAVE_HYPERSCAN) all regexes of a tenant are also compiled into one
 * database and matched in one linear pass; a pattern Hyperscan cannot
 * compile is then an error. Language keys are ISO 639 codes
 * (2-3 lower-case letters) or "*". Unknown members are errors, so that a
 * typo is not silently ignored.
 *
 * Invariants: a parse either returns a complete object or NULL with one
 * reason naming the offending member ("intents[2].keywords.fr[0]: ...");
 * after parsing the object never changes and may be shared by threads.
 */
#ifndef SB_RULES_H
#define SB_RULES_H

#include "sb_priority.h"
#include "sb_spike.h"
#include "sb_termset.h"

#include <regex.h>
#include <stddef.h>

/* Limits of one tenant's rules. */
#define SB_RULES_JSON_MAX (4u * 1024 * 1024)
#define SB_RULES_NAME_MAX 64
#define SB_RULES_LANG_MAX 8 /* bytes of a language key with its NUL */
#define SB_RULES_LANGUAGES_MAX 24
#define SB_RULES_INTENTS_MAX 256
#define SB_RULES_TERMS_MAX 200000
#define SB_RULES_REGEX_MAX 64
#define SB_RULES_REGEX_LEN_MAX 256
/* Bytes of a message the regexes read. glibc's matcher is quadratic on
 * nested quantifiers ("(a|aa)*b": 1.5 ms on 1 KiB, 24 ms on 4 KiB), so the
 * window and the count above bound a message's worst case (~0.1 s with 64
 * hostile regexes) when Hyperscan, linear in the text, is not built in. */
#define SB_RULES_REGEX_SCAN 1024
#define SB_RULES_COMPETITORS_MAX 256
#define SB_RULES_VIP_MAX 100000
#define SB_RULES_ANSWERS_MAX 4096
#define SB_RULES_ANSWER_TEXT_MAX 4096
#define SB_RULES_REPEAT_WINDOW_DEFAULT (7 * 86400)
#define SB_RULES_REPEAT_WINDOW_MAX (90 * 86400)
#define SB_RULES_REPEAT_MIN_MAX 1000
/* Limits of the "spike" member (the detector's own are in sb_spike.h). */
#define SB_RULES_SPIKE_BUCKET_S_MAX 86400
#define SB_RULES_SPIKE_K_MAX 100
#define SB_RULES_SPIKE_WARMUP_MAX 10000
#define SB_RULES_SPIKE_MIN_COUNT_MAX 1000000

/* A calendar's name, as in the tenant's sla.calendars: [A-Za-z0-9_-] */
#define SB_RULES_CALENDAR_NAME_MAX 32

/* The tenant's spike detector settings ("spike"). */
typedef struct {
  int enabled;          /* default 1 */
  sb_spike_opts_t opts; /* sb_spike_opts_default + the members given */
  /* "supervisor_calendar": a name of the tenant's sla.calendars, "" for
   * always (sb_ruleset resolves it: the rules see one section only) */
  char supervisor_calendar[SB_RULES_CALENDAR_NAME_MAX + 1];
} sb_rules_spike_t;

/* A term's value in the rules' termsets: its kind and the index of what it
 * names (intent, competitor; 0 for legal). */
typedef enum { SB_RULES_TERM_INTENT = 1, SB_RULES_TERM_COMPETITOR = 2, SB_RULES_TERM_LEGAL = 3 } sb_rules_term_kind_t;
#define SB_RULES_TERM(kind, index) (((uint32_t)(kind) << 24) | ((uint32_t)(index) & 0xFFFFFFu))
#define SB_RULES_TERM_KIND(v) ((sb_rules_term_kind_t)((v) >> 24))
#define SB_RULES_TERM_INDEX(v) ((size_t)((v) & 0xFFFFFFu))

typedef struct {
  char name[SB_RULES_NAME_MAX + 1];
  int weight;  /* 0..100 */
  int account;   /* answering needs the customer's account */
  int secondary; /* qualifies a message (complaint, praise): ranked last */
} sb_rule_intent_t;

typedef struct {
  char lang[SB_RULES_LANG_MAX]; /* or "*" */
  int intent;                   /* index of the intent it signals */
  char *pattern;                /* as written; owned by the rules */
  regex_t re;                   /* REG_EXTENDED | REG_ICASE | REG_NOSUB */
} sb_rule_regex_t;

typedef struct {
  char id[SB_RULES_NAME_MAX + 1];
  int intent;                   /* intent index, or -1 for any message */
  char lang[SB_RULES_LANG_MAX]; /* or "*" */
  const char *text;             /* owned by the rules */
} sb_rule_answer_t;

typedef struct sb_rules sb_rules_t;

/* Parses the "classify" object json[0..len). NULL on error, with a reason
 * naming the member in err (always NUL-terminated when errlen > 0). */
sb_rules_t *sb_rules_parse(const char *json, size_t len, char *err, size_t errlen);

/* Reads a file holding either the "classify" object itself or an object
 * with a "classify" member (a tenant entry); other members of a tenant
 * entry are ignored. NULL on error with a reason in err. */
sb_rules_t *sb_rules_load(const char *path, char *err, size_t errlen);

void sb_rules_destroy(sb_rules_t **r);

/* The tenant's languages, NULL-terminated, or NULL when none were given
 * (any language), in the form sb_lang_detect takes. */
const char *const *sb_rules_languages(const sb_rules_t *r);

size_t sb_rules_intent_count(const sb_rules_t *r);
const sb_rule_intent_t *sb_rules_intent(const sb_rules_t *r, size_t i);
/* Index of the intent named name, or SB_ENOTFOUND. */
int sb_rules_intent_find(const sb_rules_t *r, const char *name);

size_t sb_rules_competitor_count(const sb_rules_t *r);
/* The competitor's name as written in the rules. */
const char *sb_rules_competitor(const sb_rules_t *r, size_t i);

/* 1 if customer is on the VIP list, else 0 (NULL is not). */
int sb_rules_is_vip(const sb_rules_t *r, const char *customer);

const sb_priority_weights_t *sb_rules_priority(const sb_rules_t *r);

/* Repeat contacts: the window in seconds (0: not counted) and the number
 * of earlier contacts in it that flag a repeat (>= 1). */
int64_t sb_rules_repeat_window_s(const sb_rules_t *r);
int sb_rules_repeat_min(const sb_rules_t *r);

/* The "spike" settings (defaults when the member is absent). */
const sb_rules_spike_t *sb_rules_spike(const sb_rules_t *r);

size_t sb_rules_answer_count(const sb_rules_t *r);
const sb_rule_answer_t *sb_rules_answer(const sb_rules_t *r, size_t i);

/* Languages that have their own keywords or legal words (not "*"). */
size_t sb_rules_term_lang_count(const sb_rules_t *r);
const char *sb_rules_term_lang(const sb_rules_t *r, size_t i);
/* The terms of lang (stemmed for it), "*" for the terms of every language
 * (competitors included, never stemmed); NULL if there are none. */
const sb_termset_t *sb_rules_terms(const sb_rules_t *r, const char *lang);

size_t sb_rules_regex_count(const sb_rules_t *r);
const sb_rule_regex_t *sb_rules_regex(const sb_rules_t *r, size_t i);

#ifdef SB_HAVE_HYPERSCAN
#include <hs/hs.h>
/* Every regex in one block-mode database (pattern id = regex index;
 * caseless, dot-all, single match), or NULL when there are none. */
const hs_database_t *sb_rules_hyperscan(const sb_rules_t *r);
#endif

#endif
