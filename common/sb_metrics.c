/*
 * sb_metrics: registry of counters, gauges and histograms, rendered in the
 * Prometheus text format (see sb_metrics.h).
 *
 * Histogram layout (log-linear, like HdrHistogram with 5 significant bits):
 * a value v with highest set bit b >= SUB_BITS goes to the range shifted by
 * s = b - SUB_BITS, whose 32 sub-buckets are 2^s wide; values below 64 are
 * exact. The index is s * SUB_COUNT + (v >> s), which is monotonic in v, so
 * buckets are ordered and a quantile is a prefix sum. A bucket's width is at
 * most 1/32 of its lower bound; reporting its midpoint halves that.
 *
 * Invariants: a histogram's count equals the sum of its buckets; the exact
 * Prometheus counts (prom[]) never exceed count; a family holds series of its
 * own type only; the registry owns every family, series and string.
 */
#include "sb_metrics.h"

#include "sb_error.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 5
#define SUB_COUNT (1u << SUB_BITS)
#define MAX_BITS 32 /* SB_HISTOGRAM_MAX_US == 2^MAX_BITS - 1 */
#define BUCKET_COUNT (SUB_COUNT * (MAX_BITS - SUB_BITS + 1))
#define US_PER_SECOND 1e6
#define RENDER_INITIAL_CAP 4096
#define DOUBLE_TEXT_MAX 40
#define SHORT_DOUBLE_DIGITS 15 /* try the readable form first */
#define EXACT_DOUBLE_DIGITS 17 /* always round-trips */
#define STATM_PATH "/proc/self/statm"
#define STAT_PATH "/proc/self/stat"
#define SYS_STAT_PATH "/proc/stat"
#define STAT_STARTTIME_FIELD 22 /* proc(5): starttime, in clock ticks */
#define PROC_LINE_MAX 1024

/* Fixed Prometheus "le" bounds: microseconds and their text in seconds. */
static const struct {
  uint64_t us;
  const char *text;
} prom_bounds[] = {
    {100, "0.0001"},  {250, "0.00025"},  {500, "0.0005"},   {1000, "0.001"},
    {2500, "0.0025"}, {5000, "0.005"},   {10000, "0.01"},   {25000, "0.025"},
    {50000, "0.05"},  {100000, "0.1"},   {250000, "0.25"},  {500000, "0.5"},
    {1000000, "1"},   {2500000, "2.5"},  {5000000, "5"},    {10000000, "10"},
    {30000000, "30"}, {60000000, "60"},
};
#define PROM_BOUND_COUNT (sizeof prom_bounds / sizeof prom_bounds[0])

struct sb_histogram {
  uint64_t count;
  uint64_t sum_us; /* saturates instead of wrapping */
  uint64_t min_us;
  uint64_t max_us;
  uint64_t prom[PROM_BOUND_COUNT]; /* per bound, not cumulative */
  uint64_t buckets[BUCKET_COUNT];
};

struct sb_counter {
  uint64_t value;
};

struct sb_gauge {
  double value;
};

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

typedef struct series {
  struct series *next;
  char *labels; /* "" when none */
  union {
    sb_counter_t counter;
    sb_gauge_t gauge;
    sb_histogram_t *histogram;
  } u;
} series_t;

typedef struct family {
  struct family *next;
  char *name;
  char *help;
  kind_t kind;
  series_t *series; /* in registration order */
  series_t **series_tail;
} family_t;

struct sb_metrics {
  char *service; /* escaped label value */
  family_t *families;
  family_t **families_tail;
  time_t created; /* fallback for process_start_time_seconds */
};

/* ---- histogram ------------------------------------------------------- */

static unsigned bucket_index(uint64_t v) {
  if (v > SB_HISTOGRAM_MAX_US)
    v = SB_HISTOGRAM_MAX_US;
  unsigned msb = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
  unsigned shift = msb < SUB_BITS ? 0 : msb - SUB_BITS;
  return shift * SUB_COUNT + (unsigned)(v >> shift);
}

