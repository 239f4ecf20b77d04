/*
 * test_metrics: the histogram's quantiles stay within their stated error on
 * known distributions, merge and reset behave, the registry hands out one
 * object per name+labels, and the rendered text is valid Prometheus 0.0.4
 * exposition, checked line by line by a small parser below.
 */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNIFORM_N 100000
#define LOGU_N 200000
#define ONE_HOUR_US 3600000000ull
#define REL_ERROR (1.0 / 64) /* midpoint of a bucket 1/32 wide */

static const double quantiles[] = {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};
#define NQ (sizeof quantiles / sizeof quantiles[0])

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The exact value at quantile q with the same rank rule: ceil(q*n), >= 1. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q) {
  size_t rank = (size_t)ceil(q * (double)n);
  return sorted[rank ? rank - 1 : 0];
}

static void assert_quantiles_close(const sb_histogram_t *h, uint64_t *vals, size_t n) {
  qsort(vals, n, sizeof *vals, cmp_u64);
  for (size_t i = 0; i < NQ; i++) {
    uint64_t want = exact_quantile(vals, n, quantiles[i]);
    uint64_t got = sb_histogram_quantile(h, quantiles[i]);
    double err = fabs((double)got - (double)want);
    if (err > (double)want * REL_ERROR)
      fail_msg("q=%g want %llu got %llu", quantiles[i], (unsigned long long)want,
               (unsigned long long)got);
  }
}

static void histogram_uniform_quantiles_within_error(void **state) {
  sb_histogram_t *h = sb_histogram_new();
  uint64_t *vals = malloc(UNIFORM_N * sizeof *vals);
  assert_non_null(h);
  for (uint64_t i = 0; i < UNIFORM_N; i++) {
    vals[i] = i + 1;
    sb_histogram_record(h, i + 1);
  }
  assert_int_equal(sb_histogram_count(h), UNIFORM_N);
  assert_int_equal(sb_histogram_max(h), UNIFORM_N);
  assert_true(fabs(sb_histogram_mean(h) - (UNIFORM_N + 1) / 2.0) < 1e-9);
  assert_quantiles_close(h, vals, UNIFORM_N);
  free(vals);
  sb_histogram_destroy(&h);
  assert_null(h);
}

/* Deterministic values spread evenly over log(1 us) .. log(1 hour). */
static uint64_t lcg_next(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 11;
}

static void histogram_log_uniform_quantiles_within_error(void **state) {
  sb_histogram_t *h = sb_histogram_new();
  uint64_t *vals = malloc(LOGU_N * sizeof *vals);
  uint64_t seed = 42;
  for (size_t i = 0; i < LOGU_N; i++) {
    double u = (double)lcg_next(&seed) / (double)(1ull << 53);
    vals[i] = (uint64_t)exp(u * log((double)ONE_HOUR_US));
    sb_histogram_record(h, vals[i]);
  }
  assert_quantiles_close(h, vals, LOGU_N);
  free(vals);
  sb_histogram_destroy(&h);
}

static void histogram_small_values_are_exact(void **state) {
  sb_histogram_t *h = sb_histogram_new();
  for (uint64_t v = 0; v < 64; v++) {
    sb_histogram_reset(h);
    sb_histogram_record(h, v);
    sb_histogram_record(h, v);
    assert_int_equal(sb_histogram_quantile(h, 0.5), v);
  }
  sb_histogram_destroy(&h);
}

static void histogram_empty_and_huge_values(void **state) {
  sb_histogram_t *h = sb_histogram_new();
  assert_int_equal(sb_histogram_quantile(h, 0.5), 0);
  assert_int_equal(sb_histogram_max(h), 0);
  assert_true(sb_histogram_mean(h) == 0.0);
  sb_histogram_record(h, 2 * ONE_HOUR_US);
  sb_histogram_record(h, UINT64_MAX);
  assert_int_equal(sb_histogram_count(h), 2);
  assert_int_equal(sb_histogram_max(h), UINT64_MAX);
  /* clamped into the top bucket: at least the top tracked range */
  assert_true(sb_histogram_quantile(h, 1.0) >= SB_HISTOGRAM_MAX_US / 2);
  assert_true(sb_histogram_quantile(h, 0.0) >= SB_HISTOGRAM_MAX_US / 2);
  sb_histogram_destroy(&h);
}

