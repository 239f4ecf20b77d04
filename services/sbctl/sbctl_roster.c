/*
 * sbctl_roster: see sbctl_roster.h. cJSON reads the file; every check that
 * fails names the JSON path of the value at fault, which sbctl_jsonpos
 * turns into a line and a column (cJSON keeps no positions).
 */
#include "sbctl_roster.h"
#include "sb_calendar.h"
#include "sb_envelope.h"
#include "sbctl_jsonpos.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z90 1.2815515655446004  /* the standard normal's 90th percentile */
#define LOGNORMAL_TAIL_MAX 2.27 /* p90 / mean beyond which no lognormal fits   \
                                 */
#define MINUTES_PER_DAY 1440
#define DAYS 7
#define PATH_LEN 256

static const char *const day_names[DAYS] = {"mon", "tue", "wed", "thu",
                                            "fri", "sat", "sun"};

typedef struct {
  const char *text;
  size_t len;
  sbctl_jsonpos_t *pos;
  char *err;
  size_t errlen;
} parse_t;

/* out (PATH_LEN bytes) = path + the formatted suffix, cut to fit. */
static void subpath(char *out, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void subpath(char *out, const char *path, const char *fmt, ...) {
  size_t n = strlen(path) < PATH_LEN - 1 ? strlen(path) : PATH_LEN - 1;
  memcpy(out, path, n);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out + n, PATH_LEN - n, fmt, ap);
  va_end(ap);
}

/* Writes "line L:C: path: reason" (the place of path, or of its longest
 * known prefix) and returns -1. */
static int fail(parse_t *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(parse_t *p, const char *path, const char *fmt, ...) {
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  sbctl_jsonpos_loc_t loc = {0, 1, 1};
  size_t matched = 0;
  if (p->pos)
    sbctl_jsonpos_find_prefix(p->pos, path, &matched, &loc);
  snprintf(p->err, p->errlen, "line %d:%d: %s%s%s", loc.line, loc.col, path,
           *path ? ": " : "", why);
  return -1;
}

static int positive_number(parse_t *p, const cJSON *v, const char *path,
                           double max, double *out) {
  if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > max)
    return fail(p, path, "must be a number above 0 and at most %g", max);
  *out = v->valuedouble;
  return 0;
}

static int whole_number(parse_t *p, const cJSON *v, const char *path, int min,
                        int max, int *out) {
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
      v->valuedouble < min || v->valuedouble > max)
    return fail(p, path, "must be a whole number from %d to %d", min, max);
  *out = (int)v->valuedouble;
  return 0;
}

/* --------------------------------------------------------- time models */

/* mean and p90 of a lognormal give sigma as the smaller root of
 * sigma^2/2 - Z90 sigma + ln(p90/mean) = 0 (mean = e^(mu + sigma^2/2),
 * p90 = e^(mu + Z90 sigma)). */
static int lognormal_fit(sbctl_dist_t *d) {
  double r = log(d->p90_s / d->mean_s);
  double disc = Z90 * Z90 - 2 * r;
  if (r <= 0 || disc < 0)
    return -1;
  d->sigma = Z90 - sqrt(disc);
  d->mu = log(d->mean_s) - d->sigma * d->sigma / 2;
  return 0;
}

