/*
 * sb_route_config: a tenant's routing configuration (its "route" object),
 * read and checked once at start, then compiled into the short strings
 * route.lua takes, so that no routing decision parses anything.
 *
 *   "route": {
 *     "queues": [{"id": "billing-fr", "strategy": "best_skill",
 *                 "skills": {"lang:fr": 2, "billing": 1},
 *                 "priority": 10,
 *                 "fairness": {"max": 20, "period_s": 3600},
 *                 "offer": {"timeout_s": 30, "hops": 3, "away_on_timeout": true,
 *                           "fallback": "general"}}],
 *     "rules": [{"name": "cards-to-pci", "if": {"pii": ["card"]}, "queue": "pci"}],
 *     "default_queue": "general",
 *     "agents": [{"id": "ann", "skills": {"lang:fr": 3, "billing": 2}}],
 *     "channel_units": {"voice": 3, "email": 1},
 *     "reopen_s": 3600, "sticky_s": 604800, "presence_grace_s": 120 }
 *
 * Presence. An agent who logs out keeps its open conversations; with
 * presence_grace_s > 0 (default 0: keep them until closed), those of an
 * agent not back within the grace period are re-routed to their queues.
 *
 * Queues. An agent belongs to a queue when every skill the queue requires is
 * at least at the required level in the agent's roster entry ("agents";
 * an agent missing from the roster has no skills). Membership and each
 * agent's weighted skill score per queue are computed here, per roster
 * agent, once: route.lua receives them with the agent's login. A queue's
 * "priority" (-100..100) is added to the conversation's priority (0..100,
 * from classify) to order its waiting line.
 *
 * Strategies (sb_route_strategy_t): longest_idle, least_occupied,
 * best_skill, round_robin, sticky (the customer's last agent when free,
 * else longest_idle). See route.lua for how each ranks agents.
 *
 * Offers. In a queue with "offer", an assignment is an offer: the agent
 * accepts (or replies) before timeout_s, else (or on reject) the
 * conversation is offered to the next candidate, never twice to the same
 * agent; after `hops` offers it goes to the fallback queue (or waits in its
 * own). away_on_timeout sets an unresponsive agent away.
 *
 * Maximum wait. "max_wait": {"after_s": 300, "then": "general"}: a
 * conversation waiting in the queue that long moves to the overflow queue
 * named by "then" (and is offered there at once if someone is free); with
 * "then" one of callback, email, offline_form it leaves the waiting line
 * and a ROUTE_DIVERTED decision tells integrations to take that action.
 *
 * Widening ("bullseye of rings"). "widen": [{"after_s": 30, "lower_by": 1},
 * {"after_s": 90, "lower_by": 2}] (1..4 steps, after_s 1..86400 and
 * lower_by 1..10 both strictly increasing, every after_s before
 * max_wait.after_s): once a conversation has waited after_s seconds in the
 * queue, agents whose levels are up to lower_by below the queue's also
 * qualify. A required level L becomes L - lower_by but never below 1; a
 * requirement of 0 (the skill at any level) stays. Each step must lower
 * some level further than the one before, else it is refused. Step k is
 * compiled into an internal queue (a ring) "<id>~<k>": the queue's
 * strategy, priority, fairness (counted per ring) and offer, the lowered
 * skills. Every agent of the queue qualifies for its rings too, so a ring's
 * candidates include the queue's. The conversation moves ring to ring
 * through the waitdue zset (decision reason "widened", queue = the ring);
 * times count from when it entered the configured queue, so a step taken
 * early (sla-timer's "widen_routing" sets it due now) leaves the later ones
 * at their times; after the last ring comes max_wait's action, if any, at
 * max_wait.after_s. A freed agent pulls the best head of all its queues
 * and rings (priority, then age). Users cannot name rings (ids with '~'
 * are not queue ids).
 *
 * Ring-all. "offer": {..., "ring_all": N} (2..8) offers a conversation
 * routed into the queue (new, re-offered, widened or overflowed; a pull,
 * a transfer or a re-route after logout offers to one agent) to up to N
 * candidates at once, each holding the units
 * (so capacity holds) and counted by fairness. The decision names the
 * best-ranked as its agent, reason "ring_all", every agent offered with
 * verdict "rung". The first to accept (or reply, close, transfer) wins and
 * the others' offers are withdrawn in the same script (their units come
 * back and they pull what waits); an action on it by one of them afterwards
 * is rejected ("offer_taken") and changes nothing. A reject withdraws that
 * agent's offer only ("offer_withdrawn"); when none accepts by timeout_s
 * (or all reject), it moves on as offers do (all of them count as tried,
 * the round as one hop; away_on_timeout sets each away).
 *
 * Rules are tried in order; the first whose every condition holds names
 * the queue; none: default_queue. Conditions (a list means any of):
 *   language [codes]   channel [names]   public bool    intent [names]
 *   sentiment [neg..]  priority_min int  vip bool       pii [types] or true
 *   competitor bool    legal bool        reach_min int (author followers)
 *   repeat_min int (classify's repeat_contacts: earlier conversations)
 *   spike bool (the message belongs to a spike incident: Classification.spike)
 *
 * Capacity is in units: an agent logs in with a capacity, each
 * conversation takes channel_units[channel] of it (default 1 for every
 * channel). With capacity 15 and {"voice": 15, "messenger": 5, "email": 3},
 * an agent takes 1 call, or 3 chats, or 5 e-mails.
 *
 * Specs (compiled for route.lua, '|'-separated):
 *   "id|strategy|fair_max|fair_period_s|offer_s|hops|away|fallback|next_s|
 *    next|base|next_at_s|ring_all"
 * next: where a conversation waiting here goes next (the next ring, else
 * max_wait.then, "" none); next_at_s: when, in seconds after it entered
 * the configured queue; next_s: the same counted from entering this queue
 * or ring (0: never); base: a ring's configured queue ("" for a queue).
 *
 * A tenant without "route" gets one queue "default" (longest_idle, no
 * skills): the behaviour of a single-queue contact centre.
 */
