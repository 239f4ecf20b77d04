/*
 * sb_service_level: see sb_service_level.h.
 *
 * Samples are kept per group (channel, queue) in the order first seen;
 * compute sorts each group's durations once for its p90 and builds the
 * rows. The tenant's row pools every group's durations.
 */
#include "sb_service_level.h"
#include "sb_envelope.h"
#include "sb_error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_FIELDS_MAX 5

typedef struct {
  char channel[SB_SERVICE_LEVEL_NAME_MAX];
  char queue[SB_SERVICE_LEVEL_NAME_MAX];
  int64_t *ms; /* first-response durations */
  size_t n, cap;
  uint32_t met, unanswered, backlog;
} group_t;

struct sb_service_level {
  group_t *groups;
  size_t ngroups, capgroups;
  sb_service_level_row_t *rows;
  size_t nrows;
};

sb_service_level_t *sb_service_level_new(void) { return calloc(1, sizeof(sb_service_level_t)); }

void sb_service_level_reset(sb_service_level_t *sl) {
  for (size_t i = 0; i < sl->ngroups; i++)
    free(sl->groups[i].ms);
  sl->ngroups = 0;
  free(sl->rows);
  sl->rows = NULL;
  sl->nrows = 0;
}

void sb_service_level_destroy(sb_service_level_t **slp) {
  sb_service_level_t *sl = *slp;
  if (!sl)
    return;
  *slp = NULL;
  sb_service_level_reset(sl);
  free(sl->groups);
  free(sl);
}

/* Splits s[0..len) at the first nf-1 '|' (the last field keeps any further
 * '|'); each field as (start, length). 0, or SB_EINVAL if fewer fields. */
static int split(const char *s, size_t len, int nf, const char **f, size_t *fl) {
  int k = 0;
  size_t start = 0;
  for (size_t i = 0; i < len && k < nf - 1; i++)
    if (s[i] == '|') {
      f[k] = s + start;
      fl[k++] = i - start;
      start = i + 1;
    }
  if (k != nf - 1)
    return SB_EINVAL;
  f[k] = s + start;
  fl[k] = len - start;
  return 0;
}

/* A non-negative decimal field. */
static int number(const char *s, size_t len, int64_t *out) {
  if (len == 0 || len > 18)
    return SB_EINVAL;
  int64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return SB_EINVAL;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static group_t *group_of(sb_service_level_t *sl, const char *ch, size_t chl, const char *q, size_t ql) {
  if (chl == 0 || chl >= SB_SERVICE_LEVEL_NAME_MAX || ql >= SB_SERVICE_LEVEL_NAME_MAX)
    return NULL;
  for (size_t i = 0; i < sl->ngroups; i++) {
    group_t *g = &sl->groups[i];
    if (strlen(g->channel) == chl && !memcmp(g->channel, ch, chl) && strlen(g->queue) == ql &&
        !memcmp(g->queue, q, ql))
      return g;
  }
  if (sl->ngroups == sl->capgroups) {
    size_t cap = sl->capgroups ? 2 * sl->capgroups : 8;
    group_t *ng = realloc(sl->groups, cap * sizeof *ng);
    if (!ng)
      return NULL;
    sl->groups = ng;
    sl->capgroups = cap;
  }
  group_t *g = &sl->groups[sl->ngroups++];
  memset(g, 0, sizeof *g);
  memcpy(g->channel, ch, chl);
  memcpy(g->queue, q, ql);
  return g;
}

static int push_ms(group_t *g, int64_t ms) {
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 16;
    int64_t *nm = realloc(g->ms, cap * sizeof *nm);
    if (!nm)
      return SB_ENOMEM;
    g->ms = nm;
    g->cap = cap;
  }
  g->ms[g->n++] = ms;
  return 0;
}

int sb_service_level_add_response(sb_service_level_t *sl, const char *member, size_t len) {
  const char *f[SL_FIELDS_MAX];
  size_t fl[SL_FIELDS_MAX];
  int64_t ms, met;
  if (split(member, len, 5, f, fl) || number(f[0], fl[0], &ms) || number(f[1], fl[1], &met) || met > 1)
    return SB_EINVAL;
  group_t *g = group_of(sl, f[2], fl[2], f[4], fl[4]);
  if (!g)
    return fl[2] == 0 || fl[2] >= SB_SERVICE_LEVEL_NAME_MAX || fl[4] >= SB_SERVICE_LEVEL_NAME_MAX ? SB_EINVAL
                                                                                                    : SB_ENOMEM;
  int rc = push_ms(g, ms);
  if (rc == 0)
    g->met += (uint32_t)met;
  return rc;
}

int sb_service_level_add_open(sb_service_level_t *sl, const char *value, size_t len, int64_t now_ms) {
  const char *f[SL_FIELDS_MAX];
  size_t fl[SL_FIELDS_MAX];
  int64_t due, started;
  if (split(value, len, 4, f, fl) || number(f[0], fl[0], &due) || number(f[1], fl[1], &started))
    return SB_EINVAL;
  group_t *g = group_of(sl, f[2], fl[2], f[3], fl[3]);
  if (!g)
    return fl[2] == 0 || fl[2] >= SB_SERVICE_LEVEL_NAME_MAX || fl[3] >= SB_SERVICE_LEVEL_NAME_MAX ? SB_EINVAL
                                                                                                    : SB_ENOMEM;
  g->backlog++;
  g->unanswered += now_ms > due;
  return 0;
}