static int parse_dist(parse_t *p, const cJSON *o, const char *path,
                      sbctl_dist_t *d) {
  char sub[PATH_LEN];
  if (!cJSON_IsObject(o))
    return fail(
        p, path,
        "must be an object {\"mean_s\": ..., \"p90_s\": ..., \"dist\": ...}");
  memset(d, 0, sizeof *d);
  subpath(sub, path, ".mean_s");
  if (positive_number(p, cJSON_GetObjectItemCaseSensitive(o, "mean_s"), sub,
                      SBCTL_ROSTER_SECONDS_MAX, &d->mean_s))
    return -1;
  const cJSON *p90 = cJSON_GetObjectItemCaseSensitive(o, "p90_s");
  subpath(sub, path, ".p90_s");
  if (p90 && positive_number(p, p90, sub, SBCTL_ROSTER_SECONDS_MAX, &d->p90_s))
    return -1;
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "dist");
  d->kind = p90 ? SBCTL_DIST_LOGNORMAL : SBCTL_DIST_EXPONENTIAL;
  if (kind) {
    const char *k = cJSON_IsString(kind) ? kind->valuestring : "";
    subpath(sub, path, ".dist");
    if (strcmp(k, "fixed") == 0)
      d->kind = SBCTL_DIST_FIXED;
    else if (strcmp(k, "exponential") == 0)
      d->kind = SBCTL_DIST_EXPONENTIAL;
    else if (strcmp(k, "lognormal") == 0)
      d->kind = SBCTL_DIST_LOGNORMAL;
    else
      return fail(p, sub,
                  "must be \"fixed\", \"exponential\" or \"lognormal\"");
  }
  if (d->kind != SBCTL_DIST_LOGNORMAL)
    return 0;
  subpath(sub, path, ".p90_s");
  if (!p90)
    return fail(p, path, "a lognormal needs p90_s");
  if (lognormal_fit(d))
    return fail(
        p, sub,
        "must be above mean_s and at most %.2f x mean_s for a lognormal",
        LOGNORMAL_TAIL_MAX);
  return 0;
}

/* "handle" / "first_reply": {"<channel>|*": model, ...} */
static int parse_models(parse_t *p, const cJSON *o, const char *path,
                        sbctl_roster_model_t *out, size_t *n,
                        int need_default) {
  char sub[PATH_LEN];
  if (!cJSON_IsObject(o))
    return fail(
        p, path,
        "must be an object of time models by channel (\"*\" for the rest)");
  int has_default = 0;
  for (const cJSON *m = o->child; m; m = m->next) {
    subpath(sub, path, ".%s", m->string);
    if (strcmp(m->string, "*") && sb_channel_parse(m->string) ==
                                      SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN)
      return fail(
          p, sub,
          "not a channel name (x, facebook, webchat, email, ... or \"*\")");
    if (*n >= SBCTL_ROSTER_MODELS_MAX)
      return fail(p, sub, "more than %d channel models",
                  SBCTL_ROSTER_MODELS_MAX);
    for (size_t i = 0; i < *n; i++)
      if (strcmp(out[i].channel, m->string) == 0)
        return fail(p, sub, "given twice");
    snprintf(out[*n].channel, sizeof out[*n].channel, "%s", m->string);
    if (parse_dist(p, m, sub, &out[*n].dist))
      return -1;
    has_default |= strcmp(m->string, "*") == 0;
    (*n)++;
  }
  if (need_default && !has_default)
    return fail(p, path,
                "needs a \"*\" entry (the model of every other channel)");
  return 0;
}

/* -------------------------------------------------------------- shifts */

static int add_shift(parse_t *p, sbctl_roster_group_t *g, const char *path,
                     int wday, int from, int to,
                     unsigned char busy[DAYS][MINUTES_PER_DAY]) {
  if (g->n_shifts >= SBCTL_ROSTER_SHIFTS_MAX)
    return fail(p, path, "more than %d shifts in the group",
                SBCTL_ROSTER_SHIFTS_MAX);
  for (int m = from; m < to; m++) {
    if (busy[wday][m])
      return fail(p, path, "overlaps another shift of the group on %s",
                  day_names[wday]);
    busy[wday][m] = 1;
  }
  g->shifts[g->n_shifts++] = (sbctl_roster_shift_t){wday, from, to};
  return 0;
}

static int parse_day(parse_t *p, const cJSON *d, const char *path) {
  for (int i = 0; cJSON_IsString(d) && i < DAYS; i++)
    if (strcmp(d->valuestring, day_names[i]) == 0)
      return i;
  return fail(p, path, "must be one of mon, tue, wed, thu, fri, sat, sun");
}

static int parse_time(parse_t *p, const cJSON *o, const char *key,
                      const char *path, int *out) {
  char sub[PATH_LEN];
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  snprintf(sub, sizeof sub, "%s.%s", path, key);
  *out = cJSON_IsString(v) ? sb_calendar_parse_hhmm(v->valuestring) : -1;
  if (*out < 0)
    return fail(p, v ? sub : path,
                "%s must be a local time \"HH:MM\" (00:00..24:00)", key);
  return 0;
}

