/*
 * sb_log: structured logs, one JSON object per line on stderr.
 *
 *   {"ts":"2026-11-24T03:04:05.123Z","level":"warn","service":"route",
 *    "event":"redis_timeout","tenant":"acme","event_id":"...","trace_id":"..."}
 *
 * An "event" is a short snake_case name of what happened, never message text:
 * customer text and PII are never logged. Extra fields are given as
 * key/value string pairs ending with NULL; values are JSON-escaped here.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

typedef enum {
  SB_LOG_DEBUG = 0,
  SB_LOG_INFO = 1,
  SB_LOG_WARN = 2,
  SB_LOG_ERROR = 3,
  SB_LOG_OFF = 4
} sb_log_level_t;

/* Sets the service name and minimum level for this process. */
void sb_log_init(const char *service, sb_log_level_t min_level);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 if unknown. */
int sb_log_level_parse(const char *name);

/* Writes one line: sb_log(SB_LOG_WARN, "redis_timeout", "tenant", t, NULL). */
void sb_log(sb_log_level_t level, const char *event, ...);

#endif
