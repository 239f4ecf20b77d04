/*
 * sbctl_eval: gold-label scoring (see sbctl_eval.h).
 *
 * Every metric is a table of cells (metric, scope, label) with true
 * positives, false positives and false negatives; scope is "*" or a gold
 * language (sentiment per language). Single-label metrics (language,
 * sentiment) add tp to the gold label when right, else fn to the gold label
 * and fp to the predicted one; multi-label and span metrics compare sets.
 * The report derives precision, recall, F1, accuracy and macro-F1 from the
 * cells at the end.
 */
#include "sbctl_eval.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 40
#define SCOPE_MAX 8
#define GOLD_SPANS_MAX 64
#define NS_PER_S 1e9
#define NO_INTENT "(none)"

typedef struct {
  char metric[16], scope[SCOPE_MAX], label[LABEL_MAX];
  uint64_t tp, fp, fn;
} cell_t;

struct sbctl_eval {
  cell_t *c;
  size_t n, cap;
  uint64_t messages, scored, elapsed_ns;
};

sbctl_eval_t *sbctl_eval_new(void) { return calloc(1, sizeof(sbctl_eval_t)); }

void sbctl_eval_destroy(sbctl_eval_t **e) {
  if (!e || !*e)
    return;
  free((*e)->c);
  free(*e);
  *e = NULL;
}

static cell_t *cell(sbctl_eval_t *e, const char *metric, const char *scope, const char *label) {
  for (size_t i = 0; i < e->n; i++)
    if (!strcmp(e->c[i].metric, metric) && !strcmp(e->c[i].scope, scope) && !strcmp(e->c[i].label, label))
      return &e->c[i];
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 64;
    cell_t *v = realloc(e->c, cap * sizeof *v);
    if (!v)
      return NULL;
    e->c = v, e->cap = cap;
  }
  cell_t *c = &e->c[e->n++];
  memset(c, 0, sizeof *c);
  snprintf(c->metric, sizeof c->metric, "%s", metric);
  snprintf(c->scope, sizeof c->scope, "%s", scope);
  snprintf(c->label, sizeof c->label, "%s", label);
  return c;
}

/* Single-label outcome in one scope. */
static int single(sbctl_eval_t *e, const char *metric, const char *scope, const char *gold, const char *pred) {
  cell_t *g = cell(e, metric, scope, gold);
  if (!g)
    return SB_ENOMEM;
  if (!strcmp(gold, pred))
    return g->tp++, 0;
  cell_t *p = cell(e, metric, scope, pred);
  if (!p)
    return SB_ENOMEM;
  g = cell(e, metric, scope, gold); /* the table may have moved */
  g->fn++, p->fp++;
  return 0;
}

/* Binary outcome as a label "yes". */
static int binary(sbctl_eval_t *e, const char *metric, int gold, int pred) {
  cell_t *c = cell(e, metric, "*", "yes");
  if (!c)
    return SB_ENOMEM;
  c->tp += gold && pred, c->fp += !gold && pred, c->fn += gold && !pred;
  cell_t *a = cell(e, metric, "*", "=accuracy");
  if (!a)
    return SB_ENOMEM;
  gold == pred ? a->tp++ : a->fn++;
  return 0;
}

static int score_language(sbctl_eval_t *e, const cJSON *g, const char *text, size_t len,
                          const sb_classify_verdict_t *v) {
  if (!cJSON_IsString(g))
    return g ? SB_EPARSE : 0;
  int rc = single(e, "language", "*", g->valuestring, v->lang.language);
  if (!rc && sb_text_codepoints(text, len) >= SBCTL_EVAL_MIN_CHARS)
    rc = single(e, "language_min20", "*", g->valuestring, v->lang.language);
  return rc;
}

static int score_sentiment(sbctl_eval_t *e, const cJSON *g, const char *lang, const sb_classify_verdict_t *v) {
  if (!cJSON_IsString(g))
    return g ? SB_EPARSE : 0;
  const char *pred = sb_sentiment_label_name(v->sentiment.label);
  int rc = single(e, "sentiment", "*", g->valuestring, pred);
  return rc || !lang ? rc : single(e, "sentiment", lang, g->valuestring, pred);
}

/* "top_intent": the one intent a line is about (null: none); scored
 * against the best-ranked intent of the verdict. */
static int score_top_intent(sbctl_eval_t *e, const cJSON *gold, const sb_classify_verdict_t *v) {
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(gold, "top_intent");
  if (!g)
    return 0;
  if (!cJSON_IsString(g) && !cJSON_IsNull(g))
    return SB_EPARSE;
  const char *want = cJSON_IsString(g) ? g->valuestring : NO_INTENT;
  return single(e, "top_intent", "*", want, v->intent.n ? v->intent.intents[0].name : NO_INTENT);
}

static int in_string_array(const cJSON *arr, const char *s) {
  for (const cJSON *x = arr->child; x; x = x->next)
    if (cJSON_IsString(x) && !strcmp(x->valuestring, s))
      return 1;
  return 0;
}

