/*
 * sbctl_simulate: see sbctl_simulate.h. Three parts, in file order:
 *   1. inputs: the candidate tenant file with the roster's agents added to
 *      the tenant's route.agents, the recording read, admitted, classified
 *      and matched to a queue line by line (errors as FILE:LINE: reason);
 *   2. the engine: a heap of virtual instants; each event is one call of
 *      route.lua or route_tick.lua on the private Redis, whose decisions
 *      (assigned, pulled, queued, diverted) schedule the agents' next steps;
 *   3. the report: per channel and queue, agent groups, busiest hour.
 * Conversations are "c<n>"; agents "<group>-<n>" (sbctl_roster.h).
 */
#include "sbctl_simulate.h"
#include "sb_admit.h"
#include "sb_classify.h"
#include "sb_cloudevent.h"
#include "sb_keys.h"
#include "sb_redisd.h"
#include "sb_route.h"
#include "sb_ruleset.h"
#include "sb_script.h"
#include "sb_stage.h"
#include "sb_sla_policy.h"
#include "sb_time.h"
#include "sbctl_roster.h"
#include "sbctl_up.h"
#include "sbctl_view.h"

#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define US_PER_S ((int64_t)1000000)
#define US_PER_MS ((int64_t)1000)
#define MS_PER_MIN ((int64_t)60000)
#define US_PER_HOUR ((int64_t)3600000000)
#define LINE_BYTES_MAX (1u << 20)
#define BAD_LINES_SHOWN 10
#define TICK_BUDGET                                                            \
  "200" /* offers route_tick expires per call, as the service */
#define SIM_TTL_S "3600" /* expiry of what the scripts store (wall clock) */
#define QUEUES_MAX SB_ROUTE_QUEUES_MAX
#define NAME_LEN 72
#define PATH_LEN 4096

const sb_option_t sbctl_simulate_options[] = {
    {"roster", SB_OPT_STR, "", "simulate: the agent roster (JSON, see README)"},
    {"seed", SB_OPT_INT, "1",
     "simulate: seed of the agents' time models (same seed, same report)"},
    {"rate", SB_OPT_INT, "0",
     "simulate: spread lines without a time at this many messages per minute"},
    {"start", SB_OPT_STR, "2026-03-16T00:00:00Z",
     "simulate: time of the first line without a time (RFC 3339)"},
    {"drain-h", SB_OPT_INT, "72",
     "simulate: virtual hours after the last arrival to let queues drain"},
    {NULL, 0, NULL, NULL}};

/* ------------------------------------------------------------ small map */

typedef struct {
  char *key;
  int val;
} slot_t;

typedef struct {
  slot_t *s;
  size_t cap, n;
} strmap_t;

static uint64_t fnv(const char *k) {
  uint64_t h = 1469598103934665603ull;
  for (; *k; k++)
    h = (h ^ (unsigned char)*k) * 1099511628211ull;
  return h;
}

static slot_t *map_slot(strmap_t *m, const char *k) {
  size_t i = fnv(k) & (m->cap - 1);
  while (m->s[i].key && strcmp(m->s[i].key, k))
    i = (i + 1) & (m->cap - 1);
  return &m->s[i];
}

static int map_get(const strmap_t *m, const char *k) {
  if (!m->cap)
    return -1;
  slot_t *s = map_slot((strmap_t *)m, k);
  return s->key ? s->val : -1;
}

/* Sets k to v (v >= 0), or removes k (v < 0: tombstone kept as -1). */
static int map_put(strmap_t *m, const char *k, int v) {
  if (2 * (m->n + 1) > m->cap) {
    strmap_t g = {calloc(m->cap ? 2 * m->cap : 64, sizeof(slot_t)),
                  m->cap ? 2 * m->cap : 64, 0};
    if (!g.s)
      return -1;
    for (size_t i = 0; i < m->cap; i++)
      if (m->s[i].key)
        *map_slot(&g, m->s[i].key) = m->s[i], g.n++;
    free(m->s);
    *m = g;
  }
  slot_t *s = map_slot(m, k);
  if (!s->key) {
    if (!(s->key = strdup(k)))
      return -1;
    m->n++;
  }
  s->val = v;
  return 0;
}

static void map_free(strmap_t *m) {
  for (size_t i = 0; i < m->cap; i++)
    free(m->s[i].key);
  free(m->s);
  memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ the model */

typedef struct {
  int64_t t_us;
  long line;
  char thread[SB_ADMIT_THREAD_MAX]; /* "<channel>:<customer>" (route's sticky
                                       key) */
  char *conv_key; /* the recorded conversation, else the thread */
  int channel;
  sb_route_target_t target;
  const sb_sla_policy_t *policy;
  double handle_s; /* < 0: sampled */
} rec_t;

typedef struct {
  int rec, channel, agent, units, diverted;
  uint32_t gen;
  char queue[NAME_LEN];
  int64_t start_us, handled_us, reply_us, closed_us; /* -1: not yet */
  int64_t due_ms;                                    /* 0: no target */
} conv_t;

typedef struct {
  char id[NAME_LEN];
  int group, online, used, cap;
  int64_t mark_us, duty_us;
  double unit_us; /* integral of used/capacity over time on duty */
  long handled;
} agent_t;

enum { EV_ARRIVE, EV_LOGIN, EV_LOGOUT, EV_ACCEPT, EV_REPLY, EV_CLOSE, EV_TICK };

typedef struct {
  int64_t t;
  uint64_t seq;
  int kind, a;
  uint32_t gen;
} ev_t;

typedef struct {
  char id[NAME_LEN];
  int max_wait_s;
} queue_t;

typedef struct {
  /* inputs */
  sbctl_roster_t *roster;
  sb_tenants_t *tenants;
  const sb_tenant_t *tenant;
  sb_route_t *route;
  const sb_route_config_t *rc;
  sb_sla_policies_t *sla;
  sb_ruleset_t *rules;
  queue_t queues[QUEUES_MAX];
  size_t n_queues;
  int grace_s;
  rec_t *recs;
  size_t n_recs, cap_recs;
  long skipped, bad;
  int rate; /* --rate: untimed lines per minute, from start_ms */
  int64_t start_ms;
  /* state */
  conv_t *convs;
  size_t n_convs, cap_convs;
  agent_t *agents;
  size_t n_agents;
  strmap_t open_by_key, agent_by_id;
  ev_t *heap;
  size_t n_heap, cap_heap;
  uint64_t seq, rng, events, calls;
  int64_t now_us, last_tick_us, horizon_us, last_arrival_us;
  long open_convs;
  /* redis */
  sb_redisd_t *rd;
  redisContext *redis;
  char sha_route[48], sha_tick[48];
  char stats_key[SB_KEY_MAX], lease_key[SB_KEY_MAX];
  uint64_t keyseq;
  int failed;
} sim_t;

/* ================================================================ inputs */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0, k;
  do {
    if (n + 65536 > cap) {
      char *b = realloc(buf, (cap = 2 * cap + 65536) + 1);
      if (!b) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = b;
    }
    k = fread(buf + n, 1, cap - n, f);
    n += k;
  } while (k > 0);
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* The tenant file with the roster's agents in the tenant's route.agents
 * (the skills decide their queues, as for any agent of the file) and
 * without accounts and API keys (no secret is needed offline). */
static char *candidate_with_roster(const char *text, size_t len,
                                   const sbctl_roster_t *r,
                                   const char *tenant) {
  cJSON *root = cJSON_ParseWithLength(text, len);
  cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "tenants"), *t;
  char *out = NULL;
  cJSON_ArrayForEach(t, ts) {
    cJSON_DeleteItemFromObjectCaseSensitive(t, "accounts");
    cJSON_DeleteItemFromObjectCaseSensitive(t, "api_keys");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
    if (!cJSON_IsString(id) || strcmp(id->valuestring, tenant))
      continue;
    cJSON *route = cJSON_GetObjectItemCaseSensitive(t, "route");
    if (!route)
      route = cJSON_AddObjectToObject(t, "route");
    cJSON *agents = cJSON_GetObjectItemCaseSensitive(route, "agents");
    if (!agents)
      agents = cJSON_AddArrayToObject(route, "agents");
    for (size_t g = 0; agents && g < r->n_groups; g++)
      for (int i = 1; i <= r->groups[g].count; i++) {
        cJSON *a = cJSON_CreateObject();
        char name[NAME_LEN];
        snprintf(name, sizeof name, "%s-%d", r->groups[g].name, i);
        cJSON_AddStringToObject(a, "id", name);
        cJSON_AddItemToObject(a, "skills",
                              cJSON_Parse(r->groups[g].skills_json));
        cJSON_AddItemToArray(agents, a);
      }
  }
  if (root)
    out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return out;
}

