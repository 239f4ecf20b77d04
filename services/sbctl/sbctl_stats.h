/*
 * sbctl_stats: `sbctl stats`, the bus's figures per tenant from Redis
 * (sbctl_view), as a table for people, one JSON object for scripts
 * (--json), or a live table redrawn every SBCTL_STATS_WATCH_MS until
 * Ctrl-C (--watch: ANSI clear and redraw, no curses).
 */
#ifndef SBCTL_STATS_H
#define SBCTL_STATS_H

#include "sb_tenants.h"
#include "sbctl_view.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>

#define SBCTL_STATS_WATCH_MS 1000

typedef enum { SBCTL_STATS_TABLE, SBCTL_STATS_JSON, SBCTL_STATS_WATCH } sbctl_stats_mode_t;

/* Prints the figures of every tenant of t (and their total) once, or
 * until *stop is set in SBCTL_STATS_WATCH. 0, or -1 if Redis did not
 * answer (then nothing half-written is left on stdout but what was
 * already shown). */
int sbctl_stats_run(redisContext *rc, const sb_tenants_t *t, sbctl_stats_mode_t mode,
                    volatile sig_atomic_t *stop);

/* The table: a header, one row per tenant and a total row. rows[i] are
 * the figures of names[i]. */
void sbctl_stats_table(FILE *f, const char *const *names, const sbctl_stats_t *rows, size_t n);

/* Redis's time in each script since its counters began, over all tenants
 * (sbctl_view_script_time), busiest first: seconds, calls, ms per call.
 * Prints nothing when no script has reported. */
void sbctl_stats_scripts(FILE *f, const sbctl_script_time_t *st);

#endif
