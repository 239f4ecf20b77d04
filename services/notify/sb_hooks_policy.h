/*
 * sb_hooks_policy: the decisions of webhook delivery, as pure functions of
 * values (no I/O, no clock, no randomness inside: the caller passes the time
 * and a uniform random number), so they are tested exhaustively.
 *
 *   - the verdict on one attempt: 2xx delivered; 408, 429, 5xx and every
 *     transport failure (refused, timeout, reset, DNS) retried; any other
 *     status (4xx, and 1xx/3xx, which we never follow) dead-lettered at
 *     once, because repeating the same request cannot succeed;
 *   - exponential back-off with full jitter: the n-th retry waits a delay
 *     uniform in [0, min(max_ms, base_ms * 2^(n-1))] ("none" jitter: the cap
 *     itself), until give_up_after_s from the first attempt have passed;
 *   - a circuit breaker per endpoint: closed (up to max_in_flight requests),
 *     open after `failures` consecutive failures (no request for open_ms),
 *     then half-open (one probe: success closes it, failure opens it again).
 */
#ifndef SB_HOOKS_POLICY_H
#define SB_HOOKS_POLICY_H

#include "sb_hooks_config.h"

#include <stdint.h>

typedef enum {
  SB_HOOK_DELIVERED = 0,
  SB_HOOK_RETRY = 1,
  SB_HOOK_DEAD = 2
} sb_hook_verdict_t;

/* status: the HTTP status, or 0 when no response came (transport_failed). */
sb_hook_verdict_t sb_hooks_verdict(long status, int transport_failed);

/* The cap of the delay before retry number n (n >= 1). */
int64_t sb_hooks_backoff_cap_ms(const sb_hooks_retry_t *r, unsigned n);
/* The delay before retry number n: u (uniform in [0, 1)) scales the cap
 * under full jitter; ignored under "none". */
int64_t sb_hooks_backoff_ms(const sb_hooks_retry_t *r, unsigned n, double u);
/* After a failed attempt number `attempts` (1 = the first attempt) of a
 * delivery first tried at first_ms: 1 and *due (absolute ms) for a retry,
 * or 0 when the retry would come later than give_up_after_s after first_ms
 * (give up: dead letter). */
int sb_hooks_next_due(const sb_hooks_retry_t *r, unsigned attempts, int64_t first_ms,
                      int64_t now_ms, double u, int64_t *due);

typedef enum {
  SB_BREAKER_CLOSED = 0,
  SB_BREAKER_OPEN = 1,
  SB_BREAKER_HALF_OPEN = 2
} sb_breaker_state_t;

typedef struct {
  sb_breaker_state_t state;
  int failures;          /* consecutive */
  int64_t open_until_ms; /* while open */
} sb_breaker_t;

/* How many requests may be in flight at now_ms: max_in_flight when closed,
 * 0 while open, 1 half-open. An open breaker whose time is up becomes
 * half-open here. */
int sb_breaker_allowance(sb_breaker_t *b, int max_in_flight, int64_t now_ms);
/* Records the outcome of one request (ok: the endpoint answered, whatever
 * the verdict on its status unless it asks for a retry). Returns 1 if the
 * state changed. */
int sb_breaker_record(sb_breaker_t *b, const sb_hooks_breaker_cfg_t *cfg, int ok, int64_t now_ms);

#endif