/* The bundled corpus file rel (rules, lexicons), as `sbctl classify` finds it.
 */
static void bundled(const char *rel, char *out, size_t cap) {
  struct stat st;
  char dir[PATH_LEN / 2];
#ifdef SB_SOURCE_DIR
  snprintf(out, cap, "%.2000s/corpus/%s", SB_SOURCE_DIR, rel);
  if (stat(out, &st) == 0)
    return;
#endif
  sbctl_bindir(dir, sizeof dir);
  snprintf(out, cap, "%.2000s/../corpus/%s", dir, rel);
}

/* Queue ids with their max_wait_s, and the grace period, from the compiled
 * specs ("id|strategy|fair_max|fair_period_s|offer_s|hops|away|fallback|
 * max_wait_s|then" ';'-separated; windows "reopen_s|sticky_s|grace_s"). */
static void read_specs(sim_t *s) {
  const char *p = sb_route_config_all_specs(s->rc);
  while (*p && s->n_queues < QUEUES_MAX) {
    size_t n = strcspn(p, ";");
    char spec[1024];
    snprintf(spec, sizeof spec, "%.*s",
             (int)(n < sizeof spec ? n : sizeof spec - 1), p);
    queue_t *q = &s->queues[s->n_queues++];
    char *f = spec;
    for (int i = 0; f && i < 8; i++)
      f = strchr(f, '|') ? strchr(f, '|') + 1 : NULL;
    q->max_wait_s = f ? atoi(f) : 0;
    snprintf(q->id, sizeof q->id, "%.*s", (int)strcspn(spec, "|"), spec);
    p += n + (p[n] == ';');
  }
  const char *w = sb_route_config_windows(s->rc);
  w = strchr(w, '|') ? strchr(strchr(w, '|') + 1, '|') : NULL;
  s->grace_s = w ? atoi(w + 1) : 0;
}

static int max_wait_of(const sim_t *s, const char *queue) {
  for (size_t i = 0; i < s->n_queues; i++)
    if (strcmp(s->queues[i].id, queue) == 0)
      return s->queues[i].max_wait_s;
  return 0;
}

/* Tenants, routing, SLA and classify rules of the candidate. 0, 2 (file
 * unreadable) or 3 (invalid), with the reason printed. */
static int load_candidate(sim_t *s, const sb_config_t *c) {
  const char *path = sb_config_str(c, "tenants");
  char err[512];
  size_t len = 0;
  char *text = read_file(path, &len);
  if (!text) {
    fprintf(stderr, "sbctl simulate: %s: cannot read\n", path);
    return 2;
  }
  sb_tenants_t *plain = sb_tenants_parse(text, len, err, sizeof err);
  const char *tenant =
      *s->roster->tenant ? s->roster->tenant : sb_config_str(c, "tenant");
  if (plain && !*tenant && sb_tenants_count(plain) == 1)
    tenant = sb_tenants_at(plain, 0)->id;
  char *cand =
      plain ? candidate_with_roster(text, len, s->roster, tenant) : NULL;
  free(text);
  sb_tenants_destroy(&plain);
  if (!cand) {
    fprintf(stderr, "sbctl simulate: %s: %s (sbctl tenant %s shows the line)\n",
            path, err, path);
    return 3;
  }
  s->tenants = sb_tenants_parse(cand, strlen(cand), err, sizeof err);
  free(cand);
  s->tenant =
      s->tenants ? sb_tenants_find(s->tenants, tenant, strlen(tenant)) : NULL;
  if (!s->tenant) {
    fprintf(stderr, "sbctl simulate: %s: %s\n", path,
            s->tenants ? "no such tenant: name it in the roster (\"tenant\") "
                         "or with --tenant"
                       : err);
    return 3;
  }
  char rules[PATH_LEN], lex[PATH_LEN];
  bundled("rules/default.json", rules, sizeof rules);
  bundled("lexicons", lex, sizeof lex);
  sb_ruleset_source_t src = {s->tenants, NULL, rules, lex};
  if (!(s->route = sb_route_new(s->tenants, err, sizeof err)) ||
      !(s->sla = sb_sla_policies_new(s->tenant, err, sizeof err)) ||
      !(s->rules = sb_ruleset_build(&src, err, sizeof err))) {
    fprintf(stderr, "sbctl simulate: %s: %s\n", path, err);
    return 3;
  }
  s->rc = sb_route_config_of(s->route, s->tenant);
  read_specs(s);
  return 0;
}

/* ---------------------------------------------------------- recording */

static void bad_line(sim_t *s, const char *file, long line, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void bad_line(sim_t *s, const char *file, long line, const char *fmt,
                     ...) {
  if (s->bad++ >= BAD_LINES_SHOWN)
    return;
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s:%ld: %s\n", file, line, why);
}

static void rfc3339(int64_t ms, char *out, size_t cap) {
  time_t sec = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, cap - n, ".%03dZ", (int)(ms % 1000));
}

/* A line of the simple format as a CloudEvent object (owned), or NULL
 * with why: {"time", "tenant", "channel", "text", "public", "author",
 * "conversation", "handle_s"}. *time_ms: the line's time (0: none). */
