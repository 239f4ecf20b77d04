/*
 * sb_sla_policy: the tenant's promises by channel and priority: the first
 * matching policy wins, what a policy leaves out is the default's, due
 * times count in the policy's business time, and a bad "sla" section is
 * refused with the tenant and the field named.
 */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_sla.h"

#include <string.h>
#include <time.h>

#define H (3600 * 1000LL)

static int64_t utc(int y, int mo, int d, int h, int mi) {
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
  return (int64_t)timegm(&tm) * 1000;
}

/* A tenant as sb_tenants makes it: top-level values parsed, the "sla"
 * object kept as text. */
static sb_sla_policies_t *load(const char *sla_json, char *err, size_t errlen) {
  sb_tenant_t t = {.id = "acme", .first_response_ms = 900000, .warn_percent = 80};
  t.section_json[SB_TENANT_SLA] = (char *)sla_json;
  return sb_sla_policies_new(&t, err, errlen);
}

#define X SWITCHBOARD__V1__CHANNEL__CHANNEL_X
#define EMAIL SWITCHBOARD__V1__CHANNEL__CHANNEL_EMAIL
#define VOICE SWITCHBOARD__V1__CHANNEL__CHANNEL_VOICE

static const char *const POLICIES =
    "{\"first_response_ms\": 900000, \"warn_percent\": 80, \"resolution_ms\": 86400000,"
    " \"policies\": ["
    "  {\"channel\": \"*\", \"priority\": \"urgent\", \"first_response_ms\": 30000},"
    "  {\"channel\": \"x\", \"first_response_ms\": 60000, \"next_response_ms\": 120000, \"warn_percent\": 50},"
    "  {\"channel\": \"email\", \"priority\": \"low\", \"first_response_ms\": 0, \"calendar\": \"support\"}],"
    " \"calendars\": {\"support\": {\"tz\": \"Europe/Paris\","
    "   \"hours\": {\"mon\": [[\"09:00\",\"12:30\"],[\"13:30\",\"18:00\"]], \"tue\": [[\"09:00\",\"18:00\"]],"
    "             \"wed\": [[\"09:00\",\"18:00\"]], \"thu\": [[\"09:00\",\"18:00\"]], \"fri\": [[\"09:00\",\"18:00\"]]},"
    "   \"holidays\": [\"2026-12-25\"]}}}";

static void the_first_matching_policy_wins_in_order(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load(POLICIES, err, sizeof err);
  assert_non_null(p);
  /* urgent on X: the urgent rule comes first */
  assert_int_equal(sb_sla_policies_match(p, X, SB_SLA_URGENT)->target_ms[SB_SLA_FIRST_RESPONSE], 30000);
  const sb_sla_policy_t *x = sb_sla_policies_match(p, X, SB_SLA_NORMAL);
  assert_int_equal(x->target_ms[SB_SLA_FIRST_RESPONSE], 60000);
  assert_int_equal(x->target_ms[SB_SLA_NEXT_RESPONSE], 120000);
  assert_int_equal(x->target_ms[SB_SLA_RESOLUTION], 86400000); /* the default's */
  assert_int_equal(x->warn_percent, 50);
  assert_null(x->calendar);
  /* no rule for voice: the default */
  const sb_sla_policy_t *v = sb_sla_policies_match(p, VOICE, SB_SLA_HIGH);
  assert_ptr_equal(v, sb_sla_policies_default(p));
  assert_int_equal(v->target_ms[SB_SLA_FIRST_RESPONSE], 900000);
  assert_int_equal(v->target_ms[SB_SLA_NEXT_RESPONSE], 0);
  /* low e-mail: in business hours, no first-response promise */
  const sb_sla_policy_t *e = sb_sla_policies_match(p, EMAIL, SB_SLA_LOW);
  assert_non_null(e->calendar);
  assert_string_equal(e->calendar_name, "support");
  sb_sla_due_t d;
  assert_int_equal(sb_sla_policy_due(e, SB_SLA_FIRST_RESPONSE, 0, &d), SB_ENOTFOUND);
  assert_ptr_equal(sb_sla_policies_match(p, EMAIL, SB_SLA_NORMAL), sb_sla_policies_default(p));
  sb_sla_policies_destroy(&p);
  assert_null(p);
}

static void due_times_count_in_business_time(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load(POLICIES, err, sizeof err);
  assert_non_null(p);
  const sb_sla_policy_t *e = sb_sla_policies_match(p, EMAIL, SB_SLA_LOW);
  sb_sla_due_t d;
  /* resolution 24 h of business time from Thu 2026-12-24 17:00 CET: 1 h on
   * Thursday, Christmas, the weekend, Monday 8 h, then 9 h a day: Tue 9 h,
   * Wed 6 h -> Wed 30th 15:00 CET; warning at 80 % (19.2 h) -> Wed 10:12 */
  assert_int_equal(sb_sla_policy_due(e, SB_SLA_RESOLUTION, utc(2026, 12, 24, 16, 0), &d), 0);
  assert_int_equal(d.breach_due_ms, utc(2026, 12, 30, 14, 0));
  assert_int_equal(d.warn_due_ms, utc(2026, 12, 30, 9, 12));
  /* without a calendar every hour counts */
  const sb_sla_policy_t *x = sb_sla_policies_match(p, X, SB_SLA_NORMAL);
  assert_int_equal(sb_sla_policy_due(x, SB_SLA_NEXT_RESPONSE, 1000000, &d), 0);
  assert_int_equal(d.breach_due_ms, 1000000 + 120000);
  assert_int_equal(d.warn_due_ms, 1000000 + 60000);
  sb_sla_policies_destroy(&p);
}

