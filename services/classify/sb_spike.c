/*
 * sb_spike: EWMA baselines per key (see sb_spike.h for the model).
 *
 * Keys live in a chained hash table and on a doubly linked recency list;
 * the least recent key is evicted when the table is full. Each key keeps
 * its open bucket (index, count, negatives, kinds already raised) and two
 * baselines; closing buckets folds the open one, then the silent ones, into
 * the baselines.
 */
#include "sb_spike.h"
#include "sb_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define KEY_SEP '\x1f'

typedef struct node {
  char key[SB_SPIKE_KEY_MAX + 2];
  uint32_t hash;
  int64_t bucket; /* index of the open bucket */
  uint32_t count, negative;
  unsigned raised; /* kinds raised in the open bucket */
  int seen, share_seen; /* buckets in each baseline */
  double mean, var, share_mean, share_var;
  struct node *chain, *newer, *older;
} node_t;

struct sb_spike {
  sb_spike_opts_t o;
  node_t **heads;
  size_t nheads; /* power of two */
  node_t *newest, *oldest;
  size_t n;
};

void sb_spike_opts_default(sb_spike_opts_t *o) {
  *o = (sb_spike_opts_t){.bucket_ms = SB_SPIKE_BUCKET_MS,
                         .alpha = SB_SPIKE_ALPHA,
                         .k = SB_SPIKE_K,
                         .warmup_buckets = SB_SPIKE_WARMUP_BUCKETS,
                         .min_count = SB_SPIKE_MIN_COUNT,
                         .min_sd = SB_SPIKE_MIN_SD,
                         .min_share_sd = SB_SPIKE_MIN_SHARE_SD,
                         .gap_buckets_max = SB_SPIKE_GAP_BUCKETS_MAX,
                         .max_keys = SB_SPIKE_MAX_KEYS};
}

sb_spike_t *sb_spike_new(const sb_spike_opts_t *opts) {
  sb_spike_opts_t o;
  if (opts)
    o = *opts;
  else
    sb_spike_opts_default(&o);
  if (o.bucket_ms < 1 || !(o.alpha > 0 && o.alpha <= 1) || !(o.k > 0) || o.max_keys == 0)
    return NULL;
  sb_spike_t *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->o = o;
  d->nheads = 16;
  while (d->nheads < o.max_keys)
    d->nheads *= 2;
  if (!(d->heads = calloc(d->nheads, sizeof *d->heads))) {
    free(d);
    return NULL;
  }
  return d;
}

void sb_spike_destroy(sb_spike_t **dp) {
  if (!dp || !*dp)
    return;
  for (node_t *n = (*dp)->newest, *next; n; n = next)
    next = n->older, free(n);
  free((*dp)->heads);
  free(*dp);
  *dp = NULL;
}

size_t sb_spike_keys(const sb_spike_t *d) { return d ? d->n : 0; }

static uint32_t fnv(const char *s) {
  uint32_t h = FNV_OFFSET;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * FNV_PRIME;
  return h;
}

/* ------------------------------------------------------ table and recency */

static void unlink_recency(sb_spike_t *d, node_t *n) {
  if (n->newer)
    n->newer->older = n->older;
  else
    d->newest = n->older;
  if (n->older)
    n->older->newer = n->newer;
  else
    d->oldest = n->newer;
  n->newer = n->older = NULL;
}

static void make_newest(sb_spike_t *d, node_t *n) {
  if (d->newest == n)
    return;
  if (n->newer || n->older || d->oldest == n)
    unlink_recency(d, n);
  n->older = d->newest;
  if (d->newest)
    d->newest->newer = n;
  d->newest = n;
  if (!d->oldest)
    d->oldest = n;
}

static node_t **slot_of(sb_spike_t *d, const char *key, uint32_t h) {
  node_t **at = &d->heads[h & (d->nheads - 1)];
  while (*at && ((*at)->hash != h || strcmp((*at)->key, key)))
    at = &(*at)->chain;
  return at;
}

static void evict_oldest(sb_spike_t *d) {
  node_t *old = d->oldest;
  node_t **at = slot_of(d, old->key, old->hash);
  *at = old->chain;
  unlink_recency(d, old);
  free(old);
  d->n--;
}

