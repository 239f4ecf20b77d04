/*
 * sb_classify: what classify knows about one message, as a pure function
 * (no Redis, no ZeroMQ): language, and the public -> private verdict. Text
 * arrives already redacted (ingest redacts before the first write), with
 * the kinds of personal data found.
 */
#ifndef SB_CLASSIFY_H
#define SB_CLASSIFY_H

#include "sb_envelope.h"
#include "sb_tenants.h"

#include <stddef.h>

typedef struct {
  char language[8]; /* ISO 639-1 or "und" */
  int percent;
  int reliable;
  int move_private; /* a public message that carried personal data */
} sb_classify_result_t;

/* languages: the tenant's, NULL-terminated, or NULL for any.
 * pii_found: number of kinds of personal data found in the original. */
int sb_classify_text(const char *text, size_t len, const char *const *languages, int is_public,
                     size_t pii_found, sb_classify_result_t *out);

/* Classifies an interaction envelope in place: fills env->classification
 * (keeping the PII findings ingest put there). Other bodies are left as
 * they are. Returns 0 or SB_ENOMEM. */
int sb_classify_envelope(sb_envelope_t *env, const sb_tenant_t *tenant);

#endif