static uint64_t bucket_lower(unsigned idx) {
  if (idx < SUB_COUNT)
    return idx;
  unsigned shift = idx / SUB_COUNT - 1;
  return (uint64_t)(idx - shift * SUB_COUNT) << shift;
}

static uint64_t bucket_width(unsigned idx) {
  return idx < SUB_COUNT ? 1 : (uint64_t)1 << (idx / SUB_COUNT - 1);
}

sb_histogram_t *sb_histogram_new(void) {
  sb_histogram_t *h = calloc(1, sizeof *h);
  return h;
}

void sb_histogram_destroy(sb_histogram_t **h) {
  if (!h || !*h)
    return;
  free(*h);
  *h = NULL;
}

static uint64_t add_saturating(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void sb_histogram_record(sb_histogram_t *h, uint64_t value_us) {
  if (h->count == 0 || value_us < h->min_us)
    h->min_us = value_us;
  if (value_us > h->max_us)
    h->max_us = value_us;
  h->count++;
  h->sum_us = add_saturating(h->sum_us, value_us);
  h->buckets[bucket_index(value_us)]++;
  for (size_t i = 0; i < PROM_BOUND_COUNT; i++) {
    if (value_us <= prom_bounds[i].us) {
      h->prom[i]++;
      break;
    }
  }
}

uint64_t sb_histogram_count(const sb_histogram_t *h) { return h->count; }

uint64_t sb_histogram_max(const sb_histogram_t *h) { return h->max_us; }

double sb_histogram_mean(const sb_histogram_t *h) {
  return h->count ? (double)h->sum_us / (double)h->count : 0.0;
}

uint64_t sb_histogram_quantile(const sb_histogram_t *h, double q) {
  if (h->count == 0)
    return 0;
  if (!(q > 0.0)) /* also catches NaN */
    q = 0.0;
  if (q > 1.0)
    q = 1.0;
  uint64_t rank = (uint64_t)ceil(q * (double)h->count);
  if (rank == 0)
    rank = 1;
  uint64_t seen = 0;
  unsigned idx = 0;
  for (; idx < BUCKET_COUNT - 1; idx++) {
    seen += h->buckets[idx];
    if (seen >= rank)
      break;
  }
  uint64_t v = bucket_lower(idx) + (bucket_width(idx) - 1) / 2;
  if (v < h->min_us)
    v = h->min_us;
  if (v > h->max_us)
    v = h->max_us;
  return v;
}

void sb_histogram_merge(sb_histogram_t *into, const sb_histogram_t *from) {
  if (from->count == 0)
    return;
  if (into->count == 0 || from->min_us < into->min_us)
    into->min_us = from->min_us;
  if (from->max_us > into->max_us)
    into->max_us = from->max_us;
  into->count += from->count;
  into->sum_us = add_saturating(into->sum_us, from->sum_us);
  for (size_t i = 0; i < PROM_BOUND_COUNT; i++)
    into->prom[i] += from->prom[i];
  for (size_t i = 0; i < BUCKET_COUNT; i++)
    into->buckets[i] += from->buckets[i];
}

void sb_histogram_reset(sb_histogram_t *h) { memset(h, 0, sizeof *h); }

/* ---- counters and gauges --------------------------------------------- */

void sb_counter_add(sb_counter_t *c, uint64_t n) { c->value += n; }
uint64_t sb_counter_value(const sb_counter_t *c) { return c->value; }
void sb_gauge_set(sb_gauge_t *g, double v) { g->value = v; }
void sb_gauge_add(sb_gauge_t *g, double d) { g->value += d; }
double sb_gauge_value(const sb_gauge_t *g) { return g->value; }

/* ---- text buffer and escaping ---------------------------------------- */

typedef struct {
  char *p;
  size_t len;
  size_t cap;
  int oom; /* sticky: once set, appends are ignored */
} text_t;

static int text_reserve(text_t *t, size_t more) {
  if (t->oom)
    return SB_ENOMEM;
  if (t->len + more + 1 <= t->cap)
    return 0;
  size_t cap = t->cap ? t->cap : RENDER_INITIAL_CAP;
  while (cap < t->len + more + 1)
    cap *= 2;
  char *p = realloc(t->p, cap);
  if (!p) {
    t->oom = 1;
    return SB_ENOMEM;
  }
  t->p = p;
  t->cap = cap;
  return 0;
}

static void text_put(text_t *t, const char *s, size_t n) {
  if (text_reserve(t, n) != 0)
    return;
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
}

static void text_puts(text_t *t, const char *s) { text_put(t, s, strlen(s)); }

/* Appends s escaped for a label value (quote too) or for HELP text. */
static void text_escaped(text_t *t, const char *s, int quote) {
  for (; *s; s++) {
    if (*s == '\\')
      text_puts(t, "\\\\");
    else if (*s == '\n')
      text_puts(t, "\\n");
    else if (quote && *s == '"')
      text_puts(t, "\\\"");
    else
      text_put(t, s, 1);
  }
}

/* Shortest of %.15g / %.17g that reads back as v; Prometheus spellings for
 * NaN and infinities. */
static void format_double(char *buf, size_t cap, double v) {
  if (isnan(v)) {
    snprintf(buf, cap, "NaN");
  } else if (isinf(v)) {
    snprintf(buf, cap, v > 0 ? "+Inf" : "-Inf");
  } else {
    snprintf(buf, cap, "%.*g", SHORT_DOUBLE_DIGITS, v);
    if (strtod(buf, NULL) != v)
      snprintf(buf, cap, "%.*g", EXACT_DOUBLE_DIGITS, v);
  }
}

static int name_valid(const char *name, int allow_colon) {
  if (!name || !*name || isdigit((unsigned char)name[0]))
    return 0;
  for (const char *c = name; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && !(allow_colon && *c == ':'))
      return 0;
  return 1;
}

int sb_metrics_labels(char *buf, size_t cap, const char *key, ...) {
  if (!buf || cap == 0)
    return SB_EINVAL;
  text_t t = {0};
  int rc = 0;
  va_list ap;
  va_start(ap, key);
  for (const char *k = key; k && rc == 0; k = va_arg(ap, const char *)) {
    const char *v = va_arg(ap, const char *);
    if (!name_valid(k, 0)) {
      rc = SB_EINVAL;
      break;
    }
    if (t.len)
      text_puts(&t, ",");
    text_puts(&t, k);
    text_puts(&t, "=\"");
    text_escaped(&t, v ? v : "", 1);
    text_puts(&t, "\"");
  }
  va_end(ap);
  if (rc == 0 && t.oom)
    rc = SB_ENOMEM;
  if (rc == 0 && t.len >= cap)
    rc = SB_ETOOBIG;
  if (rc == 0)
    memcpy(buf, t.p ? t.p : "", t.len + 1);
  else
    buf[0] = '\0';
  free(t.p);
  return rc;
}

/* ---- registry -------------------------------------------------------- */

sb_metrics_t *sb_metrics_new(const char *service) {
  sb_metrics_t *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  text_t t = {0};
  text_puts(&t, "");
  text_escaped(&t, service ? service : "", 1);
  if (t.oom) {
    free(t.p);
    free(m);
    return NULL;
  }
  m->service = t.p;
  m->families_tail = &m->families;
  m->created = time(NULL);
  return m;
}

static void series_free(series_t *s, kind_t kind) {
  if (kind == KIND_HISTOGRAM)
    sb_histogram_destroy(&s->u.histogram);
  free(s->labels);
  free(s);
}

void sb_metrics_destroy(sb_metrics_t **mp) {
  if (!mp || !*mp)
    return;
  sb_metrics_t *m = *mp;
  for (family_t *f = m->families, *fnext; f; f = fnext) {
    fnext = f->next;
    for (series_t *s = f->series, *snext; s; s = snext) {
      snext = s->next;
      series_free(s, f->kind);
    }
    free(f->name);
    free(f->help);
    free(f);
  }
  free(m->service);
  free(m);
  *mp = NULL;
}

static family_t *family_find(sb_metrics_t *m, const char *name) {
  for (family_t *f = m->families; f; f = f->next)
    if (strcmp(f->name, name) == 0)
      return f;
  return NULL;
}

static family_t *family_add(sb_metrics_t *m, const char *name, const char *help, kind_t kind) {
  family_t *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->name = strdup(name);
  f->help = strdup(help ? help : "");
  if (!f->name || !f->help) {
    free(f->name);
    free(f->help);
    free(f);
    return NULL;
  }
  f->kind = kind;
  f->series_tail = &f->series;
  *m->families_tail = f;
  m->families_tail = &f->next;
  return f;
}

static series_t *series_add(family_t *f, const char *labels) {
  series_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->labels = strdup(labels);
  if (f->kind == KIND_HISTOGRAM)
    s->u.histogram = sb_histogram_new();
  if (!s->labels || (f->kind == KIND_HISTOGRAM && !s->u.histogram)) {
    series_free(s, f->kind);
    return NULL;
  }
  *f->series_tail = s;
  f->series_tail = &s->next;
  return s;
}

/* Get-or-create the series name{labels} of the given kind. */
static series_t *series_get(sb_metrics_t *m, const char *name, const char *help,
                            const char *labels, kind_t kind) {
  if (!m || !name_valid(name, 1))
    return NULL;
  if (!labels)
    labels = "";
  family_t *f = family_find(m, name);
  if (f && f->kind != kind)
    return NULL;
  if (!f && !(f = family_add(m, name, help, kind)))
    return NULL;
  for (series_t *s = f->series; s; s = s->next)
    if (strcmp(s->labels, labels) == 0)
      return s;
  return series_add(f, labels);
}

sb_counter_t *sb_metrics_counter(sb_metrics_t *m, const char *name, const char *help,
                                 const char *labels) {
  series_t *s = series_get(m, name, help, labels, KIND_COUNTER);
  return s ? &s->u.counter : NULL;
}

sb_gauge_t *sb_metrics_gauge(sb_metrics_t *m, const char *name, const char *help,
                             const char *labels) {
  series_t *s = series_get(m, name, help, labels, KIND_GAUGE);
  return s ? &s->u.gauge : NULL;
}

sb_histogram_t *sb_metrics_histogram(sb_metrics_t *m, const char *name, const char *help,
                                     const char *labels) {
  series_t *s = series_get(m, name, help, labels, KIND_HISTOGRAM);
  return s ? s->u.histogram : NULL;
}

/* ---- rendering ------------------------------------------------------- */

static void render_header(text_t *t, const char *name, const char *help, kind_t kind) {
  text_puts(t, "# HELP ");
  text_puts(t, name);
  text_puts(t, " ");
  text_escaped(t, help, 0);
  text_puts(t, "\n# TYPE ");
  text_puts(t, name);
  text_puts(t, " ");
  text_puts(t, kind_names[kind]);
  text_puts(t, "\n");
}

/* name+suffix{service="..",labels,le="le"} value */
static void render_sample(text_t *t, const sb_metrics_t *m, const char *name, const char *suffix,
                          const char *labels, const char *le, const char *value) {
  text_puts(t, name);
  text_puts(t, suffix);
  text_puts(t, "{service=\"");
  text_puts(t, m->service);
  text_puts(t, "\"");
  if (labels && *labels) {
    text_puts(t, ",");
    text_puts(t, labels);
  }
  if (le) {
    text_puts(t, ",le=\"");
    text_puts(t, le);
    text_puts(t, "\"");
  }
  text_puts(t, "} ");
  text_puts(t, value);
  text_puts(t, "\n");
}

static void render_u64(text_t *t, const sb_metrics_t *m, const char *name, const char *suffix,
                       const char *labels, const char *le, uint64_t v) {
  char buf[DOUBLE_TEXT_MAX];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  render_sample(t, m, name, suffix, labels, le, buf);
}

static void render_double(text_t *t, const sb_metrics_t *m, const char *name,
                          const char *labels, double v) {
  char buf[DOUBLE_TEXT_MAX];
  format_double(buf, sizeof buf, v);
  render_sample(t, m, name, "", labels, NULL, buf);
}

static void render_histogram(text_t *t, const sb_metrics_t *m, const char *name,
                             const char *labels, const sb_histogram_t *h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < PROM_BOUND_COUNT; i++) {
    cumulative += h->prom[i];
    render_u64(t, m, name, "_bucket", labels, prom_bounds[i].text, cumulative);
  }
  render_u64(t, m, name, "_bucket", labels, "+Inf", h->count);
  char sum[DOUBLE_TEXT_MAX];
  format_double(sum, sizeof sum, (double)h->sum_us / US_PER_SECOND);
  render_sample(t, m, name, "_sum", labels, NULL, sum);
  render_u64(t, m, name, "_count", labels, NULL, h->count);
}

