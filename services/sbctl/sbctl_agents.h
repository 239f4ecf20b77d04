/*
 * sbctl_agents: simulated agents for a tenant list. Each logs in with a
 * capacity, and for every assignment it sees on the feed (its own name,
 * "<tenant>.assigned" topic) it accepts at once, replies after reply_ms and
 * closes reply_ms + close_ms later, through the same publish endpoint a
 * real agent desktop would use (reply_ms < 0: they only log in and hold
 * what they get). It also measures publish-to-assigned latency from the
 * feed (routing.decided_us - published_us) for messages that reached an
 * agent, new conversations and follow-ups alike.
 *
 * Suggested answers (sbctl_agents_judge_suggestions): the agents remember the answer
 * classify suggested for each conversation's last message
 * (Classification.suggested_reply, seen on the feed). When they reply to
 * such a conversation, with probability accept_pct % they use it (the
 * reply names it in suggestion: counted as accepted), otherwise they turn
 * it down (an AGENT_SUGGESTION with accepted false, then a plain reply).
 * Unless told to judge they send no feedback at all.
 */
#ifndef SBCTL_AGENTS_H
#define SBCTL_AGENTS_H

#include "sbctl_client.h"
#include "sb_metrics.h"
#include "sb_tenants.h"

typedef struct {
  int per_tenant;  /* agents per tenant */
  int capacity;
  int reply_ms, close_ms;
} sbctl_agents_opts_t;

typedef struct {
  uint64_t assignments, replies, closes;
  uint64_t suggestions_accepted, suggestions_rejected; /* feedback sent */
} sbctl_agents_stats_t;

/* --accept-suggestions PCT: an integer 0..100. 0 and *pct, or -1 with a
 * reason in why. */
int sbctl_agents_parse_pct(const char *text, int *pct, char *why, size_t whylen);

typedef struct sbctl_agents sbctl_agents_t;

/* feed: the notify PUB endpoint; client: where agent events are published
 * (borrowed). per_tenant 0 = no agents, only latency measurement. */
sbctl_agents_t *sbctl_agents_new(void *zctx, const char *feed, sbctl_client_t *client,
                                 const sb_tenants_t *tenants, const sbctl_agents_opts_t *o);
/* The same, subscribed as a CURVE client (curve: the client key pair and the
 * feed's public key; only read; NULL or not enabled = plaintext). */
struct sb_curve;
sbctl_agents_t *sbctl_agents_new_curve(void *zctx, const char *feed, sbctl_client_t *client,
                                       const sb_tenants_t *tenants, const sbctl_agents_opts_t *o,
                                       const struct sb_curve *curve);
void sbctl_agents_destroy(sbctl_agents_t **a);
/* From now on the agents judge suggested answers, using accept_pct % of
 * them (0..100, clamped) and turning the rest down. */
void sbctl_agents_judge_suggestions(sbctl_agents_t *a, int accept_pct);
void *sbctl_agents_socket(sbctl_agents_t *a);
/* Reads the feed. */
void sbctl_agents_on_readable(sbctl_agents_t *a);
/* Publishes actions that are due; returns ms until the next one (-1: none). */
int sbctl_agents_tick(sbctl_agents_t *a);
/* Restarts the latency histogram, counting only events published at or
 * after since_us (feed messages of earlier traffic may still arrive). */
void sbctl_agents_measure_from(sbctl_agents_t *a, int64_t since_us);
/* publish-to-assigned latency histogram (microseconds) */
const sb_histogram_t *sbctl_agents_latency(const sbctl_agents_t *a);
void sbctl_agents_stats(const sbctl_agents_t *a, sbctl_agents_stats_t *s);

#endif
