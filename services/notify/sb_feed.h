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
 */
#ifndef SB_FEED_H
#define SB_FEED_H

#include "sb_envelope.h"
#include "sb_service.h"

#define SB_FEED_TOPIC_MAX 128

typedef struct sb_feed sb_feed_t;

/* Binds a PUB socket on endpoint. NULL on error. */
sb_feed_t *sb_feed_new(sb_service_t *s, const char *endpoint);
void sb_feed_destroy(sb_feed_t **f);

/* Writes the topic of an envelope into out; returns its length. */
size_t sb_feed_topic(const sb_envelope_t *env, char *out, size_t cap);
/* Publishes one envelope (blob = its bytes). 0 or a negative error. */
int sb_feed_publish(sb_feed_t *f, const sb_envelope_t *env, const uint8_t *blob, size_t len);

#endif
