/*
 * sbctl_progress: how far a long publish is (`sbctl publish FILE.jsonl`,
 * `sbctl up --replay FILE`), on stderr only: stdout belongs to scripts.
 *
 * On a terminal: one line redrawn in place (a bar, published and
 * acknowledged of the total, the rate and the time left). Elsewhere only
 * with --progress: a plain line every SBCTL_PROGRESS_LINE_MS (for logs).
 * The formatting and the rate arithmetic are pure functions, tested alone.
 */
#ifndef SBCTL_PROGRESS_H
#define SBCTL_PROGRESS_H

#include "sbctl_client.h"
#include "sb_config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SBCTL_PROGRESS_BAR_MS 200    /* a terminal's bar is redrawn this often */
#define SBCTL_PROGRESS_LINE_MS 5000  /* a plain line this often */
#define SBCTL_PROGRESS_BAR_WIDTH 24  /* characters between the brackets */

extern const sb_option_t sbctl_progress_options[];

typedef enum { SBCTL_PROGRESS_OFF, SBCTL_PROGRESS_BAR, SBCTL_PROGRESS_LINES } sbctl_progress_mode_t;

typedef struct {
  long long total;     /* events to publish */
  long long published; /* sent to ingest at least once */
  long long acked;     /* answered for good (ok, duplicate or rejected) */
  int64_t elapsed_ms;  /* since the first event was queued */
} sbctl_progress_sample_t;

/* The mode for a stream that is (or not) a terminal and --progress. */
sbctl_progress_mode_t sbctl_progress_mode(int is_tty, int progress_flag);

/* Acknowledged events per second since the start; 0 before any time or
 * any acknowledgement has passed. */
double sbctl_progress_rate(const sbctl_progress_sample_t *s);
/* Seconds until every event is acknowledged at that rate; -1 when it
 * cannot be told (no rate yet), 0 when done. */
long long sbctl_progress_eta_s(const sbctl_progress_sample_t *s);
/* "45s", "3m05s", "2h07m"; "--" for a negative (unknown) time. */
void sbctl_progress_duration(long long secs, char *out, size_t cap);
/* One line, no newline: the bar form (bar != 0) or the plain form. */
void sbctl_progress_format(const sbctl_progress_sample_t *s, int bar, char *out, size_t cap);

typedef struct sbctl_progress sbctl_progress_t;

/* A reporter on f in mode (NULL for SBCTL_PROGRESS_OFF or on OOM: every
 * call below accepts NULL and does nothing). now_ms: the start. */
sbctl_progress_t *sbctl_progress_new(FILE *f, sbctl_progress_mode_t mode, long long total, int64_t now_ms);
/* Shows the figures when the mode's period has passed since the last. */
void sbctl_progress_update(sbctl_progress_t *p, long long published, long long acked, int64_t now_ms);
/* Shows the last figures (ends a bar with a newline) and frees p. */
void sbctl_progress_finish(sbctl_progress_t **p, int64_t now_ms);

/* The same from a publisher's figures: acknowledged = answered for good,
 * published = sent once (retries and re-sends not counted twice). */
void sbctl_progress_update_client(sbctl_progress_t *p, const sbctl_client_stats_t *s, int64_t now_ms);

/* Both from config and stderr: for the publish loops. */
sbctl_progress_t *sbctl_progress_for(const sb_config_t *c, long long total, int64_t now_ms);

#endif
