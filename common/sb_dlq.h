/*
 * sb_dlq: dead letters. A message a stage cannot process (malformed
 * protobuf, unknown tenant, failed check) is kept in Redis with the stage,
 * the reason and the original bytes (base64, with personal data redacted),
 * counted in metrics and in the tenant's stats, and never re-sent by the
 * bus itself (an operator may replay it once the cause is fixed).
 * `sbctl dlq list|show|replay|purge --tenant T` (or --global) handles them
 * (sbctl_dlq.h). Entries are JSON:
 *   {"ts_ms":..., "stage":"route", "reason":"...", "key":"...", "bytes_b64":"..."}
 */
#ifndef SB_DLQ_H
#define SB_DLQ_H

#include "sb_service.h"

#include <stddef.h>

typedef struct sb_dlq sb_dlq_t;

/* stage: the name recorded in entries. NULL on OOM. */
sb_dlq_t *sb_dlq_new(sb_service_t *s, const char *stage);
void sb_dlq_destroy(sb_dlq_t **d);

/* Keeps one dead letter (fire and forget; a failure is logged and counted).
 * tenant NULL: the global list. lease/key: the input lease to clear with it
 * (NULL when the message had none). */
void sb_dlq_push(sb_dlq_t *d, const char *tenant, const char *reason, const char *lease,
                 const char *key, const void *bytes, size_t len);

#endif
