/*
 * sb_handoff: the sending side of the durable hand-off between stages.
 *
 * The guarantee (DESIGN.md): a stage records an in-flight lease in Redis
 * (sb:{t:T}:lease:<next>, member = event key, score = deadline) in the same
 * script that commits its own effect and stores the envelope it hands on;
 * only then does it send the envelope over ZeroMQ (PUSH). The receiver
 * clears the lease in the script that commits its effect. The sweeper here
 * looks for expired leases of the next stage every --sweep-ms and re-sends
 * their stored envelopes (attempt + 1): ZeroMQ carries the data, Redis is
 * the record. A send that finds the socket full is not an error: the lease
 * stays and the sweeper re-sends. When a receiver goes away (a replica
 * stopped or died), every open lease is re-sent at once to the receivers
 * left, rather than after --lease-ms.
 */
#ifndef SB_HANDOFF_H
#define SB_HANDOFF_H

#include "sb_service.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sb_handoff sb_handoff_t;

/* lease: the receiving stage's lease name ("classify", "route", ...).
 * endpoints: where the receivers listen (comma-separated). NULL on error. */
sb_handoff_t *sb_handoff_new(sb_service_t *s, const char *lease, const char *endpoints);
void sb_handoff_destroy(sb_handoff_t **h);

/* Sends one envelope whose lease is already recorded. 0, or SB_EAGAIN when
 * it could not be queued (counted; the sweeper will re-send it). */
int sb_handoff_send(sb_handoff_t *h, const void *blob, size_t len);

/* Claims, for every tenant, the leases named lease (sb:{t:T}:lease:<lease>)
 * due by due_ms, giving them the deadline until_ms (sweep.lua, script: its
 * id from sb_script_add(.., "sweep", sb_script_sweep)); fn gets each
 * tenant's reply, the claimed envelopes. Returns the calls issued. Used by
 * the sweeper here and by a receiving stage that lost a sender. */
size_t sb_handoff_claim(sb_service_t *s, int script, const char *lease, int64_t due_ms, int64_t until_ms,
                        sb_redis_reply_fn fn, void *arg);

/* Messages waiting to leave (for draining on shutdown). */
size_t sb_handoff_pending(const sb_handoff_t *h);

/* Back-pressure: at SB_HANDOFF_BACKLOG_MAX messages waiting for room toward
 * the receivers, the sender takes no new work (a stage stops reading, ingest
 * answers "retry later") until they drain, so a backlog waits at the front
 * door rather than inside the bus, where it would outlive its leases. */
#define SB_HANDOFF_BACKLOG_MAX 2048
int sb_handoff_backlogged(const sb_handoff_t *h);

#endif
