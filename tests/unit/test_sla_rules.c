/*
 * sb_sla_policy's newer keys and sb_sla_rearm: a policy can match route's
 * queue, promise a periodic update and name breach actions; every bad
 * value is refused with the tenant and the field named; a rearm adds a
 * pause's business time, re-targets from the original start under the
 * policy that matches now, never re-arms what already fired, keeps paused
 * targets paused and drops what is no longer promised; a malformed task is
 * refused with a reason.
 */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_sla.h"
#include "sb_sla_rearm.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define H (3600 * 1000LL)
#define X SWITCHBOARD__V1__CHANNEL__CHANNEL_X
#define MESSENGER SWITCHBOARD__V1__CHANNEL__CHANNEL_MESSENGER

static int64_t utc(int y, int mo, int d, int h, int mi) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
  return (int64_t)timegm(&tm) * 1000;
}

static sb_sla_policies_t *load(const char *sla_json, char *err, size_t errlen) {
  sb_tenant_t t = {.id = "acme", .first_response_ms = 900000, .warn_percent = 80};
  t.section_json[SB_TENANT_SLA] = (char *)sla_json;
  err[0] = '\0';
  return sb_sla_policies_new(&t, err, errlen);
}

/* Paris office hours, Mon-Fri 09:00-18:00 */
#define OFFICE                                                                                                  \
  "\"calendars\": {\"office\": {\"tz\": \"Europe/Paris\", \"hours\": {\"mon\": [[\"09:00\",\"18:00\"]],"         \
  " \"tue\": [[\"09:00\",\"18:00\"]], \"wed\": [[\"09:00\",\"18:00\"]], \"thu\": [[\"09:00\",\"18:00\"]],"       \
  " \"fri\": [[\"09:00\",\"18:00\"]]}}}"

static const char *const RULES =
    "{\"first_response_ms\": 600000, \"warn_percent\": 50, \"update_ms\": 3600000,"
    " \"on_breach\": [\"alert_supervisor\"], \"alert_window_ms\": 600000,"
    " \"policies\": ["
    "  {\"queue\": \"vip\", \"first_response_ms\": 60000, \"on_breach\": [\"raise_priority\", \"alert_supervisor\"],"
    "   \"raise_priority_by\": 25, \"calendar\": \"office\"},"
    "  {\"channel\": \"messenger\", \"first_response_ms\": 120000, \"supervisor_calendar\": \"office\","
    "   \"update_ms\": 0}],"
    OFFICE "}";

static void queue_update_and_breach_actions_are_read(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load(RULES, err, sizeof err);
  assert_non_null(p);
  assert_true(sb_sla_policies_by_queue(p));
  const sb_sla_policy_t *d = sb_sla_policies_default(p);
  assert_int_equal(d->target_ms[SB_SLA_UPDATE], 3600000);
  assert_int_equal(d->on_breach, SB_SLA_ACT_ALERT_SUPERVISOR);
  assert_int_equal(d->raise_by, SB_SLA_RAISE_BY);
  assert_int_equal(d->alert_window_ms, 600000);
  assert_null(d->alert_calendar);
  /* the vip queue's policy: only when route's queue is known to be vip */
  const sb_sla_policy_t *v = sb_sla_policies_match_queue(p, X, SB_SLA_NORMAL, "vip");
  assert_int_equal(v->target_ms[SB_SLA_FIRST_RESPONSE], 60000);
  assert_int_equal(v->on_breach, SB_SLA_ACT_RAISE_PRIORITY | SB_SLA_ACT_ALERT_SUPERVISOR);
  assert_int_equal(v->raise_by, 25);
  assert_int_equal(v->target_ms[SB_SLA_UPDATE], 3600000); /* the default's */
  assert_non_null(v->alert_calendar);                     /* supervisors' hours follow the calendar */
  assert_string_equal(v->alert_calendar_name, "office");
  assert_ptr_equal(sb_sla_policies_match_queue(p, X, SB_SLA_NORMAL, "general"), d);
  assert_ptr_equal(sb_sla_policies_match(p, X, SB_SLA_NORMAL), d); /* queue unknown */
  const sb_sla_policy_t *m = sb_sla_policies_match_queue(p, MESSENGER, SB_SLA_LOW, "");
  assert_int_equal(m->target_ms[SB_SLA_FIRST_RESPONSE], 120000);
  assert_int_equal(m->target_ms[SB_SLA_UPDATE], 0);
  assert_null(m->calendar);
  assert_string_equal(m->alert_calendar_name, "office"); /* stated apart from the calendar */
  assert_string_equal(sb_sla_target_name(SB_SLA_UPDATE), "update");
  assert_int_equal(sb_sla_target_parse("update"), SB_SLA_UPDATE);
  assert_int_equal(sb_sla_target_parse("updates"), -1);
  sb_sla_policies_destroy(&p);
  assert_null(p);
}