static int parse_shift(parse_t *p, const cJSON *s, const char *path,
                       sbctl_roster_group_t *g,
                       unsigned char busy[DAYS][MINUTES_PER_DAY]) {
  char sub[PATH_LEN];
  int from, to;
  if (!cJSON_IsObject(s))
    return fail(p, path,
                "must be an object {\"days\": [...], \"from\": \"HH:MM\", "
                "\"to\": \"HH:MM\"}");
  if (parse_time(p, s, "from", path, &from) ||
      parse_time(p, s, "to", path, &to))
    return -1;
  if (from == to || from == MINUTES_PER_DAY)
    return fail(
        p, path,
        "from and to must differ (a shift from 00:00 to 24:00 is a whole day)");
  const cJSON *days = cJSON_GetObjectItemCaseSensitive(s, "days");
  subpath(sub, path, ".days");
  if (!cJSON_IsArray(days) || !cJSON_GetArraySize(days))
    return fail(p, days ? sub : path,
                "days must be a non-empty list of mon..sun");
  int i = 0;
  for (const cJSON *d = days->child; d; d = d->next, i++) {
    char dp[PATH_LEN];
    subpath(dp, sub, "[%d]", i);
    int wd = parse_day(p, d, dp);
    if (wd < 0)
      return -1;
    if (from < to) {
      if (add_shift(p, g, path, wd, from, to, busy))
        return -1;
    } else if (add_shift(p, g, path, wd, from, MINUTES_PER_DAY,
                         busy) || /* past midnight */
               (to > 0 &&
                add_shift(p, g, path, (wd + 1) % DAYS, 0, to, busy))) {
      return -1;
    }
  }
  return 0;
}

static int parse_shifts(parse_t *p, const cJSON *a, const char *path,
                        sbctl_roster_group_t *g) {
  if (!a)
    return 0;
  if (!cJSON_IsArray(a))
    return fail(p, path, "must be a list of shifts");
  unsigned char(*busy)[MINUTES_PER_DAY] = calloc(DAYS, MINUTES_PER_DAY);
  if (!busy)
    return fail(p, path, "out of memory");
  int i = 0, rc = 0;
  for (const cJSON *s = a->child; s && !rc; s = s->next, i++) {
    char sub[PATH_LEN];
    subpath(sub, path, "[%d]", i);
    rc = parse_shift(p, s, sub, g, busy);
  }
  free(busy);
  return rc;
}

/* -------------------------------------------------------------- groups */

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SBCTL_ROSTER_NAME_MAX)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
      return 0;
  return 1;
}

static int parse_skills(parse_t *p, const cJSON *s, const char *path,
                        sbctl_roster_group_t *g) {
  if (s && !cJSON_IsObject(s))
    return fail(p, path,
                "must be an object of skill levels, e.g. {\"lang:fr\": 3}");
  for (const cJSON *k = s ? s->child : NULL; k; k = k->next) {
    char sub[PATH_LEN];
    subpath(sub, path, ".%s", k->string);
    int level;
    if (whole_number(p, k, sub, 0, 1000, &level))
      return -1;
  }
  g->skills_json = s ? cJSON_PrintUnformatted(s) : strdup("{}");
  return g->skills_json ? 0 : fail(p, path, "out of memory");
}