static cJSON *simple_to_cloudevent(const cJSON *o, long line,
                                   const char *tenant, int64_t *time_ms,
                                   const char **why) {
  const cJSON *tm = cJSON_GetObjectItemCaseSensitive(o, "time");
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channel");
  const cJSON *tx = cJSON_GetObjectItemCaseSensitive(o, "text");
  const cJSON *au = cJSON_GetObjectItemCaseSensitive(o, "author");
  const cJSON *te = cJSON_GetObjectItemCaseSensitive(o, "tenant");
  const cJSON *au_id =
      cJSON_IsObject(au) ? cJSON_GetObjectItemCaseSensitive(au, "id") : au;
  *time_ms = 0;
  if (tm && !cJSON_IsString(tm) && !(cJSON_IsNumber(tm) && tm->valuedouble > 0))
    return *why = "\"time\" must be RFC 3339 text or epoch milliseconds", NULL;
  if (!cJSON_IsString(ch) || !cJSON_IsString(tx))
    return *why = "\"channel\" and \"text\" must be strings", NULL;
  if (!cJSON_IsString(au_id) || !*au_id->valuestring)
    return *why = "\"author\" must be an id (string) or {\"id\": ..., "
                  "\"followers\": n}",
           NULL;
  if (te && !cJSON_IsString(te))
    return *why = "\"tenant\" must be a string", NULL;
  char id[32], when[40];
  snprintf(id, sizeof id, "sim-%ld", line);
  cJSON *ce = cJSON_CreateObject(), *data = cJSON_CreateObject(),
        *author = cJSON_CreateObject();
  cJSON_AddStringToObject(ce, "specversion", "1.0");
  cJSON_AddStringToObject(ce, "id", id);
  cJSON_AddStringToObject(ce, "source", "/simulate");
  cJSON_AddStringToObject(ce, "type", SB_TYPE_INTERACTION);
  cJSON_AddStringToObject(ce, "tenant", te ? te->valuestring : tenant);
  if (cJSON_IsNumber(tm)) {
    *time_ms = (int64_t)tm->valuedouble;
    rfc3339(*time_ms, when, sizeof when);
    cJSON_AddStringToObject(ce, "time", when);
  } else if (tm) {
    cJSON_AddStringToObject(ce, "time", tm->valuestring);
  }
  cJSON_AddStringToObject(data, "channel", ch->valuestring);
  cJSON_AddStringToObject(data, "customer", au_id->valuestring);
  cJSON_AddStringToObject(data, "text", tx->valuestring);
  cJSON_AddBoolToObject(
      data, "public",
      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "public")));
  const cJSON *fol = cJSON_IsObject(au)
                         ? cJSON_GetObjectItemCaseSensitive(au, "followers")
                         : NULL;
  cJSON_AddNumberToObject(
      author, "followers",
      cJSON_IsNumber(fol) && fol->valuedouble > 0 ? fol->valuedouble : 0);
  cJSON_AddItemToObject(data, "author", author);
  cJSON_AddItemToObject(ce, "data", data);
  return ce;
}

/* Admits, classifies and matches one CloudEvent; fills r. 0 or -1 with why. */
static int understand(sim_t *s, const sb_cloudevent_t *ce, rec_t *r,
                      const char **why) {
  static char reason[200];
  sb_admit_result_t ar;
  sb_envelope_t *env = sb_admit_cloudevent(ce, s->tenants, &ar);
  if (!env) {
    snprintf(reason, sizeof reason, "%s", ar.reason);
    return *why = reason, -1;
  }
  if (!env->interaction) {
    sb_envelope_free(env);
    return *why = "not a customer message (type com.switchboard.interaction)",
           -1;
  }
  const Switchboard__V1__Interaction *in = env->interaction;
  const sb_rules_t *rules = NULL;
  sb_classify_t *cl = sb_ruleset_classifier(s->rules, s->tenant, &rules);
  sb_classify_input_t input = {.text = in->text,
                               .len = strlen(in->text),
                               .is_public = in->public_,
                               .customer = in->customer,
                               .followers =
                                   in->author ? in->author->followers : 0};
  sb_classify_verdict_t v;
  memset(&v, 0, sizeof v);
  int rc = cl ? sb_classify_message(cl, &input, &v) : -1;
  if (rc == 0)
    rc = sb_classify_envelope_apply_rules(env, &v, rules);
  sb_classify_verdict_clear(&v);
  if (rc == 0) {
    r->channel = (int)in->channel;
    r->target = sb_route_config_match(s->rc, env);
    r->policy = sb_sla_policies_match(
        s->sla, r->channel, sb_sla_priority_band(env->classification));
    snprintf(r->thread, sizeof r->thread, "%s", ar.thread);
  }
  sb_envelope_free(env);
  return rc ? (*why = "classification failed", -1) : 0;
}

/* One line: 0 (kept or skipped) or -1 (reported). */
static int read_line(sim_t *s, const char *file, long line, const char *buf,
                     size_t n, long *untimed) {
  const char *why = NULL;
  cJSON *o = cJSON_ParseWithLength(buf, n), *ce_json = NULL;
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    bad_line(s, file, line, "not a JSON object");
    return -1;
  }
  int64_t t_ms = 0;
  int is_ce = cJSON_GetObjectItemCaseSensitive(o, "specversion") != NULL;
  if (!is_ce &&
      !(ce_json = simple_to_cloudevent(o, line, s->tenant->id, &t_ms, &why))) {
    cJSON_Delete(o);
    bad_line(s, file, line, "%s", why);
    return -1;
  }
  char *text = is_ce ? NULL : cJSON_PrintUnformatted(ce_json);
  sb_cloudevent_t *ev = NULL;
  size_t nev = 0;
  char err[256];
  int rc = sb_cloudevent_parse(text ? text : buf, text ? strlen(text) : n, NULL,
                               &ev, &nev, err, sizeof err, NULL);
  free(text);
  cJSON_Delete(ce_json);
  rec_t r = {.line = line, .handle_s = -1};
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "handle_s");
  const cJSON *conv = cJSON_GetObjectItemCaseSensitive(o, "conversation");
  if (rc == 0 && h &&
      !(cJSON_IsNumber(h) && h->valuedouble >= 0 &&
        h->valuedouble <= SBCTL_ROSTER_SECONDS_MAX))
    rc = -1,
    snprintf(err, sizeof err, "\"handle_s\" must be seconds from 0 to %g",
             SBCTL_ROSTER_SECONDS_MAX);
  if (rc == 0 && conv && (!cJSON_IsString(conv) || !*conv->valuestring))
    rc = -1,
    snprintf(err, sizeof err, "\"conversation\" must be a non-empty string");
  int other = rc == 0 && strcmp(ev[0].tenant, s->tenant->id) != 0;
  if (rc == 0 && !other && understand(s, &ev[0], &r, &why))
    rc = -1, snprintf(err, sizeof err, "%s", why);
  int64_t ms = rc == 0 ? (ev[0].time_ms ? ev[0].time_ms : t_ms) : 0;
  sb_cloudevent_free(&ev, nev);
  if (rc == 0 && !other && ms == 0) {
    if (s->rate <= 0)
      rc = -1,
      snprintf(
          err, sizeof err,
          "no \"time\": give --rate N to spread untimed lines (N a minute)");
    else
      ms = s->start_ms + (*untimed)++ * MS_PER_MIN / s->rate;
  }
  if (rc == 0 && !other) {
    r.t_us = ms * US_PER_MS;
    r.handle_s = h ? h->valuedouble : -1;
    r.conv_key = strdup(conv ? conv->valuestring : r.thread);
  }
  cJSON_Delete(o);
  if (rc) {
    bad_line(s, file, line, "%s", err);
    return -1;
  }
  if (other) {
    s->skipped++;
    return 0;
  }
  if (s->n_recs == s->cap_recs) {
    rec_t *g =
        realloc(s->recs, (s->cap_recs = 2 * s->cap_recs + 1024) * sizeof *g);
    if (!g)
      return free(r.conv_key), -1;
    s->recs = g;
  }
  s->recs[s->n_recs++] = r;
  return 0;
}

