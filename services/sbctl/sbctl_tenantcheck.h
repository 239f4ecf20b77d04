/*
 * sbctl_tenantcheck: `sbctl tenant [validate] FILE` checks a tenant
 * configuration file the way every service would at start, and says where
 * each problem is.
 *
 * Nothing here knows a rule of the configuration: the file goes through
 * sb_tenants_parse (common), and each tenant's sections through their
 * services' own parsers: "classify" sb_rules_parse, "route"
 * sb_route_config_new, "sla" sb_sla_policies_new, "notify"
 * sb_hooks_config_parse. What this module adds is coverage and places:
 *
 *  - every tenant is checked on its own (the services stop at the first
 *    bad tenant), then the tenants that passed are checked together for
 *    what spans tenants (a repeated tenant id or platform account); a
 *    tenant whose own members are bad still has its sections checked when
 *    they can be;
 *  - each parser names the field it refuses ("route.queues[1].strategy
 *    must be ..."); that path is looked up in a position index of the text
 *    (sbctl_jsonpos.h) to give a line and column: the field itself, else
 *    its closest named ancestor, else the section, else the tenant;
 *  - text that is not JSON is reported where cJSON stopped reading.
 *
 * Secrets written "env:NAME" are read from the environment as the services
 * read them, so an unset variable is a problem, unless the caller first
 * sets placeholders for them (sbctl_tenantcheck_env_placeholders).
 */
#ifndef SBCTL_TENANTCHECK_H
#define SBCTL_TENANTCHECK_H

#include "sb_tenants.h"

#include <stddef.h>
#include <stdio.h>

#define SBCTL_TENANTCHECK_MSG_MAX 512
#define SBCTL_TENANTCHECK_PROBLEMS_MAX 1000 /* then one "too many problems" */
#define SBCTL_TENANTCHECK_PLATFORMS_MAX 16
#define SBCTL_TENANTCHECK_FILE_MAX (4u << 20) /* as sb_tenants_load */

typedef struct {
  int line, col; /* from 1; col in code points */
  /* the tenant's id, "#<i>" for the i-th (from 0) without a usable id, or
   * "" for the file as a whole */
  char tenant[SB_TENANT_ID_MAX + 16];
  char message[SBCTL_TENANTCHECK_MSG_MAX]; /* the parser's reason, field first */
} sbctl_tenant_problem_t;

/* What a tenant configures (counted for the tenants whose sections parsed). */
typedef struct {
  char id[SB_TENANT_ID_MAX + 16];
  size_t accounts;
  size_t queues;   /* 1 ("default") without "route" */
  size_t policies; /* SLA: the default policy and each of "policies" */
  size_t webhooks;
  size_t intents; /* classify intents; 0 without "classify" */
} sbctl_tenant_summary_t;

typedef struct {
  char platform[SB_ACCOUNT_PLATFORM_MAX];
  size_t accounts;
} sbctl_platform_count_t;

typedef struct sbctl_tenantcheck sbctl_tenantcheck_t;

/* Checks text[0..len). NULL only when out of memory. */
sbctl_tenantcheck_t *sbctl_tenantcheck_run(const char *text, size_t len);
/* Reads path and checks it; with env_placeholders, first sets placeholders
 * for the unset variables its "env:NAME" secrets name (see below). 0, or
 * SB_EIO / SB_ENOMEM with a reason in err (the file cannot be read); a file
 * too large is a problem of the result, not an error. */
int sbctl_tenantcheck_load(const char *path, int env_placeholders, sbctl_tenantcheck_t **out, char *err,
                           size_t errlen);
void sbctl_tenantcheck_destroy(sbctl_tenantcheck_t **c);

/* Sets every environment variable that an "env:NAME" string of the JSON
 * text names and that is unset, to a placeholder, so that a file can be
 * checked away from its secrets. Returns how many were set. */
size_t sbctl_tenantcheck_env_placeholders(const char *text, size_t len);

/* 1 when there is no problem. */
int sbctl_tenantcheck_ok(const sbctl_tenantcheck_t *c);
size_t sbctl_tenantcheck_problem_count(const sbctl_tenantcheck_t *c);
const sbctl_tenant_problem_t *sbctl_tenantcheck_problem(const sbctl_tenantcheck_t *c, size_t i);
size_t sbctl_tenantcheck_tenant_count(const sbctl_tenantcheck_t *c);
const sbctl_tenant_summary_t *sbctl_tenantcheck_tenant(const sbctl_tenantcheck_t *c, size_t i);
size_t sbctl_tenantcheck_platform_count(const sbctl_tenantcheck_t *c);
const sbctl_platform_count_t *sbctl_tenantcheck_platform(const sbctl_tenantcheck_t *c, size_t i);

/* Problems, one line each: "<file>:<line>:<col>: tenant <id>: <message>"
 * ("<file>:<line>:<col>: <message>" for the file as a whole); with none,
 * a summary: tenants, accounts per platform, queues, policies, webhooks. */
void sbctl_tenantcheck_print(const sbctl_tenantcheck_t *c, const char *file, FILE *f);
/* One JSON object: {"file", "valid", "problems": [{"line", "col",
 * "tenant", "message"}], "summary": {"tenants", "accounts": {platform: n},
 * "queues", "policies", "webhooks", "intents"}, "tenants": [{"id",
 * "accounts", "queues", "policies", "webhooks", "intents"}]}. */
void sbctl_tenantcheck_print_json(const sbctl_tenantcheck_t *c, const char *file, FILE *f);

#endif
