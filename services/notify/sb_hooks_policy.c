/* sb_hooks_policy: see sb_hooks_policy.h. */
#include "sb_hooks_policy.h"

sb_hook_verdict_t sb_hooks_verdict(long status, int transport_failed) {
  if (transport_failed || status <= 0)
    return SB_HOOK_RETRY;
  if (status >= 200 && status < 300)
    return SB_HOOK_DELIVERED;
  if (status == 408 || status == 429 || status >= 500)
    return SB_HOOK_RETRY;
  return SB_HOOK_DEAD;
}

int64_t sb_hooks_backoff_cap_ms(const sb_hooks_retry_t *r, unsigned n) {
  int64_t cap = r->base_ms;
  for (unsigned i = 1; i < n && cap < r->max_ms; i++)
    cap *= 2; /* at most ~37 doublings below the 1-day bound: no overflow */
  return cap < r->max_ms ? cap : r->max_ms;
}

int64_t sb_hooks_backoff_ms(const sb_hooks_retry_t *r, unsigned n, double u) {
  int64_t cap = sb_hooks_backoff_cap_ms(r, n);
  if (r->jitter == SB_HOOKS_JITTER_NONE)
    return cap;
  if (u < 0)
    u = 0;
  if (u >= 1)
    u = 0.999999;
  return (int64_t)(u * (double)(cap + 1)); /* uniform over [0, cap] */
}

int sb_hooks_next_due(const sb_hooks_retry_t *r, unsigned attempts, int64_t first_ms,
                      int64_t now_ms, double u, int64_t *due) {
  int64_t at = now_ms + sb_hooks_backoff_ms(r, attempts ? attempts : 1, u);
  if (at - first_ms > r->give_up_after_s * 1000)
    return 0;
  *due = at;
  return 1;
}

int sb_breaker_allowance(sb_breaker_t *b, int max_in_flight, int64_t now_ms) {
  if (b->state == SB_BREAKER_OPEN && now_ms >= b->open_until_ms)
    b->state = SB_BREAKER_HALF_OPEN;
  switch (b->state) {
  case SB_BREAKER_CLOSED: return max_in_flight;
  case SB_BREAKER_HALF_OPEN: return 1;
  default: return 0;
  }
}

int sb_breaker_record(sb_breaker_t *b, const sb_hooks_breaker_cfg_t *cfg, int ok, int64_t now_ms) {
  sb_breaker_state_t was = b->state;
  if (ok) {
    b->failures = 0;
    b->state = SB_BREAKER_CLOSED;
    return was != b->state;
  }
  b->failures++;
  if (b->state == SB_BREAKER_HALF_OPEN ||
      (b->state == SB_BREAKER_CLOSED && b->failures >= cfg->failures)) {
    b->state = SB_BREAKER_OPEN;
    b->open_until_ms = now_ms + cfg->open_ms;
  }
  return was != b->state;
}
