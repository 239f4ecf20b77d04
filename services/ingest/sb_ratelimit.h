/*
 * sb_ratelimit: per-tenant token buckets (pure: time is an argument).
 *
 * A tenant with "rate": {"events_per_s": R, "burst": B} in the tenant file
 * may publish B events at once and R per second after that; past it the
 * door answers 429 with Retry-After (HTTP) or ACK_RETRY_LATER (ZeroMQ),
 * never a silent drop. Buckets live in each ingest replica; with a share
 * of 1/N (sb_ratelimit_set_replicas, N the live replicas that sb_replicas
 * counts in Redis) each holds R/N and B/N (at least one token), so N
 * replicas behind an even balancer give a tenant R in all, not N x R.
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
/* Bounds the share (a replica count beyond it is taken as this). */
#define SB_RATELIMIT_REPLICAS_MAX 1024

/* From now on every bucket holds 1/replicas of its tenant's rate and burst
 * (replicas < 1 counts as 1; the default is 1). Tokens above a smaller
 * share's burst are dropped at once. */
void sb_ratelimit_set_replicas(sb_ratelimit_t *r, size_t replicas);
size_t sb_ratelimit_replicas(const sb_ratelimit_t *r);

/* Gives back n tokens taken earlier (a request refused for another
 * reason after taking them). */
void sb_ratelimit_refund(sb_ratelimit_t *r, const sb_tenant_t *t, size_t n);

#endif
