/*
 * sb_sla_firer: the firing side of the service-level timers.
 *
 * One loop timer set at the earliest due time the last claims reported,
 * capped at SB_SLA_RESCAN_MS. A round claims only the tenants with
 * something due, those this replica just committed events of
 * (sb_sla_firer_touch), and a share of the others so that each is looked
 * at every SB_SLA_RECHECK_MS (timers armed by other replicas: a timer due
 * sooner than that after another replica armed it may fire up to that
 * late if that replica dies). Each claim runs sla_fire.lua per tenant: it fires due warnings and breaches (with their
 * on_breach actions) and deferred supervisor alerts, storing each event
 * with its notify lease, and returns the events, which are handed to
 * notify, and the rearm tasks (sb_sla_rearm.h), which are computed here
 * and applied by sla_rearm.lua.
 *
 * The supervisors' calendars are passed to the claim as "open now / next
 * opening", refreshed at most every SB_SLA_CAL_REFRESH_MS per tenant (an
 * alert near an opening or closing may be that much early or late).
 */
#ifndef SB_SLA_FIRER_H
#define SB_SLA_FIRER_H

#include "sb_handoff.h"
#include "sb_service.h"
#include "sb_sla.h"

extern const char sb_script_sla_fire[];
extern const char sb_script_sla_rearm[];

#define SB_SLA_RESCAN_MS 50       /* longest wait between claim rounds */
#define SB_SLA_RECHECK_MS 1000    /* every tenant is claimed at least this often */
#define SB_SLA_CAL_REFRESH_MS 1000 /* calendars' open/closed state kept this long */

typedef struct sb_sla_firer sb_sla_firer_t;

/* Starts claiming (out: notify's hand-off, policies: every tenant's; both
 * borrowed and outliving the firer). NULL on OOM. */
sb_sla_firer_t *sb_sla_firer_new(sb_service_t *s, sb_handoff_t *out, const sb_sla_t *policies);
/* This replica committed an event of tenant: claim it next round (it may
 * have armed a timer due sooner than the tenant's known next one, or a
 * rearm task). */
void sb_sla_firer_touch(sb_sla_firer_t *f, const sb_tenant_t *tenant);
/* No further claims start. */
void sb_sla_firer_stop(sb_sla_firer_t *f);
/* 1 when no Redis reply is awaited. */
int sb_sla_firer_idle(const sb_sla_firer_t *f);
/* Frees it once its timer is closed and its replies are in; clears *f. */
void sb_sla_firer_destroy(sb_sla_firer_t **f);

#endif
