/*
 * sb_hooks_config: see sb_hooks_config.h. Each member is read from a small
 * table of integer fields with their bounds, so every error names the field
 * the same way ("tenant T: notify.retry.base_ms must be an integer in
 * [1, 86400000]").
 */
#include "sb_hooks_config.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_ENV_PREFIX "env:"

/* The kinds sb_envelope_kind() returns: what "events" may list. */
static const char *const feed_kinds[] = {"assigned",   "queued",      "routed",     "agent",
                                         "rejected",   "diverted",    "sla.warning", "sla.breach",
                                         "sla.met",    "sla.alert",   "sla",        "service_level",
                                         "incident",   "delivery",    "event"};

typedef struct {
  const char *tenant;
  char *err;
  size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx_t *c, const char *fmt, ...) {
  char what[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (c->err && c->errlen)
    snprintf(c->err, c->errlen, "tenant %s: %s", c->tenant, what);
  return SB_ECONFIG;
}

typedef struct {
  const char *name;
  int64_t min, max;
  size_t offset; /* of an int64_t in the target struct */
} int_field_t;

/* Reads obj's members into base via fields; any other member is an error. */
static int read_ints(ctx_t *c, const cJSON *obj, const char *path, const int_field_t *fields,
                     size_t nfields, void *base, const char *const *also, size_t nalso) {
  if (!cJSON_IsObject(obj))
    return fail(c, "%s must be an object", path);
  for (const cJSON *m = obj->child; m; m = m->next) {
    size_t i = 0;
    while (i < nfields && strcmp(fields[i].name, m->string))
      i++;
    if (i == nfields) {
      size_t j = 0;
      while (j < nalso && strcmp(also[j], m->string))
        j++;
      if (j == nalso)
        return fail(c, "%s.%s is not a known field", path, m->string);
      continue;
    }
    const int_field_t *f = &fields[i];
    double v = m->valuedouble; /* range first: the cast is only defined in range */
    if (!cJSON_IsNumber(m) || !(v >= (double)f->min && v <= (double)f->max) ||
        v != (double)(int64_t)v)
      return fail(c, "%s.%s must be an integer in [%lld, %lld]", path, f->name, (long long)f->min,
                  (long long)f->max);
    *(int64_t *)((char *)base + f->offset) = (int64_t)v;
  }
  return 0;
}

static int kind_known(const char *k) {
  for (size_t i = 0; i < sizeof feed_kinds / sizeof feed_kinds[0]; i++)
    if (strcmp(k, feed_kinds[i]) == 0)
      return 1;
  return 0;
}

static int id_valid(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SB_HOOK_ID_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-'))
      return 0;
  }
  return 1;
}

static int read_string(ctx_t *c, const cJSON *v, const char *path, char **out) {
  if (!cJSON_IsString(v) || !*v->valuestring)
    return fail(c, "%s must be a non-empty string", path);
  *out = strdup(v->valuestring);
  return *out ? 0 : SB_ENOMEM;
}

static int read_secret(ctx_t *c, const cJSON *v, const char *path, char **out) {
  if (!cJSON_IsString(v) || !*v->valuestring)
    return fail(c, "%s must be a non-empty string (a literal or \"env:NAME\")", path);
  const char *s = v->valuestring;
  if (strncmp(s, SECRET_ENV_PREFIX, strlen(SECRET_ENV_PREFIX)) == 0) {
    const char *name = s + strlen(SECRET_ENV_PREFIX);
    s = getenv(name);
    if (!s || !*s)
      return fail(c, "%s names environment variable %s, which is not set", path, name);
  }
  *out = strdup(s);
  return *out ? 0 : SB_ENOMEM;
}

static int read_url(ctx_t *c, const cJSON *v, const char *path, char **out) {
  int rc = read_string(c, v, path, out);
  if (rc)
    return rc;
  if (strncmp(*out, "http://", 7) && strncmp(*out, "https://", 8))
    return fail(c, "%s must start with http:// or https://", path);
  if (strlen(*out) > SB_HOOK_URL_MAX)
    return fail(c, "%s is longer than %d bytes", path, SB_HOOK_URL_MAX);
  return 0;
}