static void histogram_merge_equals_recording_both(void **state) {
  sb_histogram_t *a = sb_histogram_new(), *b = sb_histogram_new(), *all = sb_histogram_new();
  for (uint64_t v = 1; v <= 5000; v++) {
    sb_histogram_record(v % 2 ? a : b, v * 7);
    sb_histogram_record(all, v * 7);
  }
  sb_histogram_merge(a, b);
  assert_int_equal(sb_histogram_count(a), 5000);
  assert_int_equal(sb_histogram_max(a), 35000);
  assert_true(sb_histogram_mean(a) == sb_histogram_mean(all));
  for (size_t i = 0; i < NQ; i++)
    assert_int_equal(sb_histogram_quantile(a, quantiles[i]),
                     sb_histogram_quantile(all, quantiles[i]));
  assert_int_equal(sb_histogram_count(b), 2500); /* from unchanged */
  sb_histogram_reset(a);
  assert_int_equal(sb_histogram_count(a), 0);
  assert_int_equal(sb_histogram_quantile(a, 0.5), 0);
  sb_histogram_destroy(&a);
  sb_histogram_destroy(&b);
  sb_histogram_destroy(&all);
}

static void registry_same_name_and_labels_same_object(void **state) {
  sb_metrics_t *m = sb_metrics_new("ingest");
  sb_counter_t *c1 = sb_metrics_counter(m, "sb_rejected_total", "Rejected.", "reason=\"a\"");
  sb_counter_t *c2 = sb_metrics_counter(m, "sb_rejected_total", "Rejected.", "reason=\"a\"");
  sb_counter_t *c3 = sb_metrics_counter(m, "sb_rejected_total", "Rejected.", "reason=\"b\"");
  assert_non_null(c1);
  assert_ptr_equal(c1, c2);
  assert_ptr_not_equal(c1, c3);
  sb_counter_add(c1, 2);
  sb_counter_add(c2, 3);
  assert_int_equal(sb_counter_value(c1), 5);
  assert_int_equal(sb_counter_value(c3), 0);
  /* a name is one type; invalid names are refused */
  assert_null(sb_metrics_gauge(m, "sb_rejected_total", "x", NULL));
  assert_null(sb_metrics_counter(m, "9bad", "x", NULL));
  assert_null(sb_metrics_counter(m, "bad-name", "x", NULL));
  sb_gauge_t *g = sb_metrics_gauge(m, "sb_inflight", "In flight.", NULL);
  sb_gauge_set(g, 4);
  sb_gauge_add(g, -1.5);
  assert_true(sb_gauge_value(g) == 2.5);
  assert_ptr_equal(sb_metrics_histogram(m, "sb_lat_seconds", "L.", NULL),
                   sb_metrics_histogram(m, "sb_lat_seconds", "L.", NULL));
  sb_metrics_destroy(&m);
  assert_null(m);
}

/* ---- a line-by-line parser of the Prometheus text format ------------- */

#define MAX_SAMPLES 512
#define MAX_FAMILIES 32
#define FIELD_MAX 512

typedef struct {
  char name[FIELD_MAX];
  char labels[FIELD_MAX]; /* unescaped, "k=v;" pairs, le excluded */
  char le[FIELD_MAX];
  char service[FIELD_MAX];
  double value;
} sample_t;

typedef struct {
  char name[FIELD_MAX];
  char type[FIELD_MAX];
  char help[FIELD_MAX];
  int has_help, has_type;
} fam_t;

typedef struct {
  sample_t s[MAX_SAMPLES];
  size_t ns;
  fam_t f[MAX_FAMILIES];
  size_t nf;
} expo_t;

