/*
 * sb_rules: parser, validator and compiler of a tenant's classify rules
 * (see sb_rules.h for the format).
 *
 * The JSON tree (cJSON) is walked once; each member has its own parser,
 * found in a table, and every error names its path. Keywords and legal
 * words go into one termset per language (stemmed for that language while
 * compiling; the stemmers are dropped afterwards), competitors and "*"
 * keywords into a language-free termset, regexes are compiled with regcomp.
 * Members are parsed in a fixed order (intents before answers, which name
 * them), whatever their order in the text.
 */
#include "sb_rules.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERM_LANGS_MAX 32
#define PATH_MAX_LEN 160
#define VIP_ID_MAX 256
#define DEFAULT_INTENT_WEIGHT 50

typedef struct {
  char lang[SB_RULES_LANG_MAX];
  sb_termset_t *terms;
} lang_terms_t;

struct sb_rules {
  char langbuf[SB_RULES_LANGUAGES_MAX][SB_RULES_LANG_MAX];
  const char *languages[SB_RULES_LANGUAGES_MAX + 1];
  size_t n_languages;
  sb_rule_intent_t *intents;
  size_t n_intents;
  char **competitors;
  size_t n_competitors;
  char **vip; /* sorted */
  size_t n_vip;
  sb_priority_weights_t priority;
  int64_t repeat_window_s;
  int repeat_min;
  sb_rules_spike_t spike;
  sb_rule_answer_t *answers;
  size_t n_answers;
  lang_terms_t sets[TERM_LANGS_MAX];
  size_t n_sets;
  sb_termset_t *any;
  sb_rule_regex_t *regex;
  size_t n_regex;
  size_t n_terms;
#ifdef SB_HAVE_HYPERSCAN
  hs_database_t *hs;
#endif
};

/* State of one parse: the object being built, the error text, and the
 * stemmers used while compiling (index-aligned with r->sets). */
typedef struct {
  sb_rules_t *r;
  char *err;
  size_t errlen;
  sb_stem_t *stems[TERM_LANGS_MAX];
} parse_t;

static int fail(parse_t *p, const char *fmt, ...) {
  if (p->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
  }
  return SB_ECONFIG;
}

static int valid_lang(const char *s) {
  size_t n = strlen(s);
  if (n < 2 || n > 3)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < 'a' || s[i] > 'z')
      return 0;
  return 1;
}

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n < 1 || n > SB_RULES_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]))
      return 0;
  return 1;
}

/* Fails unless every member of obj is named in keys (NULL-terminated). */
static int only_keys(parse_t *p, const cJSON *obj, const char *path, const char *const *keys) {
  for (const cJSON *m = obj->child; m; m = m->next) {
    size_t k = 0;
    while (keys[k] && strcmp(keys[k], m->string))
      k++;
    if (!keys[k])
      return fail(p, "%s: unknown member \"%.64s\"", path, m->string);
  }
  return 0;
}

static int expect(parse_t *p, const cJSON *j, int (*is)(const cJSON *), const char *path, const char *what) {
  return is(j) ? 0 : fail(p, "%s: must be %s", path, what);
}

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  return d ? memcpy(d, s, n) : NULL;
}

/* ------------------------------------------------------------- termsets */

/* The termset of lang ("*": the language-free one), created on demand. */
static int set_for(parse_t *p, const char *lang, sb_termset_t **set, sb_stem_t **stem) {
  sb_rules_t *r = p->r;
  *stem = NULL;
  if (!strcmp(lang, "*")) {
    *set = r->any;
    return 0;
  }
  size_t i = 0;
  while (i < r->n_sets && strcmp(r->sets[i].lang, lang))
    i++;
  if (i == r->n_sets) {
    if (i == TERM_LANGS_MAX)
      return fail(p, "more than %d keyword languages", TERM_LANGS_MAX);
    if (!(r->sets[i].terms = sb_termset_new()))
      return SB_ENOMEM;
    snprintf(r->sets[i].lang, sizeof r->sets[i].lang, "%s", lang);
    p->stems[i] = sb_stem_new(lang);
    r->n_sets++;
  }
  *set = r->sets[i].terms, *stem = p->stems[i];
  return 0;
}

