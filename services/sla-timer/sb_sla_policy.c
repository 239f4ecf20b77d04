/*
 * sb_sla_policy: per-tenant promises (see sb_sla_policy.h).
 *
 * Parsing happens once, at start; a policy is then a plain value and a
 * lookup is a walk over at most SB_SLA_POLICIES_MAX small structs.
 */
#include "sb_sla_policy.h"
#include "sb_error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char name[SB_SLA_NAME_MAX + 1];
  sb_calendar_t *cal;
} named_calendar_t;

struct sb_sla_policies {
  sb_sla_policy_t def;
  sb_sla_policy_t policies[SB_SLA_POLICIES_MAX];
  size_t n;
  named_calendar_t calendars[SB_SLA_CALENDARS_MAX];
  sb_sla_stuck_cfg_t stuck;
  size_t ncal;
};

static const char *const target_names[SB_SLA_TARGETS] = {"first_response", "next_response", "resolution",
                                                         "update"};
static const char *const target_fields[SB_SLA_TARGETS] = {"first_response_ms", "next_response_ms",
                                                          "resolution_ms", "update_ms"};
/* on_breach names, index i is bit 1 << i (SB_SLA_ACT_*) */
#define ACTIONS "raise_priority, alert_supervisor, widen_routing, acknowledge_customer"
static const char *const action_names[] = {"raise_priority", "alert_supervisor", "widen_routing",
                                           "acknowledge_customer", NULL};
static const char *const priority_names[SB_SLA_PRIORITIES] = {"urgent", "high", "normal", "low"};

const char *sb_sla_target_name(sb_sla_target_t k) {
  return (unsigned)k < SB_SLA_TARGETS ? target_names[k] : "unknown";
}

int sb_sla_target_parse(const char *name) {
  for (int i = 0; i < SB_SLA_TARGETS; i++)
    if (strcmp(target_names[i], name) == 0)
      return i;
  return -1;
}

const char *sb_sla_priority_name(sb_sla_priority_t p) {
  return (unsigned)p < SB_SLA_PRIORITIES ? priority_names[p] : "unknown";
}

int sb_sla_priority_parse(const char *name) {
  for (int i = 0; i < SB_SLA_PRIORITIES; i++)
    if (strcmp(priority_names[i], name) == 0)
      return i;
  return -1;
}

sb_sla_priority_t sb_sla_priority_band(const Switchboard__V1__Classification *c) {
  if (!c)
    return SB_SLA_NORMAL;
  if (c->priority >= SB_SLA_BAND_URGENT)
    return SB_SLA_URGENT;
  if (c->priority >= SB_SLA_BAND_HIGH)
    return SB_SLA_HIGH;
  return c->priority >= SB_SLA_BAND_NORMAL ? SB_SLA_NORMAL : SB_SLA_LOW;
}

/* ---- loading -------------------------------------------------------------- */

typedef struct {
  const sb_tenant_t *t;
  char *err;
  size_t errlen;
} load_t;

static int fail(load_t *l, const char *field, const char *what) {
  snprintf(l->err, l->errlen, "tenant %s: sla%s%s: %s", l->t->id, *field ? "." : "", field, what);
  return SB_ECONFIG;
}

static int name_ok(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= SB_SLA_NAME_MAX &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int only_fields(load_t *l, const cJSON *o, const char *where, const char *const *allowed) {
  for (const cJSON *k = o->child; k; k = k->next) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++)
      ok = strcmp(*a, k->string) == 0;
    if (!ok) {
      char field[128];
      snprintf(field, sizeof field, "%s%s", where, k->string);
      return fail(l, field, "unknown field");
    }
  }
  return 0;
}

