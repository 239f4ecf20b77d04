/* sb_route_config: see sb_route_config.h. */
#include "sb_route_config.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX 512
#define CHANNELS_MAX 32 /* above the largest Channel value */

static const char *const strategy_names[SB_ROUTE_STRATEGY_N] = {
    "longest_idle", "least_occupied", "best_skill", "round_robin", "sticky"};

typedef struct {
  char name[SB_ROUTE_NAME_MAX + 1];
  int level;
} skill_t;

typedef struct {
  int64_t after_s, lower_by;
} widen_t;

typedef struct {
  char id[SB_ROUTE_NAME_MAX + 16]; /* rings: "<queue>~<k>", k 1..4 */
  sb_route_strategy_t strategy;
  skill_t skills[SB_ROUTE_SKILLS_MAX];
  size_t nskills;
  int priority;
  int64_t fair_max, fair_period_s;
  int64_t offer_s, offer_hops; /* offer: 0 = assign at once */
  int away_on_timeout;
  char fallback[SB_ROUTE_NAME_MAX + 1];
  int64_t max_wait_s; /* 0: wait as long as it takes */
  char max_wait_then[SB_ROUTE_NAME_MAX + 1]; /* a queue id or an action */
  int64_t ring_all;                         /* offer to this many at once, 0/1: one */
  widen_t widen[SB_ROUTE_WIDEN_MAX];
  size_t nwiden;
  int ring;    /* 0: a configured queue; k: its k-th ring (widen step k) */
  size_t base; /* a ring's queue */
  /* see "Specs" in sb_route_config.h */
  char spec[SPEC_MAX];
} queue_t;

/* One condition list: strings, any of which matches. */
typedef struct {
  char *v[SB_ROUTE_LIST_MAX];
  size_t n;
} list_t;

/* A tri-state condition: -1 not asked, else 0/1. */
typedef struct {
  char name[SB_ROUTE_NAME_MAX + 1];
  list_t language, channel, intent, sentiment, pii;
  int any_pii, is_public, vip, competitor, legal, spike;
  int64_t priority_min, reach_min, repeat_min; /* -1: not asked */
  size_t queue;
} rule_t;

typedef struct {
  char *id;
  char *spec; /* queues it belongs to, see sb_route_config_agent_spec */
} agent_t;

struct sb_route_config {
  queue_t *queues; /* the configured ones, then their rings */
  size_t nqueues, nconfigured;
  rule_t *rules;
  size_t nrules;
  size_t default_queue;
  agent_t *agents; /* sorted by id */
  size_t nagents;
  char *anonymous_spec; /* the queues of an agent outside the roster */
  char *all_specs;      /* every queue's spec, ';'-separated */
  int offers;           /* some queue offers */
  int units[CHANNELS_MAX];
  char windows[48];
};

const char *sb_route_strategy_name(sb_route_strategy_t s) {
  return (unsigned)s < SB_ROUTE_STRATEGY_N ? strategy_names[s] : "unknown";
}

int sb_route_strategy_parse(const char *name) {
  for (int i = 0; i < SB_ROUTE_STRATEGY_N; i++)
    if (strcmp(name, strategy_names[i]) == 0)
      return i;
  return -1;
}

/* ------------------------------------------------------------ reading */

typedef struct {
  const sb_tenant_t *t;
  char *err;
  size_t errlen;
} ctx_t;

static int fail(const ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const ctx_t *x, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(x->err, x->errlen, "tenant %s: route.%s", x->t->id, what);
  return SB_ECONFIG;
}

/* ids, skill names: they travel inside route.lua's specs, so no separator */
static bool name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > SB_ROUTE_NAME_MAX)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '-' || *s == '.' || *s == ':' || *s == '@'))
      return false;
  return true;
}

static int int_member(const ctx_t *x, const cJSON *o, const char *name, int64_t lo, int64_t hi,
                      int64_t def, const char *where, int64_t *out) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
  *out = def;
  if (!m)
    return 0;
  /* the range first: casting a double beyond int64 is undefined */
  if (!cJSON_IsNumber(m) || !(m->valuedouble >= (double)lo && m->valuedouble <= (double)hi) ||
      m->valuedouble != (double)(int64_t)m->valuedouble)
    return fail(x, "%s.%s must be an integer in %lld..%lld", where, name, (long long)lo,
                (long long)hi);
  *out = (int64_t)m->valuedouble;
  return 0;
}