static int add_phrase(parse_t *p, const char *path, const char *lang, const cJSON *s, uint32_t value) {
  sb_termset_t *set = NULL;
  sb_stem_t *stem = NULL;
  if (!cJSON_IsString(s))
    return fail(p, "%s: must be a string", path);
  if (++p->r->n_terms > SB_RULES_TERMS_MAX)
    return fail(p, "%s: more than %d terms in all", path, SB_RULES_TERMS_MAX);
  int rc = set_for(p, lang, &set, &stem);
  if (rc)
    return rc;
  rc = sb_termset_add(set, s->valuestring, strlen(s->valuestring), value, stem);
  if (rc == SB_EINVAL)
    return fail(p, "%s: \"%.64s\" is not a phrase of 1-%d words with an optional final '*'", path,
                s->valuestring, SB_TERMSET_WORDS);
  return rc;
}

static int check_lang_key(parse_t *p, const char *path, const char *key) {
  return !strcmp(key, "*") || valid_lang(key) ? 0 : fail(p, "%s: \"%.16s\" is not a language code or \"*\"", path, key);
}

/* Walks {"en": [...], "*": [...]}: checks every language key and that each
 * value is an array, then calls fn on every element with its path
 * ("path.en[2]") and language. */
typedef int (*lang_item_fn)(parse_t *p, const char *path, const char *lang, const cJSON *s, int value);

static int each_lang_item(parse_t *p, const char *path, const cJSON *obj, const char *what,
                          lang_item_fn fn, int value) {
  char sub[PATH_MAX_LEN];
  int rc = expect(p, obj, cJSON_IsObject, path, what);
  for (const cJSON *l = rc ? NULL : obj->child; l && !rc; l = l->next) {
    snprintf(sub, sizeof sub, "%.120s.%.16s", path, l->string);
    rc = check_lang_key(p, path, l->string);
    if (!rc)
      rc = expect(p, l, cJSON_IsArray, sub, "an array of strings");
    int k = 0;
    for (const cJSON *s = rc ? NULL : l->child; s && !rc; s = s->next, k++) {
      char item[PATH_MAX_LEN + 16];
      snprintf(item, sizeof item, "%.150s[%d]", sub, k);
      rc = fn(p, item, l->string, s, value);
    }
  }
  return rc;
}

static int add_phrase_item(parse_t *p, const char *path, const char *lang, const cJSON *s, int value) {
  return add_phrase(p, path, lang, s, (uint32_t)value);
}

/* {"en": ["...", ...], "*": [...]} into the termsets with value. */
static int add_lang_lists(parse_t *p, const char *path, const cJSON *obj, uint32_t value) {
  return each_lang_item(p, path, obj, "an object of language: [phrases]", add_phrase_item, (int)value);
}

/* ---------------------------------------------------------------- regex */