static void breach_actions_and_the_stuck_check_are_read(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load("{\"on_breach\": [\"widen_routing\", \"acknowledge_customer\"],"
                              " \"calendars\": {\"office\": {\"tz\": \"UTC\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}}},"
                              " \"stuck\": {\"after_ms\": 120000, \"queues\": [\"billing\", \"vip\"],"
                              " \"supervisor_calendar\": \"office\"}}",
                              err, sizeof err);
  if (!p)
    fail_msg("%s", err);
  assert_int_equal(sb_sla_policies_default(p)->on_breach, SB_SLA_ACT_WIDEN_ROUTING | SB_SLA_ACT_ACKNOWLEDGE_CUSTOMER);
  const sb_sla_stuck_cfg_t *st = sb_sla_policies_stuck(p);
  assert_int_equal(st->after_ms, 120000);
  assert_int_equal(st->nqueues, 2);
  assert_string_equal(st->queues[1], "vip");
  assert_non_null(st->calendar);
  assert_ptr_equal(st->calendar, sb_sla_policies_calendar(p, "office"));
  sb_sla_policies_destroy(&p);
  p = load("{}", err, sizeof err);
  assert_non_null(p);
  assert_int_equal(sb_sla_policies_stuck(p)->after_ms, 0); /* no check unless asked */
  sb_sla_policies_destroy(&p);
}

static void bad_rules_are_refused_with_the_field_named(void **state) {
  (void)state;
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"{\"on_breach\": \"raise_priority\"}", "tenant acme: sla.on_breach: must be a list"},
      {"{\"on_breach\": [\"page_ceo\"]}", "tenant acme: sla.on_breach: unknown action"},
      {"{\"on_breach\": [3]}", "tenant acme: sla.on_breach: unknown action"},
      {"{\"raise_priority_by\": 0}", "tenant acme: sla.raise_priority_by: must be 1..100"},
      {"{\"raise_priority_by\": 101}", "tenant acme: sla.raise_priority_by: must be 1..100"},
      {"{\"alert_window_ms\": -1}", "tenant acme: sla.alert_window_ms: must be a number of ms"},
      {"{\"alert_window_ms\": 86400001}", "tenant acme: sla.alert_window_ms: must be a number of ms"},
      {"{\"update_ms\": \"hourly\"}", "tenant acme: sla.update_ms: must be a number of ms"},
      {"{\"supervisor_calendar\": \"night\"}", "tenant acme: sla.supervisor_calendar: names no calendar"},
      {"{\"supervisor_calendar\": 1}", "tenant acme: sla.supervisor_calendar: must be the name"},
      {"{\"update_every_ms\": 1}", "tenant acme: sla.update_every_ms: unknown field"},
      {"{\"policies\": [{\"queue\": \"a|b\"}]}", "tenant acme: sla.policies[0].queue: must be a queue id"},
      {"{\"policies\": [{\"queue\": \"\"}]}", "tenant acme: sla.policies[0].queue: must be a queue id"},
      {"{\"policies\": [{\"queue\": 7}]}", "tenant acme: sla.policies[0].queue: must be a queue id"},
      {"{\"policies\": [{\"on_breach\": [\"raise_priority\", \"x\"]}]}",
       "tenant acme: sla.policies[0].on_breach: unknown action"},
      {"{\"policies\": [{\"channel\": \"x\", \"on_hold\": true}]}", "tenant acme: sla.policies[0].on_hold: unknown field"},
      {"{\"on_breach\": [\"widen\"]}", "tenant acme: sla.on_breach: unknown action"},
      {"{\"stuck\": true}", "tenant acme: sla.stuck: must be an object"},
      {"{\"stuck\": {\"queues\": [\"billing\"]}}", "tenant acme: sla.stuck.after_ms: must be a number of ms"},
      {"{\"stuck\": {\"after_ms\": 999, \"queues\": [\"billing\"]}}", "tenant acme: sla.stuck.after_ms: must be"},
      {"{\"stuck\": {\"after_ms\": 60000}}", "tenant acme: sla.stuck.queues: must be a non-empty list"},
      {"{\"stuck\": {\"after_ms\": 60000, \"queues\": []}}", "tenant acme: sla.stuck.queues: must be a non-empty list"},
      {"{\"stuck\": {\"after_ms\": 60000, \"queues\": [\"ok\", \"a b\"]}}",
       "tenant acme: sla.stuck.queues[1]: must be a queue id"},
      {"{\"stuck\": {\"after_ms\": 60000, \"queues\": [\"q\"], \"supervisor_calendar\": \"night\"}}",
       "tenant acme: sla.stuck.supervisor_calendar: names no calendar"},
      {"{\"stuck\": {\"after_ms\": 60000, \"queues\": [\"q\"], \"every_ms\": 5}}",
       "tenant acme: sla.stuck.every_ms: unknown field"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[256];
    sb_sla_policies_t *p = load(cases[i].json, err, sizeof err);
    if (p || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
      fail_msg("case %zu: %s -> %s (want %s)", i, cases[i].json, p ? "accepted" : err, cases[i].want);
    sb_sla_policies_destroy(&p);
  }
}