static int skills_read(const ctx_t *x, const cJSON *o, skill_t *out, size_t *n, const char *where) {
  *n = 0;
  if (!o)
    return 0;
  if (!cJSON_IsObject(o))
    return fail(x, "%s.skills must be an object {skill: level}", where);
  const cJSON *s;
  cJSON_ArrayForEach(s, o) {
    if (*n == SB_ROUTE_SKILLS_MAX)
      return fail(x, "%s.skills: at most %d", where, SB_ROUTE_SKILLS_MAX);
    if (!name_ok(s->string))
      return fail(x, "%s.skills: \"%.40s\" is not a skill name ([A-Za-z0-9_.:@-]{1,64})", where,
                  s->string);
    if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 10 ||
        s->valuedouble != (double)(int)s->valuedouble)
      return fail(x, "%s.skills.%s must be a level 0..10", where, s->string);
    snprintf(out[*n].name, sizeof out[*n].name, "%s", s->string);
    out[(*n)++].level = s->valueint;
  }
  return 0;
}

/* A queue a user may name: rings are internal (once they exist, only the
 * configured queues are searched). */
static int queue_find(const sb_route_config_t *c, const char *id) {
  for (size_t i = 0; i < (c->nconfigured ? c->nconfigured : c->nqueues); i++)
    if (strcmp(c->queues[i].id, id) == 0)
      return (int)i;
  return -1;
}

static int offer_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where);
static int max_wait_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where);
static int widen_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where);

static int queue_read(const ctx_t *x, sb_route_config_t *c, const cJSON *o, size_t k) {
  queue_t *q = &c->queues[k];
  char where[32];
  snprintf(where, sizeof where, "queues[%zu]", k);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !name_ok(id->valuestring))
    return fail(x, "%s needs an \"id\" ([A-Za-z0-9_.:@-]{1,64})", where);
  if (queue_find(c, id->valuestring) >= 0)
    return fail(x, "%s: queue %s is listed twice", where, id->valuestring);
  snprintf(q->id, sizeof q->id, "%s", id->valuestring);
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "strategy");
  int s = st ? (cJSON_IsString(st) ? sb_route_strategy_parse(st->valuestring) : -1) : 0;
  if (s < 0)
    return fail(x, "%s.strategy must be longest_idle, least_occupied, best_skill, round_robin "
                "or sticky", where);
  q->strategy = (sb_route_strategy_t)s;
  int64_t prio, fmax = 0, fperiod = 3600;
  const cJSON *fair = cJSON_GetObjectItemCaseSensitive(o, "fairness");
  if (fair && !cJSON_IsObject(fair))
    return fail(x, "%s.fairness must be an object {max, period_s}", where);
  char fwhere[48];
  snprintf(fwhere, sizeof fwhere, "%s.fairness", where);
  if (skills_read(x, cJSON_GetObjectItemCaseSensitive(o, "skills"), q->skills, &q->nskills, where) ||
      int_member(x, o, "priority", -100, 100, 0, where, &prio) ||
      (fair && (int_member(x, fair, "max", 1, 1000000, 0, fwhere, &fmax) ||
                int_member(x, fair, "period_s", 1, 86400 * 7, 3600, fwhere, &fperiod))))
    return SB_ECONFIG;
  q->priority = (int)prio;
  q->fair_max = fmax;
  q->fair_period_s = fperiod;
  return offer_read(x, q, cJSON_GetObjectItemCaseSensitive(o, "offer"), where) ||
         max_wait_read(x, q, cJSON_GetObjectItemCaseSensitive(o, "max_wait"), where) ||
         widen_read(x, q, cJSON_GetObjectItemCaseSensitive(o, "widen"), where);
}

/* A required level lowered by a widening step: never below 1, and a
 * requirement of 0 (any level) stays 0. */
static int lowered(int level, int64_t by) {
  if (level <= 1)
    return level;
  return level - by < 1 ? 1 : (int)(level - by);
}

/* "widen": [{"after_s", "lower_by"}, ...]: 1..SB_ROUTE_WIDEN_MAX steps,
 * both strictly increasing, each lowering some required level further
 * than the step before (a step that changes nothing is a mistake). The
 * order against max_wait is checked by the caller, once both are read. */
