/*
 * sb_feed: the ZeroMQ PUB feed for agent desktops and dashboards.
 *
 * Every message is two frames: a topic "<tenant>.<kind>" (kinds:
 * assigned, queued, routed, agent, rejected, sla.warning, sla.breach,
 * sla.met, event) and the Envelope (protobuf). Subscribers filter by
 * prefix: "acme." for one tenant, "acme.assigned" for its assignments.
 * PUB drops for slow subscribers (ZeroMQ's high-water mark); Redis keeps
 * the record, and every envelope carries its event id, so a subscriber
 * de-duplicates re-sends by id.
 *
 * Gaps: notify's commit (notify.lua, given this module's two arguments per
 * item) numbers each event on its topic (Envelope.feed_seq: 1, 2, 3, ...,
 * one counter in Redis shared by every notify replica, HINCRBY of
 * sb:{t:T}:feed:seq field <kind>) and appends it to the topic's history,
 * a stream sb:{t:T}:feed:<kind> capped at --feed-history entries whose
 * entry id is "<seq>-0" (fields key, env = the bytes published). A
 * subscriber that sees seq n+2 after n re-reads n+1 with
 * XRANGE sb:{t:T}:feed:<kind> n+1 n+1. Published in commit order per
 * replica; with several replicas a subscriber connects to each and may see
 * two numbers swapped, so it waits briefly before calling a number missed.
 */
#ifndef SB_FEED_H
#define SB_FEED_H

#include "sb_curve.h" /* SB_CURVE_EDGE_OPTIONS, for notify's option table */
#include "sb_envelope.h"
#include "sb_service.h"
#include "sb_stage.h"

#define SB_FEED_TOPIC_MAX 128
/* notify.lua's arguments per item that sb_feed_prepare fills: kind, cap */
#define SB_FEED_NEXTRA 2
/* --feed-history: entries kept per topic (0: numbers only, no history) */
#define SB_FEED_HISTORY_DEFAULT "1000"

typedef struct sb_feed sb_feed_t;

/* Binds a PUB socket on endpoint; a CURVE server when the service's
 * --edge-curve-secret-key-file is set (SB_CURVE_EDGE_OPTIONS, sb_zap.h:
 * only subscribers with an allowed key receive anything). A key bound to a
 * tenant in the allow-list receives that tenant's topics only: its
 * subscription to "" (or to the bare tenant id) is narrowed to
 * "<tenant>.", one to another tenant's prefix is refused, counted in
 *   sb_feed_subscriptions_refused_total{reason="other_tenant"}
 * and logged (feed_subscription_refused, the 1st, 2nd, 4th, ...); narrowed
 * ones count in sb_feed_subscriptions_narrowed_total. Unbound keys and the
 * plaintext feed take every subscription as is. Caveat: one connection
 * subscribed both to "" and to "<tenant>." holds a single "<tenant>."
 * subscription, which the first of the two unsubscriptions removes.
 * NULL on error. */
sb_feed_t *sb_feed_new(sb_service_t *s, const char *endpoint);
void sb_feed_destroy(sb_feed_t **f);

/* The kind part of an envelope's topic: sb_envelope_kind(), or
 * "service_level" for sla-timer's published service level. */
const char *sb_feed_kind(const sb_envelope_t *env);
/* Writes the topic of an envelope into out; returns its length. */
size_t sb_feed_topic(const sb_envelope_t *env, char *out, size_t cap);
/* Publishes one envelope (blob = its bytes). 0 or a negative error. */
/* Adds notify.lua's SB_FEED_NEXTRA arguments of one item (its topic's
 * kind and the history cap). */
void sb_feed_prepare(const sb_feed_t *f, sb_stage_item_t *it);
int sb_feed_publish(sb_feed_t *f, const sb_envelope_t *env, const uint8_t *blob, size_t len);

#endif
