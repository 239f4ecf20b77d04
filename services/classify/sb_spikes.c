/*
 * sb_spikes: see sb_spikes.h. An array of trackers aligned with the
 * service's tenants (the same order as sb_tenants_at).
 */
#include "sb_spikes.h"
#include "sb_error.h"

#include <stdint.h>
#include <stdlib.h>

struct sb_spikes {
  const sb_tenants_t *tenants;
  sb_incident_t **by_tenant;
  size_t n;
};

sb_spikes_t *sb_spikes_new(const sb_tenants_t *tenants) {
  sb_spikes_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->tenants = tenants;
  s->n = sb_tenants_count(tenants);
  s->by_tenant = calloc(s->n ? s->n : 1, sizeof *s->by_tenant);
  if (!s->by_tenant)
    sb_spikes_destroy(&s);
  return s;
}

void sb_spikes_destroy(sb_spikes_t **sp) {
  if (!sp || !*sp)
    return;
  for (size_t i = 0; i < (*sp)->n && (*sp)->by_tenant; i++)
    sb_incident_destroy(&(*sp)->by_tenant[i]);
  free((*sp)->by_tenant);
  free(*sp);
  *sp = NULL;
}

/* Field by field: the structs may differ in their padding. */
static int same_opts(const sb_spike_opts_t *a, const sb_spike_opts_t *b) {
  return a->bucket_ms == b->bucket_ms && a->alpha == b->alpha && a->k == b->k &&
         a->warmup_buckets == b->warmup_buckets && a->min_count == b->min_count && a->min_sd == b->min_sd &&
         a->min_share_sd == b->min_share_sd && a->gap_buckets_max == b->gap_buckets_max &&
         a->max_keys == b->max_keys;
}

int sb_spikes_sync(sb_spikes_t *s, const sb_ruleset_t *rs) {
  int rc = 0;
  for (size_t i = 0; i < s->n; i++) {
    const sb_rules_t *rules = NULL;
    sb_incident_t **at = &s->by_tenant[i];
    sb_ruleset_classifier(rs, sb_tenants_at(s->tenants, i), &rules);
    const sb_rules_spike_t *sp = rules ? sb_rules_spike(rules) : NULL;
    if (!sp || !sp->enabled) {
      sb_incident_destroy(at);
    } else if (!*at || !same_opts(sb_incident_opts(*at), &sp->opts)) {
      sb_incident_destroy(at);
      if (!(*at = sb_incident_new(&sp->opts)))
        rc = SB_ENOMEM; /* the parser checked the ranges: only memory fails */
    }
  }
  return rc;
}

sb_incident_t *sb_spikes_of(const sb_spikes_t *s, const sb_tenant_t *t) {
  size_t i = s ? sb_tenants_index(s->tenants, t) : SIZE_MAX;
  return s && i < s->n ? s->by_tenant[i] : NULL;
}
