/*
 * sbctl_dlq: `sbctl dlq`, the dead letters of one tenant (or of no tenant).
 *
 *   sbctl dlq [list]           --tenant T | --global   [--json]
 *   sbctl dlq show ID          --tenant T | --global   [--json]
 *   sbctl dlq replay ID|all    --tenant T
 *   sbctl dlq purge ID|all     --tenant T | --global
 *   sbctl dlq [list] --webhooks [--requeue KEY|all]   --tenant T  (notify's)
 *   sbctl dlq replay KEY|all --webhooks              --tenant T
 *
 * Stage dead letters live in the list sb:{t:T}:dlq (sb:{g}:dlq for no
 * tenant), JSON entries written by sb_dlq. An entry's ID is the first
 * SBCTL_DLQ_ID_LEN hex digits of the SHA-1 of its exact JSON text: stable
 * while other entries come and go (list positions shift, IDs do not).
 *
 * replay puts a dead-lettered hand-off back where it failed, in one script
 * (dlq_replay.lua) that also removes the entry: ev:<key> gets the original
 * envelope again and lease:<stage> the key with a deadline already past,
 * so the previous stage's sweeper re-sends it (at-least-once as ever; the
 * receiving stage is idempotent). An entry is refused with a reason when
 * it cannot go back: no tenant (--global), a stage with no incoming lease
 * (ingest, the front door), no event key, bytes that are not an envelope
 * (truncated), or an envelope of another tenant.
 *
 * Every path touches only the named tenant's keys. Exit status: 0 done;
 * 1 nothing matched, nothing could be replayed, or Redis failed; 2 usage.
 */
#ifndef SBCTL_DLQ_H
#define SBCTL_DLQ_H

#include "sb_config.h"

#include <stddef.h>

#define SBCTL_DLQ_ID_LEN 16

extern const sb_option_t sbctl_dlq_options[];

/* The verb. */
int sbctl_dlq(const sb_config_t *c);

/* An entry's ID: SBCTL_DLQ_ID_LEN hex digits and a NUL into out. */
void sbctl_dlq_id(const char *entry, size_t len, char out[SBCTL_DLQ_ID_LEN + 1]);

/* The lease through which a dead letter of stage goes back ("sla-timer"
 * -> "sla"), or NULL when the stage has none (ingest, unknown names). */
const char *sbctl_dlq_lease_of(const char *stage);

#endif
