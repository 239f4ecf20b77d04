/* sb_ratelimit: see sb_ratelimit.h. Tokens are kept in thousandths so a
 * low rate refills smoothly without floating point. */
#include "sb_ratelimit.h"

#include <stdlib.h>

#define MILLI 1000

typedef struct {
  const sb_tenant_t *tenant;
  int64_t milli_tokens; /* tokens x 1000 */
  int64_t last_ms;
} bucket_t;

struct sb_ratelimit {
  bucket_t *b;
  size_t n;
};

sb_ratelimit_t *sb_ratelimit_new(const sb_tenants_t *t) {
  sb_ratelimit_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->n = sb_tenants_count(t);
  r->b = calloc(r->n ? r->n : 1, sizeof *r->b);
  if (!r->b) {
    free(r);
    return NULL;
  }
  for (size_t i = 0; i < r->n; i++) {
    r->b[i].tenant = sb_tenants_at(t, i);
    r->b[i].milli_tokens = r->b[i].tenant->rate_burst * MILLI;
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

static bucket_t *bucket_of(sb_ratelimit_t *r, const sb_tenant_t *t) {
  for (size_t i = 0; i < r->n; i++)
    if (r->b[i].tenant == t)
      return &r->b[i];
  return NULL;
}

static void refill(bucket_t *b, int64_t now_ms) {
  const sb_tenant_t *t = b->tenant;
  if (b->last_ms >= 0 && now_ms > b->last_ms) {
    /* events_per_s tokens per 1000 ms = events_per_s milli-tokens per ms */
    b->milli_tokens += (now_ms - b->last_ms) * t->rate_per_s;
    if (b->milli_tokens > t->rate_burst * MILLI)
      b->milli_tokens = t->rate_burst * MILLI;
  }
  if (now_ms > b->last_ms)
    b->last_ms = now_ms;
}

int64_t sb_ratelimit_take(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n, int64_t now_ms) {
  bucket_t *b = bucket_of(r, t);
  if (!b || t->rate_per_s <= 0)
    return 0;
  refill(b, now_ms);
  int64_t need = (int64_t)n * MILLI;
  if (b->milli_tokens >= need) {
    b->milli_tokens -= need;
    return 0;
  }
  if (need > t->rate_burst * MILLI)
    need = t->rate_burst * MILLI; /* more than a burst: say when a full bucket comes */
  int64_t wait = (need - b->milli_tokens + t->rate_per_s - 1) / t->rate_per_s;
  return wait > 0 ? wait : 1;
}

void sb_ratelimit_refund(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n) {
  bucket_t *b = bucket_of(r, t);
  if (!b || t->rate_per_s <= 0)
    return;
  b->milli_tokens += (int64_t)n * MILLI;
  if (b->milli_tokens > t->rate_burst * MILLI)
    b->milli_tokens = t->rate_burst * MILLI;
}