static int compile_regex(parse_t *p, const char *path, const char *lang, const cJSON *s, int intent) {
  sb_rules_t *r = p->r;
  if (!cJSON_IsString(s))
    return fail(p, "%s: must be a string", path);
  const char *pat = s->valuestring;
  if (strlen(pat) == 0 || strlen(pat) > SB_RULES_REGEX_LEN_MAX)
    return fail(p, "%s: must be 1-%d bytes", path, SB_RULES_REGEX_LEN_MAX);
  for (const char *b = strchr(pat, '\\'); b; b = strchr(b + 2, '\\'))
    if (b[1] >= '1' && b[1] <= '9')
      return fail(p, "%s: back-references are not allowed", path);
    else if (!b[1])
      break;
  if (r->n_regex == SB_RULES_REGEX_MAX)
    return fail(p, "%s: more than %d regexes", path, SB_RULES_REGEX_MAX);
  sb_rule_regex_t *x = &r->regex[r->n_regex];
  int rc = regcomp(&x->re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
  if (rc) {
    char why[128];
    regerror(rc, &x->re, why, sizeof why);
    return fail(p, "%s: does not compile: %s", path, why);
  }
  snprintf(x->lang, sizeof x->lang, "%s", lang);
  x->intent = intent;
  x->pattern = dup_string(pat);
  r->n_regex++; /* regfree'd and freed with the rules from here on */
  return x->pattern ? 0 : SB_ENOMEM;
}

#ifdef SB_HAVE_HYPERSCAN
#define HS_FLAGS (HS_FLAG_CASELESS | HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY)

/* All regexes into one Hyperscan database (after they compiled with regcomp). */
static int build_hyperscan(parse_t *p) {
  sb_rules_t *r = p->r;
  const char *pats[SB_RULES_REGEX_MAX];
  unsigned flags[SB_RULES_REGEX_MAX], ids[SB_RULES_REGEX_MAX];
  hs_compile_error_t *e = NULL;
  for (size_t i = 0; i < r->n_regex; i++)
    pats[i] = r->regex[i].pattern, flags[i] = HS_FLAGS, ids[i] = (unsigned)i;
  if (!r->n_regex ||
      hs_compile_multi(pats, flags, ids, (unsigned)r->n_regex, HS_MODE_BLOCK, NULL, &r->hs, &e) == HS_SUCCESS)
    return 0;
  int rc = fail(p, "regex \"%.64s\": not supported by hyperscan: %s",
                e && e->expression >= 0 ? pats[e->expression] : "", e ? e->message : "?");
  hs_free_compile_error(e);
  return rc;
}

const hs_database_t *sb_rules_hyperscan(const sb_rules_t *r) { return r->hs; }
#else
static int build_hyperscan(parse_t *p) {
  (void)p;
  return 0;
}
#endif

static int add_regexes(parse_t *p, const char *path, const cJSON *obj, int intent) {
  if (cJSON_IsObject(obj) && !p->r->regex && !(p->r->regex = calloc(SB_RULES_REGEX_MAX, sizeof *p->r->regex)))
    return SB_ENOMEM;
  return each_lang_item(p, path, obj, "an object of language: [regexes]", compile_regex, intent);
}

/* -------------------------------------------------------------- members */

static int parse_languages(parse_t *p, const cJSON *arr) {
  sb_rules_t *r = p->r;
  int rc = expect(p, arr, cJSON_IsArray, "languages", "an array of language codes");
  for (const cJSON *s = rc ? NULL : arr->child; s && !rc; s = s->next) {
    if (!cJSON_IsString(s) || !valid_lang(s->valuestring))
      return fail(p, "languages[%zu]: must be a language code such as \"en\"", r->n_languages);
    if (r->n_languages == SB_RULES_LANGUAGES_MAX)
      return fail(p, "languages: more than %d", SB_RULES_LANGUAGES_MAX);
    for (size_t k = 0; k < r->n_languages; k++)
      if (!strcmp(r->langbuf[k], s->valuestring))
        return fail(p, "languages: \"%s\" appears twice", s->valuestring);
    snprintf(r->langbuf[r->n_languages], SB_RULES_LANG_MAX, "%s", s->valuestring);
    r->languages[r->n_languages] = r->langbuf[r->n_languages];
    r->n_languages++;
  }
  return rc;
}

static int parse_number(parse_t *p, const cJSON *j, const char *path, double lo, double hi, double *out) {
  if (!cJSON_IsNumber(j) || !(j->valuedouble >= lo && j->valuedouble <= hi))
    return fail(p, "%s: must be a number from %g to %g", path, lo, hi);
  *out = j->valuedouble;
  return 0;
}

static int intent_head(parse_t *p, const cJSON *o, const char *path, sb_rule_intent_t *in) {
  static const char *const keys[] = {"name", "weight", "account", "secondary", "keywords", "regex", NULL};
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weight");
  const cJSON *acc = cJSON_GetObjectItemCaseSensitive(o, "account");
  const cJSON *sec = cJSON_GetObjectItemCaseSensitive(o, "secondary");
  double weight = DEFAULT_INTENT_WEIGHT;
  int rc = expect(p, o, cJSON_IsObject, path, "an object");
  if (!rc)
    rc = only_keys(p, o, path, keys);
  if (!rc && (!cJSON_IsString(name) || !valid_name(name->valuestring)))
    rc = fail(p, "%s.name: must be a name of 1-%d characters [A-Za-z0-9_.-]", path, SB_RULES_NAME_MAX);
  if (!rc && w)
    rc = parse_number(p, w, path, 0, SB_PRIORITY_W_LIMIT, &weight);
  if (!rc && ((acc && !cJSON_IsBool(acc)) || (sec && !cJSON_IsBool(sec))))
    rc = fail(p, "%s.%s: must be true or false", path, acc && !cJSON_IsBool(acc) ? "account" : "secondary");
  if (rc)
    return rc;
  if (sb_rules_intent_find(p->r, name->valuestring) >= 0)
    return fail(p, "%s.name: \"%s\" is defined twice", path, name->valuestring);
  snprintf(in->name, sizeof in->name, "%s", name->valuestring);
  in->weight = (int)weight;
  in->account = cJSON_IsTrue(acc);
  in->secondary = cJSON_IsTrue(sec);
  return 0;
}

static int parse_intent(parse_t *p, const cJSON *o, size_t i) {
  char path[PATH_MAX_LEN], sub[PATH_MAX_LEN + 16];
  snprintf(path, sizeof path, "intents[%zu]", i);
  int rc = intent_head(p, o, path, &p->r->intents[i]);
  if (rc)
    return rc;
  p->r->n_intents = i + 1; /* visible to sb_rules_intent_find from now on */
  const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "keywords");
  const cJSON *rx = cJSON_GetObjectItemCaseSensitive(o, "regex");
  snprintf(sub, sizeof sub, "%.120s.keywords", path);
  if (kw)
    rc = add_lang_lists(p, sub, kw, SB_RULES_TERM(SB_RULES_TERM_INTENT, i));
  snprintf(sub, sizeof sub, "%.120s.regex", path);
  if (!rc && rx)
    rc = add_regexes(p, sub, rx, (int)i);
  return rc;
}