static int load_calendars(load_t *l, sb_sla_policies_t *p, const cJSON *cals) {
  if (!cals)
    return 0;
  if (!cJSON_IsObject(cals))
    return fail(l, "calendars", "must be an object {\"name\": {\"tz\", \"hours\", \"holidays\"}}");
  for (const cJSON *c = cals->child; c; c = c->next) {
    char field[96], err[200];
    snprintf(field, sizeof field, "calendars.%.40s", c->string);
    if (!name_ok(c->string))
      return fail(l, field, "a calendar's name is 1..32 of [A-Za-z0-9_-]");
    if (p->ncal == SB_SLA_CALENDARS_MAX)
      return fail(l, field, "too many calendars");
    named_calendar_t *nc = &p->calendars[p->ncal];
    nc->cal = sb_calendar_from_json(c, err, sizeof err);
    if (!nc->cal)
      return fail(l, field, err);
    snprintf(nc->name, sizeof nc->name, "%s", c->string);
    p->ncal++;
  }
  return 0;
}

static sb_calendar_t *find_calendar(const sb_sla_policies_t *p, const char *name) {
  for (size_t i = 0; i < p->ncal; i++)
    if (strcmp(p->calendars[i].name, name) == 0)
      return p->calendars[i].cal;
  return NULL;
}

static int load_on_breach(load_t *l, const cJSON *a, const char *field, sb_sla_policy_t *pol) {
  if (!cJSON_IsArray(a))
    return fail(l, field, "must be a list of actions (" ACTIONS ")");
  pol->on_breach = 0;
  for (const cJSON *v = a->child; v; v = v->next) {
    int bit = 0;
    for (int i = 0; cJSON_IsString(v) && action_names[i] && !bit; i++)
      bit = strcmp(action_names[i], v->valuestring) == 0 ? 1 << i : 0;
    if (!bit)
      return fail(l, field, "unknown action (" ACTIONS ")");
    pol->on_breach |= bit;
  }
  return 0;
}

/* on_breach, raise_priority_by, alert_window_ms, supervisor_calendar */
static int load_actions(load_t *l, const sb_sla_policies_t *p, const cJSON *o, const char *where,
                        sb_sla_policy_t *pol) {
  char field[128];
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "on_breach");
  snprintf(field, sizeof field, "%son_breach", where);
  if (v && load_on_breach(l, v, field, pol))
    return SB_ECONFIG;
  v = cJSON_GetObjectItemCaseSensitive(o, "raise_priority_by");
  snprintf(field, sizeof field, "%sraise_priority_by", where);
  if (v && (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 100))
    return fail(l, field, "must be 1..100 (priority points)");
  if (v)
    pol->raise_by = v->valueint;
  v = cJSON_GetObjectItemCaseSensitive(o, "alert_window_ms");
  snprintf(field, sizeof field, "%salert_window_ms", where);
  if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)SB_SLA_ALERT_WINDOW_LIMIT_MS))
    return fail(l, field, "must be a number of ms, 0 (per conversation) .. 86400000 (1 day)");
  if (v)
    pol->alert_window_ms = (int64_t)v->valuedouble;
  v = cJSON_GetObjectItemCaseSensitive(o, "supervisor_calendar");
  snprintf(field, sizeof field, "%ssupervisor_calendar", where);
  if (!v)
    return 0;
  if (!cJSON_IsString(v))
    return fail(l, field, "must be the name of one of sla.calendars, or \"\" (always)");
  pol->alert_calendar = *v->valuestring ? find_calendar(p, v->valuestring) : NULL;
  if (*v->valuestring && !pol->alert_calendar)
    return fail(l, field, "names no calendar of sla.calendars");
  snprintf(pol->alert_calendar_name, sizeof pol->alert_calendar_name, "%s", v->valuestring);
  pol->alert_calendar_set = 1;
  return 0;
}

/* Supervisors' hours default to the policy's own calendar. */
static void settle_alert_calendar(sb_sla_policy_t *pol) {
  if (pol->alert_calendar_set)
    return;
  pol->alert_calendar = pol->calendar;
  memcpy(pol->alert_calendar_name, pol->calendar_name, sizeof pol->alert_calendar_name);
}

static int queue_ok(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= SB_SLA_QUEUE_MAX &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@-") == n;
}

/* Reads the fields a policy (or the default) may state over *pol. where:
 * the field path prefix ("" or "policies[2]."). */