static int cmp_ms(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_group(const void *a, const void *b) {
  const group_t *x = a, *y = b;
  int c = strcmp(x->channel, y->channel);
  return c ? c : strcmp(x->queue, y->queue);
}

/* Fills a row's figures from sorted durations and its counts. */
static void figures(sb_service_level_row_t *r, const int64_t *ms, size_t n, uint32_t met, uint32_t unanswered,
                    uint32_t backlog) {
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += ms[i];
  r->answered = (uint32_t)n;
  r->answered_in_target = met;
  r->unanswered = unanswered;
  r->backlog = backlog;
  r->avg_ms = n ? (sum + (int64_t)n / 2) / (int64_t)n : 0;
  r->p90_ms = n ? ms[(9 * n + 9) / 10 - 1] : 0; /* nearest rank: ceil(0.9 n) */
  r->answered_in_target_share = n ? (double)met / (double)n : 0;
  r->unanswered_share = n + unanswered ? (double)unanswered / (double)(n + unanswered) : 0;
}

int sb_service_level_compute(sb_service_level_t *sl) {
  size_t total = 0;
  for (size_t i = 0; i < sl->ngroups; i++)
    total += sl->groups[i].n;
  free(sl->rows);
  sl->nrows = 0;
  sl->rows = calloc(sl->ngroups + 1, sizeof *sl->rows);
  int64_t *all = malloc((total ? total : 1) * sizeof *all);
  if (!sl->rows || !all) {
    free(all);
    return SB_ENOMEM;
  }
  if (sl->ngroups) /* qsort's base may not be NULL, even for no element */
    qsort(sl->groups, sl->ngroups, sizeof *sl->groups, cmp_group);
  uint32_t met = 0, unanswered = 0, backlog = 0;
  size_t k = 0;
  for (size_t i = 0; i < sl->ngroups; i++) {
    group_t *g = &sl->groups[i];
    if (g->n)
      qsort(g->ms, g->n, sizeof *g->ms, cmp_ms);
    sb_service_level_row_t *r = &sl->rows[i + 1];
    memcpy(r->channel, g->channel, sizeof r->channel);
    memcpy(r->queue, g->queue, sizeof r->queue);
    figures(r, g->ms, g->n, g->met, g->unanswered, g->backlog);
    if (g->n)
      memcpy(all + k, g->ms, g->n * sizeof *all);
    k += g->n;
    met += g->met;
    unanswered += g->unanswered;
    backlog += g->backlog;
  }
  qsort(all, total, sizeof *all, cmp_ms);
  sb_service_level_row_t *r = &sl->rows[0];
  snprintf(r->channel, sizeof r->channel, "%s", SB_SERVICE_LEVEL_ALL);
  snprintf(r->queue, sizeof r->queue, "%s", SB_SERVICE_LEVEL_ALL);
  figures(r, all, total, met, unanswered, backlog);
  free(all);
  sl->nrows = sl->ngroups + 1;
  return 0;
}

size_t sb_service_level_count(const sb_service_level_t *sl) { return sl->nrows; }

const sb_service_level_row_t *sb_service_level_row(const sb_service_level_t *sl, size_t i) {
  return i < sl->nrows ? &sl->rows[i] : NULL;
}

uint8_t *sb_service_level_pack(const sb_service_level_t *sl, const char *tenant, int64_t period_start_ms,
                               int64_t period_ms, int64_t window_ms, int64_t now_ms, char key_out[33],
                               size_t *len) {
  char id[SB_SERVICE_LEVEL_NAME_MAX + 64];
  snprintf(id, sizeof id, "service-level-%s-%" PRId64, tenant, period_start_ms);
  sb_event_key("/sla-timer", id, key_out);
  Switchboard__V1__ServiceLevelRow *rows = calloc(sl->nrows ? sl->nrows : 1, sizeof *rows);
  Switchboard__V1__ServiceLevelRow **prows = calloc(sl->nrows ? sl->nrows : 1, sizeof *prows);
  uint8_t *out = NULL;
  if (rows && prows) {
    for (size_t i = 0; i < sl->nrows; i++) {
      const sb_service_level_row_t *r = &sl->rows[i];
      switchboard__v1__service_level_row__init(&rows[i]);
      rows[i].channel = (char *)r->channel;
      rows[i].queue = (char *)r->queue;
      rows[i].answered = r->answered;
      rows[i].answered_in_target = r->answered_in_target;
      rows[i].avg_first_response_ms = r->avg_ms;
      rows[i].p90_first_response_ms = r->p90_ms;
      rows[i].answered_in_target_share = r->answered_in_target_share;
      rows[i].unanswered = r->unanswered;
      rows[i].unanswered_share = r->unanswered_share;
      rows[i].backlog = r->backlog;
      prows[i] = &rows[i];
    }
    Switchboard__V1__ServiceLevel level = SWITCHBOARD__V1__SERVICE_LEVEL__INIT;
    level.window_ms = window_ms;
    level.period_ms = period_ms;
    level.computed_ms = now_ms;
    level.n_rows = sl->nrows;
    level.rows = prows;
    sb_envelope_t env = SWITCHBOARD__V1__ENVELOPE__INIT;
    env.id = id;
    env.source = "/sla-timer";
    env.type = "com.switchboard.service_level";
    env.specversion = "1.0";
    env.time_ms = now_ms;
    env.tenant = (char *)tenant;
    env.key = key_out;
    env.body_case = SWITCHBOARD__V1__ENVELOPE__BODY_SERVICE_LEVEL;
    env.service_level = &level;
    out = sb_envelope_pack(&env, len);
  }
  free(rows);
  free(prows);
  return out;
}