/* A task as sla_fire.lua makes it. */
static size_t task(char *buf, size_t len, const char *marker, const char *attrs, const char *fr, const char *nr,
                   const char *res, const char *upd) {
  return (size_t)snprintf(buf, len, "conv1\n%s\n%s\n%s\n%s\n%s\n%s", marker, attrs, fr, nr, res, upd);
}

static void a_resume_adds_the_business_time_the_pause_lasted(void **state) {
  (void)state;
  char err[256], buf[1024], open[128];
  sb_sla_policies_t *p = load(RULES, err, sizeof err);
  assert_non_null(p);
  /* vip (office hours, 60 s): started Mon 2026-03-02 17:59 Paris (16:59 UTC), paused a
   * second later, resumed Tue 09:00:30 Paris: the night is not business time, so the
   * pause cost 30 s of business time, not 15 h */
  int64_t started = utc(2026, 3, 2, 16, 59), paused = started + 1000, resumed = utc(2026, 3, 3, 8, 0) + 30000;
  snprintf(open, sizeof open, "%lld,60000,office,50,0,%lld,0", (long long)started, (long long)paused);
  char marker[64], attrs[128];
  snprintf(marker, sizeof marker, "%lld|1|resume", (long long)resumed);
  snprintf(attrs, sizeof attrs, "x|2|vip|%lld|3|25|600000|office|3600000", (long long)started);
  size_t n = task(buf, sizeof buf, marker, attrs, open, "", "", "");
  sb_sla_rearm_t r;
  const char *why = NULL;
  assert_int_equal(sb_sla_rearm_compute(p, buf, n, &r, &why), 0);
  assert_string_equal(r.conv, "conv1");
  assert_string_equal(r.marker, marker);
  assert_string_equal(r.t[SB_SLA_FIRST_RESPONSE].old, open);
  /* paused business time: Mon 17:59:01-18:00 (59 s) + Tue 09:00-09:00:30 (30 s) */
  char want[128];
  snprintf(want, sizeof want, "%lld,60000,office,50,89000,0,0", (long long)started);
  assert_string_equal(r.t[SB_SLA_FIRST_RESPONSE].now, want);
  /* 1 s ran before the pause, 59 s after the resume at 09:00:30: Tue 09:01:29 */
  assert_int_equal(r.t[SB_SLA_FIRST_RESPONSE].breach_due_ms, utc(2026, 3, 3, 8, 1) + 29000);
  /* the warning at 50 % (30 s of running time): Tue 09:00:59 */
  assert_int_equal(r.t[SB_SLA_FIRST_RESPONSE].warn_due_ms, utc(2026, 3, 3, 8, 0) + 59000);
  /* attrs rewritten with the vip policy's actions */
  snprintf(want, sizeof want, "x|2|vip|%lld|3|25|600000|office|3600000", (long long)started);
  assert_string_equal(r.attrs, want);
  for (int k = SB_SLA_NEXT_RESPONSE; k < SB_SLA_TARGETS; k++)
    assert_string_equal(r.t[k].now, "");
  sb_sla_policies_destroy(&p);
}

