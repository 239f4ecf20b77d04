/* sb_ratelimit: see sb_ratelimit.h. Tokens are kept in thousandths so a
 * low rate refills smoothly without floating point; with a share of 1/N
 * the refill's remainder is carried, so N replicas together give the rate
 * to the token. */
#include "sb_ratelimit.h"

#include <stdlib.h>

#define MILLI 1000

typedef struct {
  const sb_tenant_t *tenant;
  int64_t milli_tokens; /* tokens x 1000 */
  int64_t carry;        /* refill not yet credited: milli-tokens x replicas */
  int64_t last_ms;
} bucket_t;

struct sb_ratelimit {
  const sb_tenants_t *tenants; /* buckets are in its order */
  bucket_t *b;
  size_t n;
  int64_t replicas; /* the share: 1/replicas of every tenant's rate and burst */
};

/* This replica's burst in milli-tokens: its share, at least one token (a
 * burst smaller than the replicas still lets each of them through). */
static int64_t burst_cap(const sb_ratelimit_t *r, const sb_tenant_t *t) {
  int64_t cap = t->rate_burst * MILLI / r->replicas;
  return cap < MILLI ? MILLI : cap;
}

sb_ratelimit_t *sb_ratelimit_new(const sb_tenants_t *t) {
  sb_ratelimit_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->tenants = t;
  r->n = sb_tenants_count(t);
  r->replicas = 1;
  r->b = calloc(r->n ? r->n : 1, sizeof *r->b);
  if (!r->b) {
    free(r);
    return NULL;
  }
  for (size_t i = 0; i < r->n; i++) {
    r->b[i].tenant = sb_tenants_at(t, i);
    r->b[i].milli_tokens = burst_cap(r, r->b[i].tenant);
    r->b[i].last_ms = -1;
  }
  return r;
}

void sb_ratelimit_destroy(sb_ratelimit_t **rp) {
  if (!*rp)
    return;
  free((*rp)->b);
  free(*rp);
  *rp = NULL;
}

/* The tenant's bucket, at its place in the set (no scan of 4,096 tenants
 * per request); a tenant of another set has none. */
static bucket_t *bucket_of(sb_ratelimit_t *r, const sb_tenant_t *t) {
  size_t i = sb_tenants_index(r->tenants, t);
  return i < r->n ? &r->b[i] : NULL;
}

static void refill(const sb_ratelimit_t *r, bucket_t *b, int64_t now_ms) {
  const sb_tenant_t *t = b->tenant;
  if (b->last_ms >= 0 && now_ms > b->last_ms) {
    /* events_per_s tokens per 1000 ms = events_per_s milli-tokens per ms,
     * of which this replica gets 1/replicas */
    int64_t due = (now_ms - b->last_ms) * t->rate_per_s + b->carry;
    b->milli_tokens += due / r->replicas;
    b->carry = due % r->replicas;
    if (b->milli_tokens > burst_cap(r, t))
      b->milli_tokens = burst_cap(r, t), b->carry = 0;
  }
  if (now_ms > b->last_ms)
    b->last_ms = now_ms;
}

int64_t sb_ratelimit_take(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n, int64_t now_ms) {
  bucket_t *b = bucket_of(r, t);
  if (!b || t->rate_per_s <= 0)
    return 0;
  refill(r, b, now_ms);
  int64_t need = (int64_t)n * MILLI;
  if (b->milli_tokens >= need) {
    b->milli_tokens -= need;
    return 0;
  }
  if (need > burst_cap(r, t))
    need = burst_cap(r, t); /* more than a burst: say when a full bucket comes */
  /* this replica refills at rate_per_s / replicas milli-tokens per ms */
  int64_t wait = ((need - b->milli_tokens) * r->replicas + t->rate_per_s - 1) / t->rate_per_s;
  return wait > 0 ? wait : 1;
}

void sb_ratelimit_set_replicas(sb_ratelimit_t *r, size_t replicas) {
  int64_t n = replicas < 1 ? 1 : replicas > SB_RATELIMIT_REPLICAS_MAX ? SB_RATELIMIT_REPLICAS_MAX
                                                                      : (int64_t)replicas;
  if (n == r->replicas)
    return;
  r->replicas = n;
  for (size_t i = 0; i < r->n; i++) { /* a smaller share applies at once */
    r->b[i].carry = 0;
    if (r->b[i].milli_tokens > burst_cap(r, r->b[i].tenant))
      r->b[i].milli_tokens = burst_cap(r, r->b[i].tenant);
  }
}

size_t sb_ratelimit_replicas(const sb_ratelimit_t *r) { return (size_t)r->replicas; }

void sb_ratelimit_refund(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n) {
  bucket_t *b = bucket_of(r, t);
  if (!b || t->rate_per_s <= 0)
    return;
  b->milli_tokens += (int64_t)n * MILLI;
  if (b->milli_tokens > burst_cap(r, t))
    b->milli_tokens = burst_cap(r, t);
}
