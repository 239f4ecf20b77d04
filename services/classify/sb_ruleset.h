/*
 * sb_ruleset: everything classify compiles from configuration, as one
 * immutable unit: the sentiment lexicons and, for every tenant the service
 * knows, its rules and a classifier over them. It is built whole or not at
 * all, so that a reload (SIGHUP) can compile a new set off to the side and
 * swap it in only when every tenant's rules and every lexicon are valid; a
 * bad file leaves the running set untouched.
 *
 * Where rules come from, per tenant: the "classify" member of its entry in
 * the tenant file, else the --rules file, else no rules (language and
 * privacy only). Tenants are matched by id: a reload re-reads the tenant
 * file but serves the tenants the service started with (adding or removing
 * a tenant takes a restart of every service, as ingest and route need it
 * too); a reloaded file that lacks one of them is refused.
 *
 * Invariants: no I/O but reading the named files; no globals; building may
 * run on a worker thread (nothing it touches is shared with the loop); the
 * set owns its rules, lexicons and classifiers, and a classifier is used
 * by one thread at a time (the loop).
 */
#ifndef SB_RULESET_H
#define SB_RULESET_H

#include "sb_calendar.h"
#include "sb_classify.h"
#include "sb_tenants.h"

#include <stddef.h>

typedef struct sb_ruleset sb_ruleset_t;

typedef struct {
  const sb_tenants_t *tenants; /* the service's tenants (borrowed; must
                                  outlive the set: lookups compare them) */
  const char *tenants_path;    /* re-read this file's "classify" members;
                                  NULL: use tenants' own sections */
  const char *default_rules;   /* --rules file, or "" / NULL */
  const char *lexicons;        /* --lexicons folder, or "" / NULL */
} sb_ruleset_source_t;

/* Builds a complete set from src. NULL on any failure, with one reason
 * naming the tenant or file in err (always NUL-terminated if errlen > 0). */
sb_ruleset_t *sb_ruleset_build(const sb_ruleset_source_t *src, char *err, size_t errlen);
void sb_ruleset_destroy(sb_ruleset_t **rs);

/* The classifier of tenant t (one of the service's tenants) and, in
 * *rules if not NULL, its rules; NULL if t is not in the set. */
sb_classify_t *sb_ruleset_classifier(const sb_ruleset_t *rs, const sb_tenant_t *t,
                                     const sb_rules_t **rules);

/* The supervisors' hours of tenant t's spike incidents (its rules'
 * spike.supervisor_calendar, read from its sla.calendars): NULL for
 * always, or if t is not in the set. Owned by the set; one thread at a
 * time (sb_calendar). */
sb_calendar_t *sb_ruleset_supervisor_calendar(const sb_ruleset_t *rs, const sb_tenant_t *t);

#endif
