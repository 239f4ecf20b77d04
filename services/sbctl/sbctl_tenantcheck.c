/*
 * sbctl_tenantcheck: a tenant file through every service's own parser, each
 * refusal placed on a line of the file (see sbctl_tenantcheck.h).
 *
 * The order of work: cJSON reads the text (or we report where it stopped);
 * the position index walks it once; sb_tenants_parse on the whole file
 * gives the file-level refusals ("missing \"tenants\" array"); then each
 * tenant alone, as a one-tenant file, through sb_tenants_parse and the four
 * section parsers; then the tenants that passed, together, for what spans
 * tenants. A parser's message is kept as written but for its "tenant X: "
 * prefix, which the line format states once.
 */
#include "sbctl_tenantcheck.h"

#include "sb_error.h"
#include "sb_hooks_config.h"
#include "sb_route_config.h"
#include "sb_rules.h"
#include "sb_sla_policy.h"
#include "sbctl_jsonpos.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN (SBCTL_JSONPOS_PATH_MAX + 64)
#define TOKEN_MAX 128
#define MSG_WORDS 8 /* words of a message searched for a member name */
#define ERR_MAX 400
#define ENV_PREFIX "env:"
#define ENV_PLACEHOLDER "sbctl-placeholder"

struct sbctl_tenantcheck {
  sbctl_tenant_problem_t *problems;
  size_t np, capp;
  int truncated;
  sbctl_tenant_summary_t *tenants;
  size_t nt;
  sbctl_platform_count_t platforms[SBCTL_TENANTCHECK_PLATFORMS_MAX];
  size_t nplat;
  /* while checking */
  const char *text;
  size_t len;
  sbctl_jsonpos_t *ix;
};

/* One tenant entry while checking. */
typedef struct {
  size_t index;
  char label[SB_TENANT_ID_MAX + 16];
  char base[32]; /* "tenants[i]" */
  const cJSON *obj;
  char *json; /* the entry alone, as text */
  int own_ok; /* passed sb_tenants_parse on its own */
} entry_t;

/* --- problems and places ------------------------------------------------- */

static void add_problem(sbctl_tenantcheck_t *c, sbctl_jsonpos_loc_t loc, const char *tenant,
                        const char *msg) {
  for (size_t i = 0; i < c->np; i++)
    if (!strcmp(c->problems[i].tenant, tenant) && !strcmp(c->problems[i].message, msg))
      return; /* the same refusal found by two routes */
  if (c->np == SBCTL_TENANTCHECK_PROBLEMS_MAX) {
    c->truncated = 1;
    return;
  }
  if (c->np == c->capp) {
    size_t cap = c->capp ? 2 * c->capp : 16;
    sbctl_tenant_problem_t *p = realloc(c->problems, cap * sizeof *p);
    if (!p)
      return;
    c->problems = p;
    c->capp = cap;
  }
  sbctl_tenant_problem_t *p = &c->problems[c->np++];
  p->line = loc.line;
  p->col = loc.col;
  snprintf(p->tenant, sizeof p->tenant, "%s", tenant);
  snprintf(p->message, sizeof p->message, "%s", msg);
}

/* msg without a leading "tenant <id>: ". */
static const char *strip_tenant(const char *msg) {
  if (strncmp(msg, "tenant ", 7))
    return msg;
  const char *s = msg + 7;
  size_t n = strcspn(s, " :");
  return s[n] == ':' && s[n + 1] == ' ' ? s + n + 2 : msg;
}

/* The first word of s into tok (quotes and a final ':' or ',' removed);
 * *colon: it ended with ':'. Returns what follows it. */
static const char *token(const char *s, char tok[TOKEN_MAX], int *colon) {
  size_t n = strcspn(s, " ");
  const char *next = s[n] ? s + n + 1 : s + n;
  *colon = n > 0 && s[n - 1] == ':';
  while (n > 0 && (s[n - 1] == ':' || s[n - 1] == ','))
    n--;
  if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
    s++, n -= 2;
  if (n >= TOKEN_MAX)
    n = 0;
  memcpy(tok, s, n);
  tok[n] = '\0';
  return next;
}