static void a_policy_change_retargets_from_the_original_start(void **state) {
  (void)state;
  char err[256], buf[1024], attrs[128], fr[128], res[128], upd[128];
  sb_sla_policies_t *p = load(RULES, err, sizeof err);
  assert_non_null(p);
  int64_t t0 = utc(2026, 6, 1, 10, 0);
  /* moved from x to messenger: first response 600 s -> 120 s, counted from t0 */
  snprintf(attrs, sizeof attrs, "messenger|2||%lld|2|10|600000||3600000", (long long)t0);
  snprintf(fr, sizeof fr, "%lld,600000,,50,0,0,0", (long long)t0);
  snprintf(res, sizeof res, "%lld,600000,,50,0,%lld,0", (long long)t0, (long long)(t0 + 5000)); /* paused */
  snprintf(upd, sizeof upd, "%lld,0,,0,0,0,1", (long long)(t0 + 1000)); /* warned already */
  size_t n = task(buf, sizeof buf, "1780000000000|0|policy", attrs, fr, "", res, upd);
  sb_sla_rearm_t r;
  const char *why = NULL;
  assert_int_equal(sb_sla_rearm_compute(p, buf, n, &r, &why), 0);
  assert_int_equal(r.t[SB_SLA_FIRST_RESPONSE].breach_due_ms, t0 + 120000);
  assert_int_equal(r.t[SB_SLA_FIRST_RESPONSE].warn_due_ms, t0 + 60000);
  char want[128];
  snprintf(want, sizeof want, "%lld,120000,,50,0,0,0", (long long)t0);
  assert_string_equal(r.t[SB_SLA_FIRST_RESPONSE].now, want);
  /* resolution is not promised by the messenger policy (nor the default): dropped */
  assert_string_equal(r.t[SB_SLA_RESOLUTION].now, "");
  /* messenger promises no update: dropped */
  assert_string_equal(r.t[SB_SLA_UPDATE].now, "");
  /* the supervisors' calendar of the messenger policy lands in attrs */
  snprintf(want, sizeof want, "messenger|2||%lld|2|10|600000|office|0", (long long)t0);
  assert_string_equal(r.attrs, want);

  /* the default policy (x, no queue): a paused target stays paused, a warned one
   * gets its breach only */
  snprintf(attrs, sizeof attrs, "x|1||%lld|2|10|600000||3600000", (long long)t0);
  snprintf(res, sizeof res, "%lld,600000,,50,0,%lld,0", (long long)t0, (long long)(t0 + 5000));
  n = task(buf, sizeof buf, "1780000000000|0|policy", attrs, fr, "", "", upd);
  assert_int_equal(sb_sla_rearm_compute(p, buf, n, &r, &why), 0);
  assert_int_equal(r.t[SB_SLA_UPDATE].warn_due_ms, -1);
  assert_int_equal(r.t[SB_SLA_UPDATE].breach_due_ms, t0 + 1000 + 3600000);
  snprintf(want, sizeof want, "%lld,3600000,,50,0,0,1", (long long)(t0 + 1000));
  assert_string_equal(r.t[SB_SLA_UPDATE].now, want);

  snprintf(res, sizeof res, "%lld,600000,,50,0,%lld,0", (long long)t0, (long long)(t0 + 5000));
  sb_sla_policies_destroy(&p);
  p = load("{\"resolution_ms\": 600000}", err, sizeof err);
  assert_non_null(p);
  n = task(buf, sizeof buf, "1780000000000|0|policy", attrs, "", "", res, "");
  assert_int_equal(sb_sla_rearm_compute(p, buf, n, &r, &why), 0);
  assert_int_equal(r.t[SB_SLA_RESOLUTION].breach_due_ms, -1); /* still paused: no timer */
  snprintf(want, sizeof want, "%lld,600000,,80,0,%lld,0", (long long)t0, (long long)(t0 + 5000));
  assert_string_equal(r.t[SB_SLA_RESOLUTION].now, want);
  /* a breached target is kept as it was, nothing re-armed */
  snprintf(res, sizeof res, "%lld,600000,,50,0,0,2", (long long)t0);
  n = task(buf, sizeof buf, "1780000000000|0|policy", attrs, "", "", res, "");
  assert_int_equal(sb_sla_rearm_compute(p, buf, n, &r, &why), 0);
  assert_int_equal(r.t[SB_SLA_RESOLUTION].breach_due_ms, -1);
  assert_int_equal(r.t[SB_SLA_RESOLUTION].warn_due_ms, -1);
  assert_string_equal(r.t[SB_SLA_RESOLUTION].now, res);
  sb_sla_policies_destroy(&p);
}

