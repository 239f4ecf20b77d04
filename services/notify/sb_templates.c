/*
 * sb_templates: see sb_templates.h. One scanner (scan) walks a template's
 * text for both checking and rendering, so what loads is exactly what
 * renders.
 */
#include "sb_templates.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAR_NAME_MAX 32

static const char *const var_names[] = {SB_TEMPLATE_VARS};
#define NVARS (sizeof var_names / sizeof var_names[0])

typedef struct {
  char lang[SB_TEMPLATE_LANG_MAX + 1];
  char *text;
} variant_t;

typedef struct {
  char name[SB_TEMPLATE_NAME_MAX + 1];
  variant_t langs[SB_TEMPLATE_LANGS_MAX];
  size_t nlangs;
} template_t;

struct sb_templates {
  char default_lang[SB_TEMPLATE_LANG_MAX + 1];
  template_t items[SB_TEMPLATES_MAX];
  size_t n;
};

/* ---- the scanner ------------------------------------------------------------ */

typedef struct {
  char *out;
  size_t cap, len;
  int overflow;
} sink_t;

static void put(sink_t *s, const char *p, size_t n) {
  if (!s || !s->out)
    return;
  if (s->len + n >= s->cap) {
    n = s->len < s->cap ? s->cap - 1 - s->len : 0;
    s->overflow = 1;
  }
  memcpy(s->out + s->len, p, n);
  s->len += n;
  s->out[s->len] = '\0';
}

static int var_index(const char *name, size_t n) {
  for (size_t i = 0; i < NVARS; i++)
    if (strlen(var_names[i]) == n && strncmp(var_names[i], name, n) == 0)
      return (int)i;
  return -1;
}

/* Walks text; with a sink, writes the rendered text. 0, or SB_EPARSE with
 * a reason in why (may be NULL when rendering a checked template). */
static int scan(const char *text, const char *const *values, sink_t *s, char *why, size_t whylen) {
  for (const char *p = text; *p;) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      put(s, p, 1);
      p += 2;
    } else if (*p == '}') {
      if (why)
        snprintf(why, whylen, "a lone '}' (write '}}' for a brace)");
      return SB_EPARSE;
    } else if (*p == '{') {
      const char *end = strchr(p + 1, '}');
      if (!end) {
        if (why)
          snprintf(why, whylen, "an unclosed '{'");
        return SB_EPARSE;
      }
      size_t n = (size_t)(end - p - 1);
      int i = var_index(p + 1, n);
      if (i < 0) {
        if (why)
          snprintf(why, whylen, "unknown placeholder {%.*s}", (int)(n < VAR_NAME_MAX ? n : VAR_NAME_MAX),
                   p + 1);
        return SB_EPARSE;
      }
      const char *v = values ? values[i] : NULL;
      if (v)
        put(s, v, strlen(v));
      p = end + 1;
    } else {
      size_t n = strcspn(p, "{}");
      put(s, p, n);
      p += n;
    }
  }
  return 0;
}

int sb_template_check(const char *text, char *why, size_t whylen) {
  return scan(text, NULL, NULL, why, whylen);
}

/* ---- loading ---------------------------------------------------------------- */

typedef struct {
  const char *tenant;
  char *err;
  size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx_t *c, const char *fmt, ...) {
  int n = snprintf(c->err, c->errlen, "tenant %s: notify.templates", c->tenant);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < c->errlen)
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return SB_ECONFIG;
}

static int name_valid(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n > max)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

static int read_template(ctx_t *c, const cJSON *o, template_t *t, const char *deflang) {
  if (!name_valid(o->string, SB_TEMPLATE_NAME_MAX))
    return fail(c, ": template name \"%.64s\" must be [A-Za-z0-9_-]{1,64}", o->string);
  snprintf(t->name, sizeof t->name, "%s", o->string);
  if (!cJSON_IsObject(o))
    return fail(c, ".%s must be an object of language -> text", t->name);
  for (const cJSON *m = o->child; m; m = m->next) {
    char why[128];
    if (!name_valid(m->string, SB_TEMPLATE_LANG_MAX))
      return fail(c, ".%s: language \"%.16s\" is not a language tag", t->name, m->string);
    if (!cJSON_IsString(m) || !m->valuestring[0])
      return fail(c, ".%s.%s must be a non-empty string", t->name, m->string);
    if (sb_template_check(m->valuestring, why, sizeof why))
      return fail(c, ".%s.%s: %s", t->name, m->string, why);
    if (t->nlangs == SB_TEMPLATE_LANGS_MAX)
      return fail(c, ".%s has more than %d languages", t->name, SB_TEMPLATE_LANGS_MAX);
    variant_t *v = &t->langs[t->nlangs++];
    snprintf(v->lang, sizeof v->lang, "%s", m->string);
    if (!(v->text = strdup(m->valuestring)))
      return SB_ENOMEM;
  }
  for (size_t i = 0; i < t->nlangs; i++)
    if (strcmp(t->langs[i].lang, deflang) == 0)
      return 0;
  return fail(c, ".%s: no text in the default language \"%s\"", t->name, deflang);
}

