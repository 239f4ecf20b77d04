/*
 * sbctl_view: the numbers of a running bus, read from Redis (each tenant's
 * stats hash, lease and queue sizes), for `sbctl stats` and the live view
 * of `sbctl up`.
 */
#ifndef SBCTL_VIEW_H
#define SBCTL_VIEW_H

#include "sb_tenants.h"

#include <hiredis/hiredis.h>
#include <stdio.h>

#define SBCTL_STAGES 4 /* leases: classify, route, sla, notify */

typedef struct {
  long long ingested, duplicates, classified, routed_messages, assigned, queued, sla_armed,
      sla_met, sla_missed, sla_warning, sla_breach, notified, dead_letters, lease_expired, closed;
  long long inflight[SBCTL_STAGES]; /* open leases per stage */
  long long waiting;                /* conversations in the queue now */
  long long resent;                 /* hand-offs re-sent, every stage ("resent_<stage>") */
} sbctl_stats_t;

extern const char *const sbctl_stage_names[SBCTL_STAGES];

/* Connects (synchronously) to a redis:// URL. NULL with a message on error. */
redisContext *sbctl_view_connect(const char *url);

/* Redis time per script: the lua_us:<script> and lua_calls:<script>
 * fields of the stats hashes (prelude.lua, stats_flush), summed over
 * tenants. */
#define SBCTL_SCRIPTS_MAX 32
typedef struct {
  size_t n;
  struct {
    char name[32];
    long long us, calls;
  } s[SBCTL_SCRIPTS_MAX];
} sbctl_script_time_t;

/* Adds one tenant's figures into *out. 0, or -1 if Redis did not answer. */
int sbctl_view_read(redisContext *rc, const char *tenant, sbctl_stats_t *out);
/* The same, and the tenant's script times added into *scripts, from the
 * same read of its stats hash (scripts may be NULL). */
int sbctl_view_read_scripts(redisContext *rc, const char *tenant, sbctl_stats_t *out,
                            sbctl_script_time_t *scripts);
/* Sums over every configured tenant. */
int sbctl_view_read_all(redisContext *rc, const sb_tenants_t *t, sbctl_stats_t *out);
/* Commands Redis executed so far (INFO commandstats, commands run inside
 * scripts included), or -1 if Redis did not answer. */
long long sbctl_view_commands(redisContext *rc);
/* Reads every configured tenant's script times into *out (replaced). 0,
 * or -1 if Redis did not answer. */
int sbctl_view_script_time(redisContext *rc, const sb_tenants_t *t, sbctl_script_time_t *out);
/* Redis's CPU time so far in microseconds (INFO cpu: the server's user +
 * system, its forked children not counted), or -1. */
long long sbctl_view_redis_cpu_us(redisContext *rc);

/* Open leases of every stage. */
long long sbctl_view_inflight(const sbctl_stats_t *s);

/* Prints the figures as one JSON object. */
void sbctl_view_json(FILE *f, const sbctl_stats_t *s);

#endif
