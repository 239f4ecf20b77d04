/*
 * sb_sla_policy: a tenant's service-level promises, by channel and
 * priority, read once at start from the tenant's "sla" section:
 *
 *   "sla": {"first_response_ms": 900000, "warn_percent": 80,
 *           "next_response_ms": 0, "resolution_ms": 0, "calendar": "",
 *           "policies": [{"channel": "x", "priority": "*",
 *                         "first_response_ms": 60000, "next_response_ms": 120000,
 *                         "resolution_ms": 86400000, "warn_percent": 80,
 *                         "calendar": "support"}, ...],
 *           "calendars": {"support": {"tz": "Europe/Paris", "hours": {...},
 *                                     "holidays": [...]}}}
 *
 * The top-level values are the tenant's default policy; a policy states
 * what differs (a field it leaves out is the default's). Policies are tried
 * in order and the first whose channel and priority match wins; none
 * matching gives the default. A target of 0 (or left out everywhere) is
 * not promised: no timer. Without a calendar every hour counts; with one,
 * due times are in business time (sb_calendar). Every error names the
 * tenant and the field ("tenant acme: sla.policies[1].priority: ...").
 *
 * Priority comes from classify's score (Classification.priority, 0..100)
 * in bands: urgent >= SB_SLA_BAND_URGENT, high >= SB_SLA_BAND_HIGH,
 * normal >= SB_SLA_BAND_NORMAL, low below; an envelope without a
 * classification is normal.
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

typedef enum {
  SB_SLA_FIRST_RESPONSE, /* from the customer's first message to the first reply */
  SB_SLA_NEXT_RESPONSE,  /* from each later customer message to the next reply */
  SB_SLA_RESOLUTION,     /* from the first message to the close */
  SB_SLA_TARGETS
} sb_sla_target_t;

typedef enum { SB_SLA_URGENT, SB_SLA_HIGH, SB_SLA_NORMAL, SB_SLA_LOW, SB_SLA_PRIORITIES } sb_sla_priority_t;

#define SB_SLA_ANY (-1) /* "*" in a policy's channel or priority */

typedef struct {
  int channel;                       /* Switchboard__V1__Channel, or SB_SLA_ANY */
  int priority;                      /* sb_sla_priority_t, or SB_SLA_ANY */
  int64_t target_ms[SB_SLA_TARGETS]; /* 0: not promised */
  int warn_percent;                  /* 1..100 */
  sb_calendar_t *calendar;           /* NULL: every hour counts (owned by the set) */
  char calendar_name[SB_SLA_NAME_MAX + 1];
} sb_sla_policy_t;

typedef struct {
  int64_t warn_due_ms;
  int64_t breach_due_ms;
} sb_sla_due_t;

typedef struct sb_sla_policies sb_sla_policies_t;

/* The tenant's policies from t->section_json[SB_TENANT_SLA] (and its
 * first_response_ms / warn_percent). NULL with the reason in err. */
sb_sla_policies_t *sb_sla_policies_new(const sb_tenant_t *t, char *err, size_t errlen);
void sb_sla_policies_destroy(sb_sla_policies_t **p);

/* The first policy matching channel and priority, else the default; never
 * NULL. */
const sb_sla_policy_t *sb_sla_policies_match(const sb_sla_policies_t *p, int channel,
                                             sb_sla_priority_t priority);
/* The policy the tenant falls back to. */
const sb_sla_policy_t *sb_sla_policies_default(const sb_sla_policies_t *p);

/* Warning and breach due times of target k counted from from_ms (in the
 * policy's business time). 0, SB_ENOTFOUND if the target is not promised
 * or the calendar never opens, SB_EINVAL on a calendar failure. */
int sb_sla_policy_due(const sb_sla_policy_t *p, sb_sla_target_t k, int64_t from_ms, sb_sla_due_t *out);

/* The band of a classification (NULL: normal). */
sb_sla_priority_t sb_sla_priority_band(const Switchboard__V1__Classification *c);
/* "first_response", "next_response", "resolution". */
const char *sb_sla_target_name(sb_sla_target_t k);
/* "urgent", ... "low"; sb_sla_priority_parse: -1 if not a band. */
const char *sb_sla_priority_name(sb_sla_priority_t p);
int sb_sla_priority_parse(const char *name);

#endif