/* --start as unix ms, read by the CloudEvents time parser (the one
 * RFC 3339 reader of the code base). 0 or -1. */
static int parse_start(const char *when, int64_t *ms) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "specversion", "1.0");
  cJSON_AddStringToObject(o, "id", "start");
  cJSON_AddStringToObject(o, "source", "/simulate");
  cJSON_AddStringToObject(o, "type", SB_TYPE_INTERACTION);
  cJSON_AddStringToObject(o, "tenant", "t");
  cJSON_AddStringToObject(o, "time", when);
  char *text = cJSON_PrintUnformatted(o);
  sb_cloudevent_t *ev = NULL;
  size_t n = 0;
  int rc = text ? sb_cloudevent_parse(text, strlen(text), NULL, &ev, &n, NULL,
                                      0, NULL)
                : -1;
  *ms = rc == 0 ? ev[0].time_ms : 0;
  sb_cloudevent_free(&ev, n);
  free(text);
  cJSON_Delete(o);
  return rc == 0 && *ms > 0 ? 0 : -1;
}

static int by_time(const void *a, const void *b) {
  const rec_t *x = a, *y = b;
  return x->t_us < y->t_us   ? -1
         : x->t_us > y->t_us ? 1
                             : (x->line > y->line) - (x->line < y->line);
}

/* 0, 2 (unreadable) or 3 (bad lines, reported). */
static int load_recording(sim_t *s, const char *file) {
  FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
  if (!f) {
    fprintf(stderr, "sbctl simulate: %s: cannot open\n", file);
    return 2;
  }
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n;
  long line = 0, untimed = 0;
  while ((n = getline(&buf, &cap, f)) >= 0) {
    line++;
    if (strspn(buf, " \t\r\n") == (size_t)n)
      continue;
    if ((size_t)n > LINE_BYTES_MAX)
      bad_line(s, file, line, "longer than %u bytes", LINE_BYTES_MAX);
    else
      read_line(s, file, line, buf, (size_t)n, &untimed);
  }
  free(buf);
  if (f != stdin)
    fclose(f);
  if (s->bad > BAD_LINES_SHOWN)
    fprintf(stderr, "%s: %ld bad lines in all\n", file, s->bad);
  if (!s->bad && !s->n_recs)
    fprintf(stderr, "%s: no message of tenant %s\n", file, s->tenant->id),
        s->bad = 1;
  if (s->bad)
    return 3;
  qsort(s->recs, s->n_recs, sizeof *s->recs, by_time);
  return 0;
}

/* ================================================================ engine */

static int push(sim_t *s, int64_t t, int kind, int a, uint32_t gen) {
  if (s->n_heap == s->cap_heap) {
    ev_t *g =
        realloc(s->heap, (s->cap_heap = 2 * s->cap_heap + 1024) * sizeof *g);
    if (!g)
      return s->failed = 1, -1;
    s->heap = g;
  }
  ev_t e = {t, s->seq++, kind, a, gen};
  size_t i = s->n_heap++;
  while (i > 0) {
    ev_t *p = &s->heap[(i - 1) / 2];
    if (p->t < e.t || (p->t == e.t && p->seq < e.seq))
      break;
    s->heap[i] = *p;
    i = (i - 1) / 2;
  }
  s->heap[i] = e;
  return 0;
}

static ev_t pop(sim_t *s) {
  ev_t top = s->heap[0], last = s->heap[--s->n_heap];
  size_t i = 0;
  for (;;) {
    size_t k = 2 * i + 1;
    if (k >= s->n_heap)
      break;
    if (k + 1 < s->n_heap && (s->heap[k + 1].t < s->heap[k].t ||
                              (s->heap[k + 1].t == s->heap[k].t &&
                               s->heap[k + 1].seq < s->heap[k].seq)))
      k++;
    if (last.t < s->heap[k].t ||
        (last.t == s->heap[k].t && last.seq < s->heap[k].seq))
      break;
    s->heap[i] = s->heap[k];
    i = k;
  }
  s->heap[i] = last;
  return top;
}

/* ----------------------------------------------------------- accounting */

/* Brings an agent's duty and busy integrals up to now. */
static void agent_advance(sim_t *s, agent_t *a) {
  int64_t dt = s->now_us - a->mark_us;
  if (dt > 0 && (a->online || a->used > 0)) {
    a->duty_us += dt;
    a->unit_us += (double)dt * (a->used < a->cap ? a->used : a->cap) / a->cap;
  }
  a->mark_us = s->now_us;
}

static void agent_units(sim_t *s, int agent, int delta) {
  if (agent < 0)
    return;
  agent_t *a = &s->agents[agent];
  agent_advance(s, a);
  a->used += delta;
  if (a->used < 0)
    a->used = 0;
}

/* The conversation leaves its agent (closed, re-queued, moved on). */
static void conv_release(sim_t *s, conv_t *cv) {
  agent_units(s, cv->agent, -cv->units);
  cv->agent = -1;
  cv->gen++;
}

static void conv_end(sim_t *s, int ci, int diverted) {
  conv_t *cv = &s->convs[ci];
  if (cv->closed_us >= 0)
    return;
  conv_release(s, cv);
  cv->closed_us = s->now_us;
  cv->diverted = diverted;
  s->open_convs--;
  const char *key = s->recs[cv->rec].conv_key;
  if (map_get(&s->open_by_key, key) == ci)
    map_put(&s->open_by_key, key, -1);
}

/* ---------------------------------------------------------- redis calls */

static redisReply *command(sim_t *s, int argc, const char **argv) {
  size_t lens[40];
  for (int i = 0; i < argc; i++)
    lens[i] = strlen(argv[i]);
  s->calls++;
  redisReply *r = redisCommandArgv(s->redis, argc, argv, lens);
  if (!r || r->type == REDIS_REPLY_ERROR) {
    fprintf(stderr, "sbctl simulate: redis: %s\n",
            r ? r->str : s->redis->errstr);
    s->failed = 1;
    if (r)
      freeReplyObject(r);
    return NULL;
  }
  return r;
}

/* route.lua on one item (kind "m" or "a" with its 9 arguments): the
 * decision (owned), or NULL (a failed call stops the run). The item's
 * lease is recorded first, as the previous stage would have. */