#ifndef SB_ROUTE_CONFIG_H
#define SB_ROUTE_CONFIG_H

#include "sb_envelope.h"
#include "sb_tenants.h"

#include <stddef.h>
#include <stdint.h>

#define SB_ROUTE_QUEUES_MAX 256
#define SB_ROUTE_RULES_MAX 256
#define SB_ROUTE_AGENTS_MAX 100000
#define SB_ROUTE_SKILLS_MAX 32   /* skills a queue requires / an agent lists */
#define SB_ROUTE_NAME_MAX 64     /* queue ids, skill names, rule names */
#define SB_ROUTE_LIST_MAX 16     /* values in one rule condition */
#define SB_ROUTE_WIDEN_MAX 4     /* widening steps (rings) per queue */
#define SB_ROUTE_RING_ALL_MAX 8  /* agents one ring-all offer goes to at once */

typedef enum {
  SB_ROUTE_LONGEST_IDLE,
  SB_ROUTE_LEAST_OCCUPIED,
  SB_ROUTE_BEST_SKILL,
  SB_ROUTE_ROUND_ROBIN,
  SB_ROUTE_STICKY,
  SB_ROUTE_STRATEGY_N
} sb_route_strategy_t;

typedef struct sb_route_config sb_route_config_t;

/* Reads one tenant's "route" object (json: its text, or NULL for a tenant
 * without one). NULL on error, with a reason naming the tenant and the
 * field in err. */
sb_route_config_t *sb_route_config_new(const sb_tenant_t *t, const char *json, char *err,
                                       size_t errlen);
void sb_route_config_destroy(sb_route_config_t **c);

/* What a customer message routes by: the queue (its compiled spec for
 * route.lua), the rule that chose it ("default" when none did), and the
 * units the conversation takes. Never fails: a message no rule takes goes
 * to the default queue. */
typedef struct {
  const char *queue_spec;
  const char *rule;
  int units;
  int priority; /* the conversation's priority plus the queue's, 0..200 */
} sb_route_target_t;
sb_route_target_t sb_route_config_match(const sb_route_config_t *c, const sb_envelope_t *env);

/* The compiled spec of queue id, or NULL for a queue the tenant lacks. */
const char *sb_route_config_queue_spec(const sb_route_config_t *c, const char *id);
/* The queues agent belongs to, compiled for route.lua (roster agents get
 * theirs, anyone else the queues that require no skill). */
const char *sb_route_config_agent_spec(const sb_route_config_t *c, const char *agent);
/* "reopen_s|sticky_s|presence_grace_s" for route.lua. */
const char *sb_route_config_windows(const sb_route_config_t *c);
/* Every queue's spec, ';'-separated (route_tick.lua, reject). */
const char *sb_route_config_all_specs(const sb_route_config_t *c);
/* 1 if the tenant needs the clock (route_tick.lua): a queue with "offer",
 * "max_wait" or "widen", a presence grace period, or an "sla" section that
 * mentions widen_routing (sla-timer puts conversations due in waitdue; one
 * whose queue has no step left stays waiting, counted as widen_nothing). */
int sb_route_config_offers(const sb_route_config_t *c);

const char *sb_route_strategy_name(sb_route_strategy_t s);
/* -1 for an unknown name. */
int sb_route_strategy_parse(const char *name);

#endif
