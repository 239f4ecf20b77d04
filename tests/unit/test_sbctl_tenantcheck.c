/* sbctl_tenantcheck: a tenant file goes through every service's parser and
 * each refusal is reported on the line (and column) of the field it names;
 * a valid file is summarised. */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sbctl_tenantcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sbctl_tenantcheck_t *check(const char *text) {
  sbctl_tenantcheck_t *c = sbctl_tenantcheck_run(text, strlen(text));
  assert_non_null(c);
  return c;
}

/* The problem at line:col must be the tenant's and contain needle. */
static void expect_problem(const sbctl_tenantcheck_t *c, size_t i, int line, int col, const char *tenant,
                           const char *needle) {
  const sbctl_tenant_problem_t *p = sbctl_tenantcheck_problem(c, i);
  if (!p)
    fail_msg("problem %zu missing (%zu found)", i, sbctl_tenantcheck_problem_count(c));
  if (p->line != line || p->col != col || strcmp(p->tenant, tenant) || !strstr(p->message, needle))
    fail_msg("problem %zu: %d:%d tenant \"%s\": %s; wanted %d:%d tenant \"%s\": ...%s...", i, p->line, p->col,
             p->tenant, p->message, line, col, tenant, needle);
}

/* Line numbers are the point of this module: the broken fields sit on
 * lines 4, 7, 11, 14 (and 16, 17), at the columns of their keys. */
static const char broken[] =
    "{\"tenants\": [\n"                                                            /* 1 */
    "  {\"id\": \"acme-air\",\n"                                                   /* 2 */
    "   \"classify\": {\"intents\": [\n"                                           /* 3 */
    "      {\"name\": \"refund\", \"keywords\": {\"en\": [\"ok\", \"two  **\"]}}]},\n" /* 4 */
    "   \"route\": {\n"                                                            /* 5 */
    "     \"queues\": [\n"                                                         /* 6 */
    "       {\"id\": \"general\", \"strategy\": \"fastest\"}]},\n"                 /* 7 */
    "   \"sla\": {\n"                                                              /* 8 */
    "     \"policies\": [{\"channel\": \"email\", \"calendar\": \"support\"}],\n"  /* 9 */
    "     \"calendars\": {\"support\": {\n"                                        /* 10 */
    "        \"tz\": \"Europe/Nowhere\", \"hours\": {\"mon\": [[\"09:00\", \"18:00\"]]}}}},\n" /* 11 */
    "   \"notify\": {\"webhooks\": [{\n"                                           /* 12 */
    "     \"id\": \"crm\",\n"                                                      /* 13 */
    "     \"url\": \"crm.acme.example/hook\", \"secret\": \"s\", \"events\": [\"assigned\"]}]}},\n" /* 14 */
    "  {\"id\": \"citytransit\",\n"                                                /* 15 */
    "   \"sla\": {\"warn_percent\": 0}},\n"                                        /* 16 */
    "  {\"id\": \"acme-air\"}\n"                                                   /* 17 */
    "]}\n";

static void each_service_refusal_is_placed_on_its_line(void **state) {
  (void)state;
  sbctl_tenantcheck_t *c = check(broken);
  assert_false(sbctl_tenantcheck_ok(c));
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 6);
  /* classify (sb_rules_parse): the bad keyword itself, the array's 2nd element */
  expect_problem(c, 0, 4, 52, "acme-air", "classify.intents[0].keywords.en[1]");
  /* route (sb_route_config_new): an unknown strategy, at "strategy" */
  expect_problem(c, 1, 7, 26, "acme-air", "route.queues[0].strategy must be longest_idle");
  /* sla (sb_sla_policies_new): a calendar's unknown time zone, at its "tz" */
  expect_problem(c, 2, 11, 9, "acme-air", "sla.calendars.support: tz: \"Europe/Nowhere\"");
  /* notify (sb_hooks_config_parse): a webhook URL without a scheme, at "url" */
  expect_problem(c, 3, 14, 6, "acme-air", "notify.webhooks[0].url must start with http:// or https://");
  /* the file (sb_tenants_parse), tenant by tenant and across tenants */
  expect_problem(c, 4, 16, 12, "citytransit", "sla.warn_percent must be 1..100");
  expect_problem(c, 5, 17, 4, "acme-air", "id \"acme-air\" is listed twice");
  sbctl_tenantcheck_destroy(&c);
  assert_null(c);
}

static void invalid_json_is_reported_where_parsing_stopped(void **state) {
  (void)state;
  sbctl_tenantcheck_t *c = check("{\"tenants\": [\n"
                                 "  {\"id\": \"acme-air\",\n"
                                 "   \"languages\": [\"en\", \"fr\"]\n"
                                 "   \"sla\": {\"first_response_ms\": 60000}}\n"
                                 "]}\n");
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 1);
  expect_problem(c, 0, 4, 4, "", "invalid JSON near '\"sla\"");
  sbctl_tenantcheck_destroy(&c);
  /* cJSON stops at the last byte when the text ends early */
  c = check("{\"tenants\": [{\"id\": \"a\"}]");
  expect_problem(c, 0, 1, 25, "", "invalid JSON near ']'");
  sbctl_tenantcheck_destroy(&c);
  c = check("{\"tenants\": [{\"id\": \"a\"}\n\n");
  expect_problem(c, 0, 3, 1, "", "invalid JSON: the file ends before the value does");
  sbctl_tenantcheck_destroy(&c);
  c = check("{\"tenants\": []}\n{}");
  expect_problem(c, 0, 2, 1, "", "text after the JSON value");
  sbctl_tenantcheck_destroy(&c);
}