static int parse_intents(parse_t *p, const cJSON *arr) {
  int rc = expect(p, arr, cJSON_IsArray, "intents", "an array of objects");
  int n = rc ? 0 : cJSON_GetArraySize(arr);
  if (n > SB_RULES_INTENTS_MAX)
    return fail(p, "intents: more than %d", SB_RULES_INTENTS_MAX);
  if (n && !(p->r->intents = calloc((size_t)n, sizeof *p->r->intents)))
    return SB_ENOMEM;
  size_t i = 0;
  for (const cJSON *o = rc ? NULL : arr->child; o && !rc; o = o->next)
    rc = parse_intent(p, o, i++);
  return rc;
}

static int parse_competitor(parse_t *p, const cJSON *c, size_t i) {
  static const char *const keys[] = {"name", "aliases", NULL};
  char path[PATH_MAX_LEN];
  snprintf(path, sizeof path, "competitors[%zu]", i);
  const cJSON *name = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "name") : c;
  const cJSON *aliases = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "aliases") : NULL;
  uint32_t value = SB_RULES_TERM(SB_RULES_TERM_COMPETITOR, i);
  int rc = cJSON_IsObject(c) ? only_keys(p, c, path, keys) : 0;
  if (!rc && (!cJSON_IsString(name) || strlen(name->valuestring) > SB_RULES_NAME_MAX))
    rc = fail(p, "%s: must be a name (up to %d bytes) or {\"name\", \"aliases\"}", path, SB_RULES_NAME_MAX);
  if (!rc && !(p->r->competitors[i] = dup_string(name->valuestring)))
    rc = SB_ENOMEM;
  if (!rc)
    p->r->n_competitors = i + 1, rc = add_phrase(p, path, "*", name, value);
  if (!rc && aliases)
    rc = expect(p, aliases, cJSON_IsArray, path, "aliases: an array of strings");
  for (const cJSON *a = rc || !aliases ? NULL : aliases->child; a && !rc; a = a->next)
    rc = add_phrase(p, path, "*", a, value);
  return rc;
}