static int read_events(ctx_t *c, const cJSON *v, const char *path, sb_hook_t *h) {
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
    return fail(c, "%s must be a non-empty array of feed kinds or \"*\"", path);
  int i = 0;
  for (const cJSON *e = v->child; e; e = e->next, i++) {
    if (!cJSON_IsString(e))
      return fail(c, "%s[%d] must be a string", path, i);
    if (strcmp(e->valuestring, "*") == 0) {
      h->all_events = 1;
      continue;
    }
    if (!kind_known(e->valuestring))
      return fail(c, "%s[%d] \"%s\" is not a feed kind (assigned, queued, routed, agent, "
                     "rejected, sla.warning, sla.breach, sla.met, event) or \"*\"",
                  path, i, e->valuestring);
    if (h->nevents == SB_HOOK_EVENTS_MAX)
      return fail(c, "%s lists more than %d kinds", path, SB_HOOK_EVENTS_MAX);
    if (!(h->events[h->nevents++] = strdup(e->valuestring)))
      return SB_ENOMEM;
  }
  return 0;
}

/* The members of one webhook other than its integer fields. */
static int read_hook_member(ctx_t *c, const cJSON *m, const char *path, sb_hook_t *h) {
  char p[128];
  snprintf(p, sizeof p, "%s.%s", path, m->string);
  if (strcmp(m->string, "id") == 0) {
    if (!cJSON_IsString(m) || !id_valid(m->valuestring))
      return fail(c, "%s must match [A-Za-z0-9_-]{1,%d}", p, SB_HOOK_ID_MAX);
    snprintf(h->id, sizeof h->id, "%s", m->valuestring);
    return 0;
  }
  if (strcmp(m->string, "url") == 0)
    return read_url(c, m, p, &h->url);
  if (strcmp(m->string, "secret") == 0)
    return read_secret(c, m, p, &h->secret);
  if (strcmp(m->string, "events") == 0)
    return read_events(c, m, p, h);
  return 0; /* an integer field, read by read_ints */
}

static int read_hook(ctx_t *c, const cJSON *o, int index, sb_hooks_config_t *cfg) {
  char path[64];
  snprintf(path, sizeof path, "notify.webhooks[%d]", index);
  sb_hook_t *h = &cfg->hooks[cfg->nhooks++];
  h->max_in_flight = SB_HOOK_MAX_IN_FLIGHT_DEFAULT;
  h->timeout_ms = SB_HOOK_TIMEOUT_DEFAULT_MS;
  struct {
    int64_t max_in_flight, timeout_ms;
  } ints = {h->max_in_flight, h->timeout_ms};
  static const int_field_t fields[] = {
      {"max_in_flight", 1, SB_HOOK_MAX_IN_FLIGHT_LIMIT, 0},
      {"timeout_ms", 1, SB_HOOK_TIMEOUT_LIMIT_MS, sizeof(int64_t)},
  };
  static const char *const others[] = {"id", "url", "secret", "events"};
  int rc = read_ints(c, o, path, fields, 2, &ints, others, 4);
  for (const cJSON *m = o->child; !rc && m; m = m->next)
    rc = read_hook_member(c, m, path, h);
  if (rc)
    return rc;
  h->max_in_flight = (int)ints.max_in_flight;
  h->timeout_ms = ints.timeout_ms;
  if (!h->id[0])
    return fail(c, "%s.id is required", path);
  if (!h->url)
    return fail(c, "%s.url is required", path);
  if (!h->secret)
    return fail(c, "%s.secret is required", path);
  if (!h->all_events && h->nevents == 0)
    return fail(c, "%s.events is required", path);
  for (size_t i = 0; i + 1 < cfg->nhooks; i++)
    if (strcmp(cfg->hooks[i].id, h->id) == 0)
      return fail(c, "%s.id \"%s\" is used twice", path, h->id);
  return 0;
}

static int read_retry(ctx_t *c, const cJSON *o, sb_hooks_retry_t *r) {
  static const int_field_t fields[] = {
      {"base_ms", 1, 86400000, offsetof(sb_hooks_retry_t, base_ms)},
      {"max_ms", 1, 86400000, offsetof(sb_hooks_retry_t, max_ms)},
      {"give_up_after_s", 1, 30 * 86400, offsetof(sb_hooks_retry_t, give_up_after_s)},
  };
  static const char *const others[] = {"jitter"};
  int rc = read_ints(c, o, "notify.retry", fields, 3, r, others, 1);
  if (rc)
    return rc;
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, "jitter");
  if (j) {
    if (cJSON_IsString(j) && strcmp(j->valuestring, "full") == 0)
      r->jitter = SB_HOOKS_JITTER_FULL;
    else if (cJSON_IsString(j) && strcmp(j->valuestring, "none") == 0)
      r->jitter = SB_HOOKS_JITTER_NONE;
    else
      return fail(c, "notify.retry.jitter must be \"full\" or \"none\"");
  }
  if (r->max_ms < r->base_ms)
    return fail(c, "notify.retry.max_ms must be at least notify.retry.base_ms");
  return 0;
}