/* The NAME of `unknown <what> "NAME"` in msg, or "". */
static void unknown_name(const char *msg, char out[TOKEN_MAX]) {
  out[0] = '\0';
  const char *u = strstr(msg, "unknown ");
  const char *q = u ? strchr(u, '"') : NULL;
  if (!q || strcspn(u, " ") + 1 + strcspn(u + 8, " ") + 1 != (size_t)(q - u))
    return; /* the quote must follow "unknown <one word> " */
  size_t n = strcspn(q + 1, "\"");
  if (q[1 + n] == '"' && n < TOKEN_MAX) {
    memcpy(out, q + 1, n);
    out[n] = '\0';
  }
}

/* The place of path if a deeper value than base is known there. */
static int try_path(const sbctl_tenantcheck_t *c, const char *path, const char *base,
                    sbctl_jsonpos_loc_t *loc) {
  size_t m = 0;
  return sbctl_jsonpos_find_prefix(c->ix, path, &m, loc) == 0 && m > strlen(base) ? 0 : -1;
}

/* The first word of msg (of its first MSG_WORDS) that names a member of
 * base, or its plural ("an account needs ..." -> "accounts"). */
static int member_in_words(const sbctl_tenantcheck_t *c, const char *base, const char *msg,
                           sbctl_jsonpos_loc_t *loc) {
  char tok[TOKEN_MAX], path[PATH_MAX_LEN];
  int colon;
  for (int k = 0; k < MSG_WORDS && *msg; k++) {
    msg = token(msg, tok, &colon);
    if (!*tok || strchr(tok, '.') || strchr(tok, '['))
      continue;
    snprintf(path, sizeof path, "%s%s%s", base, *base ? "." : "", tok);
    if (sbctl_jsonpos_find(c->ix, path, loc) == 0)
      return 0;
    snprintf(path, sizeof path, "%s%s%ss", base, *base ? "." : "", tok);
    if (sbctl_jsonpos_find(c->ix, path, loc) == 0)
      return 0;
  }
  return SB_ENOTFOUND;
}

/* Where the refusal msg (without its tenant prefix) points under base
 * ("tenants[i]"): the path its first word names, extended by a nested
 * parser's path ("sla.calendars.x: hours.mon[0]: ...") and by the NAME of
 * `unknown <what> "NAME"`; else a member named like that word; else the
 * tenant; else the root. */
static sbctl_jsonpos_loc_t locate(const sbctl_tenantcheck_t *c, const char *base, const char *msg) {
  char t1[TOKEN_MAX], t2[TOKEN_MAX] = "", unk[TOKEN_MAX], path[PATH_MAX_LEN];
  int colon1, colon2 = 0;
  const char *rest = token(msg, t1, &colon1);
  if (colon1)
    token(rest, t2, &colon2);
  if (!colon2)
    t2[0] = '\0';
  unknown_name(msg, unk);
  sbctl_jsonpos_loc_t loc = {0, 1, 1};
  if (*t1) {
    const char *alias = t1;
    const char *tails[][2] = {{t2, unk}, {t2, ""}, {unk, ""}, {"", ""}};
    for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
      if ((k < 3 && !*tails[k][0]) || (k == 0 && !*unk))
        continue;
      snprintf(path, sizeof path, "%s%s%s%s%s%s%s", base, *base ? "." : "", alias, *tails[k][0] ? "." : "",
               tails[k][0], *tails[k][1] ? "." : "", tails[k][1]);
      if (try_path(c, path, base, &loc) == 0)
        return loc;
    }
    if (sbctl_jsonpos_find_key(c->ix, base, alias, &loc) == 0)
      return loc;
  }
  if (member_in_words(c, base, msg, &loc) == 0)
    return loc;
  if (sbctl_jsonpos_find(c->ix, base, &loc) == 0)
    return loc;
  sbctl_jsonpos_find(c->ix, "", &loc);
  return loc;
}

static void tenant_problem(sbctl_tenantcheck_t *c, const entry_t *e, const char *msg) {
  add_problem(c, locate(c, e->base, msg), e->label, msg);
}

/* --- sections ----------------------------------------------------------- */