static int predicted_intent(const sb_classify_verdict_t *v, const char *name) {
  for (size_t k = 0; k < v->intent.n; k++)
    if (!strcmp(v->intent.intents[k].name, name))
      return 1;
  return 0;
}

static int score_intents(sbctl_eval_t *e, const cJSON *g, const sb_classify_verdict_t *v) {
  if (!cJSON_IsArray(g))
    return g ? SB_EPARSE : 0;
  int exact = 1;
  for (const cJSON *x = g->child; x; x = x->next) {
    cell_t *c = cJSON_IsString(x) ? cell(e, "intents", "*", x->valuestring) : NULL;
    if (!c)
      return cJSON_IsString(x) ? SB_ENOMEM : SB_EPARSE;
    int hit = predicted_intent(v, x->valuestring);
    hit ? c->tp++ : c->fn++;
    exact &= hit;
  }
  for (size_t k = 0; k < v->intent.n; k++) {
    if (in_string_array(g, v->intent.intents[k].name))
      continue;
    cell_t *c = cell(e, "intents", "*", v->intent.intents[k].name);
    if (!c)
      return SB_ENOMEM;
    c->fp++, exact = 0;
  }
  cell_t *a = cell(e, "intents", "*", "=exact_set");
  if (!a)
    return SB_ENOMEM;
  exact ? a->tp++ : a->fn++;
  return 0;
}

typedef struct {
  const char *type;
  size_t start, end;
} span_t;

static int gold_spans(const cJSON *g, span_t *out, size_t *n) {
  *n = 0;
  for (const cJSON *x = g->child; x && *n < GOLD_SPANS_MAX; x = x->next) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(x, "type");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "start");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(x, "end");
    if (!cJSON_IsString(t) || !cJSON_IsNumber(s) || !cJSON_IsNumber(en))
      return SB_EPARSE;
    out[(*n)++] = (span_t){t->valuestring, (size_t)s->valuedouble, (size_t)en->valuedouble};
  }
  return 0;
}

/* Is a predicted span of type labelled at all? ("pii_types" absent: all) */
static int labelled(const cJSON *types, const char *type) {
  return !cJSON_IsArray(types) || in_string_array(types, type);
}

static int score_pii(sbctl_eval_t *e, const cJSON *gold, const char *text, size_t len,
                     const sb_classify_verdict_t *v) {
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(gold, "pii");
  const cJSON *types = cJSON_GetObjectItemCaseSensitive(gold, "pii_types");
  span_t gs[GOLD_SPANS_MAX];
  size_t ng, cp[2 * SB_CLASSIFY_PII_MAX];
  int used[GOLD_SPANS_MAX] = {0};
  if (!cJSON_IsArray(g))
    return g ? SB_EPARSE : 0;
  if (gold_spans(g, gs, &ng))
    return SB_EPARSE;
  sb_classify_pii_codepoints(text, len, v, cp);
  for (size_t k = 0; k < v->n_pii; k++) {
    const char *type = sb_pii_type_name(v->pii[k].type);
    if (!labelled(types, type))
      continue;
    size_t j = 0;
    while (j < ng && (used[j] || strcmp(gs[j].type, type) || gs[j].start != cp[2 * k] || gs[j].end != cp[2 * k + 1]))
      j++;
    cell_t *c = cell(e, "pii", "*", type);
    if (!c)
      return SB_ENOMEM;
    j < ng ? (used[j] = 1, c->tp++) : c->fp++;
  }
  for (size_t j = 0; j < ng; j++) {
    cell_t *c = used[j] ? NULL : cell(e, "pii", "*", gs[j].type);
    if (c)
      c->fn++;
    else if (!used[j])
      return SB_ENOMEM;
  }
  return 0;
}

static int score_flags(sbctl_eval_t *e, const cJSON *gold, const sb_classify_verdict_t *v) {
  const cJSON *mp = cJSON_GetObjectItemCaseSensitive(gold, "move_private");
  const cJSON *co = cJSON_GetObjectItemCaseSensitive(gold, "competitor");
  const cJSON *le = cJSON_GetObjectItemCaseSensitive(gold, "legal");
  int rc = 0;
  if (mp)
    rc = cJSON_IsBool(mp) ? binary(e, "move_private", cJSON_IsTrue(mp), v->move_private) : SB_EPARSE;
  if (!rc && co)
    rc = cJSON_IsBool(co) ? binary(e, "competitor", cJSON_IsTrue(co), v->intent.n_competitors > 0) : SB_EPARSE;
  if (!rc && le)
    rc = cJSON_IsBool(le) ? binary(e, "legal", cJSON_IsTrue(le), v->intent.legal > 0) : SB_EPARSE;
  return rc;
}