static int is_name_char(char c, int first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

/* Reads a metric/label name at *p; returns its length or 0. */
static size_t read_name(const char **p, char *out) {
  size_t n = 0;
  while (is_name_char((*p)[n], n == 0) && n + 1 < FIELD_MAX) {
    out[n] = (*p)[n];
    n++;
  }
  out[n] = '\0';
  *p += n;
  return n;
}

/* Reads "value" with \\ \" \n escapes; returns 0 on a malformed value. */
static int read_quoted(const char **p, char *out) {
  size_t n = 0;
  if (**p != '"')
    return 0;
  for ((*p)++; **p && **p != '"'; (*p)++) {
    char c = **p;
    if (c == '\n')
      return 0;
    if (c == '\\') {
      (*p)++;
      c = **p == 'n' ? '\n' : **p;
      if (**p != 'n' && **p != '\\' && **p != '"')
        return 0;
    }
    if (n + 1 >= FIELD_MAX)
      return 0;
    out[n++] = c;
  }
  out[n] = '\0';
  if (**p != '"')
    return 0;
  (*p)++;
  return 1;
}

static fam_t *fam_get(expo_t *e, const char *name) {
  for (size_t i = 0; i < e->nf; i++)
    if (strcmp(e->f[i].name, name) == 0)
      return &e->f[i];
  assert_true(e->nf < MAX_FAMILIES);
  fam_t *f = &e->f[e->nf++];
  snprintf(f->name, sizeof f->name, "%s", name);
  return f;
}

static void parse_comment(expo_t *e, const char *line) {
  char name[FIELD_MAX];
  int help = strncmp(line, "# HELP ", 7) == 0;
  assert_true(help || strncmp(line, "# TYPE ", 7) == 0);
  const char *p = line + 7;
  assert_true(read_name(&p, name) > 0);
  assert_true(*p == ' ');
  fam_t *f = fam_get(e, name);
  /* HELP and TYPE come once, before any sample of the family */
  for (size_t i = 0; i < e->ns; i++)
    assert_true(strncmp(e->s[i].name, name, strlen(name)) != 0);
  if (help) {
    assert_false(f->has_help);
    f->has_help = 1;
    snprintf(f->help, sizeof f->help, "%s", p + 1);
  } else {
    assert_false(f->has_type);
    f->has_type = 1;
    snprintf(f->type, sizeof f->type, "%s", p + 1);
    assert_true(strcmp(f->type, "counter") == 0 || strcmp(f->type, "gauge") == 0 ||
                strcmp(f->type, "histogram") == 0);
  }
}

static void parse_labels(const char **p, sample_t *s) {
  char k[FIELD_MAX], v[FIELD_MAX];
  (*p)++;
  while (**p != '}') {
    assert_true(read_name(p, k) > 0);
    assert_true(**p == '=');
    (*p)++;
    assert_true(read_quoted(p, v));
    if (strcmp(k, "le") == 0)
      snprintf(s->le, sizeof s->le, "%s", v);
    else if (strcmp(k, "service") == 0)
      snprintf(s->service, sizeof s->service, "%s", v);
    else
      snprintf(s->labels + strlen(s->labels), FIELD_MAX - strlen(s->labels), "%s=%s;", k, v);
    assert_true(**p == ',' || **p == '}');
    if (**p == ',')
      (*p)++;
  }
  (*p)++;
}

static void parse_sample(expo_t *e, const char *line) {
  assert_true(e->ns < MAX_SAMPLES);
  sample_t *s = &e->s[e->ns++];
  memset(s, 0, sizeof *s);
  const char *p = line;
  assert_true(read_name(&p, s->name) > 0);
  if (*p == '{')
    parse_labels(&p, s);
  assert_true(*p == ' ');
  char *end;
  s->value = strtod(p + 1, &end);
  assert_true(end > p + 1 && *end == '\0');
  assert_string_not_equal(s->service, ""); /* every sample names its service */
}

static void parse_exposition(expo_t *e, char *text, size_t len) {
  memset(e, 0, sizeof *e);
  assert_int_equal(strlen(text), len);
  assert_true(len > 0 && text[len - 1] == '\n');
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#')
      parse_comment(e, line);
    else
      parse_sample(e, line);
  }
  for (size_t i = 0; i < e->nf; i++)
    assert_true(e->f[i].has_help && e->f[i].has_type);
}

static const sample_t *find_sample(const expo_t *e, const char *name, const char *labels,
                                   const char *le) {
  for (size_t i = 0; i < e->ns; i++)
    if (strcmp(e->s[i].name, name) == 0 && strcmp(e->s[i].labels, labels) == 0 &&
        strcmp(e->s[i].le, le) == 0)
      return &e->s[i];
  fail_msg("no sample %s{%s le=%s}", name, labels, le);
  return NULL;
}

/* Buckets of name{labels} are cumulative, le ascending, end at +Inf equal
 * to _count. */
static void check_histogram(const expo_t *e, const char *name, const char *labels) {
  char bucket[FIELD_MAX], count[FIELD_MAX];
  snprintf(bucket, sizeof bucket, "%s_bucket", name);
  snprintf(count, sizeof count, "%s_count", name);
  double prev_le = -1, prev_v = 0;
  int seen_inf = 0;
  for (size_t i = 0; i < e->ns; i++) {
    const sample_t *s = &e->s[i];
    if (strcmp(s->name, bucket) != 0 || strcmp(s->labels, labels) != 0)
      continue;
    assert_false(seen_inf);
    double le = strtod(s->le, NULL);
    assert_true(le > prev_le);
    assert_true(s->value >= prev_v);
    prev_le = le;
    prev_v = s->value;
    seen_inf = strcmp(s->le, "+Inf") == 0;
  }
  assert_true(seen_inf);
  assert_true(find_sample(e, count, labels, "")->value == prev_v);
}