static void render_family(text_t *t, const sb_metrics_t *m, const family_t *f) {
  render_header(t, f->name, f->help, f->kind);
  for (const series_t *s = f->series; s; s = s->next) {
    if (f->kind == KIND_COUNTER)
      render_u64(t, m, f->name, "", s->labels, NULL, s->u.counter.value);
    else if (f->kind == KIND_GAUGE)
      render_double(t, m, f->name, s->labels, s->u.gauge.value);
    else
      render_histogram(t, m, f->name, s->labels, s->u.histogram);
  }
}

/* Resident set size in bytes from /proc/self/statm; 0 if unreadable. */
static double process_rss_bytes(void) {
  FILE *f = fopen(STATM_PATH, "r");
  if (!f)
    return 0;
  unsigned long long size = 0, resident = 0;
  int n = fscanf(f, "%llu %llu", &size, &resident);
  fclose(f);
  long page = sysconf(_SC_PAGESIZE);
  return n == 2 && page > 0 ? (double)resident * (double)page : 0;
}

/* Boot time (seconds since the epoch) from the "btime" line of /proc/stat. */
static long long boot_time(void) {
  FILE *f = fopen(SYS_STAT_PATH, "r");
  if (!f)
    return -1;
  char line[PROC_LINE_MAX];
  long long btime = -1;
  while (btime < 0 && fgets(line, sizeof line, f))
    if (sscanf(line, "btime %lld", &btime) != 1)
      btime = -1;
  fclose(f);
  return btime;
}

