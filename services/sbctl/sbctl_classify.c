/*
 * sbctl_classify: the offline classify verb (see sbctl_classify.h).
 *
 * Loads the rules and lexicons once, then streams the input: each line is
 * parsed, classified by sb_classify_message (the service's code), printed
 * as one JSON line, and, with --eval, scored against its gold labels. A
 * bad line is reported on stderr and skipped; only setup failures stop the
 * run. The bundled rules and lexicons are found next to the source tree
 * (SB_SOURCE_DIR when the build defines it) or relative to the binary.
 */
#include "sbctl_classify.h"
#include "sbctl_eval.h"
#include "sbctl_up.h"
#include "sb_classify.h"
#include "sb_error.h"
#include "sb_lang.h"
#include "sb_spike.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PATH_LEN 4096
#define LINE_MAX_BYTES (8u * 1024 * 1024)
#define DEFAULT_TENANT "default"
#define SPIKE_ALL "*"
#define NS_PER_S 1000000000ull
#define SCORE_DIGITS 1000.0

const sb_option_t sbctl_classify_options[] = {
    {"tenant-config", SB_OPT_STR, "",
     "classify: tenant rules, the \"classify\" object or a tenant entry (default: corpus/rules/default.json)"},
    {"lexicons", SB_OPT_STR, "", "classify: directory of sentiment lexicons (default: corpus/lexicons)"},
    {"eval", SB_OPT_STR, "", "classify: labelled JSON Lines file to score; prints accuracy, precision, recall"},
    {"spike-bucket-ms", SB_OPT_INT, "60000", "classify: width of a spike-detector bucket (lines with time_ms)"},
    {"spike-min-count", SB_OPT_INT, "10", "classify: messages a bucket needs before it can be an incident"},
    {NULL, 0, NULL, NULL}};

typedef struct {
  sb_rules_t *rules;
  sb_sentiment_t *sentiment;
  sb_classify_t *cl;
  sb_spike_t *spike;
  sbctl_eval_t *eval;
  long lineno, bad;
} run_t;

typedef struct {
  const cJSON *id, *gold;
  const char *text, *customer, *tenant;
  size_t len;
  int is_public, repeat, has_time;
  int64_t followers, time_ms;
} line_t;

/* ------------------------------------------------------------------ setup */

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* opt if given, else the bundled corpus/<rel>: from the source tree, then
 * beside the binary (build tree inside the source tree, or installed). */
static void bundled(const char *opt, const char *rel, char *out, size_t cap) {
  char dir[PATH_LEN];
  if (*opt) {
    snprintf(out, cap, "%s", opt);
    return;
  }
#ifdef SB_SOURCE_DIR
  snprintf(out, cap, "%.3000s/corpus/%s", SB_SOURCE_DIR, rel);
  if (exists(out))
    return;
#endif
  sbctl_bindir(dir, sizeof dir);
  snprintf(out, cap, "%.3000s/../corpus/%s", dir, rel);
  if (!exists(out))
    snprintf(out, cap, "%.3000s/../share/switchboard/corpus/%s", dir, rel);
  if (!exists(out))
    snprintf(out, cap, "corpus/%s", rel);
}

static int setup(run_t *r, const sb_config_t *c) {
  char path[PATH_LEN], err[512];
  bundled(sb_config_str(c, "tenant-config"), "rules/default.json", path, sizeof path);
  if (!(r->rules = sb_rules_load(path, err, sizeof err))) {
    fprintf(stderr, "sbctl classify: %s: %s\n", path, err);
    return 2;
  }
  bundled(sb_config_str(c, "lexicons"), "lexicons", path, sizeof path);
  r->sentiment = sb_sentiment_new();
  if (!r->sentiment || sb_sentiment_load_dir(r->sentiment, path, NULL, err, sizeof err)) {
    fprintf(stderr, "sbctl classify: lexicons: %s\n", r->sentiment ? err : "out of memory");
    return 2;
  }
  r->cl = sb_classify_new(r->rules, r->sentiment);
  sb_spike_opts_t so;
  sb_spike_opts_default(&so);
  so.bucket_ms = sb_config_int(c, "spike-bucket-ms");
  so.min_count = (int)sb_config_int(c, "spike-min-count");
  r->spike = sb_spike_new(&so);
  r->eval = *sb_config_str(c, "eval") ? sbctl_eval_new() : NULL;
  if (!r->cl || !r->spike || (*sb_config_str(c, "eval") && !r->eval)) {
    fprintf(stderr, "sbctl classify: %s\n", r->spike ? "out of memory" : "bad --spike-bucket-ms");
    return 2;
  }
  if (sb_lang_tune_malloc() != 0)
    fprintf(stderr, "sbctl classify: malloc not tuned (sanitizer build?): slower\n");
  return 0;
}

