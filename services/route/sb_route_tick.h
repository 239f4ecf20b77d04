/*
 * sb_route_tick: the clock of route. Offers not accepted in time move on
 * (route_tick.lua): every --offer-tick-ms, or at the earliest deadline
 * Redis reported, one script call per tenant whose queues offer. The
 * script claims each expired offer (so any number of route replicas
 * handle it once), re-offers the conversation and stores the decision as
 * an envelope with its sla-timer lease; this module only sends those
 * envelopes on (a lost send is re-sent by the lease sweeper).
 */
#ifndef SB_ROUTE_TICK_H
#define SB_ROUTE_TICK_H

#include "sb_handoff.h"
#include "sb_route.h"
#include "sb_service.h"

#define SB_ROUTE_TICK_MAX "200" /* offers expired per tenant per call */

typedef struct sb_route_tick sb_route_tick_t;

/* Starts the clock (NULL on error). out: where decisions go (sla-timer). */
sb_route_tick_t *sb_route_tick_new(sb_service_t *s, const sb_route_t *r, sb_handoff_t *out);
/* Stops starting calls (graceful stop); replies still arrive. */
void sb_route_tick_stop(sb_route_tick_t *t);
/* 1 when no call waits on Redis. */
int sb_route_tick_idle(const sb_route_tick_t *t);
/* Frees it once its timer is closed and every reply arrived. */
void sb_route_tick_destroy(sb_route_tick_t **t);

#endif
