/*
 * test_corpus: the bundled sample (corpus/sample.jsonl) and the default
 * tenant configuration (corpus/tenants.json) stay consistent with the
 * parsers that will read them.
 *
 * Every line must be one valid CloudEvent of type interaction whose data is
 * a valid interaction payload, whose tenant is configured, and whose gold
 * language (extension "sblang", ignored by sb_cloudevent_parse) is one of
 * that tenant's languages. The sample must stay big and varied enough for
 * the replay demo: >= 2000 lines, >= 6 languages, >= 8 channels.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_cloudevent.h"
#include "sb_error.h"
#include "sb_testutil.h"

enum { MIN_LINES = 2000, MIN_LANGS = 6, MIN_CHANNELS = 8, MAX_KINDS = 32,
       ERR_LEN = 256 };

/* 2026-03-17T00:00:00Z and the next midnight, in unix ms */
#define SAMPLE_DAY_START_MS INT64_C(1773705600000)
#define SAMPLE_DAY_END_MS (SAMPLE_DAY_START_MS + INT64_C(86400000))

static char *read_file(const char *rel, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", sb_test_source_dir(), rel);
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
  buf[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* A small set of distinct strings (languages, channels). */
typedef struct {
  char *v[MAX_KINDS];
  size_t n;
} kinds_t;

static void kinds_add(kinds_t *k, const char *s) {
  for (size_t i = 0; i < k->n; i++)
    if (strcmp(k->v[i], s) == 0) return;
  assert_true(k->n < MAX_KINDS);
  k->v[k->n++] = strdup(s);
}

static void kinds_free(kinds_t *k) {
  for (size_t i = 0; i < k->n; i++) free(k->v[i]);
  k->n = 0;
}

/* The tenants array of corpus/tenants.json; caller cJSON_Deletes root. */
static const cJSON *load_tenants(cJSON **root) {
  size_t len;
  char *text = read_file("corpus/tenants.json", &len);
  *root = cJSON_ParseWithLength(text, len);
  free(text);
  assert_non_null(*root);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(*root, "tenants");
  assert_true(cJSON_IsArray(list));
  return list;
}

static const cJSON *tenant_find(const cJSON *list, const char *id) {
  const cJSON *t;
  cJSON_ArrayForEach(t, list) {
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(t, "id");
    if (cJSON_IsString(tid) && strcmp(tid->valuestring, id) == 0) return t;
  }
  return NULL;
}

static int tenant_speaks(const cJSON *tenant, const char *lang) {
  const cJSON *l;
  cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(tenant, "languages"))
    if (cJSON_IsString(l) && strcmp(l->valuestring, lang) == 0) return 1;
  return 0;
}

static void test_tenants_json_has_the_loader_shape(void **state) {
  cJSON *root;
  const cJSON *list = load_tenants(&root), *t;
  int count = 0;
  int64_t first_sla = -1, distinct_sla = 0;
  cJSON_ArrayForEach(t, list) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
    const cJSON *langs = cJSON_GetObjectItemCaseSensitive(t, "languages");
    const cJSON *sla = cJSON_GetObjectItemCaseSensitive(t, "sla");
    const cJSON *frt = cJSON_GetObjectItemCaseSensitive(sla, "first_response_ms");
    const cJSON *warn = cJSON_GetObjectItemCaseSensitive(sla, "warn_percent");
    assert_true(cJSON_IsString(id));
    assert_true(cJSON_IsArray(langs) && cJSON_GetArraySize(langs) >= 1);
    assert_true(cJSON_IsNumber(frt) && frt->valuedouble > 0);
    assert_true(cJSON_IsNumber(warn) && warn->valueint >= 1 && warn->valueint <= 100);
    if (first_sla < 0) first_sla = (int64_t)frt->valuedouble;
    if ((int64_t)frt->valuedouble != first_sla) distinct_sla = 1;
    count++;
  }
  assert_int_equal(count, 3);
  assert_true(distinct_sla); /* targets differ per tenant */
  cJSON_Delete(root);
}

typedef struct {
  const cJSON *tenants;
  size_t lines;
  kinds_t langs, channels;
  int64_t last_ms;
  char **ids;
  size_t n_ids, cap_ids;
} walk_t;