static int widen_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where) {
  if (!o)
    return 0;
  int n = cJSON_GetArraySize(o);
  if (!cJSON_IsArray(o) || n < 1 || n > SB_ROUTE_WIDEN_MAX)
    return fail(x, "%s.widen must be a list of 1..%d steps {\"after_s\": N, \"lower_by\": N}", where,
                SB_ROUTE_WIDEN_MAX);
  const cJSON *s;
  cJSON_ArrayForEach(s, o) {
    size_t k = q->nwiden;
    char w[64];
    snprintf(w, sizeof w, "%s.widen[%zu]", where, k);
    if (!cJSON_IsObject(s) || !cJSON_GetObjectItemCaseSensitive(s, "after_s") ||
        !cJSON_GetObjectItemCaseSensitive(s, "lower_by"))
      return fail(x, "%s must be {\"after_s\": N, \"lower_by\": N}", w);
    widen_t *st = &q->widen[k];
    if (int_member(x, s, "after_s", 1, 86400, 0, w, &st->after_s) ||
        int_member(x, s, "lower_by", 1, 10, 0, w, &st->lower_by))
      return SB_ECONFIG;
    if (k > 0 && st->after_s <= q->widen[k - 1].after_s)
      return fail(x, "%s.after_s must be later than widen[%zu].after_s", w, k - 1);
    if (k > 0 && st->lower_by <= q->widen[k - 1].lower_by)
      return fail(x, "%s.lower_by must be more than widen[%zu].lower_by", w, k - 1);
    int changes = 0;
    for (size_t i = 0; i < q->nskills; i++)
      changes |= lowered(q->skills[i].level, st->lower_by) !=
                 lowered(q->skills[i].level, k ? q->widen[k - 1].lower_by : 0);
    if (!changes)
      return fail(x, "%s lowers no required skill level (levels stop at 1)", w);
    q->nwiden++;
  }
  return 0;
}

/* Each widening step of a configured queue as a queue of its own (a ring)
 * after the configured ones: same settings, lower levels. */
static void rings_add(sb_route_config_t *c) {
  for (size_t i = 0; i < c->nconfigured; i++) {
    const queue_t *q = &c->queues[i];
    for (size_t k = 0; k < q->nwiden; k++) {
      queue_t *r = &c->queues[c->nqueues++];
      *r = *q;
      snprintf(r->id, sizeof r->id, "%.64s~%d", q->id, (int)k + 1);
      r->ring = (int)k + 1;
      r->base = i;
      r->nwiden = 0;
      for (size_t s = 0; s < r->nskills; s++)
        r->skills[s].level = lowered(q->skills[s].level, q->widen[k].lower_by);
    }
  }
}

static const char *const divert_actions[] = {"callback", "email", "offline_form"};

static int is_action(const char *s) {
  for (size_t i = 0; i < sizeof divert_actions / sizeof divert_actions[0]; i++)
    if (strcmp(s, divert_actions[i]) == 0)
      return 1;
  return 0;
}

/* "max_wait": {"after_s", "then"}: then an overflow queue (checked once
 * every queue is read) or an alternate action. */
static int max_wait_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where) {
  if (!o)
    return 0;
  char w[48];
  snprintf(w, sizeof w, "%s.max_wait", where);
  const cJSON *then = cJSON_GetObjectItemCaseSensitive(o, "then");
  if (!cJSON_IsObject(o) || !cJSON_IsString(then) || !name_ok(then->valuestring))
    return fail(x, "%s must be {\"after_s\": N, \"then\": <queue> or callback, email, offline_form}",
                w);
  if (int_member(x, o, "after_s", 1, 86400, 300, w, &q->max_wait_s))
    return SB_ECONFIG;
  snprintf(q->max_wait_then, sizeof q->max_wait_then, "%s", then->valuestring);
  return 0;
}

/* "offer": {"timeout_s", "hops", "away_on_timeout", "fallback"}; the
 * fallback queue is checked once every queue is read. */