static int read_breaker(ctx_t *c, const cJSON *o, sb_hooks_breaker_cfg_t *b) {
  struct {
    int64_t failures, open_ms;
  } v = {b->failures, b->open_ms};
  static const int_field_t fields[] = {
      {"failures", 1, 1000000, 0},
      {"open_ms", 1, 86400000, sizeof(int64_t)},
  };
  int rc = read_ints(c, o, "notify.breaker", fields, 2, &v, NULL, 0);
  b->failures = (int)v.failures;
  b->open_ms = v.open_ms;
  return rc;
}

static int read_webhooks(ctx_t *c, const cJSON *arr, sb_hooks_config_t *cfg) {
  if (!cJSON_IsArray(arr))
    return fail(c, "notify.webhooks must be an array");
  if (cJSON_GetArraySize(arr) > SB_HOOKS_MAX)
    return fail(c, "notify.webhooks has more than %d endpoints", SB_HOOKS_MAX);
  int i = 0, rc = 0;
  for (const cJSON *o = arr->child; o && !rc; o = o->next, i++) {
    if (!cJSON_IsObject(o))
      return fail(c, "notify.webhooks[%d] must be an object", i);
    rc = read_hook(c, o, i, cfg);
  }
  return rc;
}

static int parse_tree(ctx_t *c, const cJSON *root, sb_hooks_config_t *cfg) {
  if (!cJSON_IsObject(root))
    return fail(c, "notify must be an object");
  const cJSON *hooks = cJSON_GetObjectItemCaseSensitive(root, "webhooks");
  const cJSON *retry = cJSON_GetObjectItemCaseSensitive(root, "retry");
  const cJSON *breaker = cJSON_GetObjectItemCaseSensitive(root, "breaker");
  int rc = hooks ? read_webhooks(c, hooks, cfg) : 0;
  if (!rc && retry)
    rc = read_retry(c, retry, &cfg->retry);
  if (!rc && breaker)
    rc = read_breaker(c, breaker, &cfg->breaker);
  return rc;
}

int sb_hooks_config_parse(const char *tenant, const char *notify_json, sb_hooks_config_t **out,
                          char *err, size_t errlen) {
  ctx_t c = {tenant, err, errlen};
  *out = NULL;
  sb_hooks_config_t *cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return SB_ENOMEM;
  cfg->retry = (sb_hooks_retry_t){SB_HOOKS_RETRY_BASE_DEFAULT_MS, SB_HOOKS_RETRY_MAX_DEFAULT_MS,
                                  SB_HOOKS_GIVE_UP_DEFAULT_S, SB_HOOKS_JITTER_FULL};
  cfg->breaker = (sb_hooks_breaker_cfg_t){SB_HOOKS_BREAKER_FAILURES_DEFAULT,
                                          SB_HOOKS_BREAKER_OPEN_DEFAULT_MS};
  int rc = 0;
  if (notify_json) {
    cJSON *root = cJSON_Parse(notify_json);
    rc = root ? parse_tree(&c, root, cfg) : fail(&c, "notify is not valid JSON");
    cJSON_Delete(root);
  }
  if (rc) {
    sb_hooks_config_destroy(&cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

void sb_hooks_config_destroy(sb_hooks_config_t **cp) {
  sb_hooks_config_t *c = *cp;
  if (!c)
    return;
  *cp = NULL;
  for (size_t i = 0; i < c->nhooks; i++) {
    sb_hook_t *h = &c->hooks[i];
    if (h->secret) {
      volatile char *p = h->secret;
      while (*p)
        *p++ = 0;
    }
    free(h->secret);
    free(h->url);
    for (size_t e = 0; e < h->nevents; e++)
      free(h->events[e]);
  }
  free(c);
}

int sb_hook_wants(const sb_hook_t *h, const char *kind) {
  if (h->all_events)
    return 1;
  for (size_t i = 0; i < h->nevents; i++)
    if (strcmp(h->events[i], kind) == 0)
      return 1;
  return 0;
}

const sb_hook_t *sb_hooks_config_find(const sb_hooks_config_t *c, const char *id) {
  for (size_t i = 0; i < c->nhooks; i++)
    if (strcmp(c->hooks[i].id, id) == 0)
      return &c->hooks[i];
  return NULL;
}
