/*
 * sb_sla_level: publishes each tenant's service level (sb_service_level)
 * every --service-level-s over the last --service-level-window-s.
 *
 * One loop timer at the next period boundary (wall clock, so that every
 * replica computes the same period number). Per tenant, sla_level.lua
 * trims and reads the samples and claims the period (SET NX): every
 * replica sets its Prometheus gauges from what it read (so each replica's
 * /metrics agrees), and the one replica that claimed the period stores the
 * ServiceLevel envelope with its notify lease (sla_level_put.lua) and
 * hands it to notify, which publishes it on "<tenant>.service_level". A
 * replica that dies between claim and hand-off loses that period's event
 * (the next period publishes again); a lost send is re-sent by the lease.
 *
 * Gauges, labels tenant, channel, queue (channel and queue "*" for the
 * whole tenant): sb_service_level_answered, _answered_in_target_ratio,
 * _first_response_avg_seconds, _first_response_p90_seconds,
 * _unanswered, _unanswered_ratio, _backlog. A group that leaves the window
 * drops to 0.
 */
#ifndef SB_SLA_LEVEL_H
#define SB_SLA_LEVEL_H

#include "sb_handoff.h"
#include "sb_service.h"

extern const char sb_script_sla_level[];
extern const char sb_script_sla_level_put[];

#define SB_SLA_LEVEL_PERIOD_S "300"  /* --service-level-s default; 0 = off */
#define SB_SLA_LEVEL_WINDOW_S "3600" /* --service-level-window-s default */

typedef struct sb_sla_level sb_sla_level_t;

/* Starts the periodic publication (out: notify's hand-off, borrowed).
 * NULL on OOM. */
sb_sla_level_t *sb_sla_level_new(sb_service_t *s, sb_handoff_t *out);
/* No further period starts. */
void sb_sla_level_stop(sb_sla_level_t *l);
/* 1 when no Redis reply is awaited. */
int sb_sla_level_idle(const sb_sla_level_t *l);
/* Frees it once its timer is closed and its replies are in; clears *l. */
void sb_sla_level_destroy(sb_sla_level_t **l);

#endif
