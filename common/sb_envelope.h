/*
 * sb_envelope: helpers around the protobuf Envelope (proto/switchboard.proto).
 *
 * The internal event key is the first 16 bytes of SHA-256(source "\n" id) in
 * hex: CloudEvents say (source, id) is unique, so a redelivery maps to the
 * same key and de-duplicates; the key has a fixed, Redis-friendly length.
 */
#ifndef SB_ENVELOPE_H
#define SB_ENVELOPE_H

#include "sb_time.h"
#include "switchboard.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef Switchboard__V1__Envelope sb_envelope_t;

#define SB_EVENT_KEY_LEN 32
#define SB_ENVELOPE_MAX_BYTES (256u * 1024) /* larger frames are rejected */
#define SB_TYPE_INTERACTION "com.switchboard.interaction"
#define SB_TYPE_AGENT_PREFIX "com.switchboard.agent."
#define SB_TYPE_SLA_PREFIX "com.switchboard.sla."

/* Writes the 32-hex-digit key of (source, id) plus a NUL into out[33]. */
void sb_event_key(const char *source, const char *id, char out[SB_EVENT_KEY_LEN + 1]);

/* The customer id of an identity ("<channel>:<customer>") that no one has
 * linked to another: "cus_" + the first 16 hex digits of
 * sha1(tenant "\n" identity), written with a NUL into out[21]. Stable and
 * stored nowhere; ingest.lua derives the same for linked identities
 * ("customer:<C>" without a cid:customer:<C>). 0, or SB_ENOMEM. */
#define SB_CUSTOMER_ID_LEN 20
int sb_customer_id_derived(const char *tenant, const char *identity, char out[SB_CUSTOMER_ID_LEN + 1]);

/* Channel names as in the JSON mapping ("x", "whatsapp", ...). */
const char *sb_channel_name(Switchboard__V1__Channel c);
/* CHANNEL_UNKNOWN if the name is not a channel. */
Switchboard__V1__Channel sb_channel_parse(const char *name);

/* "login", "reply", ...; AGENT_ACTION_UNKNOWN if unknown. */
Switchboard__V1__AgentAction sb_agent_action_parse(const char *name);
const char *sb_agent_action_name(Switchboard__V1__AgentAction a);

/* Decodes bytes; NULL if malformed or over SB_ENVELOPE_MAX_BYTES. Free with
 * sb_envelope_free. */
sb_envelope_t *sb_envelope_unpack(const void *data, size_t len);
void sb_envelope_free(sb_envelope_t *env);
/* Serializes into a malloc'd buffer; NULL on OOM. */
uint8_t *sb_envelope_pack(const sb_envelope_t *env, size_t *len);

/* Checks what every stage relies on: id, source, type, tenant present and
 * the key matching. Returns 0 or SB_EINVAL with a static reason in *why. */
int sb_envelope_check(const sb_envelope_t *env, const char **why);

/* AgentEvent.status of AGENT_STATUS: the agent's presence ("available",
 * "busy", "away"), or, with a conversation, that conversation's state as
 * its agent sets it ("pending_customer" and "on_hold" pause its SLA clocks,
 * "open" runs them again). 1 when s is one of them. */
int sb_agent_status_known(const char *s);
int sb_conversation_status_known(const char *s);

/* The short kind used in feed topics and webhook subscriptions:
 * "assigned", "queued", "routed", "agent", "rejected", "diverted",
 * "sla.warning", "sla.breach", "sla.met", "sla.alert" (a deferred
 * supervisor alert), "sla" (other SLA events: paused, resumed),
 * "service_level", "incident" (Incident body), "delivery" (DeliveryStatus
 * body: a platform's receipt for what notify sent), "event". */
const char *sb_envelope_kind(const sb_envelope_t *env);

#endif
