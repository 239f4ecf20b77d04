/*
 * sb_hooks_event: what an integrator's endpoint receives for one event.
 *
 * Body (JSON, CloudEvents-style; the same for every attempt, so a receiver
 * can hash or store it):
 *   {"specversion":"1.0", "id":"<event key>", "type":"<feed kind>",
 *    "source":"<source>", "source_id":"<CloudEvents id>", "tenant":"acme",
 *    "conversation":"...", "agent":"...", "time":"2024-05-01T10:00:00.000Z",
 *    "data":{...}}
 * id is the internal event key (unique per (source, id)), also sent as
 * X-Switchboard-Event-Id so a receiver drops re-deliveries. data holds what
 * the kind is about: the channel, customer and (already redacted) text of an
 * interaction, its language, sentiment and priority; the routing outcome,
 * agent and reason; the SLA timer, target and elapsed time.
 *
 * Signature (header X-Switchboard-Signature): "t=<unix seconds>,v1=<hex>"
 * where hex is HMAC-SHA256(secret, "<t>.<body>"), computed at each attempt.
 * A receiver recomputes it over the raw body, compares in constant time,
 * and refuses a t too far from its clock (replay).
 */
#ifndef SB_HOOKS_EVENT_H
#define SB_HOOKS_EVENT_H

#include "sb_envelope.h"

#include <stddef.h>
#include <stdint.h>

#define SB_HOOKS_SIGNATURE_MAX 96 /* "t=" + 20 digits + ",v1=" + 64 hex + NUL */
#define SB_HOOKS_HEADER_SIGNATURE "X-Switchboard-Signature"
#define SB_HOOKS_HEADER_EVENT_ID "X-Switchboard-Event-Id"

/* The JSON body for an envelope (malloc'd, NUL-terminated; the caller
 * frees), or NULL on OOM. */
char *sb_hooks_event_json(const sb_envelope_t *env);

/* Writes "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>" into out.
 * Returns 0, or SB_ETOOBIG if cap < SB_HOOKS_SIGNATURE_MAX, SB_EIO if
 * OpenSSL fails. */
int sb_hooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                  size_t cap);

#endif