static int parse_competitors(parse_t *p, const cJSON *arr) {
  int rc = expect(p, arr, cJSON_IsArray, "competitors", "an array");
  int n = rc ? 0 : cJSON_GetArraySize(arr);
  if (n > SB_RULES_COMPETITORS_MAX)
    return fail(p, "competitors: more than %d", SB_RULES_COMPETITORS_MAX);
  if (n && !(p->r->competitors = calloc((size_t)n, sizeof(char *))))
    return SB_ENOMEM;
  size_t i = 0;
  for (const cJSON *c = rc ? NULL : arr->child; c && !rc; c = c->next)
    rc = parse_competitor(p, c, i++);
  return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int parse_vip(parse_t *p, const cJSON *arr) {
  sb_rules_t *r = p->r;
  int rc = expect(p, arr, cJSON_IsArray, "vip", "an array of customer ids");
  int n = rc ? 0 : cJSON_GetArraySize(arr);
  if (n > SB_RULES_VIP_MAX)
    return fail(p, "vip: more than %d", SB_RULES_VIP_MAX);
  if (n && !(r->vip = calloc((size_t)n, sizeof(char *))))
    return SB_ENOMEM;
  for (const cJSON *s = rc ? NULL : arr->child; s; s = s->next) {
    size_t len = cJSON_IsString(s) ? strlen(s->valuestring) : 0;
    if (len == 0 || len > VIP_ID_MAX)
      return fail(p, "vip[%zu]: must be a customer id of 1-%d bytes", r->n_vip, VIP_ID_MAX);
    if (!(r->vip[r->n_vip] = dup_string(s->valuestring)))
      return SB_ENOMEM;
    r->n_vip++;
  }
  if (r->n_vip)
    qsort(r->vip, r->n_vip, sizeof(char *), cmp_str);
  return rc;
}

static int parse_legal(parse_t *p, const cJSON *obj) {
  return add_lang_lists(p, "legal", obj, SB_RULES_TERM(SB_RULES_TERM_LEGAL, 0));
}

static int parse_priority(parse_t *p, const cJSON *obj) {
  static const char *const keys[] = {"sentiment", "public", "reach", "vip", "intent", "repeat", "legal", "reach_max", NULL};
  sb_priority_weights_t *w = &p->r->priority;
  double *slot[] = {&w->sentiment, &w->public_, &w->reach, &w->vip, &w->intent, &w->repeat, &w->legal};
  int rc = expect(p, obj, cJSON_IsObject, "priority", "an object of weights");
  if (!rc)
    rc = only_keys(p, obj, "priority", keys);
  char path[PATH_MAX_LEN];
  for (size_t k = 0; keys[k + 1] && !rc; k++) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
    snprintf(path, sizeof path, "priority.%s", keys[k]);
    if (j)
      rc = parse_number(p, j, path, 0, SB_PRIORITY_W_LIMIT, slot[k]);
  }
  const cJSON *rm = rc ? NULL : cJSON_GetObjectItemCaseSensitive(obj, "reach_max");
  double v = 0;
  if (rm && !(rc = parse_number(p, rm, "priority.reach_max", 1, 1e12, &v)))
    w->reach_max = (int64_t)v;
  return rc;
}

static int parse_repeat_window(parse_t *p, const cJSON *j) {
  double v = 0;
  int rc = parse_number(p, j, "repeat_window_s", 0, SB_RULES_REPEAT_WINDOW_MAX, &v);
  if (!rc)
    p->r->repeat_window_s = (int64_t)v;
  return rc;
}

static int parse_repeat_min(parse_t *p, const cJSON *j) {
  double v = 0;
  int rc = parse_number(p, j, "repeat_min", 1, SB_RULES_REPEAT_MIN_MAX, &v);
  if (!rc)
    p->r->repeat_min = (int)v;
  return rc;
}

/* One optional number of "spike": 1 with *out when given, 0 when absent,
 * SB_ECONFIG when out of range (open: lo itself is refused too). */
static int spike_number(parse_t *p, const cJSON *obj, const char *name, double lo, double hi, int open,
                        double *out) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!j)
    return 0;
  if (!cJSON_IsNumber(j) || !(j->valuedouble >= lo && j->valuedouble <= hi) || (open && j->valuedouble == lo))
    return fail(p, "spike.%s: must be a number %s %g to %g", name, open ? "above" : "from", lo, hi);
  *out = j->valuedouble;
  return 1;
}

/* spike.supervisor_calendar: "" or a calendar name (resolved by sb_ruleset) */
static int spike_calendar(parse_t *p, const cJSON *obj) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, "supervisor_calendar");
  if (!j)
    return 0;
  const char *v = cJSON_IsString(j) ? j->valuestring : NULL;
  size_t n = v ? strlen(v) : 0;
  if (!v || n > SB_RULES_CALENDAR_NAME_MAX || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
    return fail(p, "spike.supervisor_calendar: must be the name of one of sla.calendars ([A-Za-z0-9_-], at most %d), or \"\" (always)",
                SB_RULES_CALENDAR_NAME_MAX);
  snprintf(p->r->spike.supervisor_calendar, sizeof p->r->spike.supervisor_calendar, "%s", v);
  return 0;
}

