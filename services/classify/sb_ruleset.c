/*
 * sb_ruleset: see sb_ruleset.h. One array of (tenant, rules, classifier)
 * aligned with the service's tenants, plus the lexicons they all borrow.
 */
#include "sb_ruleset.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const sb_tenant_t *tenant; /* the service's */
  sb_rules_t *rules;
  sb_classify_t *classify;
  sb_calendar_t *supervisor_calendar; /* spike.supervisor_calendar; NULL: always */
} entry_t;

struct sb_ruleset {
  sb_sentiment_t *sentiment;
  const sb_tenants_t *tenants; /* the service's: entries are in its order */
  entry_t *entries;
  size_t n;
};

static const entry_t *entry_of(const sb_ruleset_t *rs, const sb_tenant_t *t) {
  size_t i = rs ? sb_tenants_index(rs->tenants, t) : SIZE_MAX;
  return rs && i < rs->n ? &rs->entries[i] : NULL;
}

void sb_ruleset_destroy(sb_ruleset_t **rsp) {
  if (!rsp || !*rsp)
    return;
  sb_ruleset_t *rs = *rsp;
  for (size_t i = 0; rs->entries && i < rs->n; i++) {
    sb_classify_destroy(&rs->entries[i].classify);
    sb_rules_destroy(&rs->entries[i].rules);
    sb_calendar_destroy(&rs->entries[i].supervisor_calendar);
  }
  free(rs->entries);
  sb_sentiment_destroy(&rs->sentiment);
  free(rs);
  *rsp = NULL;
}

/* Tenant t as the rules are read from: its entry in the re-read file when
 * there is one (NULL if the file lacks it), else the service's own. */
static const sb_tenant_t *source_of(const sb_tenant_t *t, const sb_tenants_t *fresh) {
  return fresh ? sb_tenants_find(fresh, t->id, strlen(t->id)) : t;
}

/* spike.supervisor_calendar names one of the tenant's sla.calendars (the
 * calendars sla-timer counts targets in): read it from the sla section. */
static int supervisor_calendar(entry_t *e, const sb_tenant_t *src, char *err, size_t errlen) {
  const char *name = sb_rules_spike(e->rules)->supervisor_calendar;
  if (!*name)
    return 0;
  const char *sla = src->section_json[SB_TENANT_SLA];
  cJSON *j = sla ? cJSON_Parse(sla) : NULL;
  const cJSON *cal = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "calendars"), name);
  char why[200];
  int rc = 0;
  if (!cal) {
    snprintf(err, errlen, "tenant %s: spike.supervisor_calendar: \"%s\" names no calendar of sla.calendars",
             e->tenant->id, name);
    rc = SB_ECONFIG;
  } else if (!(e->supervisor_calendar = sb_calendar_from_json(cal, why, sizeof why))) {
    snprintf(err, errlen, "tenant %s: sla.calendars.%s: %s", e->tenant->id, name, why);
    rc = SB_ECONFIG;
  }
  cJSON_Delete(j);
  return rc;
}

static int build_entry(entry_t *e, const sb_tenant_t *from, const sb_ruleset_source_t *src,
                       const sb_sentiment_t *sentiment, char *err, size_t errlen) {
  char why[256];
  const char *section = from->section_json[SB_TENANT_CLASSIFY];
  if (section)
    e->rules = sb_rules_parse(section, strlen(section), why, sizeof why);
  else if (src->default_rules && *src->default_rules)
    e->rules = sb_rules_load(src->default_rules, why, sizeof why);
  else
    e->rules = sb_rules_parse("{}", 2, why, sizeof why);
  if (e->rules)
    e->classify = sb_classify_new(e->rules, sentiment);
  if (!e->classify) {
    snprintf(err, errlen, "tenant %s: %s", e->tenant->id, e->rules ? "out of memory" : why);
    return SB_ECONFIG;
  }
  return supervisor_calendar(e, from, err, errlen);
}

sb_ruleset_t *sb_ruleset_build(const sb_ruleset_source_t *src, char *err, size_t errlen) {
  char why[256];
  if (errlen)
    err[0] = '\0';
  sb_ruleset_t *rs = calloc(1, sizeof *rs);
  sb_tenants_t *fresh = NULL;
  int rc = rs ? 0 : SB_ENOMEM;
  if (!rc && src->tenants_path) {
    fresh = sb_tenants_load(src->tenants_path, why, sizeof why);
    if (!fresh) {
      snprintf(err, errlen, "%s: %s", src->tenants_path, why);
      rc = SB_ECONFIG;
    }
  }
  if (!rc && !(rs->sentiment = sb_sentiment_new()))
    rc = SB_ENOMEM;
  if (!rc && src->lexicons && *src->lexicons &&
      sb_sentiment_load_dir(rs->sentiment, src->lexicons, NULL, why, sizeof why)) {
    snprintf(err, errlen, "lexicons %s: %s", src->lexicons, why);
    rc = SB_ECONFIG;
  }
  size_t n = rc ? 0 : sb_tenants_count(src->tenants);
  if (rs)
    rs->tenants = src->tenants;
  if (!rc && !(rs->entries = calloc(n ? n : 1, sizeof *rs->entries)))
    rc = SB_ENOMEM;
  for (size_t i = 0; !rc && i < n; i++) {
    entry_t *e = &rs->entries[rs->n++];
    e->tenant = sb_tenants_at(src->tenants, i);
    const sb_tenant_t *from = source_of(e->tenant, fresh);
    if (!from) {
      snprintf(err, errlen, "tenant %s: missing from %s (a restart removes tenants)", e->tenant->id,
               src->tenants_path);
      rc = SB_ECONFIG;
    } else {
      rc = build_entry(e, from, src, rs->sentiment, err, errlen);
    }
  }
  sb_tenants_destroy(&fresh);
  if (rc == SB_ENOMEM && errlen)
    snprintf(err, errlen, "out of memory");
  if (rc)
    sb_ruleset_destroy(&rs);
  return rs;
}

sb_classify_t *sb_ruleset_classifier(const sb_ruleset_t *rs, const sb_tenant_t *t,
                                     const sb_rules_t **rules) {
  const entry_t *e = entry_of(rs, t);
  if (e && rules)
    *rules = e->rules;
  return e ? e->classify : NULL;
}

sb_calendar_t *sb_ruleset_supervisor_calendar(const sb_ruleset_t *rs, const sb_tenant_t *t) {
  const entry_t *e = entry_of(rs, t);
  return e ? e->supervisor_calendar : NULL;
}