static int parse_tree(ctx_t *c, const cJSON *tpl, sb_templates_t *t) {
  if (!cJSON_IsObject(tpl))
    return fail(c, " must be an object");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(tpl, "default_language");
  if (d) {
    if (!cJSON_IsString(d) || !name_valid(d->valuestring, SB_TEMPLATE_LANG_MAX))
      return fail(c, ".default_language must be a language tag");
    snprintf(t->default_lang, sizeof t->default_lang, "%s", d->valuestring);
  }
  for (const cJSON *m = tpl->child; m; m = m->next) {
    if (strcmp(m->string, "default_language") == 0)
      continue;
    if (t->n == SB_TEMPLATES_MAX)
      return fail(c, " has more than %d templates", SB_TEMPLATES_MAX);
    int rc = read_template(c, m, &t->items[t->n++], t->default_lang);
    if (rc)
      return rc;
  }
  return 0;
}

int sb_templates_parse(const char *tenant, const char *notify_json, const char *default_lang,
                       sb_templates_t **out, char *err, size_t errlen) {
  ctx_t c = {tenant, err, errlen};
  *out = NULL;
  sb_templates_t *t = calloc(1, sizeof *t);
  if (!t)
    return SB_ENOMEM;
  snprintf(t->default_lang, sizeof t->default_lang, "%s",
           default_lang && *default_lang ? default_lang : "en");
  cJSON *root = notify_json ? cJSON_Parse(notify_json) : NULL;
  int rc = 0;
  if (notify_json && !root)
    rc = fail(&c, ": notify is not valid JSON");
  const cJSON *tpl = root ? cJSON_GetObjectItemCaseSensitive(root, "templates") : NULL;
  if (rc == 0 && tpl)
    rc = parse_tree(&c, tpl, t);
  cJSON_Delete(root);
  if (rc) {
    sb_templates_destroy(&t);
    return rc;
  }
  *out = t;
  return 0;
}

void sb_templates_destroy(sb_templates_t **tp) {
  sb_templates_t *t = *tp;
  if (!t)
    return;
  *tp = NULL;
  for (size_t i = 0; i < t->n; i++)
    for (size_t j = 0; j < t->items[i].nlangs; j++)
      free(t->items[i].langs[j].text);
  free(t);
}

/* ---- rendering ---------------------------------------------------------------- */

static const template_t *find(const sb_templates_t *t, const char *name) {
  for (size_t i = 0; t && name && i < t->n; i++)
    if (strcmp(t->items[i].name, name) == 0)
      return &t->items[i];
  return NULL;
}

int sb_templates_has(const sb_templates_t *t, const char *name) { return find(t, name) != NULL; }

/* The variant for lang: exact, then by primary subtag ("pt-BR" -> "pt"). */
static const variant_t *variant(const template_t *tp, const char *lang) {
  size_t primary = lang ? strcspn(lang, "-_") : 0;
  for (size_t i = 0; lang && i < tp->nlangs; i++)
    if (strcmp(tp->langs[i].lang, lang) == 0)
      return &tp->langs[i];
  for (size_t i = 0; primary && i < tp->nlangs; i++)
    if (strlen(tp->langs[i].lang) == primary && strncmp(tp->langs[i].lang, lang, primary) == 0)
      return &tp->langs[i];
  return NULL;
}

int sb_templates_render(const sb_templates_t *t, const char *name, const char *lang,
                        const sb_template_vars_t *v, char *out, size_t cap,
                        const char **used_lang) {
  const template_t *tp = find(t, name);
  if (!tp || cap == 0)
    return SB_ENOTFOUND;
  const variant_t *va = variant(tp, lang);
  if (!va)
    va = variant(tp, t->default_lang); /* present: checked at load */
  const char *values[NVARS] = {v ? v->customer_name : NULL, v ? v->expected_response : NULL,
                               v ? v->secure_link : NULL, v ? v->conversation : NULL};
  sink_t s = {out, cap, 0, 0};
  out[0] = '\0';
  scan(va->text, values, &s, NULL, 0);
  if (used_lang)
    *used_lang = va->lang;
  return s.overflow ? SB_ETOOBIG : 0;
}