static void teardown(run_t *r) {
  sbctl_eval_destroy(&r->eval);
  sb_spike_destroy(&r->spike);
  sb_classify_destroy(&r->cl);
  sb_sentiment_destroy(&r->sentiment);
  sb_rules_destroy(&r->rules);
}

/* ------------------------------------------------------------- one line */

static void report_error(run_t *r, const cJSON *id, int code, const char *msg) {
  cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "line", (double)r->lineno);
  if (id)
    cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
  cJSON_AddStringToObject(e, "code", sb_err_name(code));
  cJSON_AddStringToObject(e, "message", msg);
  cJSON_AddItemToObject(o, "error", e);
  char *s = cJSON_PrintUnformatted(o);
  if (s)
    fprintf(stderr, "%s\n", s);
  free(s);
  cJSON_Delete(o);
  r->bad++;
}

static int parse_line(const cJSON *root, line_t *l, const char **why) {
  memset(l, 0, sizeof *l);
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
  const cJSON *pub = cJSON_GetObjectItemCaseSensitive(root, "public");
  const cJSON *cust = cJSON_GetObjectItemCaseSensitive(root, "customer");
  const cJSON *fol = cJSON_GetObjectItemCaseSensitive(root, "followers");
  const cJSON *rep = cJSON_GetObjectItemCaseSensitive(root, "repeat");
  const cJSON *ten = cJSON_GetObjectItemCaseSensitive(root, "tenant");
  const cJSON *tms = cJSON_GetObjectItemCaseSensitive(root, "time_ms");
  l->id = cJSON_GetObjectItemCaseSensitive(root, "id");
  l->gold = cJSON_GetObjectItemCaseSensitive(root, "gold");
  if (!cJSON_IsString(text))
    return *why = "\"text\" must be a string", SB_EPARSE;
  l->text = text->valuestring, l->len = strlen(text->valuestring);
  l->is_public = cJSON_IsTrue(pub);
  l->customer = cJSON_IsString(cust) ? cust->valuestring : NULL;
  l->followers = cJSON_IsNumber(fol) && fol->valuedouble > 0 ? (int64_t)fol->valuedouble : 0;
  l->repeat = cJSON_IsTrue(rep);
  l->tenant = cJSON_IsString(ten) ? ten->valuestring : DEFAULT_TENANT;
  l->has_time = cJSON_IsNumber(tms);
  l->time_ms = l->has_time ? (int64_t)tms->valuedouble : 0;
  return 0;
}

static double rounded(double x) { return (double)(int64_t)(x * SCORE_DIGITS + (x < 0 ? -0.5 : 0.5)) / SCORE_DIGITS; }

static cJSON *pii_json(const line_t *l, const sb_classify_verdict_t *v) {
  size_t cp[2 * SB_CLASSIFY_PII_MAX];
  cJSON *a = cJSON_CreateArray();
  sb_classify_pii_codepoints(l->text, l->len, v, cp);
  for (size_t k = 0; k < v->n_pii; k++) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", sb_pii_type_name(v->pii[k].type));
    cJSON_AddNumberToObject(s, "start", (double)cp[2 * k]);
    cJSON_AddNumberToObject(s, "end", (double)cp[2 * k + 1]);
    cJSON_AddItemToArray(a, s);
  }
  return a;
}

