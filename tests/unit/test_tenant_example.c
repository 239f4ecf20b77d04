/*
 * test_tenant_example: examples/tenants/contact-centre.json, the reference
 * tenant file the README walks through, stays valid. `sbctl tenant validate
 * --env-placeholders --json` (the built binary) accepts it and counts what
 * the example promises: two tenants, six platform accounts each over at
 * least five platforms, queues, SLA policies, webhooks and intents. The
 * sections tenantcheck does not cover (notify's outbound accounts,
 * templates, acknowledge/redirect) go through sb-notify's own parsers, with
 * every env:NAME secret set, as at a real start.
 */
#include "sb_testutil.h"

#include "sb_channel_out.h"
#include "sb_channel_send.h"
#include "sb_tenants.h"
#include "sb_templates.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define EXAMPLE "examples/tenants/contact-centre.json"
#define OUT_MAX (1 << 16)

static int count(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  assert_true(cJSON_IsNumber(v));
  return v->valueint;
}

static void sbctl_validates_the_example_and_counts_its_parts(void **state) {
  (void)state;
  char bin[4096], cmd[8192];
  struct stat st;
  snprintf(bin, sizeof bin, "%s/sbctl", sb_test_binary_dir());
  if (stat(bin, &st) != 0)
    fail_msg("%s is missing: build the sbctl target first", bin);
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' tenant validate --env-placeholders --json " EXAMPLE,
           sb_test_source_dir(), bin);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char out[OUT_MAX];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int status = pclose(p);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0)
    fail_msg("sbctl tenant validate: exit %d\n%s", WEXITSTATUS(status), out);
  cJSON *o = cJSON_Parse(out);
  assert_non_null(o);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "valid")));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "problems")), 0);
  const cJSON *sum = cJSON_GetObjectItem(o, "summary");
  assert_int_equal(count(sum, "tenants"), 2);
  assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(sum, "accounts")) >= 5); /* platforms */
  assert_true(count(sum, "queues") >= 10);
  assert_true(count(sum, "policies") >= 10);
  assert_true(count(sum, "webhooks") >= 4);
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "tenants")) {
    assert_true(count(t, "accounts") >= 6); /* six channels' accounts each */
    assert_true(count(t, "queues") >= 4);
    assert_true(count(t, "policies") >= 6);
    assert_true(count(t, "webhooks") >= 2);
    assert_true(count(t, "intents") >= 5);
  }
  cJSON_Delete(o);
}

/* Sets every env:NAME the file names, as a deployment's secrets would. */
static void set_env_secrets(const char *text) {
  for (const char *p = strstr(text, "\"env:"); p; p = strstr(p + 1, "\"env:")) {
    char name[128];
    size_t k = strcspn(p + 5, "\"");
    assert_true(k > 0 && k < sizeof name);
    memcpy(name, p + 5, k);
    name[k] = '\0';
    setenv(name, "example-secret-value", 1);
  }
}

static void notify_accepts_outbound_accounts_templates_and_acknowledgements(void **state) {
  (void)state;
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/" EXAMPLE, sb_test_source_dir());
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char text[1 << 18];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  set_env_secrets(text);
  sb_tenants_t *ts = sb_tenants_load(path, err, sizeof err);
  if (!ts)
    fail_msg("%s", err);
  assert_int_equal(sb_tenants_count(ts), 2);
  for (size_t i = 0; i < sb_tenants_count(ts); i++) {
    const sb_tenant_t *t = sb_tenants_at(ts, i);
    const char *notify = t->section_json[SB_TENANT_NOTIFY];
    assert_non_null(notify);
    sb_templates_t *tpl = NULL;
    sb_out_config_t *out = NULL;
    sb_out_policy_t policy = {0};
    if (sb_templates_parse(t->id, notify, t->languages[0], &tpl, err, sizeof err) ||
        sb_out_config_parse(ts, t->id, notify, &out, err, sizeof err) ||
        sb_out_policy_parse(t->id, notify, tpl, &policy, err, sizeof err))
      fail_msg("%s", err);
    assert_true(sb_templates_has(tpl, "ack"));
    assert_non_null(policy.ack_template);
    assert_true(out->naccounts >= 3);
    sb_out_policy_clear(&policy);
    sb_out_config_destroy(&out);
    sb_templates_destroy(&tpl);
  }
  sb_tenants_destroy(&ts);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sbctl_validates_the_example_and_counts_its_parts),
      cmocka_unit_test(notify_accepts_outbound_accounts_templates_and_acknowledgements),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
