/*
 * sb_route: the C side of routing. The decision itself is one atomic
 * script (route.lua: queues, strategies, capacity in units, fairness,
 * transfers); this module holds each tenant's compiled configuration
 * (sb_route_config) and turns an envelope into that script's arguments:
 * for a customer message, the queue its tenant's rules choose; for an
 * agent event, the queues the agent's skills qualify for.
 */
#ifndef SB_ROUTE_H
#define SB_ROUTE_H

#include "sb_route_config.h"
#include "sb_stage.h"

/* The scripts (embedded at build time): route_lib.lua is shared by
 * route.lua (the stage's commit) and route_tick.lua (expired offers). */
extern const char sb_script_route_lib[];
extern const char sb_script_route[];
extern const char sb_script_route_tick[];

/* route_lib.lua + body as one malloc'd text (prelude.lua not included:
 * sb_script_add or sb_script_source add it), or NULL. */
char *sb_route_script(const char *body);

/* Extra script arguments per item (see route.lua). */
#define SB_ROUTE_NEXTRA 10
/* Capacity (units) an agent gets when a login names none. */
#define SB_ROUTE_DEFAULT_CAPACITY 3

typedef struct sb_route sb_route_t;

/* Compiles every tenant's "route" section. NULL with a reason in err when
 * one is wrong (the service must not start on a half-read configuration).
 * tenants must outlive the result. */
sb_route_t *sb_route_new(const sb_tenants_t *tenants, char *err, size_t errlen);
void sb_route_destroy(sb_route_t **r);

/* Reload (SIGHUP): re-reads the tenant file at path and recompiles the
 * "route" section of every tenant r serves; swaps them in only when all of
 * them compile, else keeps the running ones and returns the first error
 * (err names the tenant and field). Tenants added to the file, and tenants
 * gone from it, need a restart (every stage holds the tenant set): the
 * first are ignored, the second keep their running configuration; *skipped
 * counts both. Agents already logged in keep the queues their skills gave
 * them at login until their next agent event. Not thread-safe: call it on
 * the loop that prepares items. */
int sb_route_reload(sb_route_t *r, const char *path, int *skipped, char *err, size_t errlen);

/* The configuration of a tenant of the set given to sb_route_new. */
const sb_route_config_t *sb_route_config_of(const sb_route_t *r, const sb_tenant_t *t);

/* Fills the item's script arguments. Returns 0, or SB_EINVAL with a reason
 * for an envelope route cannot act on (no body, no conversation, a
 * transfer to a queue the tenant lacks). */
int sb_route_prepare(const sb_route_t *r, sb_stage_item_t *it, const char **why);

#endif
