/*
 * sb_route: the C side of routing. The decision itself is one atomic
 * script (route.lua: longest-idle agent, one queue per tenant); this module
 * turns an envelope into that script's arguments and records how long
 * publish-to-assigned took.
 */
#ifndef SB_ROUTE_H
#define SB_ROUTE_H

#include "sb_stage.h"

/* The route.lua source (embedded at build time). */
extern const char sb_script_route[];

/* Extra script arguments per item (see route.lua). */
#define SB_ROUTE_NEXTRA 5
/* Capacity an agent gets when a login names none. */
#define SB_ROUTE_DEFAULT_CAPACITY 3

/* Fills the item's script arguments. Returns 0, or SB_EINVAL with a reason
 * for an envelope route cannot act on (no body, no conversation). */
int sb_route_prepare(sb_stage_item_t *it, const char **why);

#endif
