/*
 * sb_spike: "the next viral complaint" detector. For each (tenant, key)
 * (key: an intent, a keyword, "*" for all traffic) it keeps a rolling
 * baseline of message volume per bucket of time and of the share of
 * negative messages, and raises an incident when the current bucket jumps
 * beyond k standard deviations of that baseline.
 *
 * Model, per key: time is cut into buckets of opts.bucket_ms. When a bucket
 * closes, its count c and negative share s update exponentially weighted
 * means and variances (West 1979 / Finch 2009 incremental EWMA):
 *     d = x - mean;  mean += a*d;  var = (1-a) * (var + a*d*d)
 * Buckets with no message count as zeros (up to opts.gap_buckets_max; a
 * longer silence restarts the baseline). An observation in the open bucket
 * raises an incident, at most once per kind per bucket, when the baseline
 * has seen at least opts.warmup_buckets buckets and
 *   volume:   count >= opts.min_count and
 *             count > mean + k * max(sd, opts.min_sd)
 *   negative: count >= opts.min_count and
 *             share > share_mean + k * max(share_sd, opts.min_share_sd)
 * The test runs on every observation, so a burst is reported while it
 * happens, not when its bucket closes.
 *
 * Invariants: deterministic and pure apart from the detector's own memory:
 * time is an argument, never read from a clock; time going backwards is
 * treated as "now" in the open bucket, and times before the epoch as the
 * epoch. At most opts.max_keys keys are
 * tracked; a new key beyond that evicts the least recently observed one.
 * Not thread-safe: one detector per thread (or per tenant shard).
 */
#ifndef SB_SPIKE_H
#define SB_SPIKE_H

#include <stddef.h>
#include <stdint.h>

#define SB_SPIKE_BUCKET_MS 60000
#define SB_SPIKE_ALPHA 0.1
#define SB_SPIKE_K 4.0
#define SB_SPIKE_WARMUP_BUCKETS 10
#define SB_SPIKE_MIN_COUNT 10
#define SB_SPIKE_MIN_SD 1.0
#define SB_SPIKE_MIN_SHARE_SD 0.05
#define SB_SPIKE_GAP_BUCKETS_MAX 1440
#define SB_SPIKE_MAX_KEYS 4096
#define SB_SPIKE_KEY_MAX 128 /* bytes of tenant + key */

/* Kinds of incident (bits of sb_spike_event_t.kinds). */
#define SB_SPIKE_VOLUME 1u
#define SB_SPIKE_NEGATIVE 2u

typedef struct {
  int64_t bucket_ms;
  double alpha;        /* EWMA weight of the newest bucket, (0,1] */
  double k;            /* standard deviations that make an incident */
  int warmup_buckets;
  int min_count;
  double min_sd, min_share_sd;
  int gap_buckets_max;
  size_t max_keys;
} sb_spike_opts_t;

typedef struct {
  unsigned kinds;      /* incidents raised by this observation (0: none) */
  uint32_t count;      /* messages in the open bucket, this one included */
  uint32_t negative;   /* of which negative */
  double mean, sd;     /* volume baseline per bucket */
  double share_mean, share_sd;
  int64_t bucket_start_ms;
} sb_spike_event_t;

typedef struct sb_spike sb_spike_t;

/* The defaults above. */
void sb_spike_opts_default(sb_spike_opts_t *o);

/* A detector; opts NULL for the defaults. NULL if an option is out of range
 * (bucket_ms < 1, alpha outside (0,1], k <= 0, max_keys 0) or memory runs
 * out. */
sb_spike_t *sb_spike_new(const sb_spike_opts_t *opts);
void sb_spike_destroy(sb_spike_t **d);

/* Counts one message of (tenant, key) at now_ms, negative or not. Returns 1
 * if it raised an incident, 0 if not; SB_EINVAL for a NULL argument or a
 * tenant + key longer than SB_SPIKE_KEY_MAX; SB_ENOMEM. ev (optional)
 * receives the figures behind the verdict. */
int sb_spike_observe(sb_spike_t *d, const char *tenant, const char *key, int64_t now_ms, int negative,
                     sb_spike_event_t *ev);

/* Keys tracked now. */
size_t sb_spike_keys(const sb_spike_t *d);

#endif