static Switchboard__V1__Envelope *
route_call(sim_t *s, const char *const extra[SB_ROUTE_NEXTRA]) {
  char key[32], now[24], deadline[24];
  snprintf(key, sizeof key, "s%" PRIu64, ++s->keyseq);
  snprintf(now, sizeof now, "%" PRId64, s->now_us);
  snprintf(deadline, sizeof deadline, "%" PRId64,
           s->now_us / US_PER_MS + 60000);
  const char *zadd[] = {"ZADD", s->lease_key, "0", key};
  redisReply *z = command(s, 4, zadd);
  if (!z)
    return NULL;
  freeReplyObject(z);
  const char *argv[12 + 2 + SB_ROUTE_NEXTRA] = {
      "EVALSHA", s->sha_route, "1",  s->stats_key, now, deadline, "sim",
      "",        "routed",     "10", SIM_TTL_S,    key, ""};
  for (int i = 0; i < SB_ROUTE_NEXTRA; i++)
    argv[13 + i] = extra[i];
  redisReply *r = command(s, 13 + SB_ROUTE_NEXTRA, argv);
  Switchboard__V1__Envelope *d = NULL;
  const redisReply *suffix =
      r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 ? sb_stage_reply_suffix(r->element[0]) : NULL;
  if (suffix)
    d = switchboard__v1__envelope__unpack(NULL, suffix->len, (const uint8_t *)suffix->str);
  if (r && !d)
    fprintf(stderr, "sbctl simulate: route.lua gave no decision\n"),
        s->failed = 1;
  if (r)
    freeReplyObject(r);
  return d;
}

static void apply(sim_t *s, const Switchboard__V1__RoutingDecision *d);

static Switchboard__V1__Envelope *agent_call(sim_t *s, const char *action,
                                             int agent, const char *conv,
                                             const char *spec) {
  char cap[16];
  snprintf(cap, sizeof cap, "%d", s->agents[agent].cap);
  const char *extra[SB_ROUTE_NEXTRA] = {
      "a", action, s->agents[agent].id, conv, cap, spec, "", "", "", ""};
  Switchboard__V1__Envelope *e = route_call(s, extra);
  if (e && e->routing)
    apply(s, e->routing);
  return e;
}

static void schedule_tick(sim_t *s, int64_t at_us) {
  if (sb_route_config_offers(s->rc))
    push(s, at_us > s->now_us ? at_us : s->now_us, EV_TICK, 0, 0);
}

/* ---------------------------------------------------------- the agents */

static double sample(sim_t *s, const sbctl_dist_t *d) {
  return d ? sbctl_dist_sample(d, &s->rng) : 0;
}

/* The agent starts on the conversation: first reply and close scheduled. */
static void start_handling(sim_t *s, int ci) {
  conv_t *cv = &s->convs[ci];
  const agent_t *a = &s->agents[cv->agent];
  const sbctl_roster_group_t *g = &s->roster->groups[a->group];
  const char *ch = sb_channel_name((Switchboard__V1__Channel)cv->channel);
  const rec_t *r = &s->recs[cv->rec];
  double handle =
      r->handle_s >= 0 ? r->handle_s : sample(s, sbctl_roster_handle(g, ch));
  const sbctl_dist_t *rd = sbctl_roster_first_reply(g, ch);
  double reply = rd ? sample(s, rd) : handle;
  if (reply > handle)
    reply = handle;
  if (cv->handled_us < 0)
    cv->handled_us = s->now_us;
  if (cv->reply_us < 0)
    push(s, s->now_us + (int64_t)(reply * US_PER_S), EV_REPLY, ci, cv->gen);
  push(s, s->now_us + (int64_t)(handle * US_PER_S) + 1, EV_CLOSE, ci, cv->gen);
}

/* conv is now with agent (an assignment or an offer). */
static void assigned(sim_t *s, const char *conv, const char *agent,
                     const char *queue, int64_t offer_until_ms) {
  int ci = conv[0] == 'c' ? atoi(conv + 1) : -1,
      ai = map_get(&s->agent_by_id, agent);
  if (ci < 0 || (size_t)ci >= s->n_convs || ai < 0 ||
      s->convs[ci].closed_us >= 0)
    return;
  conv_t *cv = &s->convs[ci];
  conv_release(s, cv);
  cv->agent = ai;
  agent_units(s, ai, cv->units);
  if (queue && *queue)
    snprintf(cv->queue, sizeof cv->queue, "%s", queue);
  if (offer_until_ms > 0) {
    const sbctl_roster_group_t *g = &s->roster->groups[s->agents[ai].group];
    push(s, s->now_us + (int64_t)(sample(s, &g->accept) * US_PER_S), EV_ACCEPT,
         ci, cv->gen);
    schedule_tick(s, offer_until_ms * US_PER_MS);
  } else {
    start_handling(s, ci);
  }
}

/* What a decision of route.lua or route_tick.lua means for the model. */
static void apply(sim_t *s, const Switchboard__V1__RoutingDecision *d) {
  int ci = d->conversation && d->conversation[0] == 'c'
               ? atoi(d->conversation + 1)
               : -1;
  conv_t *cv = ci >= 0 && (size_t)ci < s->n_convs ? &s->convs[ci] : NULL;
  switch (d->outcome) {
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_ASSIGNED:
    assigned(s, d->conversation, d->agent, d->queue, d->offer_expires_ms);
    break;
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_QUEUED:
    if (cv && cv->closed_us < 0) {
      if (cv->agent >= 0) /* an offer that timed out with no one to take it */
        conv_release(s, cv);
      if (d->queue && *d->queue)
        snprintf(cv->queue, sizeof cv->queue, "%s", d->queue);
      if (max_wait_of(s, cv->queue) > 0)
        schedule_tick(s, s->now_us + max_wait_of(s, cv->queue) * US_PER_S);
    }
    break;
  case SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_DIVERTED:
    if (cv)
      conv_end(s, ci, 1);
    break;
  default:
    break;
  }
  for (size_t i = 0; i < d->n_pulled; i++)
    assigned(s, d->pulled[i]->conversation, d->pulled[i]->agent,
             d->pulled[i]->queue, d->pulled[i]->offer_expires_ms);
}

/* ---------------------------------------------------------- the events */

static void on_arrive(sim_t *s, int ri) {
  const rec_t *r = &s->recs[ri];
  int ci = map_get(&s->open_by_key, r->conv_key);
  if (ci < 0) { /* a new conversation */
    if (s->n_convs == s->cap_convs) {
      conv_t *g = realloc(s->convs,
                          (s->cap_convs = 2 * s->cap_convs + 1024) * sizeof *g);
      if (!g) {
        s->failed = 1;
        return;
      }
      s->convs = g;
    }
    ci = (int)s->n_convs++;
    conv_t *cv = &s->convs[ci];
    *cv = (conv_t){.rec = ri,
                   .channel = r->channel,
                   .agent = -1,
                   .units = r->target.units,
                   .start_us = s->now_us,
                   .handled_us = -1,
                   .reply_us = -1,
                   .closed_us = -1};
    snprintf(cv->queue, sizeof cv->queue, "%.*s",
             (int)strcspn(r->target.queue_spec, "|"), r->target.queue_spec);
    sb_sla_due_t due;
    if (sb_sla_policy_due(r->policy, SB_SLA_FIRST_RESPONSE,
                          s->now_us / US_PER_MS, &due) == 0)
      cv->due_ms = due.breach_due_ms;
    map_put(&s->open_by_key, r->conv_key, ci);
    s->open_convs++;
  }
  conv_t *cv = &s->convs[ci];
  char conv[24], started[24], prio[16], units[16];
  snprintf(conv, sizeof conv, "c%d", ci);
  snprintf(started, sizeof started, "%" PRId64, cv->start_us / US_PER_MS);
  snprintf(prio, sizeof prio, "%d", r->target.priority);
  snprintf(units, sizeof units, "%d", r->target.units);
  const char *extra[SB_ROUTE_NEXTRA] = {
      "m",
      conv,
      r->thread,
      started,
      sb_channel_name((Switchboard__V1__Channel)r->channel),
      r->target.queue_spec,
      prio,
      units,
      r->target.rule,
      sb_route_config_windows(s->rc)};
  Switchboard__V1__Envelope *e = route_call(s, extra);
  if (e && e->routing)
    apply(s, e->routing);
  switchboard__v1__envelope__free_unpacked(e, NULL);
}

