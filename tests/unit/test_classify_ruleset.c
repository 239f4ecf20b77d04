/*
 * test_classify_ruleset: behaviours of sb_ruleset (what a SIGHUP reload
 * builds) and of the repeat-contact settings of sb_rules: a set is built
 * whole or not at all, names the tenant or file that failed, reads each
 * tenant's "classify" member (else the default rules), and matches the
 * service's tenants by identity.
 */
#include "sb_error.h"
#include "sb_ruleset.h"
#include "sb_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TWO_TENANTS                                                                               \
  "{\"tenants\":[{\"id\":\"a\",\"classify\":{\"intents\":[{\"name\":\"alpha\","                   \
  "\"keywords\":{\"*\":[\"zebra\"]}}],\"repeat_window_s\":60,\"repeat_min\":2}},{\"id\":\"b\"}]}"

static char *write_tmp(const char *text) {
  char *path = strdup("/tmp/sb-ruleset-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static sb_tenants_t *tenants_of(const char *text) {
  char err[256];
  char *path = write_tmp(text);
  sb_tenants_t *t = sb_tenants_load(path, err, sizeof err);
  unlink(path);
  free(path);
  if (!t)
    fail_msg("%s", err);
  return t;
}

static int intent_matches(sb_classify_t *c, const char *text, const char *intent) {
  sb_classify_input_t in = {.text = text, .len = strlen(text)};
  sb_classify_verdict_t v;
  assert_int_equal(sb_classify_message(c, &in, &v), 0);
  int found = 0;
  for (size_t i = 0; i < v.intent.n; i++)
    found |= strcmp(v.intent.intents[i].name, intent) == 0;
  sb_classify_verdict_clear(&v);
  return found;
}

static void each_tenant_gets_its_own_rules_or_the_defaults(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = tenants_of(TWO_TENANTS);
  sb_ruleset_source_t src = {.tenants = t};
  sb_ruleset_t *rs = sb_ruleset_build(&src, err, sizeof err);
  assert_non_null(rs);
  const sb_rules_t *ra = NULL, *rb = NULL;
  sb_classify_t *ca = sb_ruleset_classifier(rs, sb_tenants_at(t, 0), &ra);
  sb_classify_t *cb = sb_ruleset_classifier(rs, sb_tenants_at(t, 1), &rb);
  assert_non_null(ca);
  assert_non_null(cb);
  assert_true(intent_matches(ca, "a zebra!", "alpha"));
  assert_false(intent_matches(cb, "a zebra!", "alpha"));
  assert_int_equal(sb_rules_repeat_window_s(ra), 60);
  assert_int_equal(sb_rules_repeat_min(ra), 2);
  assert_int_equal(sb_rules_repeat_window_s(rb), SB_RULES_REPEAT_WINDOW_DEFAULT);
  assert_int_equal(sb_rules_repeat_min(rb), 1);
  /* a tenant the set was not built for is unknown */
  sb_tenants_t *other = tenants_of(TWO_TENANTS);
  assert_null(sb_ruleset_classifier(rs, sb_tenants_at(other, 0), NULL));
  sb_tenants_destroy(&other);
  sb_ruleset_destroy(&rs);
  assert_null(rs);
  sb_tenants_destroy(&t);
}

static void reload_reads_the_file_again_and_keeps_the_service_tenants(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = tenants_of(TWO_TENANTS);
  char *path = write_tmp("{\"tenants\":[{\"id\":\"b\",\"classify\":{\"intents\":[{\"name\":\"beta\","
                         "\"keywords\":{\"*\":[\"zebra\"]}}]}},{\"id\":\"a\"}]}");
  sb_ruleset_source_t src = {.tenants = t, .tenants_path = path};
  sb_ruleset_t *rs = sb_ruleset_build(&src, err, sizeof err);
  assert_non_null(rs);
  /* matched by id, not by position in the file */
  assert_true(intent_matches(sb_ruleset_classifier(rs, sb_tenants_at(t, 1), NULL), "a zebra", "beta"));
  assert_false(intent_matches(sb_ruleset_classifier(rs, sb_tenants_at(t, 0), NULL), "a zebra", "alpha"));
  sb_ruleset_destroy(&rs);
  unlink(path);
  free(path);
  sb_tenants_destroy(&t);
}

static void one_bad_tenant_fails_the_whole_set_and_says_which(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = tenants_of(TWO_TENANTS);
  char *path = write_tmp("{\"tenants\":[{\"id\":\"a\"},{\"id\":\"b\",\"classify\":{\"intents\":"
                         "[{\"name\":\"x\",\"regex\":{\"en\":[\"(a\"]}}]}}]}");
  sb_ruleset_source_t src = {.tenants = t, .tenants_path = path};
  assert_null(sb_ruleset_build(&src, err, sizeof err));
  assert_non_null(strstr(err, "tenant b"));
  unlink(path);
  free(path);
  sb_tenants_destroy(&t);
}

static void missing_tenant_unreadable_file_and_bad_lexicons_fail(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = tenants_of(TWO_TENANTS);
  char *path = write_tmp("{\"tenants\":[{\"id\":\"a\"}]}");
  sb_ruleset_source_t src = {.tenants = t, .tenants_path = path};
  assert_null(sb_ruleset_build(&src, err, sizeof err));
  assert_non_null(strstr(err, "tenant b: missing"));
  src.tenants_path = "/nonexistent/tenants.json";
  assert_null(sb_ruleset_build(&src, err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/tenants.json"));
  src.tenants_path = NULL;
  src.lexicons = "/nonexistent/lexicons";
  assert_null(sb_ruleset_build(&src, err, sizeof err));
  assert_non_null(strstr(err, "lexicons"));
  src.lexicons = NULL;
  src.default_rules = "/nonexistent/rules.json";
  assert_null(sb_ruleset_build(&src, err, sizeof err)); /* tenant b has no section */
  unlink(path);
  free(path);
  sb_tenants_destroy(&t);
}

/* Tenant "n" names calendar "office" (Mondays 09:00-10:00 UTC) of its sla
 * section for its spike notices; "x" names one it does not have. */
#define CAL_TENANTS(cal_name)                                                                               \
  "{\"tenants\":[{\"id\":\"n\",\"classify\":{\"spike\":{\"supervisor_calendar\":\"office\"}},"          \
  "\"sla\":{\"calendars\":{\"" cal_name "\":{\"tz\":\"UTC\",\"hours\":{\"mon\":[[\"09:00\",\"10:00\"]]}}}}},"    \
  "{\"id\":\"always\"}]}"

static void spike_notices_use_the_named_sla_calendar(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = tenants_of(CAL_TENANTS("office"));
  sb_ruleset_source_t src = {.tenants = t};
  sb_ruleset_t *rs = sb_ruleset_build(&src, err, sizeof err);
  if (!rs)
    fail_msg("%s", err);
  sb_calendar_t *cal = sb_ruleset_supervisor_calendar(rs, sb_tenants_at(t, 0));
  assert_non_null(cal);
  /* Mon 2026-11-23 09:30 UTC open; Tue 24th 12:00 -> Mon 30th 09:00 */
  assert_true(sb_calendar_is_open(cal, 1795426200000LL));
  int64_t at = 0;
  assert_int_equal(sb_calendar_next_open(cal, 1795521600000LL, &at), 0);
  assert_int_equal(at, 1796029200000LL);
  assert_null(sb_ruleset_supervisor_calendar(rs, sb_tenants_at(t, 1)));
  sb_ruleset_destroy(&rs);
  sb_tenants_destroy(&t);

  /* a name the tenant's sla.calendars lacks is refused, naming both */
  t = tenants_of(CAL_TENANTS("shop"));
  src.tenants = t;
  assert_null(sb_ruleset_build(&src, err, sizeof err));
  assert_string_equal(err, "tenant n: spike.supervisor_calendar: \"office\" names no calendar of sla.calendars");
  sb_tenants_destroy(&t);
  /* a bad name is the rules' error */
  assert_null(sb_rules_parse("{\"spike\":{\"supervisor_calendar\":\"a b\"}}", 39, err, sizeof err));
  assert_non_null(strstr(err, "spike.supervisor_calendar: must be the name of one of sla.calendars"));
}

static void repeat_settings_out_of_range_are_refused(void **state) {
  (void)state;
  char err[256];
  static const char *const bad[] = {
      "{\"repeat_window_s\": -1}", "{\"repeat_window_s\": 99999999}", "{\"repeat_window_s\": \"7d\"}",
      "{\"repeat_min\": 0}",       "{\"repeat_min\": 5000}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sb_rules_t *r = sb_rules_parse(bad[i], strlen(bad[i]), err, sizeof err);
    if (r)
      fail_msg("accepted %s", bad[i]);
    assert_non_null(strstr(err, "repeat_"));
  }
  sb_rules_t *r = sb_rules_parse("{\"repeat_window_s\": 0}", 22, err, sizeof err);
  assert_non_null(r);
  assert_int_equal(sb_rules_repeat_window_s(r), 0); /* 0: not counted */
  sb_rules_destroy(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_tenant_gets_its_own_rules_or_the_defaults),
      cmocka_unit_test(reload_reads_the_file_again_and_keeps_the_service_tenants),
      cmocka_unit_test(one_bad_tenant_fails_the_whole_set_and_says_which),
      cmocka_unit_test(missing_tenant_unreadable_file_and_bad_lexicons_fail),
      cmocka_unit_test(spike_notices_use_the_named_sla_calendar),
      cmocka_unit_test(repeat_settings_out_of_range_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