static void file_level_refusals_point_at_the_root(void **state) {
  (void)state;
  sbctl_tenantcheck_t *c = check("\n  {\"tenant\": []}");
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 1);
  expect_problem(c, 0, 2, 3, "", "missing \"tenants\" array");
  sbctl_tenantcheck_destroy(&c);
}

static void a_bad_member_does_not_hide_a_bad_section(void **state) {
  (void)state;
  sbctl_tenantcheck_t *c = check("{\"tenants\": [{\"id\": \"t\",\n"
                                 " \"accounts\": [{\"platform\": \"myspace\", \"id\": \"p\", \"secret\": \"s\"}],\n"
                                 " \"route\": {\"queues\": [{\"id\": \"q\"}], \"rules\": [\n"
                                 "   {\"name\": \"r\", \"if\": {\"colour\": [\"red\"]}, \"queue\": \"q\"}]}},\n"
                                 " {\"id\": \"bad id\"}]}");
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 3);
  expect_problem(c, 0, 2, 2, "t", "account needs \"platform\"");
  /* the unknown condition's own key */
  expect_problem(c, 1, 4, 25, "t", "route.rules[0].if: unknown condition \"colour\"");
  /* a tenant without a usable id is named by its place in the list */
  expect_problem(c, 2, 5, 3, "#1", "\"id\" must match");
  sbctl_tenantcheck_destroy(&c);
}

static void an_account_listed_by_two_tenants_is_found(void **state) {
  (void)state;
  sbctl_tenantcheck_t *c = check("{\"tenants\": [\n"
                                 " {\"id\": \"a\", \"accounts\": [{\"platform\": \"x\", \"id\": \"p\", \"secret\": \"s\"}]},\n"
                                 " {\"id\": \"b\", \"accounts\": [{\"platform\": \"x\", \"id\": \"p\", \"secret\": \"t\"}]}]}");
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 1);
  expect_problem(c, 0, 3, 14, "b", "account x/p is listed twice");
  sbctl_tenantcheck_destroy(&c);
}

static void unset_secrets_are_problems_unless_given_placeholders(void **state) {
  (void)state;
  const char *text = "{\"tenants\": [{\"id\": \"a\",\n"
                     " \"notify\": {\"webhooks\": [{\"id\": \"h\", \"url\": \"https://h/\",\n"
                     "   \"secret\": \"env:SB_TEST_TENANTCHECK_UNSET\", \"events\": [\"*\"]}]}}]}";
  unsetenv("SB_TEST_TENANTCHECK_UNSET");
  sbctl_tenantcheck_t *c = check(text);
  assert_int_equal(sbctl_tenantcheck_problem_count(c), 1);
  expect_problem(c, 0, 3, 4, "a", "SB_TEST_TENANTCHECK_UNSET, which is not set");
  sbctl_tenantcheck_destroy(&c);
  assert_int_equal(sbctl_tenantcheck_env_placeholders(text, strlen(text)), 1);
  c = check(text);
  assert_true(sbctl_tenantcheck_ok(c));
  sbctl_tenantcheck_destroy(&c);
  unsetenv("SB_TEST_TENANTCHECK_UNSET");
}

static void a_valid_file_is_summarised(void **state) {
  (void)state;
  char path[4096], err[256];
  snprintf(path, sizeof path, "%s/tests/fixtures/tenants/valid.json", sb_test_source_dir());
  sbctl_tenantcheck_t *c = NULL;
  assert_int_equal(sbctl_tenantcheck_load(path, 0, &c, err, sizeof err), 0);
  assert_true(sbctl_tenantcheck_ok(c));
  assert_int_equal(sbctl_tenantcheck_tenant_count(c), 2);
  const sbctl_tenant_summary_t *a = sbctl_tenantcheck_tenant(c, 0);
  assert_string_equal(a->id, "acme-air");
  assert_int_equal(a->accounts, 2);
  assert_int_equal(a->queues, 2);
  assert_int_equal(a->policies, 3);
  assert_int_equal(a->webhooks, 1);
  assert_int_equal(a->intents, 2);
  const sbctl_tenant_summary_t *b = sbctl_tenantcheck_tenant(c, 1);
  assert_int_equal(b->queues, 1); /* "default" */
  assert_int_equal(b->policies, 1);
  assert_int_equal(sbctl_tenantcheck_platform_count(c), 2);
  assert_string_equal(sbctl_tenantcheck_platform(c, 0)->platform, "meta");
  assert_int_equal(sbctl_tenantcheck_platform(c, 0)->accounts, 2);
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  sbctl_tenantcheck_print(c, "valid.json", f);
  fclose(f);
  assert_non_null(strstr(out, "valid.json: valid: 2 tenants, 3 accounts (meta 2, x 1), 3 queues, 4 SLA policies, "
                              "1 webhooks, 2 classify intents\n"));
  free(out);
  sbctl_tenantcheck_destroy(&c);
  assert_int_equal(sbctl_tenantcheck_load("/nonexistent/tenants.json", 0, &c, err, sizeof err), SB_EIO);
  assert_null(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_service_refusal_is_placed_on_its_line),
      cmocka_unit_test(invalid_json_is_reported_where_parsing_stopped),
      cmocka_unit_test(file_level_refusals_point_at_the_root),
      cmocka_unit_test(a_bad_member_does_not_hide_a_bad_section),
      cmocka_unit_test(an_account_listed_by_two_tenants_is_found),
      cmocka_unit_test(unset_secrets_are_problems_unless_given_placeholders),
      cmocka_unit_test(a_valid_file_is_summarised),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
