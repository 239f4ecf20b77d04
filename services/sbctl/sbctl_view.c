/* sbctl_view: see sbctl_view.h. */
#include "sbctl_view.h"
#include "sb_keys.h"
#include "sb_script.h"

#include <stdlib.h>
#include <string.h>

const char *const sbctl_stage_names[SBCTL_STAGES] = {"classify", "route", "sla", "notify"};

static const struct {
  const char *field;
  size_t offset;
} fields[] = {
#define F(name) {#name, offsetof(sbctl_stats_t, name)}
    F(ingested), F(duplicates), F(classified), F(routed_messages), F(assigned), F(queued),
    F(sla_armed), F(sla_met), F(sla_missed), F(sla_warning), F(sla_breach), F(notified),
    F(dead_letters), F(lease_expired), F(closed),
#undef F
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* "[user]:password@" of a URL into user/pass (empty when absent). */
static void url_credentials(const char *url, const char *at, char *user, char *pass, size_t cap) {
  user[0] = pass[0] = '\0';
  const char *colon = at ? memchr(url, ':', (size_t)(at - url)) : NULL;
  if (!colon)
    return;
  snprintf(user, cap, "%.*s", (int)(colon - url), url);
  snprintf(pass, cap, "%.*s", (int)(at - colon - 1), colon + 1);
}

redisContext *sbctl_view_connect(const char *url) {
  char host[256] = "127.0.0.1", user[128], pass[256];
  int port = 6379;
  if (strncmp(url, "redis://", 8) == 0)
    url += 8;
  const char *at = strrchr(url, '@');
  url_credentials(url, at, user, pass, sizeof pass);
  if (at)
    url = at + 1;
  if (sscanf(url, "%255[^:/]:%d", host, &port) < 1)
    return NULL;
  struct timeval tv = {2, 0};
  redisContext *rc = redisConnectWithTimeout(host, port, tv);
  redisReply *auth = NULL;
  if (rc && !rc->err && pass[0])
    auth = *user ? redisCommand(rc, "AUTH %s %s", user, pass) : redisCommand(rc, "AUTH %s", pass);
  int refused = pass[0] && (!auth || auth->type == REDIS_REPLY_ERROR);
  if (auth)
    freeReplyObject(auth);
  if (!rc || rc->err || refused) {
    fprintf(stderr, "sbctl: cannot %s redis at %s:%d\n", refused ? "authenticate to" : "connect to",
            host, port);
    if (rc)
      redisFree(rc);
    return NULL;
  }
  redisSetTimeout(rc, tv);
  return rc;
}

static void add_field(sbctl_stats_t *s, const char *name, long long v) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strcmp(fields[i].field, name) == 0)
      *(long long *)((char *)s + fields[i].offset) += v;
}

static void script_time_add(sbctl_script_time_t *out, const char *field, long long v) {
  const char *name;
  int us = strncmp(field, "lua_us:", 7) == 0;
  if (us)
    name = field + 7;
  else if (strncmp(field, "lua_calls:", 10) == 0)
    name = field + 10;
  else
    return;
  if (!sb_script_name_ok(name))
    return; /* no script of ours */
  size_t i = 0;
  while (i < out->n && strcmp(out->s[i].name, name) != 0)
    i++;
  if (i == out->n) {
    if (out->n == SBCTL_SCRIPTS_MAX || strlen(name) >= sizeof out->s[0].name)
      return; /* more scripts than switchboard has: not ours */
    snprintf(out->s[i].name, sizeof out->s[i].name, "%s", name);
    out->n++;
  }
  if (us)
    out->s[i].us += v;
  else
    out->s[i].calls += v;
}