/* "spike": {"enabled", "bucket_s", "k", "alpha", "warmup_buckets", "min_count",
 *           "supervisor_calendar"} */
static int parse_spike(parse_t *p, const cJSON *obj) {
  static const char *const keys[] = {"enabled", "bucket_s", "k", "alpha", "warmup_buckets", "min_count",
                                     "supervisor_calendar", NULL};
  sb_rules_spike_t *sp = &p->r->spike;
  int rc = expect(p, obj, cJSON_IsObject, "spike", "an object");
  if (!rc)
    rc = only_keys(p, obj, "spike", keys);
  if (rc)
    return rc;
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(obj, "enabled");
  if (en && !cJSON_IsBool(en))
    return fail(p, "spike.enabled: must be true or false");
  sp->enabled = !en || cJSON_IsTrue(en);
  double v = 0;
  if ((rc = spike_number(p, obj, "bucket_s", 1, SB_RULES_SPIKE_BUCKET_S_MAX, 0, &v)) == 1)
    sp->opts.bucket_ms = (int64_t)(v * 1000);
  if (rc >= 0 && (rc = spike_number(p, obj, "k", 0, SB_RULES_SPIKE_K_MAX, 1, &v)) == 1)
    sp->opts.k = v;
  if (rc >= 0 && (rc = spike_number(p, obj, "alpha", 0, 1, 1, &v)) == 1)
    sp->opts.alpha = v;
  if (rc >= 0 && (rc = spike_number(p, obj, "warmup_buckets", 0, SB_RULES_SPIKE_WARMUP_MAX, 0, &v)) == 1)
    sp->opts.warmup_buckets = (int)v;
  if (rc >= 0 && (rc = spike_number(p, obj, "min_count", 1, SB_RULES_SPIKE_MIN_COUNT_MAX, 0, &v)) == 1)
    sp->opts.min_count = (int)v;
  if (rc >= 0)
    rc = spike_calendar(p, obj);
  return rc < 0 ? rc : 0;
}

static int answer_fields(parse_t *p, const cJSON *o, const char *path, sb_rule_answer_t *a) {
  static const char *const keys[] = {"id", "intent", "language", "text", NULL};
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "intent");
  const cJSON *lang = cJSON_GetObjectItemCaseSensitive(o, "language");
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
  int rc = expect(p, o, cJSON_IsObject, path, "an object");
  if (!rc)
    rc = only_keys(p, o, path, keys);
  if (!rc && (!cJSON_IsString(id) || !valid_name(id->valuestring)))
    return fail(p, "%s.id: must be a name of 1-%d characters [A-Za-z0-9_.-]", path, SB_RULES_NAME_MAX);
  if (!rc && in && (!cJSON_IsString(in) || (a->intent = sb_rules_intent_find(p->r, in->valuestring)) < 0))
    return fail(p, "%s.intent: must name an intent of \"intents\"", path);
  if (!rc && lang && (!cJSON_IsString(lang) || check_lang_key(p, path, lang->valuestring)))
    return fail(p, "%s.language: must be a language code or \"*\"", path);
  size_t tl = !rc && cJSON_IsString(text) ? strlen(text->valuestring) : 0;
  if (!rc && (tl == 0 || tl > SB_RULES_ANSWER_TEXT_MAX))
    return fail(p, "%s.text: must be a string of 1-%d bytes", path, SB_RULES_ANSWER_TEXT_MAX);
  if (rc)
    return rc;
  snprintf(a->id, sizeof a->id, "%s", id->valuestring);
  snprintf(a->lang, sizeof a->lang, "%s", lang ? lang->valuestring : "*");
  return (a->text = dup_string(text->valuestring)) ? 0 : SB_ENOMEM;
}