int sbctl_eval_add(sbctl_eval_t *e, const cJSON *gold, const char *text, size_t len,
                   const sb_classify_verdict_t *v, const sb_rules_t *rules, uint64_t elapsed_ns) {
  (void)rules;
  e->messages++, e->elapsed_ns += elapsed_ns;
  if (!gold)
    return 0;
  if (!cJSON_IsObject(gold))
    return SB_EPARSE;
  const cJSON *lang = cJSON_GetObjectItemCaseSensitive(gold, "language");
  int rc = score_language(e, lang, text, len, v);
  if (!rc)
    rc = score_sentiment(e, cJSON_GetObjectItemCaseSensitive(gold, "sentiment"),
                         cJSON_IsString(lang) ? lang->valuestring : NULL, v);
  if (!rc)
    rc = score_intents(e, cJSON_GetObjectItemCaseSensitive(gold, "intents"), v);
  if (!rc)
    rc = score_top_intent(e, gold, v);
  if (!rc)
    rc = score_pii(e, gold, text, len, v);
  if (!rc)
    rc = score_flags(e, gold, v);
  e->scored += rc == 0;
  return rc;
}

/* ---------------------------------------------------------------- report */

static void add_ratio(cJSON *o, const char *name, uint64_t num, uint64_t den) {
  if (den)
    cJSON_AddNumberToObject(o, name, (double)(int64_t)(10000.0 * (double)num / (double)den + 0.5) / 10000.0);
  else
    cJSON_AddNullToObject(o, name);
}

static double f1_of(const cell_t *c) {
  uint64_t d = 2 * c->tp + c->fp + c->fn;
  return d ? 2.0 * (double)c->tp / (double)d : 0;
}

static cJSON *label_json(const cell_t *c) {
  cJSON *o = cJSON_CreateObject();
  add_ratio(o, "precision", c->tp, c->tp + c->fp);
  add_ratio(o, "recall", c->tp, c->tp + c->fn);
  add_ratio(o, "f1", 2 * c->tp, 2 * c->tp + c->fp + c->fn);
  cJSON_AddNumberToObject(o, "support", (double)(c->tp + c->fn));
  return o;
}

/* Labels of (metric, scope), accuracy (single-label metrics) or micro
 * averages (multi-label and span metrics), and macro-F1. */
static cJSON *metric_json(const sbctl_eval_t *e, const char *metric, const char *scope, int single_label) {
  cJSON *o = cJSON_CreateObject(), *labels = cJSON_CreateObject();
  uint64_t tp = 0, fp = 0, fn = 0, n_labels = 0;
  double f1 = 0;
  for (size_t i = 0; i < e->n; i++) {
    const cell_t *c = &e->c[i];
    if (strcmp(c->metric, metric) || strcmp(c->scope, scope))
      continue;
    if (c->label[0] == '=') { /* a derived accuracy, not a label */
      add_ratio(o, c->label + 1, c->tp, c->tp + c->fn);
      continue;
    }
    cJSON_AddItemToObject(labels, c->label, label_json(c));
    tp += c->tp, fp += c->fp, fn += c->fn;
    if (c->tp + c->fn) /* macro average over labels that occur in the gold */
      f1 += f1_of(c), n_labels++;
  }
  if (single_label) {
    add_ratio(o, "accuracy", tp, tp + fn);
    cJSON_AddNumberToObject(o, "n", (double)(tp + fn));
  } else {
    add_ratio(o, "micro_precision", tp, tp + fp);
    add_ratio(o, "micro_recall", tp, tp + fn);
    add_ratio(o, "micro_f1", 2 * tp, 2 * tp + fp + fn);
  }
  if (n_labels)
    cJSON_AddNumberToObject(o, "macro_f1", (double)(int64_t)(10000.0 * f1 / (double)n_labels + 0.5) / 10000.0);
  cJSON_AddItemToObject(o, "labels", labels);
  return o;
}

static cJSON *sentiment_json(const sbctl_eval_t *e) {
  cJSON *o = metric_json(e, "sentiment", "*", 1), *per = cJSON_CreateObject();
  for (size_t i = 0; i < e->n; i++) {
    const cell_t *c = &e->c[i];
    if (!strcmp(c->metric, "sentiment") && strcmp(c->scope, "*") && !cJSON_GetObjectItem(per, c->scope))
      cJSON_AddItemToObject(per, c->scope, metric_json(e, "sentiment", c->scope, 1));
  }
  cJSON_AddItemToObject(o, "per_language", per);
  return o;
}

void sbctl_eval_print(const sbctl_eval_t *e, FILE *f) {
  static const struct {
    const char *name;
    int single_label;
  } metrics[] = {{"language", 1}, {"language_min20", 1}, {"intents", 0}, {"top_intent", 1}, {"pii", 0},
                 {"move_private", 0}, {"competitor", 0}, {"legal", 0}, {NULL, 0}};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "messages", (double)e->messages);
  cJSON_AddNumberToObject(o, "scored", (double)e->scored);
  if (e->elapsed_ns)
    cJSON_AddNumberToObject(o, "classify_messages_per_second",
                            (double)(int64_t)((double)e->messages * NS_PER_S / (double)e->elapsed_ns));
  for (size_t k = 0; metrics[k].name; k++)
    cJSON_AddItemToObject(o, metrics[k].name, metric_json(e, metrics[k].name, "*", metrics[k].single_label));
  cJSON_AddItemToObject(o, "sentiment", sentiment_json(e));
  char *s = cJSON_Print(o);
  if (s)
    fprintf(f, "%s\n", s);
  free(s);
  cJSON_Delete(o);
}
