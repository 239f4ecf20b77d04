/*
 * sb_priority: the weighted score of sb_priority.h. Each part is a clamped
 * fraction times its weight; the sum is rounded and clamped to 0..100.
 */
#include "sb_priority.h"
#include "sb_error.h"

#include <math.h>
#include <stddef.h>

#define SCORE_MAX 100

static const char *const part_names[SB_PRIORITY__PARTS] = {"sentiment", "public", "reach", "vip",
                                                           "intent", "repeat", "legal"};

void sb_priority_weights_default(sb_priority_weights_t *w) {
  w->sentiment = SB_PRIORITY_W_SENTIMENT;
  w->public_ = SB_PRIORITY_W_PUBLIC;
  w->reach = SB_PRIORITY_W_REACH;
  w->vip = SB_PRIORITY_W_VIP;
  w->intent = SB_PRIORITY_W_INTENT;
  w->repeat = SB_PRIORITY_W_REPEAT;
  w->legal = SB_PRIORITY_W_LEGAL;
  w->reach_max = SB_PRIORITY_REACH_MAX;
}

const char *sb_priority_part_name(sb_priority_part_t p) {
  return (unsigned)p < SB_PRIORITY__PARTS ? part_names[p] : "unknown";
}

/* x clamped to [0,1]; NaN is 0. */
static double unit(double x) { return x > 0 ? (x < 1 ? x : 1) : 0; }

static double weight(double w) { return w > 0 ? (w < SB_PRIORITY_W_LIMIT ? w : SB_PRIORITY_W_LIMIT) : 0; }

/* log10(1+followers) / log10(1+reach_max), in [0,1]. */
static double reach(int64_t followers, int64_t reach_max) {
  if (followers <= 0)
    return 0;
  double top = log10(1.0 + (double)(reach_max > 1 ? reach_max : 1));
  return unit(log10(1.0 + (double)followers) / top);
}

int sb_priority_score(const sb_priority_weights_t *w, const sb_priority_input_t *in,
                      sb_priority_result_t *out) {
  if (!w || !in || !out)
    return SB_EINVAL;
  double *p = out->parts;
  p[SB_PRIORITY_PART_SENTIMENT] = weight(w->sentiment) * unit(-in->sentiment);
  p[SB_PRIORITY_PART_PUBLIC] = in->is_public ? weight(w->public_) : 0;
  p[SB_PRIORITY_PART_REACH] = in->is_public ? weight(w->reach) * reach(in->followers, w->reach_max) : 0;
  p[SB_PRIORITY_PART_VIP] = in->vip ? weight(w->vip) : 0;
  p[SB_PRIORITY_PART_INTENT] = weight(w->intent) * unit(in->intent_weight / SCORE_MAX);
  p[SB_PRIORITY_PART_REPEAT] = in->repeat_contact ? weight(w->repeat) : 0;
  p[SB_PRIORITY_PART_LEGAL] = in->legal ? weight(w->legal) : 0;
  double sum = 0;
  for (size_t k = 0; k < SB_PRIORITY__PARTS; k++)
    sum += p[k];
  long s = lround(sum);
  out->score = (int)(s < 0 ? 0 : s > SCORE_MAX ? SCORE_MAX : s);
  return 0;
}
