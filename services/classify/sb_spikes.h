/*
 * sb_spikes: the service's spike trackers (sb_incident), one per tenant,
 * kept in step with the live rules (sb_ruleset): a tenant whose "spike"
 * settings are off has none; a reload that leaves a tenant's settings as
 * they were keeps its tracker (and the baselines it learnt); changed
 * settings start a fresh one.
 *
 * Invariants: used by classify's loop thread only (prepare and the reload's
 * completion both run there); borrows the service's tenants, which must
 * outlive it.
 */
#ifndef SB_SPIKES_H
#define SB_SPIKES_H

#include "sb_incident.h"
#include "sb_ruleset.h"
#include "sb_tenants.h"

typedef struct sb_spikes sb_spikes_t;

/* Trackers for tenants (none yet: call sb_spikes_sync). NULL on OOM. */
sb_spikes_t *sb_spikes_new(const sb_tenants_t *tenants);
void sb_spikes_destroy(sb_spikes_t **s);

/* Brings the trackers in line with rs. Returns 0 or SB_ENOMEM (the
 * tenants already done keep their new trackers; the others stay off). */
int sb_spikes_sync(sb_spikes_t *s, const sb_ruleset_t *rs);

/* Tenant t's tracker, or NULL when its spike detection is off. */
sb_incident_t *sb_spikes_of(const sb_spikes_t *s, const sb_tenant_t *t);

#endif