static void on_shift(sim_t *s, int ai, int login) {
  agent_t *a = &s->agents[ai];
  if (a->online == login)
    return;
  agent_advance(s, a);
  a->online = login;
  const char *spec = login ? sb_route_config_agent_spec(s->rc, a->id)
                           : sb_route_config_windows(s->rc);
  switchboard__v1__envelope__free_unpacked(
      agent_call(s, login ? "login" : "logout", ai, "", spec), NULL);
  if (!login && a->used > 0 && s->grace_s > 0)
    schedule_tick(s, s->now_us + s->grace_s * US_PER_S);
}

/* accept, reply or close by the conversation's agent, if still its own. */
static void on_step(sim_t *s, const ev_t *e) {
  conv_t *cv = &s->convs[e->a];
  if (cv->gen != e->gen || cv->agent < 0 || cv->closed_us >= 0)
    return; /* moved on meanwhile: the step is void */
  char conv[24];
  snprintf(conv, sizeof conv, "c%d", e->a);
  int ai = cv->agent;
  const char *action = e->kind == EV_ACCEPT  ? "accept"
                       : e->kind == EV_REPLY ? "reply"
                                             : "close";
  Switchboard__V1__Envelope *env = agent_call(s, action, ai, conv, "");
  int ok =
      env && env->routing &&
      env->routing->outcome == SWITCHBOARD__V1__ROUTE_OUTCOME__ROUTE_AGENT_OK;
  switchboard__v1__envelope__free_unpacked(env, NULL);
  if (!ok)
    return;
  if (e->kind == EV_ACCEPT) {
    start_handling(s, e->a);
  } else if (e->kind == EV_REPLY) {
    cv->reply_us = s->now_us;
  } else {
    s->agents[ai].handled++;
    conv_end(s, e->a, 0);
  }
}

static void on_tick(sim_t *s) {
  if (s->last_tick_us == s->now_us)
    return;
  s->last_tick_us = s->now_us;
  char now[24], deadline[24];
  snprintf(now, sizeof now, "%" PRId64, s->now_us);
  snprintf(deadline, sizeof deadline, "%" PRId64,
           s->now_us / US_PER_MS + 60000);
  const char *argv[] = {
      "EVALSHA",    s->sha_tick,   "1",
      s->stats_key, now,           deadline,
      TICK_BUDGET,  s->tenant->id, sb_route_config_all_specs(s->rc),
      "simsla",     SIM_TTL_S};
  redisReply *r = command(s, 11, argv);
  if (!r)
    return;
  for (size_t i = 1; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
    Switchboard__V1__Envelope *e = switchboard__v1__envelope__unpack(
        NULL, r->element[i]->len, (const uint8_t *)r->element[i]->str);
    if (e && e->routing)
      apply(s, e->routing);
    switchboard__v1__envelope__free_unpacked(e, NULL);
  }
  if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
      r->element[0]->integer > 0)
    schedule_tick(s, r->element[0]->integer * US_PER_MS);
  const char *del[] = {"DEL", s->lease_key};
  freeReplyObject(r);
  if ((r = command(s, 2, del)))
    freeReplyObject(r);
}

/* ----------------------------------------------------------- the setup */

/* Agents, and their logins and logouts at every shift edge (minutes of
 * the group's calendar in tz) from the first arrival to the horizon. */
static int plan_agents(sim_t *s, const char *tz) {
  s->agents = calloc((size_t)s->roster->agents + 1, sizeof *s->agents);
  if (!s->agents)
    return -1;
  int64_t from_ms = s->recs[0].t_us / US_PER_MS / MS_PER_MIN * MS_PER_MIN;
  for (size_t g = 0; g < s->roster->n_groups; g++) {
    const sbctl_roster_group_t *grp = &s->roster->groups[g];
    char err[256];
    sb_calendar_t *cal =
        grp->n_shifts ? sb_calendar_new(tz, err, sizeof err) : NULL;
    if (grp->n_shifts && !cal) {
      fprintf(stderr, "sbctl simulate: roster: tz: %s\n", err);
      return -1;
    }
    for (size_t k = 0; cal && k < grp->n_shifts; k++)
      sb_calendar_add_shift(cal, grp->shifts[k].wday, grp->shifts[k].start_min,
                            grp->shifts[k].end_min);
    size_t first = s->n_agents;
    for (int i = 1; i <= grp->count; i++) {
      agent_t *a = &s->agents[s->n_agents];
      snprintf(a->id, sizeof a->id, "%s-%d", grp->name, i);
      a->group = (int)g, a->cap = grp->capacity, a->mark_us = s->recs[0].t_us;
      map_put(&s->agent_by_id, a->id, (int)s->n_agents++);
    }
    int was = 0;
    for (int64_t t = from_ms; t <= s->horizon_us / US_PER_MS; t += MS_PER_MIN) {
      int open = cal ? sb_calendar_is_open(cal, t) : 1;
      if (open != was)
        for (size_t a = first; a < s->n_agents; a++)
          push(s, t < from_ms ? from_ms * US_PER_MS : t * US_PER_MS,
               open ? EV_LOGIN : EV_LOGOUT, (int)a, 0);
      was = open;
      if (!cal)
        break;
    }
    sb_calendar_destroy(&cal);
  }
  return 0;
}

static int load_script(sim_t *s, const char *body, char *sha) {
  char *lib = sb_route_script(body), *src = lib ? sb_script_source(lib) : NULL;
  const char *argv[] = {"SCRIPT", "LOAD", src ? src : ""};
  redisReply *r = src ? command(s, 3, argv) : NULL;
  int ok = r && r->type == REDIS_REPLY_STRING;
  if (ok)
    snprintf(sha, 48, "%s", r->str);
  if (r)
    freeReplyObject(r);
  free(lib);
  free(src);
  return ok ? 0 : -1;
}

static int start_redis(sim_t *s) {
  if (!(s->rd = sb_redisd_start(NULL)) ||
      !(s->redis = sbctl_view_connect(sb_redisd_url(s->rd)))) {
    fprintf(stderr, "sbctl simulate: could not start a private redis-server\n");
    return -1;
  }
  sb_key_tenant(s->stats_key, sizeof s->stats_key, s->tenant->id, "stats");
  sb_key_tenant(s->lease_key, sizeof s->lease_key, s->tenant->id, "lease:sim");
  return load_script(s, sb_script_route, s->sha_route) ||
         load_script(s, sb_script_route_tick, s->sha_tick);
}

