/*
 * sb_metrics: a Prometheus metrics registry and a log-linear latency histogram.
 *
 * A registry holds metric families (one name, one type, one help text), each
 * with series told apart by their label list. The registry owns every object
 * it hands out; callers look a series up once and keep the pointer, so that
 * the hot path is one addition. Every rendered sample carries the label
 * service="<service>" given to sb_metrics_new().
 *
 * The histogram records microseconds into power-of-two ranges each split into
 * 32 linear sub-buckets: a quantile is reported within 1/64 (~1.6%) of the
 * recorded values, recording is O(1) and memory is fixed. Values from 0 to
 * SB_HISTOGRAM_MAX_US are tracked; larger values count in the top bucket
 * (count, sum, mean and max stay exact). For Prometheus it also keeps exact
 * counts for a fixed set of "le" bounds in seconds.
 *
 * Single-threaded: one libuv loop per process, no locks.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Largest value (in microseconds, ~71.6 minutes) kept in its own bucket. */
#define SB_HISTOGRAM_MAX_US ((uint64_t)0xFFFFFFFFu)

typedef struct sb_metrics sb_metrics_t;
typedef struct sb_counter sb_counter_t;
typedef struct sb_gauge sb_gauge_t;
typedef struct sb_histogram sb_histogram_t;

/* A registry whose samples all carry service="<service>" (escaped here).
 * Returns NULL on OOM. */
sb_metrics_t *sb_metrics_new(const char *service);
/* Frees the registry and every counter, gauge and histogram it handed out;
 * clears *m. NULL or *m == NULL is a no-op. */
void sb_metrics_destroy(sb_metrics_t **m);

/*
 * Get-or-create. name: a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*);
 * the caller adds the "sb_" prefix. help: used by the first registration of
 * the name. labels: NULL or a label list without braces, e.g.
 * "reason=\"bad_json\",tenant=\"acme\"" (build it with sb_metrics_labels()
 * when values come from outside). The same name and labels return the same
 * object, owned by the registry. Returns NULL on OOM, and also on caller
 * bugs: an invalid name, or a name already registered with another type.
 */
sb_counter_t *sb_metrics_counter(sb_metrics_t *m, const char *name, const char *help,
                                 const char *labels);
sb_gauge_t *sb_metrics_gauge(sb_metrics_t *m, const char *name, const char *help,
                             const char *labels);
sb_histogram_t *sb_metrics_histogram(sb_metrics_t *m, const char *name, const char *help,
                                     const char *labels);

/*
 * Formats key/value pairs, ending with NULL, as a label list for the
 * functions above: sb_metrics_labels(buf, sizeof buf, "tenant", t, NULL)
 * gives tenant="<t escaped>". Values are escaped (\\, \", \n). Returns 0,
 * SB_EINVAL for an invalid label name, or SB_ETOOBIG if buf is too small
 * (buf then holds "" ). buf is always NUL-terminated when cap > 0.
 */
int sb_metrics_labels(char *buf, size_t cap, const char *key, ...);

/* Counters only go up. */
void sb_counter_add(sb_counter_t *c, uint64_t n);
uint64_t sb_counter_value(const sb_counter_t *c);

void sb_gauge_set(sb_gauge_t *g, double v);
void sb_gauge_add(sb_gauge_t *g, double d);
double sb_gauge_value(const sb_gauge_t *g);

/* A standalone histogram, not in a registry (benchmarks). NULL on OOM. */
sb_histogram_t *sb_histogram_new(void);
/* Frees a standalone histogram and clears *h; never pass a registry's. */
void sb_histogram_destroy(sb_histogram_t **h);
/* Records one value in microseconds. O(1). */
void sb_histogram_record(sb_histogram_t *h, uint64_t value_us);
uint64_t sb_histogram_count(const sb_histogram_t *h);
/* The value at quantile q (clamped to [0,1]) in microseconds, within 1/64 of
 * a recorded value's bucket and never outside [min, max] recorded; 0 if the
 * histogram is empty. */
uint64_t sb_histogram_quantile(const sb_histogram_t *h, double q);
/* Exact largest recorded value; 0 if empty. */
uint64_t sb_histogram_max(const sb_histogram_t *h);
/* Exact mean of recorded values; 0 if empty. */
double sb_histogram_mean(const sb_histogram_t *h);
/* Adds every value recorded in from to into (from is unchanged). */
void sb_histogram_merge(sb_histogram_t *into, const sb_histogram_t *from);
/* Forgets every recorded value. */
void sb_histogram_reset(sb_histogram_t *h);

/*
 * Renders the registry in the Prometheus text exposition format 0.0.4:
 * "# HELP" and "# TYPE" once per family, then its samples; histograms as
 * cumulative <name>_bucket{le="..."} lines over a fixed set of bounds in
 * seconds ending with le="+Inf", then <name>_sum (seconds) and <name>_count.
 * Appends process_resident_memory_bytes and process_start_time_seconds.
 * On success *out is a malloc'd NUL-terminated string of *len bytes that
 * the caller frees. Returns 0 or SB_ENOMEM (*out is then NULL).
 */
int sb_metrics_render(sb_metrics_t *m, char **out, size_t *len);

#endif