/* classify's messages are relative to its object: shown under "classify". */
static void check_classify(sbctl_tenantcheck_t *c, const entry_t *e, const char *json,
                           sbctl_tenant_summary_t *sum) {
  char err[ERR_MAX] = "", msg[ERR_MAX + 16], tok[TOKEN_MAX];
  sb_rules_t *r = sb_rules_parse(json, strlen(json), err, sizeof err);
  if (r) {
    sum->intents = sb_rules_intent_count(r);
    sb_rules_destroy(&r);
    return;
  }
  int colon;
  token(err, tok, &colon);
  if (!strncmp(err, "classify", 8))
    snprintf(msg, sizeof msg, "%s", err);
  else
    snprintf(msg, sizeof msg, "classify%s%s", colon ? "." : ": ", err);
  tenant_problem(c, e, msg);
}

static int check_route(sbctl_tenantcheck_t *c, const entry_t *e, const sb_tenant_t *t) {
  char err[ERR_MAX] = "";
  sb_route_config_t *rc = sb_route_config_new(t, t->section_json[SB_TENANT_ROUTE], err, sizeof err);
  if (!rc) {
    tenant_problem(c, e, strip_tenant(err));
    return -1;
  }
  sb_route_config_destroy(&rc);
  return 0;
}

static int check_sla(sbctl_tenantcheck_t *c, const entry_t *e, const sb_tenant_t *t) {
  char err[ERR_MAX] = "";
  sb_sla_policies_t *p = sb_sla_policies_new(t, err, sizeof err);
  if (!p) {
    tenant_problem(c, e, strip_tenant(err));
    return -1;
  }
  sb_sla_policies_destroy(&p);
  return 0;
}

static int check_notify(sbctl_tenantcheck_t *c, const entry_t *e, const char *id, const char *json,
                        size_t *webhooks) {
  char err[ERR_MAX] = "";
  sb_hooks_config_t *h = NULL;
  if (sb_hooks_config_parse(id, json, &h, err, sizeof err)) {
    tenant_problem(c, e, strip_tenant(err));
    return -1;
  }
  *webhooks = h->nhooks;
  sb_hooks_config_destroy(&h);
  return 0;
}

static char *member_json(const cJSON *obj, const char *name) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsObject(m) ? cJSON_PrintUnformatted(m) : NULL;
}

/* A one-tenant file around the entry text; sb_tenants_parse on it. */
static sb_tenants_t *parse_alone(const char *entry_json, char *err, size_t errlen) {
  size_t n = strlen(entry_json) + 32;
  char *doc = malloc(n);
  if (!doc) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(doc, n, "{\"tenants\":[%s]}", entry_json);
  sb_tenants_t *ts = sb_tenants_parse(doc, strlen(doc), err, errlen);
  free(doc);
  return ts;
}

/* The members the sections' parsers read, when the entry as a whole was
 * refused: so that a bad account does not hide a bad queue. */
static sb_tenants_t *parse_reduced(const entry_t *e) {
  static const char *const keep[] = {"id", "languages", "sla", "classify", "route", "notify"};
  cJSON *o = cJSON_CreateObject();
  for (size_t k = 0; o && k < sizeof keep / sizeof keep[0]; k++) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e->obj, keep[k]);
    if (m)
      cJSON_AddItemReferenceToObject(o, keep[k], (cJSON *)m);
  }
  char *json = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  char err[ERR_MAX];
  sb_tenants_t *ts = json ? parse_alone(json, err, sizeof err) : NULL;
  free(json);
  return ts;
}

static void count_platform(sbctl_tenantcheck_t *c, const char *platform) {
  size_t i = 0;
  while (i < c->nplat && strcmp(c->platforms[i].platform, platform))
    i++;
  if (i == c->nplat) {
    if (c->nplat == SBCTL_TENANTCHECK_PLATFORMS_MAX)
      return;
    snprintf(c->platforms[c->nplat++].platform, sizeof c->platforms[0].platform, "%s", platform);
  }
  c->platforms[i].accounts++;
}

/* What a valid tenant configures, from its text (the parsers keep no
 * counts of accounts, queues or policies). */
