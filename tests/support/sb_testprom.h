/*
 * sb_testprom: the real Prometheus tools for tests. Debian's `promtool`
 * lints a /metrics body; Debian's `prometheus` server scrapes the stack's
 * admin ports on loopback and answers PromQL over its HTTP API; and a
 * small PromQL scanner lists the metric names an expression reads, so a
 * dashboard can be held to the names the services really expose.
 *
 * Every process started here is a child of the test, stopped and reaped
 * by its destroy function; files live in a folder the caller owns.
 */
#ifndef SB_TESTPROM_H
#define SB_TESTPROM_H

#include <stddef.h>

/* The path of a program on PATH ("promtool"), copied to out; 0 when found,
 * -1 when not. */
int sb_testprom_which(const char *prog, char *out, size_t cap);

/* Runs `promtool check metrics` with body on its standard input. Copies up
 * to cap-1 bytes of what it printed (stdout and stderr) to out. Returns its
 * exit status (0: parsed, no lint problem), or -1 when it could not run. */
int sb_testprom_check_metrics(const char *promtool, const char *body, char *out, size_t cap);

typedef struct sb_testprom sb_testprom_t;

/* Starts `prometheus` on a free 127.0.0.1 port, with its configuration and
 * TSDB under dir (which must exist), scraping job "switchboard" at
 * 127.0.0.1:<ports[i]>/metrics every second; waits until /-/ready answers
 * (up to 20 s). NULL on failure (its log, dir/prometheus.log, says why). */
sb_testprom_t *sb_testprom_start(const char *prometheus, const char *dir, const int *ports,
                                 size_t nports);
/* SIGTERM, then waits for it (SIGKILL after 10 s); clears *p. */
void sb_testprom_stop(sb_testprom_t **p);
int sb_testprom_port(const sb_testprom_t *p);

/* GET http://127.0.0.1:<server port><path> (libcurl, so chunked answers
 * work): the body, malloc'd, or NULL unless the status is 200. */
char *sb_testprom_get(const sb_testprom_t *p, const char *path);
/* Active targets of the server whose health is "up"; -1 on error. */
int sb_testprom_targets_up(const sb_testprom_t *p);
/* The instant query q: the number of series in the vector answer (or 1 for
 * a scalar), with the first one's value in *value. -1 on error. */
int sb_testprom_query(const sb_testprom_t *p, const char *q, double *value);

/*
 * The metric names PromQL expression expr selects: identifiers that are
 * not functions, aggregations, keywords or label names (inside {...},
 * by/without/on/ignoring/group_left/group_right (...) lists), durations,
 * numbers, strings or Grafana variables ($x, ${x}). Up to max names of at
 * most 127 characters go to names[i]; returns how many were found (which
 * may exceed max), or -1 for an expression the scanner cannot follow
 * (unbalanced brackets or quotes).
 */
int sb_testprom_expr_names(const char *expr, char names[][128], int max);

#endif