/* Process start (seconds since the epoch): boot time + starttime ticks.
 * The command name in field 2 may hold spaces, so fields count from ')'. */
static double process_start_seconds(const sb_metrics_t *m) {
  char line[PROC_LINE_MAX];
  FILE *f = fopen(STAT_PATH, "r");
  size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
  if (f)
    fclose(f);
  line[n] = '\0';
  char *p = strrchr(line, ')');
  long long btime = boot_time();
  long ticks = sysconf(_SC_CLK_TCK);
  if (!p || btime < 0 || ticks <= 0)
    return (double)m->created;
  int field = 2; /* p points at the end of field 2 */
  for (; *p && field < STAT_STARTTIME_FIELD; p++)
    if (*p == ' ')
      field++;
  unsigned long long start = strtoull(p, NULL, 10);
  return (double)btime + (double)start / (double)ticks;
}

static void render_process(text_t *t, const sb_metrics_t *m) {
  render_header(t, "process_resident_memory_bytes", "Resident memory size in bytes.",
                KIND_GAUGE);
  render_double(t, m, "process_resident_memory_bytes", NULL, process_rss_bytes());
  render_header(t, "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.", KIND_GAUGE);
  render_double(t, m, "process_start_time_seconds", NULL, process_start_seconds(m));
}

int sb_metrics_render(sb_metrics_t *m, char **out, size_t *len) {
  *out = NULL;
  if (len)
    *len = 0;
  text_t t = {0};
  if (text_reserve(&t, RENDER_INITIAL_CAP) != 0)
    return SB_ENOMEM;
  t.p[0] = '\0';
  for (const family_t *f = m->families; f; f = f->next)
    render_family(&t, m, f);
  render_process(&t, m);
  if (t.oom) {
    free(t.p);
    return SB_ENOMEM;
  }
  *out = t.p;
  if (len)
    *len = t.len;
  return 0;
}