static void summarize(sbctl_tenantcheck_t *c, const entry_t *e, sbctl_tenant_summary_t *s) {
  const cJSON *a;
  cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(e->obj, "accounts")) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "platform");
    if (cJSON_IsString(p))
      count_platform(c, p->valuestring), s->accounts++;
  }
  const cJSON *route = cJSON_GetObjectItemCaseSensitive(e->obj, "route");
  const cJSON *queues = cJSON_GetObjectItemCaseSensitive(route, "queues");
  s->queues = queues ? (size_t)cJSON_GetArraySize(queues) : 1;
  const cJSON *sla = cJSON_GetObjectItemCaseSensitive(e->obj, "sla");
  s->policies = 1 + (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sla, "policies"));
  c->tenants[c->nt++] = *s;
}

static void check_tenant(sbctl_tenantcheck_t *c, entry_t *e) {
  char err[ERR_MAX] = "";
  sbctl_tenant_summary_t sum = {0};
  snprintf(sum.id, sizeof sum.id, "%s", e->label);
  sb_tenants_t *ts = parse_alone(e->json, err, sizeof err);
  e->own_ok = ts != NULL;
  if (!ts) {
    tenant_problem(c, e, strip_tenant(err));
    ts = parse_reduced(e);
  }
  const sb_tenant_t *t = ts ? sb_tenants_at(ts, 0) : NULL;
  int bad = !e->own_ok;
  char *classify = t ? NULL : member_json(e->obj, "classify");
  char *notify = t ? NULL : member_json(e->obj, "notify");
  const char *cl = t ? t->section_json[SB_TENANT_CLASSIFY] : classify;
  const char *nt = t ? t->section_json[SB_TENANT_NOTIFY] : notify;
  if (cl) {
    size_t before = c->np;
    check_classify(c, e, cl, &sum);
    bad |= c->np != before;
  }
  bad |= check_notify(c, e, t ? t->id : e->label, nt, &sum.webhooks) != 0;
  if (t) {
    bad |= check_route(c, e, t) != 0;
    bad |= check_sla(c, e, t) != 0;
  }
  if (!bad)
    summarize(c, e, &sum);
  free(classify);
  free(notify);
  sb_tenants_destroy(&ts);
}

/* --- what spans tenants ------------------------------------------------- */

/* The entry of set[0..n) that the whole-file refusal msg names, or NULL. */
static entry_t *offender(entry_t **set, size_t n, const char *msg) {
  if (strncmp(msg, "tenant ", 7))
    return NULL;
  char id[SB_TENANT_ID_MAX + 1];
  size_t len = strcspn(msg + 7, " :");
  if (len == 0 || len > SB_TENANT_ID_MAX)
    return NULL;
  memcpy(id, msg + 7, len);
  id[len] = '\0';
  /* "tenant X is listed twice": the second X; else the tenant being read */
  int want = strstr(msg + 7 + len, "is listed twice") == msg + 8 + len ? 2 : 1;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(set[i]->label, id) && --want == 0)
      return set[i];
  return NULL;
}

static void check_together(sbctl_tenantcheck_t *c, entry_t *all, size_t n) {
  entry_t **set = calloc(n ? n : 1, sizeof *set);
  size_t m = 0, bytes = 32;
  for (size_t i = 0; set && i < n; i++)
    if (all[i].own_ok)
      set[m++] = &all[i], bytes += strlen(all[i].json) + 1;
  char *doc = set ? malloc(bytes) : NULL;
  while (doc && m > 1) {
    size_t at = (size_t)snprintf(doc, bytes, "{\"tenants\":[");
    for (size_t i = 0; i < m; i++)
      at += (size_t)snprintf(doc + at, bytes - at, "%s%s", i ? "," : "", set[i]->json);
    snprintf(doc + at, bytes - at, "]}");
    char err[ERR_MAX] = "";
    sb_tenants_t *ts = sb_tenants_parse(doc, strlen(doc), err, sizeof err);
    if (ts) {
      sb_tenants_destroy(&ts);
      break;
    }
    entry_t *bad = offender(set, m, err);
    if (!bad) {
      add_problem(c, locate(c, "tenants", err), "", err);
      break;
    }
    if (strstr(err, " is listed twice") == err + 7 + strlen(bad->label))
      snprintf(err, sizeof err, "id \"%s\" is listed twice (tenant ids are unique)", bad->label);
    tenant_problem(c, bad, strip_tenant(err));
    size_t k = 0;
    while (set[k] != bad)
      k++;
    memmove(&set[k], &set[k + 1], (m - k - 1) * sizeof *set);
    m--;
  }
  free(doc);
  free(set);
}