static int parse_answers(parse_t *p, const cJSON *arr) {
  sb_rules_t *r = p->r;
  int rc = expect(p, arr, cJSON_IsArray, "answers", "an array of objects");
  int n = rc ? 0 : cJSON_GetArraySize(arr);
  if (n > SB_RULES_ANSWERS_MAX)
    return fail(p, "answers: more than %d", SB_RULES_ANSWERS_MAX);
  if (n && !(r->answers = calloc((size_t)n, sizeof *r->answers)))
    return SB_ENOMEM;
  char path[PATH_MAX_LEN];
  for (const cJSON *o = rc ? NULL : arr->child; o && !rc; o = o->next) {
    sb_rule_answer_t *a = &r->answers[r->n_answers];
    snprintf(path, sizeof path, "answers[%zu]", r->n_answers);
    a->intent = -1;
    rc = answer_fields(p, o, path, a);
    for (size_t k = 0; !rc && k < r->n_answers; k++)
      if (!strcmp(r->answers[k].id, a->id))
        rc = fail(p, "%s.id: \"%s\" is used twice", path, a->id);
    if (a->text)
      r->n_answers++; /* owned from here, freed with the rules */
  }
  return rc;
}

/* ---------------------------------------------------------------- parse */

static const struct {
  const char *name;
  int (*parse)(parse_t *p, const cJSON *j);
} members[] = {
    {"languages", parse_languages}, {"intents", parse_intents}, {"competitors", parse_competitors},
    {"vip", parse_vip},             {"legal", parse_legal},     {"priority", parse_priority},
    {"answers", parse_answers},     {"repeat_window_s", parse_repeat_window},
    {"repeat_min", parse_repeat_min}, {"spike", parse_spike},
};
#define NMEMBERS (sizeof members / sizeof members[0])

static int parse_root(parse_t *p, const cJSON *root) {
  const char *keys[NMEMBERS + 1];
  for (size_t k = 0; k < NMEMBERS; k++)
    keys[k] = members[k].name;
  keys[NMEMBERS] = NULL;
  int rc = expect(p, root, cJSON_IsObject, "classify", "a JSON object");
  if (!rc)
    rc = only_keys(p, root, "classify", keys);
  for (size_t k = 0; k < NMEMBERS && !rc; k++) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, members[k].name);
    if (j)
      rc = members[k].parse(p, j);
  }
  return rc;
}

static sb_rules_t *rules_from_json(const cJSON *root, char *err, size_t errlen) {
  parse_t p = {.err = err, .errlen = errlen};
  if (errlen)
    err[0] = '\0';
  p.r = calloc(1, sizeof *p.r);
  if (p.r)
    p.r->any = sb_termset_new();
  if (!p.r || !p.r->any) {
    sb_rules_destroy(&p.r);
    fail(&p, "out of memory");
    return NULL;
  }
  sb_priority_weights_default(&p.r->priority);
  p.r->repeat_window_s = SB_RULES_REPEAT_WINDOW_DEFAULT;
  p.r->repeat_min = 1;
  p.r->spike.enabled = 1;
  sb_spike_opts_default(&p.r->spike.opts);
  int rc = parse_root(&p, root);
  if (!rc)
    rc = build_hyperscan(&p);
  for (size_t i = 0; i < TERM_LANGS_MAX; i++)
    sb_stem_destroy(&p.stems[i]);
  if (rc) {
    if (rc == SB_ENOMEM)
      fail(&p, "out of memory");
    sb_rules_destroy(&p.r);
  }
  return p.r;
}

sb_rules_t *sb_rules_parse(const char *json, size_t len, char *err, size_t errlen) {
  parse_t p = {.err = err, .errlen = errlen};
  if (!json || len > SB_RULES_JSON_MAX) {
    fail(&p, "classify: rules must be JSON text of at most %u bytes", SB_RULES_JSON_MAX);
    return NULL;
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  if (!root) {
    fail(&p, "classify: malformed JSON near byte %zu", (size_t)(end ? end - json : 0));
    return NULL;
  }
  sb_rules_t *r = rules_from_json(root, err, errlen);
  cJSON_Delete(root);
  return r;
}

/* Reads the whole file (at most SB_RULES_JSON_MAX bytes) into *out. */
static int read_file(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return SB_EIO;
  char *buf = malloc(SB_RULES_JSON_MAX + 1);
  size_t n = buf ? fread(buf, 1, SB_RULES_JSON_MAX + 1, f) : 0;
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad || n > SB_RULES_JSON_MAX) {
    free(buf);
    return !buf ? SB_ENOMEM : bad ? SB_EIO : SB_ETOOBIG;
  }
  *out = buf, *len = n;
  return 0;
}

