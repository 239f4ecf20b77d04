/*
 * sb_sla_policy: a tenant's service-level promises, by channel and
 * priority, read once at start from the tenant's "sla" section:
 *
 *   "sla": {"first_response_ms": 900000, "warn_percent": 80,
 *           "next_response_ms": 0, "resolution_ms": 0, "calendar": "",
 *           "policies": [{"channel": "x", "priority": "*",
 *                         "first_response_ms": 60000, "next_response_ms": 120000,
 *                         "resolution_ms": 86400000, "warn_percent": 80,
 *                         "calendar": "support", "queue": "vip",
 *                         "update_ms": 3600000,
 *                         "on_breach": ["raise_priority", "alert_supervisor"],
 *                         "raise_priority_by": 20, "alert_window_ms": 600000,
 *                         "supervisor_calendar": "office"}, ...],
 *           "calendars": {"support": {"tz": "Europe/Paris", "hours": {...},
 *                                     "holidays": [...]}}}
 *
 * The top-level values are the tenant's default policy; a policy states
 * what differs (a field it leaves out is the default's). Policies are tried
 * in order and the first whose channel, priority and queue match wins;
 * none matching gives the default. A policy's "queue" matches route's
 * queue of the conversation (left out: any queue). A target of 0 (or left out everywhere) is
 * not promised: no timer. Without a calendar every hour counts; with one,
 * due times are in business time (sb_calendar). Every error names the
 * tenant and the field ("tenant acme: sla.policies[1].priority: ...").
 *
 * Priority comes from classify's score (Classification.priority, 0..100)
 * in bands: urgent >= SB_SLA_BAND_URGENT, high >= SB_SLA_BAND_HIGH,
 * normal >= SB_SLA_BAND_NORMAL, low below; an envelope without a
 * classification is normal.
 *
 * Breach actions ("on_breach", done by sla_fire.lua when a breach fires):
 * "raise_priority" moves a still-waiting conversation up its queue by
 * raise_priority_by (1..100, default SB_SLA_RAISE_BY); "alert_supervisor"
 * marks one event per incident (a conversation's target, or with
 * alert_window_ms > 0 every breach of the queue within that window) as the
 * supervisor alert, deferred while supervisor_calendar (default: the
 * policy's calendar) is closed. "widen_routing" asks route to widen a
 * still-waiting conversation at once (sla_fire.lua puts it due in route's
 * waitdue zset: its queue's next ring of lower skill levels, else the
 * queue's max_wait action). "acknowledge_customer" has notify send the
 * customer the tenant's "breach_ack" template (SlaEvent flag 14).
 *
 * Pure: no I/O after load; the set owns its calendars (not thread-safe,
 * like sb_calendar).
 */
#ifndef SB_SLA_POLICY_H
#define SB_SLA_POLICY_H

#include "sb_calendar.h"
#include "sb_envelope.h"
#include "sb_tenants.h"

#define SB_SLA_BAND_URGENT 75
#define SB_SLA_BAND_HIGH 50
#define SB_SLA_BAND_NORMAL 25
#define SB_SLA_POLICIES_MAX 64
#define SB_SLA_CALENDARS_MAX 16
#define SB_SLA_NAME_MAX 32                   /* a calendar's name: [A-Za-z0-9_-] */
#define SB_SLA_TARGET_LIMIT_MS 2592000000LL  /* 30 days */
#define SB_SLA_QUEUE_MAX 64                  /* a queue's name: [A-Za-z0-9_.:@-], as route's */
#define SB_SLA_RAISE_BY 10                   /* raise_priority_by default */
#define SB_SLA_ALERT_WINDOW_LIMIT_MS 86400000LL /* alert_window_ms at most 1 day */

typedef enum {
  SB_SLA_FIRST_RESPONSE, /* from the customer's first message to the first reply */
  SB_SLA_NEXT_RESPONSE,  /* from each later customer message to the next reply */
  SB_SLA_RESOLUTION,     /* from the first message to the close */
  SB_SLA_UPDATE,         /* from each agent reply to the next, while the case is open */
  SB_SLA_TARGETS
} sb_sla_target_t;

typedef enum { SB_SLA_URGENT, SB_SLA_HIGH, SB_SLA_NORMAL, SB_SLA_LOW, SB_SLA_PRIORITIES } sb_sla_priority_t;

#define SB_SLA_ANY (-1) /* "*" in a policy's channel or priority */

/* on_breach actions (a bit set) */
#define SB_SLA_ACT_RAISE_PRIORITY 1
#define SB_SLA_ACT_ALERT_SUPERVISOR 2
#define SB_SLA_ACT_WIDEN_ROUTING 4
#define SB_SLA_ACT_ACKNOWLEDGE_CUSTOMER 8

