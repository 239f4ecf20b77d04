/*
 * sb_service_level: the published service level of one tenant, computed
 * from what sla_arm.lua recorded (pure: strings in, figures out, no Redis).
 *
 * Inputs, per tenant (see common/sb_keys.h):
 *   - first responses given within the window, each an sl:fr member
 *     "<duration ms>|<met 0/1>|<channel>|<conversation>|<queue>";
 *   - conversations still waiting for their first response, each an
 *     sl:open value "<breach due ms>|<started ms>|<channel>|<queue>".
 * Figures per (channel, queue), plus a first row ("*", "*") for the whole
 * tenant: answered, answered in target and its share, average and p90
 * (nearest rank) of the first-response time, unanswered (waiting past the
 * breach due time) and its share of answered + unanswered, and backlog
 * (every conversation still waiting for a first response, queued or
 * assigned). Rows after the first are sorted by channel, then queue.
 */
#ifndef SB_SERVICE_LEVEL_H
#define SB_SERVICE_LEVEL_H

#include <stddef.h>
#include <stdint.h>

#define SB_SERVICE_LEVEL_NAME_MAX 128 /* channel and queue names, NUL included */
#define SB_SERVICE_LEVEL_ALL "*"      /* channel and queue of the tenant's row */

typedef struct {
  char channel[SB_SERVICE_LEVEL_NAME_MAX];
  char queue[SB_SERVICE_LEVEL_NAME_MAX];
  uint32_t answered, answered_in_target, unanswered, backlog;
  int64_t avg_ms, p90_ms;         /* 0 when nothing was answered */
  double answered_in_target_share; /* 0..1; 0 when nothing was answered */
  double unanswered_share;         /* 0..1; 0 when neither */
} sb_service_level_row_t;

typedef struct sb_service_level sb_service_level_t;

/* An empty computation. NULL on OOM. */
sb_service_level_t *sb_service_level_new(void);
/* Frees it and clears *sl; NULL or *sl == NULL is a no-op. */
void sb_service_level_destroy(sb_service_level_t **sl);
/* Forgets every sample (to compute the next period with the same object). */
void sb_service_level_reset(sb_service_level_t *sl);

/* Adds one sl:fr member. 0, SB_EINVAL (malformed: not counted) or
 * SB_ENOMEM. */
int sb_service_level_add_response(sb_service_level_t *sl, const char *member, size_t len);
/* Adds one sl:open value; unanswered when now_ms is past its breach due
 * time. 0, SB_EINVAL (malformed: not counted) or SB_ENOMEM. */
int sb_service_level_add_open(sb_service_level_t *sl, const char *value, size_t len, int64_t now_ms);

/* Computes the rows from the samples added so far. 0 or SB_ENOMEM. */
int sb_service_level_compute(sb_service_level_t *sl);
/* Rows of the last compute (the tenant's row first: at least one). */
size_t sb_service_level_count(const sb_service_level_t *sl);
/* Row i (< count), owned by sl, valid until the next add or compute. */
const sb_service_level_row_t *sb_service_level_row(const sb_service_level_t *sl, size_t i);

/* The Envelope (protobuf) that publishes the last compute for tenant:
 * id "service-level-<tenant>-<period_start_ms>", source "/sla-timer",
 * type "com.switchboard.service_level", body ServiceLevel; its event key
 * in key_out[33]. Returns a malloc'd buffer of *len bytes, or NULL. */
uint8_t *sb_service_level_pack(const sb_service_level_t *sl, const char *tenant, int64_t period_start_ms,
                               int64_t period_ms, int64_t window_ms, int64_t now_ms, char key_out[33],
                               size_t *len);

#endif