static int offer_read(const ctx_t *x, queue_t *q, const cJSON *o, const char *where) {
  q->offer_hops = 3;
  if (!o)
    return 0;
  char w[48];
  snprintf(w, sizeof w, "%s.offer", where);
  if (!cJSON_IsObject(o))
    return fail(x, "%s must be an object {timeout_s, hops, away_on_timeout, fallback, ring_all}",
                w);
  const cJSON *away = cJSON_GetObjectItemCaseSensitive(o, "away_on_timeout");
  const cJSON *fb = cJSON_GetObjectItemCaseSensitive(o, "fallback");
  if (int_member(x, o, "timeout_s", 1, 3600, 30, w, &q->offer_s) ||
      int_member(x, o, "hops", 1, 100, 3, w, &q->offer_hops) ||
      int_member(x, o, "ring_all", 2, SB_ROUTE_RING_ALL_MAX, 0, w, &q->ring_all))
    return SB_ECONFIG;
  if (away && !cJSON_IsBool(away))
    return fail(x, "%s.away_on_timeout must be true or false", w);
  q->away_on_timeout = cJSON_IsTrue(away);
  if (fb && (!cJSON_IsString(fb) || !name_ok(fb->valuestring)))
    return fail(x, "%s.fallback must name a queue", w);
  if (fb)
    snprintf(q->fallback, sizeof q->fallback, "%s", fb->valuestring);
  return 0;
}

/* The spec (see sb_route_config.h): a conversation's next step out of
 * this queue or ring (the next ring, else max_wait's), when it comes
 * counted from entering the configured queue (next_at_s) and from entering
 * this one (next_s). */
static void queue_compile(const sb_route_config_t *c, queue_t *q) {
  const queue_t *b = q->ring ? &c->queues[q->base] : q;
  int64_t from = q->ring ? b->widen[q->ring - 1].after_s : 0, next_at = b->max_wait_s;
  char next[SB_ROUTE_NAME_MAX + 16];
  snprintf(next, sizeof next, "%s", b->max_wait_then);
  if ((size_t)q->ring < b->nwiden) {
    next_at = b->widen[q->ring].after_s;
    snprintf(next, sizeof next, "%.64s~%d", b->id, q->ring + 1);
  }
  snprintf(q->spec, sizeof q->spec, "%s|%s|%lld|%lld|%lld|%lld|%d|%s|%lld|%s|%s|%lld|%lld", q->id,
           strategy_names[q->strategy], (long long)q->fair_max, (long long)q->fair_period_s,
           (long long)q->offer_s, (long long)q->offer_hops, q->away_on_timeout, q->fallback,
           (long long)(next_at ? next_at - from : 0), next, q->ring ? b->id : "",
           (long long)next_at, (long long)q->ring_all);
}

static int list_read(const ctx_t *x, const cJSON *cond, const char *name, list_t *l, size_t k) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(cond, name);
  if (!m)
    return 0;
  if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) < 1 || cJSON_GetArraySize(m) > SB_ROUTE_LIST_MAX)
    return fail(x, "rules[%zu].if.%s must be a list of 1..%d strings", k, name, SB_ROUTE_LIST_MAX);
  const cJSON *v;
  cJSON_ArrayForEach(v, m) {
    if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > SB_ROUTE_NAME_MAX)
      return fail(x, "rules[%zu].if.%s must be a list of 1..%d strings", k, name,
                  SB_ROUTE_LIST_MAX);
    if (!(l->v[l->n++] = strdup(v->valuestring)))
      return SB_ENOMEM;
  }
  return 0;
}

static int bool_read(const ctx_t *x, const cJSON *cond, const char *name, int *out, size_t k) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(cond, name);
  *out = -1;
  if (!m)
    return 0;
  if (!cJSON_IsBool(m))
    return fail(x, "rules[%zu].if.%s must be true or false", k, name);
  *out = cJSON_IsTrue(m);
  return 0;
}

static const char *const condition_names[] = {
    "language", "channel",  "public", "intent",     "sentiment", "priority_min",
    "vip",      "pii",      "competitor", "legal",  "reach_min", "repeat_min", "spike"};