static void without_an_sla_section_the_tenant_values_are_the_policy(void **state) {
  (void)state;
  char err[256];
  sb_sla_policies_t *p = load(NULL, err, sizeof err);
  assert_non_null(p);
  const sb_sla_policy_t *d = sb_sla_policies_match(p, X, SB_SLA_URGENT);
  assert_int_equal(d->target_ms[SB_SLA_FIRST_RESPONSE], 900000);
  assert_int_equal(d->warn_percent, 80);
  assert_int_equal(d->target_ms[SB_SLA_RESOLUTION], 0);
  sb_sla_due_t due;
  assert_int_equal(sb_sla_policy_due(d, SB_SLA_FIRST_RESPONSE, 1000000, &due), 0);
  assert_int_equal(due.warn_due_ms, 1000000 + 720000);
  assert_int_equal(due.breach_due_ms, 1000000 + 900000);
  sb_sla_policies_destroy(&p);
}

static void priority_bands_come_from_the_classification_score(void **state) {
  (void)state;
  Switchboard__V1__Classification c = SWITCHBOARD__V1__CLASSIFICATION__INIT;
  assert_int_equal(sb_sla_priority_band(NULL), SB_SLA_NORMAL);
  c.priority = 92;
  assert_int_equal(sb_sla_priority_band(&c), SB_SLA_URGENT);
  c.priority = SB_SLA_BAND_HIGH;
  assert_int_equal(sb_sla_priority_band(&c), SB_SLA_HIGH);
  c.priority = 30;
  assert_int_equal(sb_sla_priority_band(&c), SB_SLA_NORMAL);
  c.priority = 0;
  assert_int_equal(sb_sla_priority_band(&c), SB_SLA_LOW);
  assert_int_equal(sb_sla_priority_parse("high"), SB_SLA_HIGH);
  assert_int_equal(sb_sla_priority_parse("asap"), -1);
}

static void config_errors_name_the_tenant_and_the_field(void **state) {
  (void)state;
  static const struct {
    const char *json, *err;
  } bad[] = {
      {"{\"policies\": [{\"channel\": \"fax\"}]}", "tenant acme: sla.policies[0].channel: not a channel"},
      {"{\"policies\": [{\"channel\": \"x\"}, {\"priority\": \"asap\"}]}",
       "tenant acme: sla.policies[1].priority: not one of"},
      {"{\"policies\": [{\"calendar\": \"support\"}]}", "tenant acme: sla.policies[0].calendar: names no calendar"},
      {"{\"policies\": [{\"warn_percent\": 0}]}", "tenant acme: sla.policies[0].warn_percent: must be 1..100"},
      {"{\"policies\": [{\"first_response_ms\": -5}]}", "tenant acme: sla.policies[0].first_response_ms"},
      {"{\"policies\": [{\"resolution\": 5}]}", "tenant acme: sla.policies[0].resolution: unknown field"},
      {"{\"policies\": {\"channel\": \"x\"}}", "tenant acme: sla.policies: must be a list"},
      {"{\"next_response\": 60000}", "tenant acme: sla.next_response: unknown field"},
      {"{\"calendars\": {\"support\": {\"tz\": \"Europe/Pariss\", \"hours\": {}}}}",
       "tenant acme: sla.calendars.support: tz: \"Europe/Pariss\" is not a known IANA time zone"},
      {"{\"calendars\": {\"support\": {\"tz\": \"Europe/Paris\", \"hours\": {\"mon\": [[\"9h\", \"18h\"]]}}}}",
       "tenant acme: sla.calendars.support: hours.mon[0]"},
      {"{\"calendars\": {\"a b\": {}}}", "tenant acme: sla.calendars.a b: a calendar's name"},
      {"[1]", "tenant acme: sla: must be an object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char err[256] = "";
    sb_sla_policies_t *p = load(bad[i].json, err, sizeof err);
    if (p || !strstr(err, bad[i].err))
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].err);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_first_matching_policy_wins_in_order),
      cmocka_unit_test(due_times_count_in_business_time),
      cmocka_unit_test(without_an_sla_section_the_tenant_values_are_the_policy),
      cmocka_unit_test(priority_bands_come_from_the_classification_score),
      cmocka_unit_test(config_errors_name_the_tenant_and_the_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