static int load_values(load_t *l, const sb_sla_policies_t *p, const cJSON *o, const char *where,
                       sb_sla_policy_t *pol) {
  char field[128];
  for (int k = 0; k < SB_SLA_TARGETS; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, target_fields[k]);
    if (!v)
      continue;
    snprintf(field, sizeof field, "%s%s", where, target_fields[k]);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)SB_SLA_TARGET_LIMIT_MS)
      return fail(l, field, "must be a number of ms, 0 (no promise) .. 2592000000 (30 days)");
    pol->target_ms[k] = (int64_t)v->valuedouble;
  }
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "warn_percent");
  if (w) {
    snprintf(field, sizeof field, "%swarn_percent", where);
    if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 100)
      return fail(l, field, "must be 1..100");
    pol->warn_percent = w->valueint;
  }
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "calendar");
  if (c) {
    snprintf(field, sizeof field, "%scalendar", where);
    if (!cJSON_IsString(c))
      return fail(l, field, "must be the name of one of sla.calendars, or \"\" (every hour counts)");
    pol->calendar = *c->valuestring ? find_calendar(p, c->valuestring) : NULL;
    if (*c->valuestring && !pol->calendar)
      return fail(l, field, "names no calendar of sla.calendars");
    snprintf(pol->calendar_name, sizeof pol->calendar_name, "%s", pol->calendar ? c->valuestring : "");
  }
  return load_actions(l, p, o, where, pol);
}

static int load_match(load_t *l, const cJSON *o, const char *where, sb_sla_policy_t *pol) {
  char field[128];
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channel");
  const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "priority");
  snprintf(field, sizeof field, "%schannel", where);
  if (ch && !cJSON_IsString(ch))
    return fail(l, field, "must be a channel name (\"x\", \"email\", ...) or \"*\"");
  pol->channel = SB_SLA_ANY;
  if (ch && strcmp(ch->valuestring, "*") != 0) {
    pol->channel = (int)sb_channel_parse(ch->valuestring);
    if (pol->channel == SWITCHBOARD__V1__CHANNEL__CHANNEL_UNKNOWN)
      return fail(l, field, "not a channel (x, facebook, messenger, instagram, whatsapp, wechat, "
                            "email, webchat, sms, voice, app) nor \"*\"");
  }
  snprintf(field, sizeof field, "%spriority", where);
  if (pr && !cJSON_IsString(pr))
    return fail(l, field, "must be \"urgent\", \"high\", \"normal\", \"low\" or \"*\"");
  pol->priority = SB_SLA_ANY;
  if (pr && strcmp(pr->valuestring, "*") != 0) {
    pol->priority = sb_sla_priority_parse(pr->valuestring);
    if (pol->priority < 0)
      return fail(l, field, "not one of urgent, high, normal, low, *");
  }
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "queue");
  snprintf(field, sizeof field, "%squeue", where);
  pol->queue[0] = '\0';
  if (q && (!cJSON_IsString(q) || (strcmp(q->valuestring, "*") != 0 && !queue_ok(q->valuestring))))
    return fail(l, field, "must be a queue id (1..64 of [A-Za-z0-9_.:@-], as route's) or \"*\"");
  if (q && strcmp(q->valuestring, "*") != 0)
    snprintf(pol->queue, sizeof pol->queue, "%s", q->valuestring);
  return 0;
}

static const char *const top_fields[] = {"first_response_ms", "next_response_ms", "resolution_ms", "update_ms",
                                         "warn_percent", "calendar", "on_breach", "raise_priority_by",
                                         "alert_window_ms", "supervisor_calendar", "policies", "calendars",
                                         "stuck", NULL};
static const char *const policy_fields[] = {"channel", "priority", "queue", "first_response_ms",
                                            "next_response_ms", "resolution_ms", "update_ms", "warn_percent",
                                            "calendar", "on_breach", "raise_priority_by", "alert_window_ms",
                                            "supervisor_calendar", NULL};