static void run(sim_t *s) {
  for (size_t i = 0; i < s->n_recs; i++)
    push(s, s->recs[i].t_us, EV_ARRIVE, (int)i, 0);
  while (s->n_heap && !s->failed) {
    ev_t e = pop(s);
    if (e.t > s->horizon_us || (e.t > s->last_arrival_us && s->open_convs == 0))
      break;
    s->now_us = e.t;
    s->events++;
    if (e.kind == EV_ARRIVE)
      on_arrive(s, e.a);
    else if (e.kind == EV_LOGIN || e.kind == EV_LOGOUT)
      on_shift(s, e.a, e.kind == EV_LOGIN);
    else if (e.kind == EV_TICK)
      on_tick(s);
    else
      on_step(s, &e);
  }
  for (size_t i = 0; i < s->n_agents; i++)
    agent_advance(s, &s->agents[i]);
}

/* ================================================================ report */

typedef struct {
  char name[NAME_LEN];
  long convs, answered, within, promised, diverted, unanswered;
  double *assign_s, *reply_s;
  size_t n_assign, n_reply;
} agg_t;

typedef struct {
  agg_t *a;
  size_t n;
} aggs_t;

static agg_t *agg_of(aggs_t *g, const char *name, size_t max) {
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->a[i].name, name) == 0)
      return &g->a[i];
  agg_t *a = &g->a[g->n++];
  snprintf(a->name, sizeof a->name, "%s", name);
  a->assign_s = calloc(max + 1, sizeof(double));
  a->reply_s = calloc(max + 1, sizeof(double));
  return a;
}

static void agg_add(agg_t *a, const conv_t *cv) {
  a->convs++;
  if (!a->assign_s || !a->reply_s)
    return;
  if (cv->handled_us >= 0)
    a->assign_s[a->n_assign++] =
        (double)(cv->handled_us - cv->start_us) / US_PER_S;
  if (cv->reply_us >= 0) {
    a->answered++;
    a->reply_s[a->n_reply++] = (double)(cv->reply_us - cv->start_us) / US_PER_S;
  }
  a->diverted += cv->diverted;
  a->unanswered += cv->reply_us < 0 && !cv->diverted;
  if (cv->due_ms > 0) {
    a->promised++;
    a->within += cv->reply_us >= 0 && cv->reply_us / US_PER_MS <= cv->due_ms;
  }
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static cJSON *waits(double *v, size_t n) {
  cJSON *o = cJSON_CreateObject();
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += v[i];
  qsort(v, n, sizeof *v, cmp_double);
  size_t k = n ? (size_t)ceil(0.9 * (double)n) - 1 : 0;
  cJSON_AddItemToObject(o, "avg",
                        n ? cJSON_CreateNumber(round(sum / (double)n * 10) / 10)
                          : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "p90",
                        n ? cJSON_CreateNumber(round(v[k] * 10) / 10)
                          : cJSON_CreateNull());
  return o;
}

static cJSON *agg_json(aggs_t *g, const char *label) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < g->n; i++) {
    agg_t *a = &g->a[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, label, a->name);
    cJSON_AddNumberToObject(o, "conversations", (double)a->convs);
    cJSON_AddNumberToObject(o, "answered", (double)a->answered);
    cJSON_AddNumberToObject(o, "with_target", (double)a->promised);
    cJSON_AddNumberToObject(o, "answered_within_target", (double)a->within);
    cJSON_AddItemToObject(
        o, "service_level",
        a->promised ? cJSON_CreateNumber(round(1000.0 * (double)a->within /
                                               (double)a->promised) /
                                         1000)
                    : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "wait_to_assignment_s",
                          waits(a->assign_s, a->n_assign));
    cJSON_AddItemToObject(o, "wait_to_first_response_s",
                          waits(a->reply_s, a->n_reply));
    cJSON_AddNumberToObject(o, "diverted", (double)a->diverted);
    cJSON_AddNumberToObject(o, "unanswered", (double)a->unanswered);
    cJSON_AddItemToArray(arr, o);
    free(a->assign_s);
    free(a->reply_s);
  }
  free(g->a);
  return arr;
}

static cJSON *groups_json(const sim_t *s) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t g = 0; g < s->roster->n_groups; g++) {
    double duty = 0, busy = 0;
    long handled = 0;
    for (size_t i = 0; i < s->n_agents; i++)
      if (s->agents[i].group == (int)g)
        duty += (double)s->agents[i].duty_us, busy += s->agents[i].unit_us,
            handled += s->agents[i].handled;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "group", s->roster->groups[g].name);
    cJSON_AddNumberToObject(o, "agents", s->roster->groups[g].count);
    cJSON_AddNumberToObject(o, "logged_in_h",
                            round(duty / US_PER_HOUR * 10) / 10);
    cJSON_AddNumberToObject(o, "busy_h", round(busy / US_PER_HOUR * 10) / 10);
    cJSON_AddItemToObject(
        o, "occupancy",
        duty > 0 ? cJSON_CreateNumber(round(busy / duty * 1000) / 1000)
                 : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "conversations_closed", (double)handled);
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

static cJSON *busiest_hour(const sim_t *s) {
  int64_t best = 0, best_n = 0, cur = -1, n = 0;
  for (size_t i = 0; i <= s->n_recs; i++) {
    int64_t h = i < s->n_recs ? s->recs[i].t_us / US_PER_HOUR : -2;
    if (h != cur) {
      if (n > best_n)
        best_n = n, best = cur;
      cur = h, n = 0;
    }
    n++;
  }
  char when[40];
  rfc3339(best * US_PER_HOUR / US_PER_MS, when, sizeof when);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "start", when);
  cJSON_AddNumberToObject(o, "arrivals", (double)best_n);
  return o;
}

