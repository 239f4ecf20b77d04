/*
 * sb_feedback: what agents made of classify's suggested answers, brought
 * back into the suggestion engines so that the learned factor of
 * sb_suggest.h changes future suggestions.
 *
 * The record is one hash per tenant, sb:{t:T}:sugfb (SB_FEEDBACK_KEY),
 * fields "a:<answer id>" (accepts) and "r:<answer id>" (rejects). route.lua
 * writes it (HINCRBY, in the same script that applies the agent event, so a
 * re-sent event counts once); classify.lua records which answers it
 * suggested on a conversation (sug:<conv>) so that route only counts
 * feedback on a suggestion that was made. Every classify replica reads the
 * whole hash of each tenant with answers every --suggest-refresh-ms (one
 * HGETALL per tenant), on start and after a rules reload, and sets the
 * absolute counts: replicas converge, and a restart loses nothing.
 *
 * Invariants: sb_feedback_apply is pure (no I/O); the refresher holds no
 * pointer into a ruleset: it asks for the tenant's sb_suggest when a reply
 * arrives, so a reload between request and reply is harmless. One request
 * per tenant in flight at most.
 */
#ifndef SB_FEEDBACK_H
#define SB_FEEDBACK_H

#include "sb_service.h"
#include "sb_suggest.h"

#include <stddef.h>
#include <stdint.h>

#define SB_FEEDBACK_KEY "sugfb" /* suffix of sb:{t:T}: */
#define SB_FEEDBACK_REFRESH_MS_DEFAULT 5000

/* Applies an HGETALL reply of the counts hash to s: every answer's counters
 * are zeroed, then set from the fields. kv holds n strings, field then
 * value. Fields that name no answer of s, have no "a:"/"r:" prefix or a
 * value that is not a decimal count are skipped and counted in *skipped
 * (may be NULL). Returns 0, or SB_EINVAL for NULL s / kv with n > 0 / odd n
 * (nothing changed). *accepts and *rejects (may be NULL) get the totals
 * applied. */
int sb_feedback_apply(sb_suggest_t *s, const char *const *kv, size_t n,
                      size_t *skipped, uint64_t *accepts, uint64_t *rejects);

/* The tenant's suggestion engine now, or NULL (no rules, no answers). */
typedef sb_suggest_t *(*sb_feedback_lookup_fn)(void *arg, const sb_tenant_t *t);

typedef struct sb_feedback sb_feedback_t;

/* A refresher on s's loop and Redis: every interval_ms (0: only when
 * sb_feedback_refresh is called) one HGETALL per tenant whose engine has
 * answers. Registers the gauges sb_classify_suggestion_feedback{result}.
 * NULL on ENOMEM or a timer that cannot start. */
sb_feedback_t *sb_feedback_new(sb_service_t *s, int64_t interval_ms,
                               sb_feedback_lookup_fn lookup, void *arg);

/* Reads every tenant's counts now (a tenant whose previous read is still
 * in flight is skipped). Redis not connected: nothing happens, the next
 * tick tries again. */
void sb_feedback_refresh(sb_feedback_t *f);

/* Stops the timer; freed once the timer is closed and no read is in flight
 * (a pending reply still finds it). Clears *f. */
void sb_feedback_destroy(sb_feedback_t **f);

#endif