static node_t *find_or_add(sb_spike_t *d, const char *key, int64_t bucket) {
  uint32_t h = fnv(key);
  node_t **at = slot_of(d, key, h);
  if (*at)
    return *at;
  if (d->n == d->o.max_keys) {
    evict_oldest(d);
    at = slot_of(d, key, h); /* the chain may have changed */
  }
  node_t *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  memcpy(n->key, key, strlen(key) + 1);
  n->hash = h, n->bucket = bucket;
  *at = n;
  d->n++;
  return n;
}

/* ------------------------------------------------------------- baselines */

/* Incremental EWMA mean and variance. */
static void ewma(double a, int *seen, double *mean, double *var, double x) {
  if ((*seen)++ == 0) {
    *mean = x, *var = 0;
    return;
  }
  double diff = x - *mean;
  *mean += a * diff;
  *var = (1 - a) * (*var + a * diff * diff);
}

static void close_open_bucket(const sb_spike_t *d, node_t *n) {
  ewma(d->o.alpha, &n->seen, &n->mean, &n->var, n->count);
  if (n->count)
    ewma(d->o.alpha, &n->share_seen, &n->share_mean, &n->share_var, (double)n->negative / n->count);
}

static void advance(const sb_spike_t *d, node_t *n, int64_t bucket) {
  uint64_t silent = (uint64_t)bucket - (uint64_t)n->bucket - 1; /* bucket > n->bucket */
  close_open_bucket(d, n);
  if (silent > (uint64_t)(d->o.gap_buckets_max > 0 ? d->o.gap_buckets_max : 0)) {
    n->seen = n->share_seen = 0; /* too long a silence: start again */
    n->mean = n->var = n->share_mean = n->share_var = 0;
  } else {
    for (uint64_t k = 0; k < silent; k++)
      ewma(d->o.alpha, &n->seen, &n->mean, &n->var, 0);
  }
  n->bucket = bucket;
  n->count = n->negative = 0;
  n->raised = 0;
}

/* Times before the epoch count as the epoch (keeps the arithmetic exact). */
static int64_t bucket_of(int64_t now_ms, int64_t width) { return (now_ms > 0 ? now_ms : 0) / width; }

static double floor_sd(double var, double min_sd) {
  double sd = sqrt(var > 0 ? var : 0);
  return sd > min_sd ? sd : min_sd;
}

static unsigned judge(const sb_spike_t *d, const node_t *n) {
  unsigned kinds = 0;
  if (n->seen < d->o.warmup_buckets || n->count < (uint32_t)(d->o.min_count > 0 ? d->o.min_count : 0))
    return 0;
  if (n->count > n->mean + d->o.k * floor_sd(n->var, d->o.min_sd))
    kinds |= SB_SPIKE_VOLUME;
  double share = (double)n->negative / n->count;
  if (n->share_seen > 0 && share > n->share_mean + d->o.k * floor_sd(n->share_var, d->o.min_share_sd))
    kinds |= SB_SPIKE_NEGATIVE;
  return kinds & ~n->raised;
}

static void report(const sb_spike_t *d, const node_t *n, unsigned kinds, sb_spike_event_t *ev) {
  ev->kinds = kinds;
  ev->count = n->count, ev->negative = n->negative;
  ev->mean = n->mean, ev->sd = sqrt(n->var > 0 ? n->var : 0);
  ev->share_mean = n->share_mean, ev->share_sd = sqrt(n->share_var > 0 ? n->share_var : 0);
  ev->bucket_start_ms = n->bucket * d->o.bucket_ms;
}

int sb_spike_observe(sb_spike_t *d, const char *tenant, const char *key, int64_t now_ms, int negative,
                     sb_spike_event_t *ev) {
  char full[SB_SPIKE_KEY_MAX + 2];
  if (!d || !tenant || !key || strlen(tenant) + strlen(key) > SB_SPIKE_KEY_MAX)
    return SB_EINVAL;
  size_t tl = strlen(tenant);
  memcpy(full, tenant, tl);
  full[tl] = KEY_SEP;
  memcpy(full + tl + 1, key, strlen(key) + 1);
  int64_t bucket = bucket_of(now_ms, d->o.bucket_ms);
  node_t *n = find_or_add(d, full, bucket);
  if (!n)
    return SB_ENOMEM;
  make_newest(d, n);
  if (bucket > n->bucket)
    advance(d, n, bucket);
  n->count++;
  n->negative += negative != 0;
  unsigned kinds = judge(d, n);
  n->raised |= kinds;
  if (ev)
    report(d, n, kinds, ev);
  return kinds != 0;
}