static int parse_group(parse_t *p, const cJSON *o, const char *path,
                       sbctl_roster_group_t *g) {
  char sub[PATH_LEN];
  if (!cJSON_IsObject(o))
    return fail(p, path,
                "must be an object with name, count, capacity, handle");
  sbctl_jsonpos_loc_t loc = {0, 1, 1};
  sbctl_jsonpos_find(p->pos, path, &loc);
  g->line = loc.line;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
  subpath(sub, path, ".name");
  if (!cJSON_IsString(name) || !valid_name(name->valuestring))
    return fail(p, name ? sub : path, "name must be 1..%d of [A-Za-z0-9_.-]",
                SBCTL_ROSTER_NAME_MAX);
  snprintf(g->name, sizeof g->name, "%s", name->valuestring);
  const cJSON *count = cJSON_GetObjectItemCaseSensitive(o, "count");
  subpath(sub, path, ".count");
  if (whole_number(p, count, count ? sub : path, 0, SBCTL_ROSTER_AGENTS_MAX,
                   &g->count))
    return -1;
  const cJSON *cap = cJSON_GetObjectItemCaseSensitive(o, "capacity");
  subpath(sub, path, ".capacity");
  g->capacity = 1;
  if (cap &&
      whole_number(p, cap, sub, 1, SBCTL_ROSTER_CAPACITY_MAX, &g->capacity))
    return -1;
  subpath(sub, path, ".skills");
  if (parse_skills(p, cJSON_GetObjectItemCaseSensitive(o, "skills"), sub, g))
    return -1;
  subpath(sub, path, ".shifts");
  if (parse_shifts(p, cJSON_GetObjectItemCaseSensitive(o, "shifts"), sub, g))
    return -1;
  g->accept = (sbctl_dist_t){.kind = SBCTL_DIST_FIXED};
  const cJSON *acc = cJSON_GetObjectItemCaseSensitive(o, "accept");
  subpath(sub, path, ".accept");
  if (acc && parse_dist(p, acc, sub, &g->accept))
    return -1;
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "handle");
  subpath(sub, path, ".handle");
  if (!h)
    return fail(p, path, "needs \"handle\": time models by channel");
  if (parse_models(p, h, sub, g->handle, &g->n_handle, 1))
    return -1;
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "first_reply");
  subpath(sub, path, ".first_reply");
  return r ? parse_models(p, r, sub, g->reply, &g->n_reply, 0) : 0;
}

static int parse_top(parse_t *p, const cJSON *root, sbctl_roster_t *r) {
  if (!cJSON_IsObject(root))
    return fail(p, "", "a roster is a JSON object {\"groups\": [...]}");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "tenant");
  if (t && (!cJSON_IsString(t) || strlen(t->valuestring) >= sizeof r->tenant ||
            !*t->valuestring))
    return fail(p, "tenant", "must be a tenant id");
  if (t)
    snprintf(r->tenant, sizeof r->tenant, "%s", t->valuestring);
  const cJSON *tz = cJSON_GetObjectItemCaseSensitive(root, "tz");
  if (tz && (!cJSON_IsString(tz) || strlen(tz->valuestring) >= sizeof r->tz ||
             !*tz->valuestring))
    return fail(p, "tz", "must be a time zone name such as \"Europe/Paris\"");
  if (tz)
    snprintf(r->tz, sizeof r->tz, "%s", tz->valuestring);
  const cJSON *gs = cJSON_GetObjectItemCaseSensitive(root, "groups");
  int n = cJSON_GetArraySize(gs);
  if (!cJSON_IsArray(gs) || n == 0 || n > SBCTL_ROSTER_GROUPS_MAX)
    return fail(p, gs ? "groups" : "",
                "groups must be a list of 1..%d agent groups",
                SBCTL_ROSTER_GROUPS_MAX);
  if (!(r->groups = calloc((size_t)n, sizeof *r->groups)))
    return fail(p, "groups", "out of memory");
  for (const cJSON *g = gs->child; g; g = g->next) {
    char path[PATH_LEN];
    snprintf(path, sizeof path, "groups[%zu]", r->n_groups);
    sbctl_roster_group_t *grp = &r->groups[r->n_groups++];
    if (parse_group(p, g, path, grp))
      return -1;
    for (size_t i = 0; i + 1 < r->n_groups; i++)
      if (strcmp(r->groups[i].name, grp->name) == 0)
        return fail(p, path, "group name \"%s\" given twice", grp->name);
    r->agents += grp->count;
    if (r->agents > SBCTL_ROSTER_AGENTS_MAX)
      return fail(p, path, "more than %d agents in all",
                  SBCTL_ROSTER_AGENTS_MAX);
  }
  return 0;
}

