/*
 * sb_outbox: durable, signed webhook delivery to integrators' endpoints.
 *
 * Durable first: notify's commit script (notify.lua) records one pending
 * delivery per endpoint that wants the event, in the same script that
 * clears the event's notify lease; so once notify has acknowledged an
 * envelope its webhooks are in Redis, and a restart loses none. A pending
 * delivery is a member of the endpoint's due queue (sorted set by due time)
 * plus a record with the body, attempt count and first-attempt time (keys
 * in sb_keys.h).
 *
 * Then delivered from the queue: per endpoint, the outbox claims as many
 * due deliveries as it may have in flight (max_in_flight, less while the
 * circuit breaker is half-open, none while it is open) with one script
 * call (hooks_claim.lua) that leases them, so several notify replicas never
 * send one delivery at the same time; a replica that dies leaves leases
 * that expire (timeout_ms + SB_OUTBOX_LEASE_MARGIN_MS) and another takes
 * them. Each is POSTed with libcurl on the loop (sb_curl), signed
 * (sb_hooks_event), and its outcome recorded (hooks_done.lua): delivered,
 * retried later (back-off with jitter, sb_hooks_policy), or dead-lettered
 * (4xx, or given up) into the tenant's webhook dead letters, which `sbctl
 * dlq --webhooks` lists and `--replay` puts back.
 *
 * Endpoints are independent: each has its own queue, in-flight limit,
 * breaker and wake-up time, so a slow or dead endpoint delays no other.
 * One loop timer is armed at the earliest wake-up of all endpoints; an
 * endpoint also looks at its queue every --hooks-poll-ms (deliveries of a
 * replica that died). Breakers are per replica.
 *
 * Delivery is at least once: a receiver de-duplicates by the
 * X-Switchboard-Event-Id header (the body's "id").
 */
#ifndef SB_OUTBOX_H
#define SB_OUTBOX_H

#include "sb_service.h"
#include "sb_stage.h"

#include <hiredis/hiredis.h>
#include <stdio.h>

#define SB_OUTBOX_NEXTRA 3                /* per-item args of notify.lua */
#define SB_OUTBOX_LEASE_MARGIN_MS 2000    /* claim lease beyond timeout_ms */
#define SB_OUTBOX_RECORD_SLACK_S 86400    /* record expiry beyond give-up */
#define SB_OUTBOX_POLL_DEFAULT_MS 1000    /* --hooks-poll-ms */

extern const char sb_script_notify[];
extern const char sb_script_hooks_claim[];
extern const char sb_script_hooks_done[];
extern const char sb_script_hooks_replay[];

typedef struct sb_outbox sb_outbox_t;

/* Parses every tenant's webhooks (sb_hooks_config) and starts the timer;
 * reads --hooks-poll-ms (an option of sb-notify) when it is defined.
 * NULL on a configuration error (the reason, naming tenant and field, is
 * written to err) or OOM. */
sb_outbox_t *sb_outbox_new(sb_service_t *s, char *err, size_t errlen);
/* Stops claiming; requests in flight finish and are recorded. */
void sb_outbox_stop(sb_outbox_t *o);
/* 1 when no request and no script of the outbox is in flight. */
int sb_outbox_idle(const sb_outbox_t *o);
/* Cancels what is in flight (their leases expire and they are sent again)
 * and frees the outbox once its handles closed; clears *o. */
void sb_outbox_destroy(sb_outbox_t **o);

/* Stage prepare: fills the item's SB_OUTBOX_NEXTRA args (endpoints that
 * want this event, the body, the record expiry). 0, or SB_ENOMEM with a
 * static reason in *why. */
int sb_outbox_prepare(sb_outbox_t *o, sb_stage_item_t *it, const char **why);
/* Stage committed: the item's deliveries are durable; look at the queues
 * of its endpoints at once. */
void sb_outbox_committed(sb_outbox_t *o, const sb_stage_item_t *it);

/* sbctl (synchronous, own connection): prints the tenant's webhook dead
 * letters, one JSON line each, newest first; 0 or SB_EREDIS. */
int sb_outbox_dlq_list(redisContext *rc, const char *tenant, FILE *out);
/* Re-queues the dead letters of one event key, or all of them ("all").
 * *n: how many. 0 or SB_EREDIS / SB_ENOMEM. */
int sb_outbox_dlq_replay(redisContext *rc, const char *tenant, const char *which, long long *n);

#endif