sb_rules_t *sb_rules_load(const char *path, char *err, size_t errlen) {
  char *text = NULL;
  size_t len = 0;
  parse_t p = {.err = err, .errlen = errlen};
  int rc = read_file(path, &text, &len);
  if (rc) {
    fail(&p, "%s: %s", path, sb_strerror(rc));
    return NULL;
  }
  cJSON *root = cJSON_ParseWithLength(text, len);
  const cJSON *cl = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "classify") : NULL;
  sb_rules_t *r = NULL;
  if (!root)
    fail(&p, "%s: malformed JSON", path);
  else
    r = rules_from_json(cJSON_IsObject(cl) ? cl : root, err, errlen);
  cJSON_Delete(root);
  free(text);
  return r;
}

static void free_strings(char **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

void sb_rules_destroy(sb_rules_t **rp) {
  if (!rp || !*rp)
    return;
  sb_rules_t *r = *rp;
  free(r->intents);
  free_strings(r->competitors, r->n_competitors);
  free_strings(r->vip, r->n_vip);
  for (size_t i = 0; i < r->n_answers; i++)
    free((char *)r->answers[i].text);
  free(r->answers);
  for (size_t i = 0; i < r->n_sets; i++)
    sb_termset_destroy(&r->sets[i].terms);
  sb_termset_destroy(&r->any);
  for (size_t i = 0; i < r->n_regex; i++)
    regfree(&r->regex[i].re), free(r->regex[i].pattern);
  free(r->regex);
#ifdef SB_HAVE_HYPERSCAN
  hs_free_database(r->hs);
#endif
  free(r);
  *rp = NULL;
}

/* ------------------------------------------------------------ accessors */

const char *const *sb_rules_languages(const sb_rules_t *r) { return r->n_languages ? r->languages : NULL; }
size_t sb_rules_intent_count(const sb_rules_t *r) { return r->n_intents; }
const sb_rule_intent_t *sb_rules_intent(const sb_rules_t *r, size_t i) {
  return i < r->n_intents ? &r->intents[i] : NULL;
}

int sb_rules_intent_find(const sb_rules_t *r, const char *name) {
  for (size_t i = 0; i < r->n_intents; i++)
    if (!strcmp(r->intents[i].name, name))
      return (int)i;
  return SB_ENOTFOUND;
}

size_t sb_rules_competitor_count(const sb_rules_t *r) { return r->n_competitors; }
const char *sb_rules_competitor(const sb_rules_t *r, size_t i) {
  return i < r->n_competitors ? r->competitors[i] : NULL;
}

int sb_rules_is_vip(const sb_rules_t *r, const char *customer) {
  if (!customer || !r->n_vip)
    return 0;
  return bsearch(&customer, r->vip, r->n_vip, sizeof(char *), cmp_str) != NULL;
}

const sb_priority_weights_t *sb_rules_priority(const sb_rules_t *r) { return &r->priority; }

int64_t sb_rules_repeat_window_s(const sb_rules_t *r) { return r->repeat_window_s; }

int sb_rules_repeat_min(const sb_rules_t *r) { return r->repeat_min; }

const sb_rules_spike_t *sb_rules_spike(const sb_rules_t *r) { return &r->spike; }
size_t sb_rules_answer_count(const sb_rules_t *r) { return r->n_answers; }
const sb_rule_answer_t *sb_rules_answer(const sb_rules_t *r, size_t i) {
  return i < r->n_answers ? &r->answers[i] : NULL;
}

size_t sb_rules_term_lang_count(const sb_rules_t *r) { return r->n_sets; }
const char *sb_rules_term_lang(const sb_rules_t *r, size_t i) { return i < r->n_sets ? r->sets[i].lang : NULL; }

const sb_termset_t *sb_rules_terms(const sb_rules_t *r, const char *lang) {
  if (!strcmp(lang, "*"))
    return sb_termset_count(r->any) ? r->any : NULL;
  for (size_t i = 0; i < r->n_sets; i++)
    if (!strcmp(r->sets[i].lang, lang))
      return r->sets[i].terms;
  return NULL;
}

size_t sb_rules_regex_count(const sb_rules_t *r) { return r->n_regex; }
const sb_rule_regex_t *sb_rules_regex(const sb_rules_t *r, size_t i) {
  return i < r->n_regex ? &r->regex[i] : NULL;
}