static int load_policies(load_t *l, sb_sla_policies_t *p, const cJSON *list) {
  if (!list)
    return 0;
  if (!cJSON_IsArray(list))
    return fail(l, "policies", "must be a list of {\"channel\", \"priority\", targets...}");
  for (const cJSON *o = list->child; o; o = o->next) {
    char where[32];
    snprintf(where, sizeof where, "policies[%zu]", p->n);
    if (!cJSON_IsObject(o))
      return fail(l, where, "must be an object");
    if (p->n == SB_SLA_POLICIES_MAX)
      return fail(l, where, "too many policies");
    strcat(where, ".");
    sb_sla_policy_t *pol = &p->policies[p->n];
    *pol = p->def; /* what it leaves out is the default's */
    if (only_fields(l, o, where, policy_fields) || load_match(l, o, where, pol) ||
        load_values(l, p, o, where, pol))
      return SB_ECONFIG;
    settle_alert_calendar(pol);
    p->n++;
  }
  return 0;
}

static const char *const stuck_fields[] = {"after_ms", "queues", "supervisor_calendar", NULL};

static int load_stuck(load_t *l, sb_sla_policies_t *p, const cJSON *o) {
  sb_sla_stuck_cfg_t *st = &p->stuck;
  if (!o)
    return 0;
  if (!cJSON_IsObject(o))
    return fail(l, "stuck", "must be an object {\"after_ms\", \"queues\", \"supervisor_calendar\"}");
  if (only_fields(l, o, "stuck.", stuck_fields))
    return SB_ECONFIG;
  const cJSON *after = cJSON_GetObjectItemCaseSensitive(o, "after_ms");
  if (!cJSON_IsNumber(after) || after->valuedouble < SB_SLA_STUCK_MIN_MS ||
      after->valuedouble > (double)SB_SLA_TARGET_LIMIT_MS)
    return fail(l, "stuck.after_ms", "must be a number of ms, 1000 .. 2592000000 (30 days)");
  const cJSON *qs = cJSON_GetObjectItemCaseSensitive(o, "queues");
  if (!cJSON_IsArray(qs) || !qs->child)
    return fail(l, "stuck.queues", "must be a non-empty list of route's queue ids");
  for (const cJSON *q = qs->child; q; q = q->next) {
    char field[48];
    snprintf(field, sizeof field, "stuck.queues[%zu]", st->nqueues);
    if (st->nqueues == SB_SLA_STUCK_QUEUES_MAX)
      return fail(l, field, "too many queues (at most 32)");
    if (!cJSON_IsString(q) || !queue_ok(q->valuestring))
      return fail(l, field, "must be a queue id (1..64 of [A-Za-z0-9_.:@-], as route's)");
    snprintf(st->queues[st->nqueues++], sizeof st->queues[0], "%s", q->valuestring);
  }
  const cJSON *cal = cJSON_GetObjectItemCaseSensitive(o, "supervisor_calendar");
  if (cal && !cJSON_IsString(cal))
    return fail(l, "stuck.supervisor_calendar", "must be the name of one of sla.calendars, or \"\" (always)");
  if (cal && *cal->valuestring) {
    if (!(st->calendar = find_calendar(p, cal->valuestring)))
      return fail(l, "stuck.supervisor_calendar", "names no calendar of sla.calendars");
    snprintf(st->calendar_name, sizeof st->calendar_name, "%s", cal->valuestring);
  }
  st->after_ms = (int64_t)after->valuedouble;
  return 0;
}

static int load(load_t *l, sb_sla_policies_t *p) {
  p->def.channel = p->def.priority = SB_SLA_ANY;
  p->def.target_ms[SB_SLA_FIRST_RESPONSE] = l->t->first_response_ms;
  p->def.warn_percent = l->t->warn_percent;
  p->def.raise_by = SB_SLA_RAISE_BY;
  const char *text = l->t->section_json[SB_TENANT_SLA];
  if (!text)
    return 0;
  cJSON *sla = cJSON_Parse(text);
  int rc = 0;
  if (!cJSON_IsObject(sla))
    rc = fail(l, "", "must be an object");
  else
    rc = only_fields(l, sla, "", top_fields) ||
         load_calendars(l, p, cJSON_GetObjectItemCaseSensitive(sla, "calendars")) ||
         load_values(l, p, sla, "", &p->def) ||
         load_policies(l, p, cJSON_GetObjectItemCaseSensitive(sla, "policies")) ||
         load_stuck(l, p, cJSON_GetObjectItemCaseSensitive(sla, "stuck"));
  cJSON_Delete(sla);
  settle_alert_calendar(&p->def);
  return rc ? SB_ECONFIG : 0;
}