static void render_is_valid_prometheus_text(void **state) {
  sb_metrics_t *m = sb_metrics_new("route");
  sb_counter_add(sb_metrics_counter(m, "sb_events_total", "Events seen.", "tenant=\"acme\""), 7);
  sb_counter_add(sb_metrics_counter(m, "sb_events_total", "Events seen.", NULL), 1);
  sb_gauge_set(sb_metrics_gauge(m, "sb_queue_depth", "Queue depth.", NULL), 0.1);
  sb_histogram_t *h = sb_metrics_histogram(m, "sb_latency_seconds", "Latency.", "stage=\"x\"");
  sb_histogram_record(h, 100);      /* le=0.0001 exactly */
  sb_histogram_record(h, 101);      /* next bound */
  sb_histogram_record(h, 61000000); /* above 60 s: +Inf only */
  sb_metrics_histogram(m, "sb_latency_seconds", "Latency.", "stage=\"empty\"");
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(sb_metrics_render(m, &out, &len), 0);
  expo_t *e = malloc(sizeof *e);
  parse_exposition(e, out, len);
  assert_true(find_sample(e, "sb_events_total", "tenant=acme;", "")->value == 7);
  assert_true(find_sample(e, "sb_events_total", "", "")->value == 1);
  assert_true(find_sample(e, "sb_queue_depth", "", "")->value == 0.1);
  assert_string_equal(find_sample(e, "sb_queue_depth", "", "")->service, "route");
  check_histogram(e, "sb_latency_seconds", "stage=x;");
  check_histogram(e, "sb_latency_seconds", "stage=empty;");
  assert_true(find_sample(e, "sb_latency_seconds_bucket", "stage=x;", "0.0001")->value == 1);
  assert_true(find_sample(e, "sb_latency_seconds_bucket", "stage=x;", "0.00025")->value == 2);
  assert_true(find_sample(e, "sb_latency_seconds_bucket", "stage=x;", "60")->value == 2);
  assert_true(find_sample(e, "sb_latency_seconds_bucket", "stage=x;", "+Inf")->value == 3);
  assert_true(fabs(find_sample(e, "sb_latency_seconds_sum", "stage=x;", "")->value - 61.000201) <
              1e-9);
  assert_true(find_sample(e, "process_resident_memory_bytes", "", "")->value > 0);
  double start = find_sample(e, "process_start_time_seconds", "", "")->value;
  assert_true(start <= (double)time(NULL) + 1 && start > (double)time(NULL) - 3600);
  fam_t *f = fam_get(e, "sb_latency_seconds");
  assert_string_equal(f->type, "histogram");
  assert_string_equal(f->help, "Latency.");
  free(e);
  free(out);
  sb_metrics_destroy(&m);
}

static void labels_and_help_are_escaped(void **state) {
  char labels[128];
  assert_int_equal(sb_metrics_labels(labels, sizeof labels, "reason", "a\"b\\c\nd", "tenant",
                                     "acme", NULL),
                   0);
  assert_string_equal(labels, "reason=\"a\\\"b\\\\c\\nd\",tenant=\"acme\"");
  assert_int_equal(sb_metrics_labels(labels, 8, "reason", "too long for eight", NULL),
                   SB_ETOOBIG);
  assert_string_equal(labels, "");
  assert_int_equal(sb_metrics_labels(labels, sizeof labels, "bad key", "v", NULL), SB_EINVAL);

  sb_metrics_t *m = sb_metrics_new("we\"ird\\svc\n");
  char lab[128];
  sb_metrics_labels(lab, sizeof lab, "reason", "bad\"json", NULL);
  sb_counter_add(sb_metrics_counter(m, "sb_x_total", "Line one\nback\\slash \"q\".", lab), 3);
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(sb_metrics_render(m, &out, &len), 0);
  assert_non_null(strstr(out, "# HELP sb_x_total Line one\\nback\\\\slash \"q\".\n"));
  assert_non_null(
      strstr(out, "sb_x_total{service=\"we\\\"ird\\\\svc\\n\",reason=\"bad\\\"json\"} 3\n"));
  expo_t *e = malloc(sizeof *e);
  parse_exposition(e, out, len);
  const sample_t *s = find_sample(e, "sb_x_total", "reason=bad\"json;", "");
  assert_string_equal(s->service, "we\"ird\\svc\n");
  free(e);
  free(out);
  sb_metrics_destroy(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(histogram_uniform_quantiles_within_error),
      cmocka_unit_test(histogram_log_uniform_quantiles_within_error),
      cmocka_unit_test(histogram_small_values_are_exact),
      cmocka_unit_test(histogram_empty_and_huge_values),
      cmocka_unit_test(histogram_merge_equals_recording_both),
      cmocka_unit_test(registry_same_name_and_labels_same_object),
      cmocka_unit_test(render_is_valid_prometheus_text),
      cmocka_unit_test(labels_and_help_are_escaped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
