/*
 * sb_tenants: tenant configuration (see sb_tenants.h). The file is small and
 * read once; lookups are a linear scan over a handful of tenants, which beats
 * a hash table at these sizes. Language codes are interned in one buffer.
 */
#include "sb_tenants.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_TENANTS_MAX 4096
#define SB_TENANTS_FILE_MAX (4u << 20)
#define SB_LANG_CODE_MAX 8

struct sb_tenants {
  sb_tenant_t *items;
  size_t n;
  char (*langs)[SB_LANG_CODE_MAX]; /* storage for language codes */
};

int sb_tenant_id_valid(const char *id, size_t len) {
  if (len == 0 || len > SB_TENANT_ID_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char ch = id[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-' || ch == '_'))
      return 0;
  }
  return 1;
}

static int parse_sla(const cJSON *sla, sb_tenant_t *t, char *err, size_t errlen) {
  t->first_response_ms = SB_SLA_FIRST_RESPONSE_DEFAULT_MS;
  t->warn_percent = SB_SLA_WARN_PERCENT_DEFAULT;
  if (!sla)
    return 0;
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(sla, "first_response_ms");
  const cJSON *wp = cJSON_GetObjectItemCaseSensitive(sla, "warn_percent");
  if (fr) {
    if (!cJSON_IsNumber(fr) || fr->valuedouble < 1 || fr->valuedouble > 30.0 * 86400000) {
      snprintf(err, errlen, "tenant %s: sla.first_response_ms must be 1..2592000000", t->id);
      return SB_ECONFIG;
    }
    t->first_response_ms = (int64_t)fr->valuedouble;
  }
  if (wp) {
    if (!cJSON_IsNumber(wp) || wp->valueint < 1 || wp->valueint > 100) {
      snprintf(err, errlen, "tenant %s: sla.warn_percent must be 1..100", t->id);
      return SB_ECONFIG;
    }
    t->warn_percent = wp->valueint;
  }
  return 0;
}

static int parse_langs(sb_tenants_t *ts, size_t *nl, const cJSON *langs, sb_tenant_t *t,
                       char *err, size_t errlen) {
  size_t k = 0;
  const cJSON *l;
  cJSON_ArrayForEach(l, langs) {
    if (!cJSON_IsString(l) || strlen(l->valuestring) >= SB_LANG_CODE_MAX ||
        k == SB_TENANT_LANG_MAX) {
      snprintf(err, errlen, "tenant %s: languages must be at most %d short codes", t->id,
               SB_TENANT_LANG_MAX);
      return SB_ECONFIG;
    }
    strcpy(ts->langs[*nl], l->valuestring);
    t->languages[k++] = ts->langs[(*nl)++];
  }
  t->languages[k] = NULL;
  return 0;
}

static int parse_tenant(sb_tenants_t *ts, size_t *nl, const cJSON *o, sb_tenant_t *t,
                        char *err, size_t errlen) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  if (!cJSON_IsString(id) || !sb_tenant_id_valid(id->valuestring, strlen(id->valuestring))) {
    snprintf(err, errlen, "tenant %zu: \"id\" must match [A-Za-z0-9_-]{1,64}", ts->n);
    return SB_ECONFIG;
  }
  if (sb_tenants_find(ts, id->valuestring, strlen(id->valuestring))) {
    snprintf(err, errlen, "tenant %s is listed twice", id->valuestring);
    return SB_ECONFIG;
  }
  strcpy(t->id, id->valuestring);
  if (parse_sla(cJSON_GetObjectItemCaseSensitive(o, "sla"), t, err, errlen))
    return SB_ECONFIG;
  return parse_langs(ts, nl, cJSON_GetObjectItemCaseSensitive(o, "languages"), t, err, errlen);
}

sb_tenants_t *sb_tenants_parse(const char *json, size_t len, char *err, size_t errlen) {
  cJSON *root = cJSON_ParseWithLength(json, len);
  const cJSON *list = root ? cJSON_GetObjectItemCaseSensitive(root, "tenants") : NULL;
  if (!cJSON_IsArray(list)) {
    snprintf(err, errlen, root ? "missing \"tenants\" array" : "invalid JSON");
    cJSON_Delete(root);
    return NULL;
  }
  size_t n = (size_t)cJSON_GetArraySize(list);
  sb_tenants_t *ts = calloc(1, sizeof *ts);
  if (n > SB_TENANTS_MAX || !ts) {
    snprintf(err, errlen, "at most %d tenants", SB_TENANTS_MAX);
    cJSON_Delete(root);
    free(ts);
    return NULL;
  }
  ts->items = calloc(n ? n : 1, sizeof *ts->items);
  ts->langs = calloc((n ? n : 1) * SB_TENANT_LANG_MAX, sizeof *ts->langs);
  size_t nl = 0;
  const cJSON *o;
  int rc = ts->items && ts->langs ? 0 : SB_ENOMEM;
  cJSON_ArrayForEach(o, list) {
    if (rc || (rc = parse_tenant(ts, &nl, o, &ts->items[ts->n], err, errlen)))
      break;
    ts->n++;
  }
  cJSON_Delete(root);
  if (rc) {
    if (rc == SB_ENOMEM)
      snprintf(err, errlen, "out of memory");
    sb_tenants_destroy(&ts);
  }
  return ts;
}

sb_tenants_t *sb_tenants_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open tenant configuration %s", path);
    return NULL;
  }
  char *buf = malloc(SB_TENANTS_FILE_MAX);
  size_t len = buf ? fread(buf, 1, SB_TENANTS_FILE_MAX, f) : 0;
  int too_big = buf && len == SB_TENANTS_FILE_MAX;
  fclose(f);
  sb_tenants_t *ts = NULL;
  if (!buf)
    snprintf(err, errlen, "out of memory");
  else if (too_big)
    snprintf(err, errlen, "%s: larger than %u bytes", path, SB_TENANTS_FILE_MAX);
  else
    ts = sb_tenants_parse(buf, len, err, errlen);
  free(buf);
  return ts;
}

void sb_tenants_destroy(sb_tenants_t **tp) {
  sb_tenants_t *t = *tp;
  if (!t)
    return;
  free(t->items);
  free(t->langs);
  free(t);
  *tp = NULL;
}

const sb_tenant_t *sb_tenants_find(const sb_tenants_t *t, const char *id, size_t len) {
  for (size_t i = 0; i < t->n; i++)
    if (strlen(t->items[i].id) == len && memcmp(t->items[i].id, id, len) == 0)
      return &t->items[i];
  return NULL;
}

size_t sb_tenants_count(const sb_tenants_t *t) { return t->n; }

const sb_tenant_t *sb_tenants_at(const sb_tenants_t *t, size_t i) {
  return i < t->n ? &t->items[i] : NULL;
}
