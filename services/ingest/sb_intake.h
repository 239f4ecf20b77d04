/*
 * sb_intake: makes admitted events durable, in batches.
 *
 * Events submitted during one loop turn (from any HTTP request or ZeroMQ
 * publisher) are flushed by one uv_check hook: one ingest.lua call per
 * tenant, pipelined in one round trip. Each event's callback is called
 * exactly once: accepted (with its conversation) or duplicate only after
 * Redis confirmed the write, so an acknowledgement never runs ahead of
 * durability; then accepted events go to classify (sb_handoff).
 * Back-pressure: past --max-inflight events waiting on Redis, or while
 * Redis is away, sb_intake_submit refuses (SB_EAGAIN) and the door answers
 * 429/503 or ACK_RETRY_LATER; nothing is dropped silently.
 */
#ifndef SB_INTAKE_H
#define SB_INTAKE_H

#include "sb_admit.h"
#include "sb_envelope.h"
#include "sb_handoff.h"
#include "sb_ratelimit.h"
#include "sb_service.h"

typedef enum {
  SB_INTAKE_ACCEPTED = 0,
  SB_INTAKE_DUPLICATE = 1,
  SB_INTAKE_FAILED = 2, /* not durable: the publisher must retry */
} sb_intake_status_t;

/* conversation is valid during the call only ("" when none). */
typedef void (*sb_intake_done_fn)(void *arg, size_t index, sb_intake_status_t st,
                                  const char *conversation);

typedef struct sb_intake sb_intake_t;

sb_intake_t *sb_intake_new(sb_service_t *s, sb_handoff_t *out, size_t max_inflight);
void sb_intake_destroy(sb_intake_t **in);

/* Takes env (always, even on error). ar: the admission's thread, message
 * and refs (sb_admit; copied). Returns 0 (fn will be called once, later)
 * or SB_EAGAIN (overloaded or Redis away; fn is never called). */
int sb_intake_submit(sb_intake_t *in, sb_envelope_t *env, const sb_admit_result_t *ar,
                     sb_intake_done_fn fn, void *arg, size_t index);

/* How many events may be submitted now (0 while Redis is away): a door
 * checks a whole request against it first, so a request is taken whole or
 * refused whole. */
size_t sb_intake_room(const sb_intake_t *in);
/* The per-tenant rate limiter both doors share (owned by the intake). */
sb_ratelimit_t *sb_intake_limiter(sb_intake_t *in);

/* Counts n events a door refused for lack of room. */
void sb_intake_refused(sb_intake_t *in, size_t n);

/* Events submitted and not yet answered. */
size_t sb_intake_pending(const sb_intake_t *in);

#endif