sbctl_roster_t *sbctl_roster_parse(const char *text, size_t len, char *err,
                                   size_t errlen) {
  parse_t p = {text, len, sbctl_jsonpos_new(text, len), err, errlen};
  sbctl_roster_t *r = calloc(1, sizeof *r);
  const char *end = NULL;
  cJSON *root =
      p.pos && r ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
  int rc;
  if (!p.pos || !r) {
    snprintf(err, errlen, "out of memory");
    rc = -1;
  } else if (!root) {
    size_t off = end ? (size_t)(end - text) : 0;
    const char *e = cJSON_GetErrorPtr();
    if (e && e >= text && e <= text + len)
      off = (size_t)(e - text);
    sbctl_jsonpos_loc_t loc = sbctl_jsonpos_locate(text, len, off);
    snprintf(err, errlen, "line %d:%d: not valid JSON", loc.line, loc.col);
    rc = -1;
  } else {
    rc = parse_top(&p, root, r);
  }
  cJSON_Delete(root);
  sbctl_jsonpos_destroy(&p.pos);
  if (rc)
    sbctl_roster_destroy(&r);
  return r;
}

sbctl_roster_t *sbctl_roster_load(const char *path, int *unreadable, char *err,
                                  size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = f ? malloc(SBCTL_ROSTER_BYTES_MAX + 1) : NULL;
  size_t n = buf ? fread(buf, 1, SBCTL_ROSTER_BYTES_MAX + 1, f) : 0;
  int bad = !f || !buf || ferror(f) || n > SBCTL_ROSTER_BYTES_MAX;
  if (f)
    fclose(f);
  if (unreadable)
    *unreadable = bad;
  if (bad) {
    snprintf(err, errlen, "%s: cannot read (or larger than %u bytes)", path,
             SBCTL_ROSTER_BYTES_MAX);
    free(buf);
    return NULL;
  }
  char why[512];
  sbctl_roster_t *r = sbctl_roster_parse(buf, n, why, sizeof why);
  if (!r) /* "line L:C: ..." becomes "FILE:L:C: ..." */
    snprintf(err, errlen, "%s:%s", path,
             strncmp(why, "line ", 5) == 0 ? why + 5 : why);
  free(buf);
  return r;
}

void sbctl_roster_destroy(sbctl_roster_t **rp) {
  sbctl_roster_t *r = rp ? *rp : NULL;
  if (!r)
    return;
  for (size_t i = 0; i < r->n_groups; i++)
    free(r->groups[i].skills_json);
  free(r->groups);
  free(r);
  *rp = NULL;
}

static const sbctl_dist_t *model_of(const sbctl_roster_model_t *m, size_t n,
                                    const char *channel) {
  const sbctl_dist_t *any = NULL;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(m[i].channel, channel) == 0)
      return &m[i].dist;
    if (strcmp(m[i].channel, "*") == 0)
      any = &m[i].dist;
  }
  return any;
}

const sbctl_dist_t *sbctl_roster_handle(const sbctl_roster_group_t *g,
                                        const char *channel) {
  return model_of(g->handle, g->n_handle, channel);
}

const sbctl_dist_t *sbctl_roster_first_reply(const sbctl_roster_group_t *g,
                                             const char *channel) {
  return model_of(g->reply, g->n_reply, channel);
}

/* ------------------------------------------------------------ sampling */

uint64_t sbctl_rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double sbctl_rng_unit(uint64_t *s) {
  return ((double)(sbctl_rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
}

double sbctl_dist_sample(const sbctl_dist_t *d, uint64_t *s) {
  switch (d->kind) {
  case SBCTL_DIST_EXPONENTIAL:
    return -d->mean_s * log(sbctl_rng_unit(s));
  case SBCTL_DIST_LOGNORMAL: { /* Box-Muller: one normal from two uniforms */
    double u1 = sbctl_rng_unit(s), u2 = sbctl_rng_unit(s);
    double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
    return exp(d->mu + d->sigma * z);
  }
  default:
    return d->mean_s;
  }
}