int sbctl_view_read_scripts(redisContext *rc, const char *tenant, sbctl_stats_t *out,
                            sbctl_script_time_t *scripts) {
  char key[SB_KEY_MAX];
  sb_key_tenant(key, sizeof key, tenant, "stats");
  redisAppendCommand(rc, "HGETALL %s", key);
  for (int i = 0; i < SBCTL_STAGES; i++) {
    char lease[64];
    snprintf(lease, sizeof lease, "lease:%s", sbctl_stage_names[i]);
    sb_key_tenant(key, sizeof key, tenant, lease);
    redisAppendCommand(rc, "ZCARD %s", key);
  }
  redisReply *r = NULL;
  if (redisGetReply(rc, (void **)&r) != REDIS_OK || !r)
    return -1;
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
    add_field(out, r->element[i]->str, atoll(r->element[i + 1]->str));
    if (strcmp(r->element[i]->str, "waiting") == 0) /* route keeps it, over all queues */
      out->waiting += atoll(r->element[i + 1]->str);
    else if (strncmp(r->element[i]->str, "resent_", 7) == 0) /* one per next stage */
      out->resent += atoll(r->element[i + 1]->str);
    else if (scripts)
      script_time_add(scripts, r->element[i]->str, atoll(r->element[i + 1]->str));
  }
  freeReplyObject(r);
  for (int i = 0; i < SBCTL_STAGES; i++) {
    if (redisGetReply(rc, (void **)&r) != REDIS_OK || !r)
      return -1;
    out->inflight[i] += r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
  }
  return 0;
}

int sbctl_view_read(redisContext *rc, const char *tenant, sbctl_stats_t *out) {
  return sbctl_view_read_scripts(rc, tenant, out, NULL);
}

int sbctl_view_read_all(redisContext *rc, const sb_tenants_t *t, sbctl_stats_t *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < sb_tenants_count(t); i++)
    if (sbctl_view_read(rc, sb_tenants_at(t, i)->id, out))
      return -1;
  return 0;
}

long long sbctl_view_commands(redisContext *rc) {
  redisReply *r = redisCommand(rc, "INFO commandstats");
  long long total = r && r->type == REDIS_REPLY_STRING ? 0 : -1;
  for (char *p = total == 0 ? r->str : NULL; p && (p = strstr(p, "calls=")); p += 6)
    total += atoll(p + 6);
  if (r)
    freeReplyObject(r);
  return total;
}

int sbctl_view_script_time(redisContext *rc, const sb_tenants_t *t, sbctl_script_time_t *out) {
  memset(out, 0, sizeof *out);
  for (size_t k = 0; k < sb_tenants_count(t); k++) {
    char key[SB_KEY_MAX];
    sb_key_tenant(key, sizeof key, sb_tenants_at(t, k)->id, "stats");
    redisReply *r = redisCommand(rc, "HGETALL %s", key);
    if (!r)
      return -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2)
      script_time_add(out, r->element[i]->str, atoll(r->element[i + 1]->str));
    freeReplyObject(r);
  }
  return 0;
}

long long sbctl_view_redis_cpu_us(redisContext *rc) {
  redisReply *r = redisCommand(rc, "INFO cpu");
  double user = -1, sys = -1;
  if (r && r->type == REDIS_REPLY_STRING) {
    const char *u = strstr(r->str, "used_cpu_user:"), *s = strstr(r->str, "used_cpu_sys:");
    if (u && s) {
      user = atof(u + 14);
      sys = atof(s + 13);
    }
  }
  if (r)
    freeReplyObject(r);
  return user < 0 ? -1 : (long long)((user + sys) * 1e6);
}

long long sbctl_view_inflight(const sbctl_stats_t *s) {
  long long n = 0;
  for (int i = 0; i < SBCTL_STAGES; i++)
    n += s->inflight[i];
  return n;
}

void sbctl_view_json(FILE *f, const sbctl_stats_t *s) {
  fputc('{', f);
  for (size_t i = 0; i < NFIELDS; i++)
    fprintf(f, "\"%s\":%lld,", fields[i].field, *(const long long *)((const char *)s + fields[i].offset));
  fprintf(f, "\"waiting\":%lld,\"resent\":%lld,\"in_flight\":{", s->waiting, s->resent);
  for (int i = 0; i < SBCTL_STAGES; i++)
    fprintf(f, "%s\"%s\":%lld", i ? "," : "", sbctl_stage_names[i], s->inflight[i]);
  fputs("}}", f);
}