static void walk_extension(walk_t *w, const char *line, size_t len,
                           const sb_cloudevent_t *ev) {
  cJSON *obj = cJSON_ParseWithLength(line, len);
  assert_non_null(obj);
  const cJSON *lang = cJSON_GetObjectItemCaseSensitive(obj, "sblang");
  assert_true(cJSON_IsString(lang));
  kinds_add(&w->langs, lang->valuestring);
  const cJSON *tenant = tenant_find(w->tenants, ev->tenant);
  if (tenant == NULL) fail_msg("line %zu: tenant %s not configured", w->lines, ev->tenant);
  if (!tenant_speaks(tenant, lang->valuestring))
    fail_msg("line %zu: %s does not list %s", w->lines, ev->tenant, lang->valuestring);
  cJSON_Delete(obj);
}

static void walk_data(walk_t *w, const sb_cloudevent_t *ev) {
  sb_interaction_data_t d;
  char err[ERR_LEN], prefix[64];
  memset(&d, 0, sizeof d);
  int rc = sb_interaction_data_parse(ev->data, &d, err, sizeof err);
  if (rc != 0) fail_msg("line %zu data: %s", w->lines, err);
  snprintf(prefix, sizeof prefix, "/%s/", d.channel);
  if (strncmp(ev->source, prefix, strlen(prefix)) != 0)
    fail_msg("line %zu: source %s vs channel %s", w->lines, ev->source, d.channel);
  kinds_add(&w->channels, d.channel);
  sb_interaction_data_clear(&d);
}

static void walk_line(walk_t *w, const char *line, size_t len) {
  sb_cloudevent_t *ev = NULL;
  size_t n = 0;
  long index;
  char err[ERR_LEN];
  int rc = sb_cloudevent_parse(line, len, NULL, &ev, &n, err, sizeof err, &index);
  w->lines++;
  if (rc != 0) fail_msg("line %zu: %s", w->lines, err);
  assert_int_equal(n, 1);
  assert_string_equal(ev->type, SB_CLOUDEVENT_TYPE_INTERACTION);
  assert_non_null(ev->data);
  assert_true(ev->time_ms >= SAMPLE_DAY_START_MS && ev->time_ms < SAMPLE_DAY_END_MS);
  assert_true(ev->time_ms >= w->last_ms); /* sorted for replay */
  w->last_ms = ev->time_ms;
  walk_extension(w, line, len, ev);
  walk_data(w, ev);
  if (w->n_ids == w->cap_ids) {
    w->cap_ids = w->cap_ids ? w->cap_ids * 2 : 1024;
    w->ids = realloc(w->ids, w->cap_ids * sizeof *w->ids);
    assert_non_null(w->ids);
  }
  w->ids[w->n_ids++] = strdup(ev->id);
  sb_cloudevent_free(&ev, n);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_sample_line_is_a_valid_interaction(void **state) {
  size_t len;
  char *text = read_file("corpus/sample.jsonl", &len);
  cJSON *root;
  walk_t w;
  memset(&w, 0, sizeof w);
  w.tenants = load_tenants(&root);
  for (char *p = text, *nl; p < text + len; p = nl + 1) {
    nl = memchr(p, '\n', (size_t)(text + len - p));
    if (nl == NULL) nl = text + len;
    if (nl > p) walk_line(&w, p, (size_t)(nl - p));
  }
  assert_true(w.lines >= MIN_LINES);
  assert_true(w.langs.n >= MIN_LANGS);
  assert_true(w.channels.n >= MIN_CHANNELS);
  qsort(w.ids, w.n_ids, sizeof *w.ids, cmp_str);
  for (size_t i = 1; i < w.n_ids; i++)
    if (strcmp(w.ids[i - 1], w.ids[i]) == 0) fail_msg("duplicate id %s", w.ids[i]);
  for (size_t i = 0; i < w.n_ids; i++) free(w.ids[i]);
  free(w.ids);
  kinds_free(&w.langs);
  kinds_free(&w.channels);
  cJSON_Delete(root);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tenants_json_has_the_loader_shape),
      cmocka_unit_test(test_every_sample_line_is_a_valid_interaction),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