static cJSON *report(sim_t *s, uint64_t seed, double wall_s) {
  aggs_t ch = {calloc(s->n_convs + 1, sizeof(agg_t)), 0},
         qs = {calloc(s->n_convs + 1, sizeof(agg_t)), 0};
  for (size_t i = 0; ch.a && qs.a && i < s->n_convs; i++) {
    const conv_t *cv = &s->convs[i];
    agg_add(agg_of(&ch, sb_channel_name((Switchboard__V1__Channel)cv->channel),
                   s->n_convs),
            cv);
    agg_add(agg_of(&qs, cv->queue, s->n_convs), cv);
  }
  cJSON *o = cJSON_CreateObject(), *period = cJSON_CreateObject(),
        *runo = cJSON_CreateObject();
  char from[40], to[40];
  rfc3339(s->recs[0].t_us / US_PER_MS, from, sizeof from);
  rfc3339(s->now_us / US_PER_MS, to, sizeof to);
  cJSON_AddStringToObject(o, "tenant", s->tenant->id);
  cJSON_AddNumberToObject(o, "seed", (double)seed);
  cJSON_AddStringToObject(period, "from", from);
  cJSON_AddStringToObject(period, "to", to);
  cJSON_AddItemToObject(o, "period", period);
  cJSON_AddNumberToObject(o, "messages", (double)s->n_recs);
  cJSON_AddNumberToObject(o, "conversations", (double)s->n_convs);
  cJSON_AddNumberToObject(o, "skipped_other_tenants", (double)s->skipped);
  cJSON_AddItemToObject(o, "channels", agg_json(&ch, "channel"));
  cJSON_AddItemToObject(o, "queues", agg_json(&qs, "queue"));
  cJSON_AddItemToObject(o, "agent_groups", groups_json(s));
  cJSON_AddItemToObject(o, "busiest_hour", busiest_hour(s));
  double virt = (double)(s->now_us - s->recs[0].t_us) / US_PER_S;
  cJSON_AddNumberToObject(runo, "events", (double)s->events);
  cJSON_AddNumberToObject(runo, "redis_calls", (double)s->calls);
  cJSON_AddNumberToObject(runo, "wall_s", round(wall_s * 1000) / 1000);
  cJSON_AddNumberToObject(
      runo, "events_per_s",
      round((double)s->events / (wall_s > 0 ? wall_s : 1e-9)));
  cJSON_AddNumberToObject(runo, "virtual_s", round(virt));
  cJSON_AddNumberToObject(runo, "speedup",
                          round(virt / (wall_s > 0 ? wall_s : 1e-9)));
  cJSON_AddItemToObject(o, "run", runo);
  return o;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void print_rows(const cJSON *arr, const char *label) {
  printf("%-16s %6s %6s %8s %9s %9s %9s %9s %5s %5s\n", label, "convs", "answd",
         "SL", "assign", "asg-p90", "reply", "rep-p90", "divrt", "unans");
  const cJSON *r;
  cJSON_ArrayForEach(r, arr) {
    const cJSON *a = cJSON_GetObjectItem(r, "wait_to_assignment_s"),
                *f = cJSON_GetObjectItem(r, "wait_to_first_response_s");
    double sl = num(r, "service_level");
    printf("%-16.16s %6.0f %6.0f %7.1f%% %8.0fs %8.0fs %8.0fs %8.0fs %5.0f "
           "%5.0f\n",
           cJSON_GetObjectItem(r, label)->valuestring, num(r, "conversations"),
           num(r, "answered"), isnan(sl) ? 0 : sl * 100, num(a, "avg"),
           num(a, "p90"), num(f, "avg"), num(f, "p90"), num(r, "diverted"),
           num(r, "unanswered"));
  }
}

static void print_table(const cJSON *o) {
  const cJSON *p = cJSON_GetObjectItem(o, "period"),
              *b = cJSON_GetObjectItem(o, "busiest_hour"), *r;
  printf("tenant %s, %s .. %s: %.0f messages, %.0f conversations (SL: first "
         "response within the tenant's target)\n\n",
         cJSON_GetObjectItem(o, "tenant")->valuestring,
         cJSON_GetObjectItem(p, "from")->valuestring,
         cJSON_GetObjectItem(p, "to")->valuestring, num(o, "messages"),
         num(o, "conversations"));
  print_rows(cJSON_GetObjectItem(o, "channels"), "channel");
  printf("\n");
  print_rows(cJSON_GetObjectItem(o, "queues"), "queue");
  printf("\n%-16s %6s %10s %8s %9s %6s\n", "agent group", "agents", "logged-in",
         "busy", "occupancy", "closed");
  cJSON_ArrayForEach(r, cJSON_GetObjectItem(o, "agent_groups")) {
    printf("%-16.16s %6.0f %9.1fh %7.1fh %8.1f%% %6.0f\n",
           cJSON_GetObjectItem(r, "group")->valuestring, num(r, "agents"),
           num(r, "logged_in_h"), num(r, "busy_h"),
           isnan(num(r, "occupancy")) ? 0 : num(r, "occupancy") * 100,
           num(r, "conversations_closed"));
  }
  const cJSON *run = cJSON_GetObjectItem(o, "run");
  printf("\nbusiest hour: %s, %.0f arrivals\n",
         cJSON_GetObjectItem(b, "start")->valuestring, num(b, "arrivals"));
  printf("run: %.0f events in %.2f s (%.0f events/s, %.0fx faster than real "
         "time), %.0f Redis calls\n",
         num(run, "events"), num(run, "wall_s"), num(run, "events_per_s"),
         num(run, "speedup"), num(run, "redis_calls"));
}

/* ================================================================== verb */

static void sim_free(sim_t *s) {
  for (size_t i = 0; i < s->n_recs; i++)
    free(s->recs[i].conv_key);
  free(s->recs);
  free(s->convs);
  free(s->agents);
  free(s->heap);
  map_free(&s->open_by_key);
  map_free(&s->agent_by_id);
  if (s->redis)
    redisFree(s->redis);
  sb_redisd_stop(&s->rd);
  sb_ruleset_destroy(&s->rules);
  sb_sla_policies_destroy(&s->sla);
  sb_route_destroy(&s->route);
  sb_tenants_destroy(&s->tenants);
  sbctl_roster_destroy(&s->roster);
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The shifts' zone: the roster's, else the tenant's default SLA calendar's,
 * else UTC. */
static const char *shift_tz(const sim_t *s) {
  const sb_sla_policy_t *d = sb_sla_policies_default(s->sla);
  return *s->roster->tz ? s->roster->tz
         : d->calendar  ? sb_calendar_tz(d->calendar)
                        : "UTC";
}

static int simulate(sim_t *s, const sb_config_t *c, const char *recording) {
  char err[512];
  int unreadable = 0;
  if (!(s->roster = sbctl_roster_load(sb_config_str(c, "roster"), &unreadable,
                                      err, sizeof err))) {
    fprintf(stderr, "sbctl simulate: %s\n", err);
    return unreadable ? 2 : SBCTL_SIMULATE_EXIT_BAD_INPUT;
  }
  s->rate = (int)sb_config_int(c, "rate");
  if (s->rate > 0 && parse_start(sb_config_str(c, "start"), &s->start_ms)) {
    fprintf(stderr, "sbctl simulate: --start must be an RFC 3339 time\n");
    return 2;
  }
  int rc = load_candidate(s, c);
  if (rc == 0)
    rc = load_recording(s, recording);
  if (rc)
    return rc;
  s->rng = (uint64_t)sb_config_int(c, "seed");
  s->last_arrival_us = s->recs[s->n_recs - 1].t_us;
  s->horizon_us =
      s->last_arrival_us + sb_config_int(c, "drain-h") * US_PER_HOUR;
  s->last_tick_us = -1;
  if (plan_agents(s, shift_tz(s)))
    return SBCTL_SIMULATE_EXIT_BAD_INPUT;
  if (start_redis(s))
    return 1;
  double t0 = wall_now();
  run(s);
  if (s->failed)
    return 1;
  cJSON *o = report(s, (uint64_t)sb_config_int(c, "seed"), wall_now() - t0);
  if (sb_config_bool(c, "json")) {
    char *text = cJSON_PrintUnformatted(o);
    printf("%s\n", text ? text : "{}");
    free(text);
  } else {
    print_table(o);
  }
  cJSON_Delete(o);
  return 0;
}

int sbctl_simulate(const sb_config_t *c) {
  const char *recording = sb_config_positional(c, 1);
  if (!recording || sb_config_npositional(c) > 2 ||
      !*sb_config_str(c, "roster") || sb_config_int(c, "drain-h") < 0) {
    fprintf(
        stderr,
        "usage: sbctl simulate RECORDING.jsonl --roster ROSTER.json [--tenants "
        "CANDIDATE.json] "
        "[--tenant T] [--seed N] [--rate PER_MIN] [--drain-h H] [--json]\n");
    return 2;
  }
  sim_t s;
  memset(&s, 0, sizeof s);
  int rc = simulate(&s, c, recording);
  sim_free(&s);
  return rc;
}