typedef struct {
  int channel;                       /* Switchboard__V1__Channel, or SB_SLA_ANY */
  char queue[SB_SLA_QUEUE_MAX + 1];  /* "": any queue */
  int priority;                      /* sb_sla_priority_t, or SB_SLA_ANY */
  int64_t target_ms[SB_SLA_TARGETS]; /* 0: not promised */
  int warn_percent;                  /* 1..100 */
  sb_calendar_t *calendar;           /* NULL: every hour counts (owned by the set) */
  char calendar_name[SB_SLA_NAME_MAX + 1];
  int on_breach;                     /* SB_SLA_ACT_* bits */
  int raise_by;                      /* 1..100 */
  int64_t alert_window_ms;           /* 0: one alert per conversation and target */
  sb_calendar_t *alert_calendar;     /* supervisors' hours; NULL: always */
  char alert_calendar_name[SB_SLA_NAME_MAX + 1];
  int alert_calendar_set;            /* supervisor_calendar was stated (else: calendar) */
} sb_sla_policy_t;

typedef struct {
  int64_t warn_due_ms;
  int64_t breach_due_ms;
} sb_sla_due_t;

/* Stuck queues ("stuck" in the sla section):
 *   "stuck": {"after_ms": 600000, "queues": ["billing", "vip"],
 *             "supervisor_calendar": "office"}
 * A listed queue whose next conversation to serve (the head of route's
 * waiting line) has waited after_ms or longer is stuck: sla-timer raises
 * one "queue_stuck" Incident while it stays stuck (sb_sla_stuck). No
 * check runs while the supervisors' calendar is closed (a queue still
 * stuck when it opens is reported then). */
#define SB_SLA_STUCK_QUEUES_MAX 32
#define SB_SLA_STUCK_MIN_MS 1000

typedef struct {
  int64_t after_ms; /* 0: not checked */
  char queues[SB_SLA_STUCK_QUEUES_MAX][SB_SLA_QUEUE_MAX + 1];
  size_t nqueues;
  char calendar_name[SB_SLA_NAME_MAX + 1]; /* "": always */
  sb_calendar_t *calendar;                 /* NULL: always (owned by the set) */
} sb_sla_stuck_cfg_t;

typedef struct sb_sla_policies sb_sla_policies_t;

/* The tenant's policies from t->section_json[SB_TENANT_SLA] (and its
 * first_response_ms / warn_percent). NULL with the reason in err. */
sb_sla_policies_t *sb_sla_policies_new(const sb_tenant_t *t, char *err, size_t errlen);
void sb_sla_policies_destroy(sb_sla_policies_t **p);

/* The first policy matching channel and priority, else the default; never
 * NULL. */
const sb_sla_policy_t *sb_sla_policies_match(const sb_sla_policies_t *p, int channel,
                                             sb_sla_priority_t priority);
/* The same with route's queue of the conversation ("" or NULL: unknown,
 * then only policies without a queue match). */
const sb_sla_policy_t *sb_sla_policies_match_queue(const sb_sla_policies_t *p, int channel,
                                                   sb_sla_priority_t priority, const char *queue);
/* 1 if some policy names a queue. */
int sb_sla_policies_by_queue(const sb_sla_policies_t *p);
/* The policy the tenant falls back to. */
const sb_sla_policy_t *sb_sla_policies_default(const sb_sla_policies_t *p);

/* Warning and breach due times of target k counted from from_ms (in the
 * policy's business time). 0, SB_ENOTFOUND if the target is not promised
 * or the calendar never opens, SB_EINVAL on a calendar failure. */
int sb_sla_policy_due(const sb_sla_policy_t *p, sb_sla_target_t k, int64_t from_ms, sb_sla_due_t *out);

/* The tenant's stuck-queue check (after_ms 0: none). */
const sb_sla_stuck_cfg_t *sb_sla_policies_stuck(const sb_sla_policies_t *p);

/* The tenant's calendar of that name ("" or unknown: NULL, every hour
 * counts); the calendars by index (i < count), with their names. */
sb_calendar_t *sb_sla_policies_calendar(const sb_sla_policies_t *p, const char *name);
size_t sb_sla_policies_calendar_count(const sb_sla_policies_t *p);
sb_calendar_t *sb_sla_policies_calendar_at(const sb_sla_policies_t *p, size_t i, const char **name);

/* Business time on a calendar, NULL meaning every hour counts:
 * sb_sla_clock_add: *at = when n_ms have passed since from_ms (errors as
 * sb_calendar_add); sb_sla_clock_between: business ms in [a_ms, b_ms). */
int sb_sla_clock_add(sb_calendar_t *c, int64_t from_ms, int64_t n_ms, int64_t *at);
int64_t sb_sla_clock_between(sb_calendar_t *c, int64_t a_ms, int64_t b_ms);

/* The band of a classification (NULL: normal). */
sb_sla_priority_t sb_sla_priority_band(const Switchboard__V1__Classification *c);
/* "first_response", "next_response", "resolution", "update";
 * sb_sla_target_parse: -1 if not a target. */
int sb_sla_target_parse(const char *name);
const char *sb_sla_target_name(sb_sla_target_t k);
/* "urgent", ... "low"; sb_sla_priority_parse: -1 if not a band. */
const char *sb_sla_priority_name(sb_sla_priority_t p);
int sb_sla_priority_parse(const char *name);

#endif