static void malformed_tasks_are_refused_with_a_reason(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load(RULES, err, sizeof err);
  assert_non_null(p);
  static const char *const bad[] = {
      "",
      "conv1\n1|0|policy\nx|2||1|0|10|0||0\n\n\n",               /* a target short */
      "conv1\n1|0|policy\nx|2||1|0|10|0||0\n\n\n\n\nextra",      /* one too many */
      "\n1|0|policy\nx|2||1|0|10|0||0\n\n\n\n",                  /* no conversation */
      "conv1\n1|2|policy\nx|2||1|0|10|0||0\n\n\n\n",             /* resume flag not 0/1 */
      "conv1\nsoon|0|policy\nx|2||1|0|10|0||0\n\n\n\n",          /* marker time */
      "conv1\n1|0|policy\nx|2||1|0|10|0\n\n\n\n",                /* attrs short */
      "conv1\n1|0|policy\nx|9||1|0|10|0||0\n\n\n\n",             /* band */
      "conv1\n1|0|policy\nx|2||-5|0|10|0||0\n\n\n\n",            /* start */
      "conv1\n1|0|policy\nx|hi||1|0|10|0||0\n\n\n\n",            /* band not a number */
      "conv1\n1|0|policy\nx|2||1|0|10|0||0\n1,2\n\n\n",          /* open value short */
      "conv1\n1|0|policy\nx|2||1|0|10|0||0\n1,2,,50,0,0,3\n\n\n", /* stage */
      "conv1\n1|0|policy\nx|2||1|0|10|0||0\n1,2,,150,0,0,0\n\n\n", /* warn % */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sb_sla_rearm_t r;
    const char *why = NULL;
    int rc = sb_sla_rearm_compute(p, bad[i], strlen(bad[i]), &r, &why);
    if (rc != SB_EINVAL || !why || strncmp(why, "rearm task", 10) != 0)
      fail_msg("case %zu accepted or without a reason (rc %d)", i, rc);
  }
  char nul[] = "conv1\n1|0|policy\nx|2||1|0|10|0||0\n\n\n\n";
  nul[3] = '\0';
  sb_sla_rearm_t r;
  const char *why = NULL;
  assert_int_equal(sb_sla_rearm_compute(p, nul, sizeof nul - 1, &r, &why), SB_EINVAL);
  sb_sla_policies_destroy(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(queue_update_and_breach_actions_are_read),
      cmocka_unit_test(bad_rules_are_refused_with_the_field_named),
      cmocka_unit_test(breach_actions_and_the_stuck_check_are_read),
      cmocka_unit_test(a_resume_adds_the_business_time_the_pause_lasted),
      cmocka_unit_test(a_policy_change_retargets_from_the_original_start),
      cmocka_unit_test(malformed_tasks_are_refused_with_a_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