/* --- the file ------------------------------------------------------------ */

static void invalid_json(sbctl_tenantcheck_t *c, const char *stop, const char *what) {
  size_t off = stop && stop >= c->text && stop <= c->text + c->len ? (size_t)(stop - c->text) : 0;
  char msg[128], near[24];
  size_t n = 0;
  while (off + n < c->len && n < 16 && (unsigned char)c->text[off + n] >= ' ' && c->text[off + n] != '\'')
    near[n] = c->text[off + n], n++;
  near[n] = '\0';
  size_t blank = off;
  while (blank < c->len && (unsigned char)c->text[blank] <= ' ')
    blank++;
  if (blank == c->len) { /* cJSON points at the last byte when the text ends early */
    snprintf(msg, sizeof msg, "%s: the file ends before the value does", what);
    off = c->len;
  } else if (n) {
    snprintf(msg, sizeof msg, "%s near '%s'", what, near);
  } else {
    snprintf(msg, sizeof msg, "%s at a control character", what);
  }
  add_problem(c, sbctl_jsonpos_locate(c->text, c->len, off), "", msg);
}

static void check_file(sbctl_tenantcheck_t *c) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(c->text, c->len, &end, 0);
  if (!root) {
    invalid_json(c, end, "invalid JSON");
    return;
  }
  const char *p = end;
  while (p && p < c->text + c->len && (unsigned char)*p <= ' ' && *p)
    p++;
  if (p && p < c->text + c->len && *p)
    invalid_json(c, p, "text after the JSON value");
  char err[ERR_MAX] = "";
  sb_tenants_t *whole = sb_tenants_parse(c->text, c->len, err, sizeof err);
  if (!whole && strncmp(err, "tenant ", 7))
    add_problem(c, locate(c, "", err), "", err);
  sb_tenants_destroy(&whole);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "tenants");
  size_t n = cJSON_IsArray(list) ? (size_t)cJSON_GetArraySize(list) : 0;
  entry_t *all = calloc(n ? n : 1, sizeof *all);
  c->tenants = calloc(n ? n : 1, sizeof *c->tenants);
  const cJSON *o = list ? list->child : NULL;
  for (size_t i = 0; all && c->tenants && i < n; i++, o = o->next) {
    entry_t *e = &all[i];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    e->index = i;
    e->obj = o;
    snprintf(e->base, sizeof e->base, "tenants[%zu]", i);
    if (cJSON_IsString(id) && sb_tenant_id_valid(id->valuestring, strlen(id->valuestring)))
      snprintf(e->label, sizeof e->label, "%s", id->valuestring);
    else
      snprintf(e->label, sizeof e->label, "#%zu", i);
    e->json = cJSON_PrintUnformatted(o);
    if (e->json)
      check_tenant(c, e);
  }
  if (all)
    check_together(c, all, n);
  for (size_t i = 0; all && i < n; i++)
    free(all[i].json);
  free(all);
  cJSON_Delete(root);
}

/* Problems in file order, like a compiler's; ties keep the order found
 * (an insertion sort: stable, and there are at most a thousand). */
static void sort_by_place(sbctl_tenant_problem_t *p, size_t n) {
  for (size_t i = 1; i < n; i++) {
    sbctl_tenant_problem_t x = p[i];
    size_t j = i;
    while (j > 0 && (p[j - 1].line > x.line || (p[j - 1].line == x.line && p[j - 1].col > x.col))) {
      p[j] = p[j - 1];
      j--;
    }
    p[j] = x;
  }
}

sbctl_tenantcheck_t *sbctl_tenantcheck_run(const char *text, size_t len) {
  sbctl_tenantcheck_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->text = text;
  c->len = len;
  c->ix = sbctl_jsonpos_new(text, len);
  if (!c->ix) {
    free(c);
    return NULL;
  }
  check_file(c);
  sbctl_jsonpos_destroy(&c->ix);
  sort_by_place(c->problems, c->np);
  c->text = NULL;
  return c;
}