static cJSON *language_json(const sb_classify_verdict_t *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "code", v->lang.language);
  cJSON_AddNumberToObject(o, "confidence", v->lang.percent);
  cJSON_AddBoolToObject(o, "reliable", v->lang.reliable);
  return o;
}

/* Adds sentiment, intents, priority and its parts to o. */
static void add_analysis(cJSON *o, const sb_classify_verdict_t *v) {
  cJSON *sent = cJSON_CreateObject(), *in = cJSON_CreateArray(), *parts = cJSON_CreateObject();
  cJSON_AddStringToObject(sent, "label", sb_sentiment_label_name(v->sentiment.label));
  cJSON_AddNumberToObject(sent, "score", rounded(v->sentiment.score));
  for (size_t k = 0; k < v->intent.n; k++) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "name", v->intent.intents[k].name);
    cJSON_AddNumberToObject(x, "score", rounded(v->intent.intents[k].score));
    cJSON_AddItemToArray(in, x);
  }
  for (int p = 0; p < SB_PRIORITY__PARTS; p++)
    cJSON_AddNumberToObject(parts, sb_priority_part_name((sb_priority_part_t)p), rounded(v->priority.parts[p]));
  cJSON_AddItemToObject(o, "sentiment", sent);
  cJSON_AddItemToObject(o, "intents", in);
  cJSON_AddNumberToObject(o, "priority", v->priority.score);
  cJSON_AddItemToObject(o, "priority_parts", parts);
}

static cJSON *flags_json(const run_t *r, const sb_classify_verdict_t *v) {
  cJSON *o = cJSON_CreateObject(), *comp = cJSON_CreateArray();
  for (size_t k = 0; k < v->intent.n_competitors; k++)
    cJSON_AddItemToArray(comp, cJSON_CreateString(sb_rules_competitor(r->rules, (size_t)v->intent.competitors[k])));
  cJSON_AddItemToObject(o, "competitor", comp);
  cJSON_AddBoolToObject(o, "legal", v->intent.legal > 0);
  cJSON_AddBoolToObject(o, "vip", v->vip);
  return o;
}

static cJSON *suggestion_json(const sb_classify_verdict_t *v) {
  if (!v->has_suggestion)
    return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", v->suggestion.id);
  cJSON_AddNumberToObject(o, "score", rounded(v->suggestion.score));
  return o;
}

/* The output object of one message. */
static cJSON *verdict_json(const run_t *r, const line_t *l, const sb_classify_verdict_t *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "id", l->id ? cJSON_Duplicate(l->id, 1) : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "language", language_json(v));
  cJSON_AddItemToObject(o, "pii", pii_json(l, v));
  if (v->pii_truncated)
    cJSON_AddBoolToObject(o, "pii_truncated", 1);
  char *clean = sb_text_sanitize(v->redacted, v->redacted_len, NULL);
  cJSON_AddStringToObject(o, "redacted", clean ? clean : "");
  free(clean);
  cJSON_AddBoolToObject(o, "truncated", v->truncated);
  cJSON_AddStringToObject(o, "privacy", v->move_private ? "move_private" : "ok");
  add_analysis(o, v);
  cJSON_AddItemToObject(o, "flags", flags_json(r, v));
  cJSON_AddItemToObject(o, "suggestion", suggestion_json(v));
  return o;
}

static void observe(run_t *r, const line_t *l, const char *key, int negative, cJSON *incidents) {
  sb_spike_event_t ev;
  if (sb_spike_observe(r->spike, l->tenant, key, l->time_ms, negative, &ev) != 1)
    return;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "tenant", l->tenant);
  cJSON_AddStringToObject(o, "key", key);
  cJSON_AddStringToObject(o, "kinds", ev.kinds == (SB_SPIKE_VOLUME | SB_SPIKE_NEGATIVE) ? "volume,negative"
                                      : ev.kinds == SB_SPIKE_VOLUME                      ? "volume"
                                                                                         : "negative");
  cJSON_AddNumberToObject(o, "count", ev.count);
  cJSON_AddNumberToObject(o, "negative", ev.negative);
  cJSON_AddNumberToObject(o, "mean", rounded(ev.mean));
  cJSON_AddNumberToObject(o, "sd", rounded(ev.sd));
  cJSON_AddNumberToObject(o, "share_mean", rounded(ev.share_mean));
  cJSON_AddNumberToObject(o, "bucket_start_ms", (double)ev.bucket_start_ms);
  cJSON_AddItemToArray(incidents, o);
}