static int rule_read(const ctx_t *x, sb_route_config_t *c, const cJSON *o, size_t k) {
  rule_t *r = &c->rules[k];
  r->priority_min = r->reach_min = r->repeat_min = -1;
  const cJSON *cond = cJSON_GetObjectItemCaseSensitive(o, "if");
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "queue");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
  if (!cJSON_IsObject(o) || !cJSON_IsObject(cond) || !cJSON_IsString(q))
    return fail(x, "rules[%zu] needs \"if\" (an object) and \"queue\"", k);
  int qi = queue_find(c, q->valuestring);
  if (qi < 0)
    return fail(x, "rules[%zu].queue: no queue \"%.64s\"", k, q->valuestring);
  r->queue = (size_t)qi;
  if (name && (!cJSON_IsString(name) || !name_ok(name->valuestring)))
    return fail(x, "rules[%zu].name must be [A-Za-z0-9_.:@-]{1,64}", k);
  if (name)
    snprintf(r->name, sizeof r->name, "%s", name->valuestring);
  else
    snprintf(r->name, sizeof r->name, "rule-%zu", k + 1);
  const cJSON *m;
  cJSON_ArrayForEach(m, cond) {
    size_t i = 0;
    while (i < sizeof condition_names / sizeof condition_names[0] &&
           strcmp(m->string, condition_names[i]) != 0)
      i++;
    if (i == sizeof condition_names / sizeof condition_names[0])
      return fail(x, "rules[%zu].if: unknown condition \"%.40s\"", k, m->string);
  }
  const cJSON *pii = cJSON_GetObjectItemCaseSensitive(cond, "pii");
  r->any_pii = cJSON_IsTrue(pii) ? 1 : -1;
  int64_t v;
  if (list_read(x, cond, "language", &r->language, k) ||
      list_read(x, cond, "channel", &r->channel, k) ||
      list_read(x, cond, "intent", &r->intent, k) ||
      list_read(x, cond, "sentiment", &r->sentiment, k) ||
      (pii && !cJSON_IsBool(pii) && list_read(x, cond, "pii", &r->pii, k)) ||
      bool_read(x, cond, "public", &r->is_public, k) || bool_read(x, cond, "vip", &r->vip, k) ||
      bool_read(x, cond, "competitor", &r->competitor, k) ||
      bool_read(x, cond, "legal", &r->legal, k) || bool_read(x, cond, "spike", &r->spike, k))
    return SB_ECONFIG;
  if (cJSON_IsFalse(pii))
    return fail(x, "rules[%zu].if.pii must be true or a list of types", k);
  char where[32];
  snprintf(where, sizeof where, "rules[%zu].if", k);
  if (int_member(x, cond, "priority_min", 0, 100, -1, where, &v))
    return SB_ECONFIG;
  r->priority_min = v;
  if (int_member(x, cond, "reach_min", 0, INT64_C(1) << 40, -1, where, &v))
    return SB_ECONFIG;
  r->reach_min = v;
  if (int_member(x, cond, "repeat_min", 1, 1000000, -1, where, &v))
    return SB_ECONFIG;
  r->repeat_min = v;
  return 0;
}

/* ------------------------------------------------------------- agents */

static int skill_level(const skill_t *s, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s[i].name, name) == 0)
      return s[i].level;
  return -1;
}

/* "q1|strategy|score|fair_max|fair_period_s|offer_s,q2|..." over the queues whose every required skill
 * the agent has at the level asked; score = sum of the agent's levels in
 * the queue's skills (best_skill ranks by it). */
static char *agent_spec(const sb_route_config_t *c, const skill_t *s, size_t n) {
  size_t cap = c->nqueues * (SB_ROUTE_NAME_MAX + 64) + 1, len = 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  out[0] = '\0';
  for (size_t i = 0; i < c->nqueues; i++) {
    const queue_t *q = &c->queues[i];
    int score = 0, ok = 1;
    for (size_t k = 0; k < q->nskills && ok; k++) {
      int lvl = skill_level(s, n, q->skills[k].name);
      ok = lvl >= q->skills[k].level;
      score += lvl;
    }
    if (ok)
      len += (size_t)snprintf(out + len, cap - len, "%s%s|%s|%d|%lld|%lld|%lld", len ? "," : "",
                              q->id, strategy_names[q->strategy], score, (long long)q->fair_max,
                              (long long)q->fair_period_s, (long long)q->offer_s);
  }
  /* the room was for every queue and ring: keep only what is used (one
   * spec per roster agent) */
  char *fit = realloc(out, len + 1);
  return fit ? fit : out;
}

static int agent_cmp(const void *a, const void *b) {
  return strcmp(((const agent_t *)a)->id, ((const agent_t *)b)->id);
}

