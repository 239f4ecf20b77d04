/*
 * sb_ratelimit: per-tenant token buckets (pure: time is an argument).
 *
 * A tenant with "rate": {"events_per_s": R, "burst": B} in the tenant file
 * may publish B events at once and R per second after that; past it the
 * door answers 429 with Retry-After (HTTP) or ACK_RETRY_LATER (ZeroMQ),
 * never a silent drop. Buckets live in each ingest replica: with N
 * replicas behind a balancer a tenant gets up to N x R.
 */
#ifndef SB_RATELIMIT_H
#define SB_RATELIMIT_H

#include "sb_tenants.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sb_ratelimit sb_ratelimit_t;

/* One bucket per tenant of t (borrowed; must outlive the limiter). */
sb_ratelimit_t *sb_ratelimit_new(const sb_tenants_t *t);
void sb_ratelimit_destroy(sb_ratelimit_t **r);

/* Takes n tokens from the tenant's bucket at now_ms. Returns 0, or the
 * milliseconds until n tokens will be there (nothing taken). A tenant
 * without a rate is never limited. */
int64_t sb_ratelimit_take(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n, int64_t now_ms);
/* Gives back n tokens taken earlier (a request refused for another
 * reason after taking them). */
void sb_ratelimit_refund(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n);

#endif
