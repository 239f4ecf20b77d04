/* sbc_gap: see sbc_gap.h. Topics are few (a tenant's dozen kinds), so a
 * flat array searched in order is enough. */
#include "sbc_gap.h"
#include "switchboard/client.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint64_t first, last;
  int64_t due_ms;
} range_t;

typedef struct {
  char *name;
  uint64_t next; /* 0: nothing seen yet */
  size_t n;
  range_t missing[SBC_GAP_PENDING_MAX]; /* in the order they opened */
} topic_t;

struct sbc__gap {
  int grace_ms;
  topic_t *topics;
  size_t n, cap;
};

sbc__gap_t *sbc__gap_new(int grace_ms) {
  sbc__gap_t *g = calloc(1, sizeof *g);
  if (g)
    g->grace_ms = grace_ms > 0 ? grace_ms : 0;
  return g;
}

void sbc__gap_free(sbc__gap_t **gp) {
  sbc__gap_t *g = *gp;
  if (!g)
    return;
  *gp = NULL;
  for (size_t i = 0; i < g->n; i++)
    free(g->topics[i].name);
  free(g->topics);
  free(g);
}

static topic_t *topic_get(sbc__gap_t *g, const char *name) {
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->topics[i].name, name) == 0)
      return &g->topics[i];
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 8;
    topic_t *t = realloc(g->topics, cap * sizeof *t);
    if (!t)
      return NULL;
    g->topics = t, g->cap = cap;
  }
  topic_t *t = &g->topics[g->n];
  memset(t, 0, sizeof *t);
  if (!(t->name = strdup(name)))
    return NULL;
  g->n++;
  return t;
}

int sbc__gap_expect(sbc__gap_t *g, const char *topic, uint64_t next) {
  topic_t *t = topic_get(g, topic);
  if (!t)
    return SBC_ENOMEM;
  t->next = next ? next : 1;
  t->n = 0;
  return 0;
}

static void range_remove(topic_t *t, size_t i) {
  memmove(&t->missing[i], &t->missing[i + 1], (t->n - i - 1) * sizeof *t->missing);
  t->n--;
}

static void range_open(sbc__gap_t *g, topic_t *t, uint64_t first, uint64_t last, int64_t now,
                       sbc__gap_report_fn fn, void *arg) {
  if (t->n == SBC_GAP_PENDING_MAX) { /* full: the oldest is reported now */
    range_t r = t->missing[0];
    range_remove(t, 0);
    if (fn)
      fn(arg, t->name, r.first, r.last);
  }
  t->missing[t->n++] = (range_t){first, last, now + g->grace_ms};
}

/* seq arrived late: take it out of the range holding it (1), or 0. */
static int range_fill(topic_t *t, uint64_t seq) {
  for (size_t i = 0; i < t->n; i++) {
    range_t *r = &t->missing[i];
    if (seq < r->first || seq > r->last)
      continue;
    if (r->first == r->last)
      range_remove(t, i);
    else if (seq == r->first)
      r->first++;
    else if (seq == r->last)
      r->last--;
    else if (t->n < SBC_GAP_PENDING_MAX) { /* split in two */
      memmove(&t->missing[i + 2], &t->missing[i + 1], (t->n - i - 1) * sizeof *t->missing);
      t->missing[i + 1] = (range_t){seq + 1, r->last, r->due_ms};
      r->last = seq - 1;
      t->n++;
    } /* else: no room to split; the range is reported whole */
    return 1;
  }
  return 0;
}

int sbc__gap_observe(sbc__gap_t *g, const char *topic, uint64_t seq, int64_t now_ms,
                     sbc__gap_report_fn fn, void *arg) {
  if (seq == 0)
    return SBC_GAP_IN_ORDER;
  topic_t *t = topic_get(g, topic);
  if (!t)
    return SBC_ENOMEM;
  if (t->next == 0 || seq == t->next) {
    t->next = seq + 1;
    return SBC_GAP_IN_ORDER;
  }
  if (seq > t->next) {
    uint64_t first = t->next;
    t->next = seq + 1;
    range_open(g, t, first, seq - 1, now_ms, fn, arg);
    return SBC_GAP_JUMP;
  }
  return range_fill(t, seq) ? SBC_GAP_LATE : SBC_GAP_OLD;
}

size_t sbc__gap_expire(sbc__gap_t *g, int64_t now_ms, sbc__gap_report_fn fn, void *arg) {
  size_t reported = 0;
  for (size_t i = 0; i < g->n; i++) {
    topic_t *t = &g->topics[i];
    for (size_t k = 0; k < t->n;) {
      if (t->missing[k].due_ms > now_ms) {
        k++;
        continue;
      }
      range_t r = t->missing[k];
      range_remove(t, k);
      reported++;
      if (fn)
        fn(arg, t->name, r.first, r.last);
      t = &g->topics[i]; /* the callback may have added topics (realloc) */
    }
  }
  return reported;
}

int64_t sbc__gap_next_due(const sbc__gap_t *g) {
  int64_t due = -1;
  for (size_t i = 0; i < g->n; i++)
    for (size_t k = 0; k < g->topics[i].n; k++)
      if (due < 0 || g->topics[i].missing[k].due_ms < due)
        due = g->topics[i].missing[k].due_ms;
  return due;
}