static int agents_read(const ctx_t *x, sb_route_config_t *c, const cJSON *list) {
  if (!list)
    return 0;
  int n = cJSON_GetArraySize(list);
  if (!cJSON_IsArray(list) || n > SB_ROUTE_AGENTS_MAX)
    return fail(x, "agents must be a list of at most %d agents", SB_ROUTE_AGENTS_MAX);
  c->agents = calloc((size_t)n + 1, sizeof *c->agents);
  if (!c->agents)
    return SB_ENOMEM;
  const cJSON *o;
  cJSON_ArrayForEach(o, list) {
    size_t k = c->nagents;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !name_ok(id->valuestring))
      return fail(x, "agents[%zu] needs an \"id\" ([A-Za-z0-9_.:@-]{1,64})", k);
    skill_t skills[SB_ROUTE_SKILLS_MAX];
    size_t ns;
    char where[32];
    snprintf(where, sizeof where, "agents[%zu]", k);
    if (skills_read(x, cJSON_GetObjectItemCaseSensitive(o, "skills"), skills, &ns, where))
      return SB_ECONFIG;
    c->agents[k].id = strdup(id->valuestring);
    c->agents[k].spec = agent_spec(c, skills, ns);
    c->nagents++;
    if (!c->agents[k].id || !c->agents[k].spec)
      return SB_ENOMEM;
  }
  qsort(c->agents, c->nagents, sizeof *c->agents, agent_cmp);
  for (size_t i = 1; i < c->nagents; i++)
    if (strcmp(c->agents[i - 1].id, c->agents[i].id) == 0)
      return fail(x, "agents: %s is listed twice", c->agents[i].id);
  return 0;
}

static int units_read(const ctx_t *x, sb_route_config_t *c, const cJSON *o) {
  for (int i = 0; i < CHANNELS_MAX; i++)
    c->units[i] = 1;
  if (!o)
    return 0;
  if (!cJSON_IsObject(o))
    return fail(x, "channel_units must be an object {channel: units}");
  const cJSON *m;
  cJSON_ArrayForEach(m, o) {
    Switchboard__V1__Channel ch = sb_channel_parse(m->string);
    if (ch == SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN || (int)ch >= CHANNELS_MAX)
      return fail(x, "channel_units: unknown channel \"%.40s\"", m->string);
    if (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > 100 ||
        m->valuedouble != (double)m->valueint)
      return fail(x, "channel_units.%s must be 1..100", m->string);
    c->units[ch] = m->valueint;
  }
  return 0;
}

