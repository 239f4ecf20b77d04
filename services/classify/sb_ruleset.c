/*
 * sb_ruleset: see sb_ruleset.h. One array of (tenant, rules, classifier)
 * aligned with the service's tenants, plus the lexicons they all borrow.
 */
#include "sb_ruleset.h"
#include "sb_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const sb_tenant_t *tenant; /* the service's */
  sb_rules_t *rules;
  sb_classify_t *classify;
} entry_t;

struct sb_ruleset {
  sb_sentiment_t *sentiment;
  entry_t *entries;
  size_t n;
};

void sb_ruleset_destroy(sb_ruleset_t **rsp) {
  if (!rsp || !*rsp)
    return;
  sb_ruleset_t *rs = *rsp;
  for (size_t i = 0; rs->entries && i < rs->n; i++) {
    sb_classify_destroy(&rs->entries[i].classify);
    sb_rules_destroy(&rs->entries[i].rules);
  }
  free(rs->entries);
  sb_sentiment_destroy(&rs->sentiment);
  free(rs);
  *rsp = NULL;
}

/* The "classify" JSON of tenant id: from the re-read file when there is
 * one, else the service's own copy. *missing when the file lacks it. */
static const char *section_of(const sb_tenant_t *t, const sb_tenants_t *fresh, int *missing) {
  *missing = 0;
  if (!fresh)
    return t->section_json[SB_TENANT_CLASSIFY];
  const sb_tenant_t *f = sb_tenants_find(fresh, t->id, strlen(t->id));
  if (!f) {
    *missing = 1;
    return NULL;
  }
  return f->section_json[SB_TENANT_CLASSIFY];
}

static int build_entry(entry_t *e, const char *section, const sb_ruleset_source_t *src,
                       const sb_sentiment_t *sentiment, char *err, size_t errlen) {
  char why[256];
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
  return 0;
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
  if (!rc && !(rs->entries = calloc(n ? n : 1, sizeof *rs->entries)))
    rc = SB_ENOMEM;
  for (size_t i = 0; !rc && i < n; i++) {
    entry_t *e = &rs->entries[rs->n++];
    int missing;
    e->tenant = sb_tenants_at(src->tenants, i);
    const char *section = section_of(e->tenant, fresh, &missing);
    if (missing) {
      snprintf(err, errlen, "tenant %s: missing from %s (a restart removes tenants)", e->tenant->id,
               src->tenants_path);
      rc = SB_ECONFIG;
    } else {
      rc = build_entry(e, section, src, rs->sentiment, err, errlen);
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
  for (size_t i = 0; rs && i < rs->n; i++) {
    if (rs->entries[i].tenant == t) {
      if (rules)
        *rules = rs->entries[i].rules;
      return rs->entries[i].classify;
    }
  }
  return NULL;
}
