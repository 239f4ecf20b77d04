/* sbctl_progress: see sbctl_progress.h. */
#include "sbctl_progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const sb_option_t sbctl_progress_options[] = {
    {"progress", SB_OPT_BOOL, "0",
     "publish, up: progress lines on stderr when it is not a terminal (a terminal always gets the bar)"},
    {NULL, 0, NULL, NULL}};

struct sbctl_progress {
  FILE *f;
  sbctl_progress_mode_t mode;
  sbctl_progress_sample_t s;
  int64_t start_ms, next_ms;
};

sbctl_progress_mode_t sbctl_progress_mode(int is_tty, int progress_flag) {
  if (is_tty)
    return SBCTL_PROGRESS_BAR;
  return progress_flag ? SBCTL_PROGRESS_LINES : SBCTL_PROGRESS_OFF;
}

double sbctl_progress_rate(const sbctl_progress_sample_t *s) {
  if (s->elapsed_ms <= 0 || s->acked <= 0)
    return 0;
  return (double)s->acked * 1000.0 / (double)s->elapsed_ms;
}

long long sbctl_progress_eta_s(const sbctl_progress_sample_t *s) {
  long long left = s->total - s->acked;
  if (left <= 0)
    return 0;
  double rate = sbctl_progress_rate(s);
  if (rate <= 0)
    return -1;
  return (long long)((double)left / rate + 0.999); /* rounded up: never "0s" while events are left */
}

void sbctl_progress_duration(long long secs, char *out, size_t cap) {
  if (secs < 0)
    snprintf(out, cap, "--");
  else if (secs < 60)
    snprintf(out, cap, "%llds", secs);
  else if (secs < 3600)
    snprintf(out, cap, "%lldm%02llds", secs / 60, secs % 60);
  else
    snprintf(out, cap, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
}

/* Percent of total acknowledged, 0..100 (100 for an empty total). */
static int percent(const sbctl_progress_sample_t *s) {
  if (s->total <= 0)
    return 100;
  long long a = s->acked < 0 ? 0 : s->acked > s->total ? s->total : s->acked;
  return (int)(a * 100 / s->total);
}

void sbctl_progress_format(const sbctl_progress_sample_t *s, int bar, char *out, size_t cap) {
  char eta[24];
  sbctl_progress_duration(sbctl_progress_eta_s(s), eta, sizeof eta);
  double rate = sbctl_progress_rate(s);
  int pct = percent(s);
  if (!bar) {
    snprintf(out, cap, "progress: published %lld acked %lld of %lld (%d%%) %.0f/s eta %s", s->published,
             s->acked, s->total, pct, rate, eta);
    return;
  }
  char cells[SBCTL_PROGRESS_BAR_WIDTH + 1];
  int full = pct * SBCTL_PROGRESS_BAR_WIDTH / 100;
  memset(cells, '#', (size_t)full);
  memset(cells + full, '.', (size_t)(SBCTL_PROGRESS_BAR_WIDTH - full));
  cells[SBCTL_PROGRESS_BAR_WIDTH] = '\0';
  snprintf(out, cap, "[%s] %3d%% %lld/%lld acked (%lld published) %.0f/s ETA %s", cells, pct, s->acked,
           s->total, s->published, rate, eta);
}

sbctl_progress_t *sbctl_progress_new(FILE *f, sbctl_progress_mode_t mode, long long total, int64_t now_ms) {
  if (mode == SBCTL_PROGRESS_OFF)
    return NULL;
  sbctl_progress_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->f = f;
  p->mode = mode;
  p->s.total = total;
  p->start_ms = p->next_ms = now_ms;
  return p;
}

static void show(sbctl_progress_t *p, int64_t now_ms) {
  char line[256];
  p->s.elapsed_ms = now_ms - p->start_ms;
  sbctl_progress_format(&p->s, p->mode == SBCTL_PROGRESS_BAR, line, sizeof line);
  if (p->mode == SBCTL_PROGRESS_BAR)
    fprintf(p->f, "\r%s\033[K", line); /* redraw in place, clear what a longer line left */
  else
    fprintf(p->f, "%s\n", line);
  fflush(p->f);
}

void sbctl_progress_update(sbctl_progress_t *p, long long published, long long acked, int64_t now_ms) {
  if (!p)
    return;
  p->s.published = published;
  p->s.acked = acked;
  if (now_ms < p->next_ms)
    return;
  p->next_ms = now_ms + (p->mode == SBCTL_PROGRESS_BAR ? SBCTL_PROGRESS_BAR_MS : SBCTL_PROGRESS_LINE_MS);
  show(p, now_ms);
}

void sbctl_progress_update_client(sbctl_progress_t *p, const sbctl_client_stats_t *s, int64_t now_ms) {
  long long acked = (long long)(s->ok + s->duplicate + s->invalid + s->unknown_tenant);
  long long published = (long long)(s->sent - s->retried - s->resent);
  if (p && published > p->s.total)
    published = p->s.total;
  sbctl_progress_update(p, published < acked ? acked : published, acked, now_ms);
}

void sbctl_progress_finish(sbctl_progress_t **pp, int64_t now_ms) {
  sbctl_progress_t *p = *pp;
  if (!p)
    return;
  show(p, now_ms);
  if (p->mode == SBCTL_PROGRESS_BAR)
    fputc('\n', p->f);
  free(p);
  *pp = NULL;
}

sbctl_progress_t *sbctl_progress_for(const sb_config_t *c, long long total, int64_t now_ms) {
  sbctl_progress_mode_t m = sbctl_progress_mode(isatty(STDERR_FILENO), sb_config_bool(c, "progress"));
  return sbctl_progress_new(stderr, m, total, now_ms);
}
