/*
 * sbctl_simulate: `sbctl simulate RECORDING.jsonl --roster ROSTER.json
 * [--tenants CANDIDATE.json] [--seed N] [--json]`: what-if for a contact
 * centre. Recorded traffic is replayed on a virtual clock through a
 * candidate tenant configuration and a modelled agent roster
 * (sbctl_roster), and the predicted service level is reported per channel
 * and queue, with waits, agent occupancy and the busiest hour.
 *
 * Fidelity: the decisions are the product's own. Each message is admitted
 * (sb_admit), classified (sb_ruleset / sb_classify) and matched to a queue
 * (sb_route_config) by the services' code; routing, offers, pulls, max
 * waits and presence are the real route.lua and route_tick.lua, evaluated
 * by a private redis-server (sb_redisd) with ARGV now = the virtual time;
 * first-response targets and business hours come from the tenant's SLA
 * policies (sb_sla_policy). Only the agents are modelled: they log in and
 * out at their shift edges, accept offers after a sampled delay, send a
 * first reply and close after sampled times (seeded: --seed).
 *
 * The engine is a discrete-event loop over one heap of virtual instants
 * (microseconds); it never sleeps, so a week of traffic runs in about as
 * long as its Redis calls take. The same inputs and seed give the same
 * report (ties in the heap are broken by insertion order).
 *
 * Exit status: 0 done; 1 the simulation failed (redis-server did not start
 * or answer); 2 usage error or an unreadable file; 3 invalid input (each
 * problem reported as FILE:LINE: reason).
 */
#ifndef SBCTL_SIMULATE_H
#define SBCTL_SIMULATE_H

#include "sb_config.h"

#define SBCTL_SIMULATE_EXIT_BAD_INPUT 3

extern const sb_option_t sbctl_simulate_options[];

/* The verb: returns the process exit status (see above). */
int sbctl_simulate(const sb_config_t *c);

#endif