int sbctl_tenantcheck_load(const char *path, int env_placeholders, sbctl_tenantcheck_t **out, char *err,
                           size_t errlen) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open %s", path);
    return SB_EIO;
  }
  char *buf = malloc(SBCTL_TENANTCHECK_FILE_MAX + 1);
  size_t len = buf ? fread(buf, 1, SBCTL_TENANTCHECK_FILE_MAX + 1, f) : 0;
  int failed = buf && ferror(f);
  fclose(f);
  if (!buf || failed) {
    snprintf(err, errlen, buf ? "cannot read %s" : "out of memory", path);
    free(buf);
    return buf ? SB_EIO : SB_ENOMEM;
  }
  if (len > SBCTL_TENANTCHECK_FILE_MAX) {
    *out = calloc(1, sizeof **out);
    char msg[128];
    snprintf(msg, sizeof msg, "larger than %u bytes, which the services refuse", SBCTL_TENANTCHECK_FILE_MAX);
    if (*out)
      add_problem(*out, (sbctl_jsonpos_loc_t){0, 1, 1}, "", msg);
  } else {
    if (env_placeholders)
      sbctl_tenantcheck_env_placeholders(buf, len);
    *out = sbctl_tenantcheck_run(buf, len);
  }
  free(buf);
  if (!*out)
    snprintf(err, errlen, "out of memory");
  return *out ? 0 : SB_ENOMEM;
}

void sbctl_tenantcheck_destroy(sbctl_tenantcheck_t **c) {
  if (!*c)
    return;
  free((*c)->problems);
  free((*c)->tenants);
  free(*c);
  *c = NULL;
}

static size_t env_walk(const cJSON *j) {
  size_t n = 0;
  if (cJSON_IsString(j) && !strncmp(j->valuestring, ENV_PREFIX, strlen(ENV_PREFIX))) {
    const char *name = j->valuestring + strlen(ENV_PREFIX);
    if (*name && !strchr(name, '=') && !getenv(name) && setenv(name, ENV_PLACEHOLDER, 0) == 0)
      n++;
  }
  for (const cJSON *k = j ? j->child : NULL; k; k = k->next)
    n += env_walk(k);
  return n;
}

size_t sbctl_tenantcheck_env_placeholders(const char *text, size_t len) {
  cJSON *root = cJSON_ParseWithLength(text, len);
  size_t n = env_walk(root);
  cJSON_Delete(root);
  return n;
}

int sbctl_tenantcheck_ok(const sbctl_tenantcheck_t *c) { return c->np == 0; }
size_t sbctl_tenantcheck_problem_count(const sbctl_tenantcheck_t *c) { return c->np; }
const sbctl_tenant_problem_t *sbctl_tenantcheck_problem(const sbctl_tenantcheck_t *c, size_t i) {
  return i < c->np ? &c->problems[i] : NULL;
}
size_t sbctl_tenantcheck_tenant_count(const sbctl_tenantcheck_t *c) { return c->nt; }
const sbctl_tenant_summary_t *sbctl_tenantcheck_tenant(const sbctl_tenantcheck_t *c, size_t i) {
  return i < c->nt ? &c->tenants[i] : NULL;
}
size_t sbctl_tenantcheck_platform_count(const sbctl_tenantcheck_t *c) { return c->nplat; }
const sbctl_platform_count_t *sbctl_tenantcheck_platform(const sbctl_tenantcheck_t *c, size_t i) {
  return i < c->nplat ? &c->platforms[i] : NULL;
}

/* --- output --------------------------------------------------------------- */

typedef struct {
  size_t accounts, queues, policies, webhooks, intents;
} totals_t;

static totals_t totals(const sbctl_tenantcheck_t *c) {
  totals_t t = {0};
  for (size_t i = 0; i < c->nt; i++) {
    t.accounts += c->tenants[i].accounts;
    t.queues += c->tenants[i].queues;
    t.policies += c->tenants[i].policies;
    t.webhooks += c->tenants[i].webhooks;
    t.intents += c->tenants[i].intents;
  }
  return t;
}