static int config_read(const ctx_t *x, sb_route_config_t *c, const cJSON *root) {
  const cJSON *queues = root ? cJSON_GetObjectItemCaseSensitive(root, "queues") : NULL;
  const cJSON *rules = root ? cJSON_GetObjectItemCaseSensitive(root, "rules") : NULL;
  const cJSON *def = root ? cJSON_GetObjectItemCaseSensitive(root, "default_queue") : NULL;
  int nq = queues ? cJSON_GetArraySize(queues) : 0, nr = rules ? cJSON_GetArraySize(rules) : 0;
  if (queues && (!cJSON_IsArray(queues) || nq < 1 || nq > SB_ROUTE_QUEUES_MAX))
    return fail(x, "queues must be a list of 1..%d queues", SB_ROUTE_QUEUES_MAX);
  if (rules && (!cJSON_IsArray(rules) || nr > SB_ROUTE_RULES_MAX))
    return fail(x, "rules must be a list of at most %d rules", SB_ROUTE_RULES_MAX);
  /* room for every queue's rings */
  c->queues = calloc((nq ? (size_t)nq : 1) * (1 + SB_ROUTE_WIDEN_MAX), sizeof *c->queues);
  c->rules = calloc(nr ? (size_t)nr : 1, sizeof *c->rules);
  if (!c->queues || !c->rules)
    return SB_ENOMEM;
  if (!queues) { /* the single-queue default */
    snprintf(c->queues[0].id, sizeof c->queues[0].id, "default");
    c->queues[0].fair_period_s = 3600;
    c->queues[0].offer_hops = 3;
    c->nqueues = 1;
  }
  const cJSON *o;
  cJSON_ArrayForEach(o, queues) {
    if (queue_read(x, c, o, c->nqueues))
      return SB_ECONFIG;
    c->nqueues++;
  }
  c->nconfigured = c->nqueues;
  for (size_t i = 0; i < c->nconfigured; i++) {
    queue_t *q = &c->queues[i];
    if (q->nwiden && q->max_wait_s && q->widen[q->nwiden - 1].after_s >= q->max_wait_s)
      return fail(x, "queues[%zu].widen[%zu].after_s must come before max_wait.after_s", i,
                  q->nwiden - 1);
    if (q->fallback[0] && (queue_find(c, q->fallback) < 0 || strcmp(q->fallback, q->id) == 0))
      return fail(x, "queues[%zu].offer.fallback: no other queue \"%s\"", i, q->fallback);
    if (q->max_wait_then[0] && !is_action(q->max_wait_then) &&
        (queue_find(c, q->max_wait_then) < 0 || strcmp(q->max_wait_then, q->id) == 0))
      return fail(x, "queues[%zu].max_wait.then: \"%s\" is neither another queue nor callback, "
                  "email or offline_form", i, q->max_wait_then);
    c->offers |= q->offer_s > 0 || q->max_wait_s > 0 || q->nwiden > 0;
  }
  rings_add(c);
  for (size_t i = 0; i < c->nqueues; i++)
    queue_compile(c, &c->queues[i]);
  cJSON_ArrayForEach(o, rules) {
    int rc = rule_read(x, c, o, c->nrules);
    c->nrules++; /* counted even when half-read: destroy frees its lists */
    if (rc)
      return rc;
  }
  if (def && (!cJSON_IsString(def) || queue_find(c, def->valuestring) < 0))
    return fail(x, "default_queue must name one of the queues");
  c->default_queue = def ? (size_t)queue_find(c, def->valuestring) : 0;
  int64_t reopen, sticky, grace;
  if (units_read(x, c, root ? cJSON_GetObjectItemCaseSensitive(root, "channel_units") : NULL) ||
      (root && (int_member(x, root, "reopen_s", 0, 86400 * 30, 3600, "", &reopen) ||
                int_member(x, root, "sticky_s", 0, 86400 * 90, 86400 * 7, "", &sticky) ||
                int_member(x, root, "presence_grace_s", 0, 86400, 0, "", &grace))))
    return SB_ECONFIG;
  if (!root)
    reopen = 3600, sticky = 86400 * 7, grace = 0;
  c->offers |= grace > 0;
  /* sla-timer's "widen_routing" puts conversations due in waitdue: the
   * tick must run for them even where no queue widens (a false match on
   * the text only costs ticks) */
  const char *sla = x->t->section_json[SB_TENANT_SLA];
  c->offers |= sla && strstr(sla, "widen_routing") != NULL;
  snprintf(c->windows, sizeof c->windows, "%lld|%lld|%lld", (long long)reopen, (long long)sticky,
           (long long)grace);
  if (agents_read(x, c, root ? cJSON_GetObjectItemCaseSensitive(root, "agents") : NULL))
    return SB_ECONFIG;
  c->anonymous_spec = agent_spec(c, NULL, 0);
  size_t cap = c->nqueues * SPEC_MAX + 1, len = 0;
  if ((c->all_specs = malloc(cap)))
    for (size_t i = 0; i < c->nqueues; i++)
      len += (size_t)snprintf(c->all_specs + len, cap - len, "%s%s", i ? ";" : "", c->queues[i].spec);
  return c->anonymous_spec && c->all_specs ? 0 : SB_ENOMEM;
}

sb_route_config_t *sb_route_config_new(const sb_tenant_t *t, const char *json, char *err,
                                       size_t errlen) {
  ctx_t x = {t, err, errlen};
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  sb_route_config_t *c = calloc(1, sizeof *c);
  int rc = c ? 0 : SB_ENOMEM;
  if (!rc && json && !cJSON_IsObject(root)) {
    snprintf(err, errlen, "tenant %s: route must be an object", t->id);
    rc = SB_ECONFIG;
  }
  if (!rc)
    rc = config_read(&x, c, root);
  cJSON_Delete(root);
  if (rc == SB_ENOMEM)
    snprintf(err, errlen, "tenant %s: route: out of memory", t->id);
  if (rc)
    sb_route_config_destroy(&c);
  return c;
}

