/*
 * sb_priority: how urgent one message is, as a documented weighted score
 * from 0 (whenever) to 100 (now). Pure arithmetic over the analysers'
 * findings; per-tenant weights come from the tenant's rules ("priority").
 *
 * The score is the sum of seven parts, rounded and clamped to [0,100]:
 *
 *   sentiment  w.sentiment * max(0, -sentiment)      only negativity counts
 *   public     w.public    * is_public
 *   reach      w.reach     * min(1, log10(1+followers) / log10(1+reach_max))
 *                          counted only on a public post (followers see it)
 *   vip        w.vip       * vip
 *   intent     w.intent    * intent_weight / 100     heaviest matched intent
 *   repeat     w.repeat    * repeat_contact          a repeat contact: the
 *                          customer's earlier conversation(s) within the
 *                          tenant's "repeat_window_s" (default 7 days); in
 *                          the service the count is known only in Redis, so
 *                          classify.lua adds these points (capped at 100)
 *   legal      w.legal     * legal                   legal-threat keyword
 *
 * With the defaults an angry public tweet from a 10,000-follower account
 * threatening legal action about a refund scores 30+10+10+0+12+0+30 = 92
 * (sentiment -1, reach 0.67, refund weight 60); a neutral private question
 * without a matched intent scores 0.
 *
 * Invariants: pure, total over its inputs (NaN and out-of-range values are
 * clamped), same inputs give the same score.
 */
#ifndef SB_PRIORITY_H
#define SB_PRIORITY_H

#include <stdint.h>

/* Defaults of the weights (points each part can add). */
#define SB_PRIORITY_W_SENTIMENT 30
#define SB_PRIORITY_W_PUBLIC 10
#define SB_PRIORITY_W_REACH 15
#define SB_PRIORITY_W_VIP 20
#define SB_PRIORITY_W_INTENT 20
#define SB_PRIORITY_W_REPEAT 10
#define SB_PRIORITY_W_LEGAL 30
/* Followers at which reach saturates. */
#define SB_PRIORITY_REACH_MAX 1000000
/* Largest weight a tenant may set. */
#define SB_PRIORITY_W_LIMIT 100

typedef struct {
  double sentiment, public_, reach, vip, intent, repeat, legal; /* 0..SB_PRIORITY_W_LIMIT */
  int64_t reach_max;                                           /* >= 1 */
} sb_priority_weights_t;

typedef enum {
  SB_PRIORITY_PART_SENTIMENT,
  SB_PRIORITY_PART_PUBLIC,
  SB_PRIORITY_PART_REACH,
  SB_PRIORITY_PART_VIP,
  SB_PRIORITY_PART_INTENT,
  SB_PRIORITY_PART_REPEAT,
  SB_PRIORITY_PART_LEGAL,
  SB_PRIORITY__PARTS
} sb_priority_part_t;

typedef struct {
  double sentiment;     /* -1..1 (sb_sentiment) */
  int is_public;        /* posted where anyone can see it */
  int64_t followers;    /* author's followers (0 if unknown) */
  int vip;              /* customer on the tenant's VIP list */
  double intent_weight; /* 0..100: largest weight of the matched intents */
  int repeat_contact;   /* a repeat contact (see "repeat" above) */
  int legal;            /* a legal-threat keyword matched */
} sb_priority_input_t;

typedef struct {
  int score;                            /* 0..100 */
  double parts[SB_PRIORITY__PARTS];     /* points of each part, before clamping */
} sb_priority_result_t;

/* The default weights above. */
void sb_priority_weights_default(sb_priority_weights_t *w);

/* Stable lower-case name of a part ("sentiment", ...); "unknown" otherwise. */
const char *sb_priority_part_name(sb_priority_part_t p);

/* Scores in against w into out. Returns 0, or SB_EINVAL if an argument is
 * NULL (out untouched). */
int sb_priority_score(const sb_priority_weights_t *w, const sb_priority_input_t *in,
                      sb_priority_result_t *out);

#endif
