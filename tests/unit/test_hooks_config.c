/* sb_hooks_config: a tenant's webhooks are read with their defaults, and a
 * bad member is refused with the tenant and the field named. */
#include "sb_testutil.h"

#include "sb_error.h"
#include "sb_hooks_config.h"

#include <stdlib.h>
#include <string.h>

static sb_hooks_config_t *parse(const char *json, char *err) {
  sb_hooks_config_t *c = NULL;
  int rc = sb_hooks_config_parse("acme", json, &c, err, 256);
  assert_true(rc == 0 || c == NULL);
  return c;
}

static void a_full_config_is_read_with_defaults_filled_in(void **state) {
  (void)state;
  char err[256];
  setenv("SB_TEST_CRM_SECRET", "from-env", 1);
  sb_hooks_config_t *c = parse(
      "{\"webhooks\":[{\"id\":\"crm\",\"url\":\"https://crm.example/h\",\"secret\":\"env:SB_TEST_CRM_SECRET\","
      "\"events\":[\"assigned\",\"sla.breach\",\"delivery\"],\"max_in_flight\":2,\"timeout_ms\":700},"
      "{\"id\":\"ops\",\"url\":\"http://127.0.0.1:9/x\",\"secret\":\"lit\",\"events\":[\"*\"]}],"
      "\"retry\":{\"base_ms\":50,\"max_ms\":400,\"give_up_after_s\":60,\"jitter\":\"none\"},"
      "\"breaker\":{\"failures\":3,\"open_ms\":1000},\"templates\":{}}",
      err);
  assert_non_null(c);
  assert_int_equal(c->nhooks, 2);
  const sb_hook_t *crm = sb_hooks_config_find(c, "crm");
  assert_string_equal(crm->secret, "from-env");
  assert_int_equal(crm->max_in_flight, 2);
  assert_int_equal(crm->timeout_ms, 700);
  assert_true(sb_hook_wants(crm, "sla.breach"));
  assert_true(sb_hook_wants(crm, "delivery"));
  assert_false(sb_hook_wants(crm, "queued"));
  const sb_hook_t *ops = sb_hooks_config_find(c, "ops");
  assert_int_equal(ops->max_in_flight, SB_HOOK_MAX_IN_FLIGHT_DEFAULT);
  assert_int_equal(ops->timeout_ms, SB_HOOK_TIMEOUT_DEFAULT_MS);
  assert_true(sb_hook_wants(ops, "queued"));
  assert_int_equal(c->retry.base_ms, 50);
  assert_int_equal(c->retry.jitter, SB_HOOKS_JITTER_NONE);
  assert_int_equal(c->breaker.failures, 3);
  assert_null(sb_hooks_config_find(c, "nope"));
  sb_hooks_config_destroy(&c);
  assert_null(c);
}

static void no_notify_member_means_no_webhooks_and_default_policy(void **state) {
  (void)state;
  char err[256];
  sb_hooks_config_t *c = parse(NULL, err);
  assert_non_null(c);
  assert_int_equal(c->nhooks, 0);
  assert_int_equal(c->retry.base_ms, SB_HOOKS_RETRY_BASE_DEFAULT_MS);
  assert_int_equal(c->retry.max_ms, SB_HOOKS_RETRY_MAX_DEFAULT_MS);
  assert_int_equal(c->retry.give_up_after_s, SB_HOOKS_GIVE_UP_DEFAULT_S);
  assert_int_equal(c->retry.jitter, SB_HOOKS_JITTER_FULL);
  assert_int_equal(c->breaker.open_ms, SB_HOOKS_BREAKER_OPEN_DEFAULT_MS);
  sb_hooks_config_destroy(&c);
}

#define HOOK(extra) "{\"webhooks\":[{\"id\":\"crm\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"*\"]" extra "}]}"

static void bad_members_are_refused_naming_tenant_and_field(void **state) {
  (void)state;
  static const struct {
    const char *json, *needle;
  } cases[] = {
      {"[]", "tenant acme: notify must be an object"},
      {"{\"webhooks\":{}}", "notify.webhooks must be an array"},
      {"{\"webhooks\":[{\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"*\"]}]}", "notify.webhooks[0].id is required"},
      {"{\"webhooks\":[{\"id\":\"a b\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"*\"]}]}", "notify.webhooks[0].id must match"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"ftp://h/\",\"secret\":\"s\",\"events\":[\"*\"]}]}", "notify.webhooks[0].url must start with http://"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"http://h/\",\"events\":[\"*\"]}]}", "notify.webhooks[0].secret is required"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"http://h/\",\"secret\":\"env:SB_TEST_UNSET_VAR\",\"events\":[\"*\"]}]}",
       "notify.webhooks[0].secret names environment variable SB_TEST_UNSET_VAR, which is not set"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"asigned\"]}]}", "notify.webhooks[0].events[0] \"asigned\" is not a feed kind"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[]}]}", "notify.webhooks[0].events must be a non-empty array"},
      {HOOK(",\"max_in_flight\":0"), "notify.webhooks[0].max_in_flight must be an integer in [1, 256]"},
      {HOOK(",\"timeout_ms\":1.5"), "notify.webhooks[0].timeout_ms must be an integer"},
      {HOOK(",\"timeout\":5"), "notify.webhooks[0].timeout is not a known field"},
      {"{\"webhooks\":[{\"id\":\"a\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"*\"]},"
       "{\"id\":\"a\",\"url\":\"http://h/\",\"secret\":\"s\",\"events\":[\"*\"]}]}", "notify.webhooks[1].id \"a\" is used twice"},
      {"{\"retry\":{\"base_ms\":100,\"max_ms\":10}}", "notify.retry.max_ms must be at least notify.retry.base_ms"},
      {"{\"retry\":{\"give_up_after_s\":0}}", "notify.retry.give_up_after_s must be an integer in [1,"},
      {"{\"retry\":{\"jitter\":\"half\"}}", "notify.retry.jitter must be \"full\" or \"none\""},
      {"{\"breaker\":{\"failures\":5,\"open\":1}}", "notify.breaker.open is not a known field"},
      {"{\"breaker\":{\"failures\":\"5\"}}", "notify.breaker.failures must be an integer"},
  };
  unsetenv("SB_TEST_UNSET_VAR");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[256] = "";
    sb_hooks_config_t *c = NULL;
    int rc = sb_hooks_config_parse("acme", cases[i].json, &c, err, sizeof err);
    if (rc != SB_ECONFIG || !strstr(err, cases[i].needle) || strncmp(err, "tenant acme: ", 13))
      fail_msg("case %zu: rc %d, err \"%s\", wanted \"%s\"", i, rc, err, cases[i].needle);
    assert_null(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_full_config_is_read_with_defaults_filled_in),
      cmocka_unit_test(no_notify_member_means_no_webhooks_and_default_policy),
      cmocka_unit_test(bad_members_are_refused_naming_tenant_and_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