void sb_route_config_destroy(sb_route_config_t **cp) {
  sb_route_config_t *c = *cp;
  if (!c)
    return;
  for (size_t i = 0; i < c->nrules; i++) {
    list_t *lists[] = {&c->rules[i].language, &c->rules[i].channel, &c->rules[i].intent,
                       &c->rules[i].sentiment, &c->rules[i].pii};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
      for (size_t k = 0; k < lists[l]->n; k++)
        free(lists[l]->v[k]);
  }
  for (size_t i = 0; i < c->nagents; i++) {
    free(c->agents[i].id);
    free(c->agents[i].spec);
  }
  free(c->agents);
  free(c->anonymous_spec);
  free(c->all_specs);
  free(c->queues);
  free(c->rules);
  free(c);
  *cp = NULL;
}

/* ------------------------------------------------------------ matching */

static bool in_list(const list_t *l, const char *v) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], v) == 0)
      return true;
  return false;
}

static bool flag_ok(int want, int have) { return want < 0 || want == (have != 0); }

static bool rule_holds(const rule_t *r, const sb_envelope_t *env) {
  const Switchboard__V1__Interaction *in = env->interaction;
  const Switchboard__V1__Classification *cl = env->classification;
  const char *lang = cl && cl->language ? cl->language : "und";
  if (r->language.n && !in_list(&r->language, lang))
    return false;
  if (r->channel.n && !in_list(&r->channel, sb_channel_name(in->channel)))
    return false;
  if (!flag_ok(r->is_public, in->public_))
    return false;
  if (r->intent.n) {
    bool any = false;
    for (size_t i = 0; cl && i < cl->n_intents && !any; i++)
      any = in_list(&r->intent, cl->intents[i]->name);
    if (!any)
      return false;
  }
  if (r->sentiment.n && !(cl && cl->sentiment && in_list(&r->sentiment, cl->sentiment)))
    return false;
  if (r->priority_min >= 0 && !(cl && cl->priority >= r->priority_min))
    return false;
  if (!flag_ok(r->spike, cl && cl->spike && cl->spike[0]))
    return false;
  if (!flag_ok(r->vip, cl && cl->vip) || !flag_ok(r->legal, cl && cl->legal_threat) ||
      !flag_ok(r->competitor, cl && cl->n_competitors > 0))
    return false;
  if (r->any_pii > 0 && !(cl && cl->n_pii > 0))
    return false;
  if (r->pii.n) {
    bool any = false;
    for (size_t i = 0; cl && i < cl->n_pii && !any; i++)
      any = in_list(&r->pii, cl->pii[i]->type);
    if (!any)
      return false;
  }
  if (r->reach_min >= 0 && !(in->author && in->author->followers >= r->reach_min))
    return false;
  if (r->repeat_min >= 0 && !(cl && cl->repeat_contacts >= r->repeat_min))
    return false;
  return true;
}

sb_route_target_t sb_route_config_match(const sb_route_config_t *c, const sb_envelope_t *env) {
  size_t q = c->default_queue;
  const char *rule = "default";
  for (size_t i = 0; i < c->nrules; i++)
    if (rule_holds(&c->rules[i], env)) {
      q = c->rules[i].queue;
      rule = c->rules[i].name;
      break;
    }
  const Switchboard__V1__Classification *cl = env->classification;
  int prio = (cl ? cl->priority : 0) + c->queues[q].priority;
  int ch = env->interaction ? (int)env->interaction->channel : 0;
  sb_route_target_t t = {c->queues[q].spec, rule,
                         ch >= 0 && ch < CHANNELS_MAX ? c->units[ch] : 1,
                         prio < 0 ? 0 : prio > 200 ? 200 : prio};
  return t;
}

const char *sb_route_config_queue_spec(const sb_route_config_t *c, const char *id) {
  int i = queue_find(c, id);
  return i < 0 ? NULL : c->queues[i].spec;
}

const char *sb_route_config_agent_spec(const sb_route_config_t *c, const char *agent) {
  agent_t key = {(char *)agent, NULL};
  const agent_t *a = c->nagents ? bsearch(&key, c->agents, c->nagents, sizeof key, agent_cmp) : NULL;
  return a ? a->spec : c->anonymous_spec;
}

const char *sb_route_config_windows(const sb_route_config_t *c) { return c->windows; }

const char *sb_route_config_all_specs(const sb_route_config_t *c) { return c->all_specs; }

int sb_route_config_offers(const sb_route_config_t *c) { return c->offers; }