void sbctl_tenantcheck_print(const sbctl_tenantcheck_t *c, const char *file, FILE *f) {
  for (size_t i = 0; i < c->np; i++) {
    const sbctl_tenant_problem_t *p = &c->problems[i];
    fprintf(f, "%s:%d:%d: %s%s%s%s\n", file, p->line, p->col, *p->tenant ? "tenant " : "", p->tenant,
            *p->tenant ? ": " : "", p->message);
  }
  if (c->truncated)
    fprintf(f, "%s: more than %d problems; the rest are not shown\n", file, SBCTL_TENANTCHECK_PROBLEMS_MAX);
  if (c->np)
    return;
  totals_t t = totals(c);
  fprintf(f, "%s: valid: %zu tenant%s, %zu account%s", file, c->nt, c->nt == 1 ? "" : "s", t.accounts,
          t.accounts == 1 ? "" : "s");
  for (size_t i = 0; i < c->nplat; i++)
    fprintf(f, "%s%s %zu", i ? ", " : " (", c->platforms[i].platform, c->platforms[i].accounts);
  fprintf(f, "%s, %zu queues, %zu SLA policies, %zu webhooks, %zu classify intents\n", c->nplat ? ")" : "",
          t.queues, t.policies, t.webhooks, t.intents);
  for (size_t i = 0; i < c->nt; i++) {
    const sbctl_tenant_summary_t *s = &c->tenants[i];
    fprintf(f, "  tenant %s: %zu accounts, %zu queues, %zu SLA policies, %zu webhooks, %zu intents\n", s->id,
            s->accounts, s->queues, s->policies, s->webhooks, s->intents);
  }
}

static void add_counts(cJSON *o, const sbctl_tenant_summary_t *s) {
  cJSON_AddNumberToObject(o, "queues", (double)s->queues);
  cJSON_AddNumberToObject(o, "policies", (double)s->policies);
  cJSON_AddNumberToObject(o, "webhooks", (double)s->webhooks);
  cJSON_AddNumberToObject(o, "intents", (double)s->intents);
}

void sbctl_tenantcheck_print_json(const sbctl_tenantcheck_t *c, const char *file, FILE *f) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "file", file);
  cJSON_AddBoolToObject(o, "valid", c->np == 0);
  cJSON *ps = cJSON_AddArrayToObject(o, "problems");
  for (size_t i = 0; i < c->np; i++) {
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "line", c->problems[i].line);
    cJSON_AddNumberToObject(p, "col", c->problems[i].col);
    cJSON_AddStringToObject(p, "tenant", c->problems[i].tenant);
    cJSON_AddStringToObject(p, "message", c->problems[i].message);
    cJSON_AddItemToArray(ps, p);
  }
  cJSON_AddBoolToObject(o, "truncated", c->truncated);
  if (c->np == 0) {
    totals_t t = totals(c);
    cJSON *s = cJSON_AddObjectToObject(o, "summary");
    cJSON_AddNumberToObject(s, "tenants", (double)c->nt);
    cJSON *acc = cJSON_AddObjectToObject(s, "accounts");
    for (size_t i = 0; i < c->nplat; i++)
      cJSON_AddNumberToObject(acc, c->platforms[i].platform, (double)c->platforms[i].accounts);
    add_counts(s, &(sbctl_tenant_summary_t){.queues = t.queues, .policies = t.policies,
                                            .webhooks = t.webhooks, .intents = t.intents});
    cJSON *ts = cJSON_AddArrayToObject(o, "tenants");
    for (size_t i = 0; i < c->nt; i++) {
      cJSON *x = cJSON_CreateObject();
      cJSON_AddStringToObject(x, "id", c->tenants[i].id);
      cJSON_AddNumberToObject(x, "accounts", (double)c->tenants[i].accounts);
      add_counts(x, &c->tenants[i]);
      cJSON_AddItemToArray(ts, x);
    }
  }
  char *s = cJSON_PrintUnformatted(o);
  if (s)
    fprintf(f, "%s\n", s);
  free(s);
  cJSON_Delete(o);
}
