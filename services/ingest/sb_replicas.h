/*
 * sb_replicas: the live ingest replicas, counted in Redis, so that a
 * tenant's rate limit holds for the deployment and not per replica.
 *
 * Every period (SB_REPLICAS_PERIOD_MS) a replica renews its heartbeat in
 * the zset sb:{ingest}:replicas (replicas.lua: member = a replica id made
 * of host name, pid and start time; score = expiry by Redis's clock,
 * SB_REPLICAS_TTL_MS later) and reads how many heartbeats are alive. With
 * --rate-scope shared (the default) the count N becomes the limiter's share
 * (sb_ratelimit_set_replicas): each replica admits R/N of a tenant's rate R
 * and B/N of its burst. A replica that stops says so at once (its
 * heartbeat is removed); one that dies is forgotten after the TTL, so the
 * others take over its share within SB_REPLICAS_TTL_MS +
 * SB_REPLICAS_PERIOD_MS. Without Redis the last count stays.
 *
 * Metrics: sb_ingest_replicas (the count in use),
 * sb_ingest_replica_heartbeat_errors_total (renewals that failed).
 *
 * Invariants: on the service's loop; at most one heartbeat in flight; the
 * object is freed only once its timer is closed and no reply is pending.
 */
#ifndef SB_REPLICAS_H
#define SB_REPLICAS_H

#include "sb_ratelimit.h"
#include "sb_service.h"

#define SB_REPLICAS_PERIOD_MS 1000
#define SB_REPLICAS_TTL_MS 3000
#define SB_REPLICAS_KEY "sb:{ingest}:replicas"

typedef struct sb_replicas sb_replicas_t;

/* Starts the heartbeat (the first one at once when Redis is connected).
 * limiter: borrowed, NULL or one to share with the other replicas (it must
 * outlive this object). NULL when out of memory. */
sb_replicas_t *sb_replicas_new(sb_service_t *s, sb_ratelimit_t *limiter);
/* Removes this replica's heartbeat from Redis (best effort) and stops
 * renewing it; the count in use stays. */
void sb_replicas_leave(sb_replicas_t *r);
void sb_replicas_destroy(sb_replicas_t **r);

#endif