static void add_incidents(run_t *r, const line_t *l, const sb_classify_verdict_t *v, cJSON *out) {
  if (!l->has_time)
    return;
  cJSON *inc = cJSON_CreateArray();
  int neg = v->sentiment.label == SB_SENTIMENT_NEGATIVE;
  observe(r, l, SPIKE_ALL, neg, inc);
  for (size_t k = 0; k < v->intent.n; k++)
    observe(r, l, v->intent.intents[k].name, neg, inc);
  for (size_t k = 0; k < v->intent.n_competitors; k++)
    observe(r, l, sb_rules_competitor(r->rules, (size_t)v->intent.competitors[k]), neg, inc);
  if (cJSON_GetArraySize(inc))
    cJSON_AddItemToObject(out, "incidents", inc);
  else
    cJSON_Delete(inc);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void emit(run_t *r, const line_t *l, const sb_classify_verdict_t *v, uint64_t ns) {
  if (r->eval) {
    int rc = sbctl_eval_add(r->eval, l->gold, l->text, l->len, v, r->rules, ns);
    if (rc)
      report_error(r, l->id, rc, "malformed \"gold\" labels");
    return;
  }
  cJSON *o = verdict_json(r, l, v);
  add_incidents(r, l, v, o);
  char *s = cJSON_PrintUnformatted(o);
  if (s)
    printf("%s\n", s);
  free(s);
  cJSON_Delete(o);
}

static void process_line(run_t *r, const char *buf, size_t n) {
  line_t l;
  const char *why = "malformed JSON (or not an object)";
  cJSON *root = cJSON_ParseWithLength(buf, n);
  int rc = cJSON_IsObject(root) ? parse_line(root, &l, &why) : SB_EPARSE;
  if (rc) {
    report_error(r, cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL, rc, why);
    cJSON_Delete(root);
    return;
  }
  sb_classify_input_t in = {l.text, l.len, l.is_public, l.customer, l.followers, l.repeat};
  sb_classify_verdict_t v;
  uint64_t t0 = now_ns();
  rc = sb_classify_message(r->cl, &in, &v);
  uint64_t ns = now_ns() - t0;
  if (rc)
    report_error(r, l.id, rc, sb_strerror(rc));
  else
    emit(r, &l, &v, ns);
  sb_classify_verdict_clear(&v);
  cJSON_Delete(root);
}

/* ------------------------------------------------------------------- run */

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i]))
      return 0;
  return 1;
}

static void stream(run_t *r, FILE *in) {
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&buf, &cap, in)) >= 0) {
    r->lineno++;
    if ((size_t)n > LINE_MAX_BYTES)
      report_error(r, NULL, SB_ETOOBIG, "line longer than 8 MiB");
    else if (!blank(buf, (size_t)n))
      process_line(r, buf, (size_t)n);
  }
  free(buf);
  fflush(stdout);
}

int sbctl_classify(const sb_config_t *c) {
  const char *path = *sb_config_str(c, "eval") ? sb_config_str(c, "eval") : sb_config_positional(c, 1);
  if (!path) {
    fprintf(stderr, "usage: sbctl classify [--tenant-config FILE] [--lexicons DIR] INPUT.jsonl | --eval FILE\n");
    return 2;
  }
  run_t r = {0};
  int status = setup(&r, c);
  FILE *in = status ? NULL : strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!status && !in) {
    fprintf(stderr, "sbctl classify: %s: cannot open\n", path);
    status = 2;
  }
  if (!status) {
    stream(&r, in);
    if (r.eval)
      sbctl_eval_print(r.eval, stdout);
    status = r.bad ? 1 : 0;
  }
  if (in && in != stdin)
    fclose(in);
  teardown(&r);
  return status;
}