sb_sla_policies_t *sb_sla_policies_new(const sb_tenant_t *t, char *err, size_t errlen) {
  sb_sla_policies_t *p = calloc(1, sizeof *p);
  load_t l = {t, err, errlen};
  if (!p) {
    snprintf(err, errlen, "tenant %s: out of memory", t->id);
    return NULL;
  }
  if (load(&l, p))
    sb_sla_policies_destroy(&p);
  return p;
}

void sb_sla_policies_destroy(sb_sla_policies_t **pp) {
  sb_sla_policies_t *p = *pp;
  if (!p)
    return;
  *pp = NULL;
  for (size_t i = 0; i < p->ncal; i++)
    sb_calendar_destroy(&p->calendars[i].cal);
  free(p);
}

/* ---- using ---------------------------------------------------------------- */

const sb_sla_policy_t *sb_sla_policies_match_queue(const sb_sla_policies_t *p, int channel,
                                                   sb_sla_priority_t priority, const char *queue) {
  for (size_t i = 0; i < p->n; i++) {
    const sb_sla_policy_t *pol = &p->policies[i];
    if ((pol->channel == SB_SLA_ANY || pol->channel == channel) &&
        (pol->priority == SB_SLA_ANY || pol->priority == (int)priority) &&
        (!pol->queue[0] || (queue && strcmp(pol->queue, queue) == 0)))
      return pol;
  }
  return &p->def;
}

const sb_sla_policy_t *sb_sla_policies_match(const sb_sla_policies_t *p, int channel,
                                             sb_sla_priority_t priority) {
  return sb_sla_policies_match_queue(p, channel, priority, NULL);
}

const sb_sla_stuck_cfg_t *sb_sla_policies_stuck(const sb_sla_policies_t *p) { return &p->stuck; }

sb_calendar_t *sb_sla_policies_calendar(const sb_sla_policies_t *p, const char *name) {
  return name && *name ? find_calendar(p, name) : NULL;
}

int sb_sla_policies_by_queue(const sb_sla_policies_t *p) {
  for (size_t i = 0; i < p->n; i++)
    if (p->policies[i].queue[0])
      return 1;
  return 0;
}

size_t sb_sla_policies_calendar_count(const sb_sla_policies_t *p) { return p->ncal; }

sb_calendar_t *sb_sla_policies_calendar_at(const sb_sla_policies_t *p, size_t i, const char **name) {
  if (i >= p->ncal)
    return NULL;
  *name = p->calendars[i].name;
  return p->calendars[i].cal;
}

int sb_sla_clock_add(sb_calendar_t *c, int64_t from_ms, int64_t n_ms, int64_t *at) {
  if (!c) {
    *at = from_ms + n_ms;
    return 0;
  }
  return sb_calendar_add(c, from_ms, n_ms, at);
}

int64_t sb_sla_clock_between(sb_calendar_t *c, int64_t a_ms, int64_t b_ms) {
  if (b_ms <= a_ms)
    return 0;
  return c ? sb_calendar_between(c, a_ms, b_ms) : b_ms - a_ms;
}

const sb_sla_policy_t *sb_sla_policies_default(const sb_sla_policies_t *p) { return &p->def; }

int sb_sla_policy_due(const sb_sla_policy_t *p, sb_sla_target_t k, int64_t from_ms, sb_sla_due_t *out) {
  if ((unsigned)k >= SB_SLA_TARGETS || p->target_ms[k] <= 0)
    return SB_ENOTFOUND;
  int64_t target = p->target_ms[k], warn = target * p->warn_percent / 100;
  if (!p->calendar) {
    out->warn_due_ms = from_ms + warn;
    out->breach_due_ms = from_ms + target;
    return 0;
  }
  int rc = sb_calendar_add(p->calendar, from_ms, warn, &out->warn_due_ms);
  return rc ? rc : sb_calendar_add(p->calendar, from_ms, target, &out->breach_due_ms);
}
