/*
 * sbctl_stats: see sbctl_stats.h. The table shows the figures a supervisor
 * watches (flow through the stages, the waiting line, SLA outcomes, dead
 * letters, open leases); --json shows every figure sbctl_view reads.
 */
#include "sbctl_stats.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_WIDTH 16

static const char *const headers[] = {"ingested", "classified", "assigned", "waiting", "in-flight",
                                      "sla-warn", "sla-breach", "sla-met", "dead", "closed"};
#define NCOLS (sizeof headers / sizeof headers[0])

static void row(FILE *f, const char *name, const sbctl_stats_t *s) {
  const long long v[NCOLS] = {s->ingested,    s->classified,  s->assigned, s->waiting,      sbctl_view_inflight(s),
                              s->sla_warning, s->sla_breach,  s->sla_met,  s->dead_letters, s->closed};
  fprintf(f, "%-*.*s", NAME_WIDTH, NAME_WIDTH, name);
  for (size_t i = 0; i < NCOLS; i++)
    fprintf(f, " %10lld", v[i]);
  fputc('\n', f);
}

static void add(sbctl_stats_t *sum, const sbctl_stats_t *s) {
  long long *a = (long long *)sum;
  const long long *b = (const long long *)s;
  for (size_t i = 0; i < sizeof *s / sizeof(long long); i++) /* sbctl_stats_t is all long long */
    a[i] += b[i];
}

void sbctl_stats_table(FILE *f, const char *const *names, const sbctl_stats_t *rows, size_t n) {
  fprintf(f, "%-*s", NAME_WIDTH, "tenant");
  for (size_t i = 0; i < NCOLS; i++)
    fprintf(f, " %10s", headers[i]);
  fputc('\n', f);
  sbctl_stats_t total = {0};
  for (size_t i = 0; i < n; i++) {
    row(f, names[i], &rows[i]);
    add(&total, &rows[i]);
  }
  if (n > 1)
    row(f, "(all)", &total);
}

void sbctl_stats_scripts(FILE *f, const sbctl_script_time_t *st) {
  if (st->n == 0)
    return;
  size_t order[SBCTL_SCRIPTS_MAX];
  for (size_t i = 0; i < st->n; i++)
    order[i] = i;
  for (size_t i = 1; i < st->n; i++) /* a few dozen at most: insertion sort, busiest first */
    for (size_t j = i; j > 0 && st->s[order[j]].us > st->s[order[j - 1]].us; j--) {
      size_t k = order[j];
      order[j] = order[j - 1];
      order[j - 1] = k;
    }
  fprintf(f, "\nRedis time in scripts (all tenants, since their counters began):\n");
  for (size_t i = 0; i < st->n; i++) {
    long long us = st->s[order[i]].us, calls = st->s[order[i]].calls;
    fprintf(f, "  %-*s %12.3f s %12lld calls %10.3f ms/call\n", NAME_WIDTH, st->s[order[i]].name, us / 1e6, calls,
            calls > 0 ? us / 1e3 / (double)calls : 0.0);
  }
}

static void print_json(const sb_tenants_t *t, const sbctl_stats_t *rows, const sbctl_script_time_t *st) {
  printf("{\"tenants\":{");
  for (size_t i = 0; i < sb_tenants_count(t); i++) {
    printf("%s\"%s\":", i ? "," : "", sb_tenants_at(t, i)->id);
    sbctl_view_json(stdout, &rows[i]);
  }
  printf("},\"redis_scripts\":{");
  for (size_t i = 0; i < st->n; i++)
    printf("%s\"%s\":{\"us\":%lld,\"calls\":%lld}", i ? "," : "", st->s[i].name, st->s[i].us, st->s[i].calls);
  printf("}}\n");
}

/* Each tenant's figures and, from the same read, the script times summed
 * over tenants. */
static int read_rows(redisContext *rc, const sb_tenants_t *t, sbctl_stats_t *rows, const char **names,
                     sbctl_script_time_t *st) {
  memset(st, 0, sizeof *st);
  for (size_t i = 0; i < sb_tenants_count(t); i++) {
    memset(&rows[i], 0, sizeof rows[i]);
    names[i] = sb_tenants_at(t, i)->id;
    if (sbctl_view_read_scripts(rc, names[i], &rows[i], st))
      return -1;
  }
  return 0;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* a CLI's redraw tick, not a service loop */
}

int sbctl_stats_run(redisContext *rc, const sb_tenants_t *t, sbctl_stats_mode_t mode,
                    volatile sig_atomic_t *stop) {
  size_t n = sb_tenants_count(t);
  sbctl_stats_t *rows = calloc(n ? n : 1, sizeof *rows);
  const char **names = calloc(n ? n : 1, sizeof *names);
  int rc_ = rows && names ? 0 : -1;
  sbctl_script_time_t st;
  do {
    if (rc_ || (rc_ = read_rows(rc, t, rows, names, &st)))
      break;
    if (mode == SBCTL_STATS_JSON) {
      print_json(t, rows, &st);
    } else {
      if (mode == SBCTL_STATS_WATCH) {
        time_t now = time(NULL);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
        printf("\033[H\033[2J" "sbctl stats  %s  (every %d ms, Ctrl-C to stop)\n\n", when, SBCTL_STATS_WATCH_MS);
      }
      sbctl_stats_table(stdout, names, rows, n);
      sbctl_stats_scripts(stdout, &st);
      fflush(stdout);
    }
    if (mode == SBCTL_STATS_WATCH)
      for (int i = 0; i < SBCTL_STATS_WATCH_MS / 100 && !*stop; i++)
        pause_ms(100);
  } while (mode == SBCTL_STATS_WATCH && !*stop);
  free(rows);
  free(names);
  return rc_;
}
