/* sb_tenants: the tenant file is validated as a whole; lookups are exact. */
#include "sb_testutil.h"

#include "sb_tenants.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_tenants_t *parse(const char *json, char *err) {
  return sb_tenants_parse(json, strlen(json), err, 256);
}

static void a_valid_file_gives_each_tenant_its_policy(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = parse("{\"tenants\":[{\"id\":\"a\",\"languages\":[\"en\",\"fr\"],"
                          "\"sla\":{\"first_response_ms\":60000,\"warn_percent\":75}},{\"id\":\"b-2\"}]}",
                          err);
  assert_non_null(t);
  assert_int_equal(sb_tenants_count(t), 2);
  const sb_tenant_t *a = sb_tenants_find(t, "a", 1);
  assert_non_null(a);
  assert_int_equal(a->first_response_ms, 60000);
  assert_int_equal(a->warn_percent, 75);
  assert_string_equal(a->languages[1], "fr");
  assert_null(a->languages[2]);
  const sb_tenant_t *b = sb_tenants_find(t, "b-2", 3);
  assert_int_equal(b->first_response_ms, SB_SLA_FIRST_RESPONSE_DEFAULT_MS);
  assert_null(sb_tenants_find(t, "b", 1)); /* no prefix matches */
  sb_tenants_destroy(&t);
  assert_null(t);
}

static void bad_files_are_refused_with_a_reason(void **state) {
  (void)state;
  char err[256];
  assert_null(parse("{", err));
  assert_null(parse("{\"tenants\":{}}", err));
  assert_null(parse("{\"tenants\":[{\"id\":\"has space\"}]}", err));
  assert_non_null(strstr(err, "id"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\"},{\"id\":\"a\"}]}", err));
  assert_non_null(strstr(err, "twice"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"sla\":{\"warn_percent\":101}}]}", err));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"sla\":{\"first_response_ms\":0}}]}", err));
  assert_null(sb_tenants_load("/nonexistent/tenants.json", err, sizeof err));
}

static void the_bundled_configuration_loads(void **state) {
  (void)state;
  char err[256], path[1024];
  snprintf(path, sizeof path, "%s/corpus/tenants.json", sb_test_source_dir());
  sb_tenants_t *t = sb_tenants_load(path, err, sizeof err);
  assert_non_null(t);
  assert_true(sb_tenants_count(t) >= 3);
  sb_tenants_destroy(&t);
}

static void accounts_map_platform_ids_to_tenants_with_secrets(void **state) {
  (void)state;
  char err[256];
  setenv("SB_TEST_META_SECRET", "s3cret", 1);
  sb_tenants_t *t = parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":["
                          "{\"platform\":\"meta\",\"id\":\"page-1\",\"secret\":\"env:SB_TEST_META_SECRET\","
                          "\"verify_token\":\"vt\"}],\"classify\":{\"competitors\":[\"X\"]}},"
                          "{\"id\":\"b\",\"accounts\":[{\"platform\":\"x\",\"id\":\"page-1\",\"secret\":\"k\"}]}]}",
                          err);
  assert_non_null(t);
  const sb_account_t *m = sb_tenants_account(t, "meta", "page-1");
  assert_non_null(m);
  assert_string_equal(m->tenant->id, "a");
  assert_string_equal(m->secret, "s3cret");
  assert_string_equal(m->verify_token, "vt");
  const sb_account_t *x = sb_tenants_account(t, "x", "page-1"); /* same id, other platform */
  assert_string_equal(x->tenant->id, "b");
  assert_null(sb_tenants_account(t, "twilio", "page-1"));
  assert_non_null(strstr(sb_tenants_find(t, "a", 1)->section_json[SB_TENANT_CLASSIFY], "competitors"));
  assert_null(sb_tenants_find(t, "b", 1)->section_json[SB_TENANT_CLASSIFY]);
  sb_tenants_destroy(&t);
  unsetenv("SB_TEST_META_SECRET");
}

static void bad_accounts_are_refused_with_a_reason(void **state) {
  (void)state;
  char err[256];
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"myspace\",\"id\":\"p\",\"secret\":\"k\"}]}]}", err));
  assert_non_null(strstr(err, "platform"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"meta\",\"id\":\"p\"}]}]}", err));
  assert_non_null(strstr(err, "secret"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"meta\",\"id\":\"p\",\"secret\":\"env:SB_NOT_SET_ANYWHERE\"}]}]}", err));
  assert_non_null(strstr(err, "SB_NOT_SET_ANYWHERE"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"x\",\"id\":\"p\",\"secret\":\"k\"}]},"
                    "{\"id\":\"b\",\"accounts\":[{\"platform\":\"x\",\"id\":\"p\",\"secret\":\"k\"}]}]}", err));
  assert_non_null(strstr(err, "twice"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"classify\":[1]}]}", err));
}

/* An e-mail account's event_key (SendGrid's verification key) must be an
 * EC public key in base64 DER, and only e-mail accounts take one. */
#define SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEU3B0Zl+3ntlQr/ZOyc3vyr6ADKe6NS/1HpC8sxqCtKdm" \
               "qSr0t2FEeo37ZSaNQNJWEvcqr7TxFkj7D/T+3z2rYQ=="
static void an_email_event_key_is_an_ec_public_key(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = parse("{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"email\",\"id\":\"s\","
                          "\"secret\":\"k\",\"event_key\":\"" SG_KEY "\"}]}]}",
                          err);
  assert_non_null(t);
  assert_string_equal(sb_tenants_account(t, "email", "s")->event_key, SG_KEY);
  sb_tenants_destroy(&t);
  static const char *const bad[] = {
      /* another platform */
      "{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"meta\",\"id\":\"s\",\"secret\":\"k\","
      "\"event_key\":\"" SG_KEY "\"}]}]}",
      /* not base64, not a key, an Ed25519 key, cut short */
      "{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"email\",\"id\":\"s\",\"secret\":\"k\","
      "\"event_key\":\"not a key\"}]}]}",
      "{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"email\",\"id\":\"s\",\"secret\":\"k\","
      "\"event_key\":\"bm90IGEga2V5\"}]}]}",
      "{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"email\",\"id\":\"s\",\"secret\":\"k\","
      "\"event_key\":\"MCowBQYDK2VwAyEABSxkn89dVZdc2iOqguglj0ViLBmJsu/R2ogK7yZPWsk=\"}]}]}",
      "{\"tenants\":[{\"id\":\"a\",\"accounts\":[{\"platform\":\"email\",\"id\":\"s\",\"secret\":\"k\","
      "\"event_key\":\"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEU3B0Zl+3ntlQr/ZOyc3vyr6ADKe6NS/1\"}]}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null(parse(bad[i], err));
    assert_non_null(strstr(err, "\"event_key\" must be an email account's SendGrid verification key"));
  }
}

/* A tenant file of n tenants "t<i>", each with ACCOUNTS accounts
 * "a<i>-<k>" (odd k on meta, even on twilio); dup: the last account
 * repeats tenant 0's "a0-1". The caller frees it. */
enum { ACCOUNTS = 16 };
static char *big_file(int n, int dup) {
  size_t cap = (size_t)n * (ACCOUNTS * 64 + 64) + 64, len = 0;
  char *json = malloc(cap);
  len += (size_t)snprintf(json + len, cap - len, "{\"tenants\":[");
  for (int i = 0; i < n; i++) {
    len += (size_t)snprintf(json + len, cap - len, "%s{\"id\":\"t%d\",\"accounts\":[", i ? "," : "", i);
    for (int k = 0; k < ACCOUNTS; k++) {
      int last = dup && i == n - 1 && k == ACCOUNTS - 1;
      len += (size_t)snprintf(json + len, cap - len, "%s{\"platform\":\"%s\",\"id\":\"a%d-%d\",\"secret\":\"s\"}",
                              k ? "," : "", k % 2 ? "meta" : "twilio", last ? 0 : i, last ? 1 : k);
    }
    len += (size_t)snprintf(json + len, cap - len, "]}");
  }
  snprintf(json + len, cap - len, "]}");
  return json;
}

/* A file at the limits: 4,096 tenants, 16 accounts each (65,536). Every
 * tenant and account is found as itself, and nothing that is not there is
 * (ids differing by a suffix, a NUL inside the length, another platform);
 * a duplicate account at the very end, or one tenant too many, is
 * refused. */
static void lookups_stay_exact_at_the_limits(void **state) {
  (void)state;
  enum { TENANTS = 4096 };
  char err[256], id[64];
  char *json = big_file(TENANTS, 0);
  sb_tenants_t *t = parse(json, err);
  free(json);
  if (!t)
    fail_msg("%s", err);
  assert_int_equal(sb_tenants_count(t), TENANTS);
  for (int i = 0; i < TENANTS; i++) {
    int n = snprintf(id, sizeof id, "t%d", i);
    const sb_tenant_t *x = sb_tenants_find(t, id, (size_t)n);
    assert_non_null(x);
    assert_ptr_equal(x, sb_tenants_at(t, (size_t)i));
    assert_int_equal(sb_tenants_index(t, x), i);
    for (int k = 0; k < ACCOUNTS; k++) {
      snprintf(id, sizeof id, "a%d-%d", i, k);
      const sb_account_t *a = sb_tenants_account(t, k % 2 ? "meta" : "twilio", id);
      assert_non_null(a);
      assert_ptr_equal(a->tenant, x);
      assert_string_equal(a->id, id);
      assert_null(sb_tenants_account(t, k % 2 ? "twilio" : "meta", id));
    }
  }
  assert_null(sb_tenants_find(t, "t4096", 5));
  assert_null(sb_tenants_find(t, "t1", 1));       /* "t": a prefix */
  assert_null(sb_tenants_find(t, "t10\0", 4));    /* a NUL inside the length */
  assert_non_null(sb_tenants_find(t, "t10x", 3)); /* the length decides */
  assert_null(sb_tenants_account(t, "meta", "a0-"));
  assert_null(sb_tenants_account(t, "meta", "a0-11x"));
  /* a tenant of another set, or none, has no place in this one */
  json = big_file(2, 0);
  sb_tenants_t *other = parse(json, err);
  free(json);
  assert_int_equal(sb_tenants_index(t, sb_tenants_at(other, 1)), SIZE_MAX);
  assert_int_equal(sb_tenants_index(other, sb_tenants_at(t, 1)), SIZE_MAX);
  assert_int_equal(sb_tenants_index(other, sb_tenants_at(other, 1)), 1);
  assert_int_equal(sb_tenants_index(t, NULL), SIZE_MAX);
  sb_tenants_destroy(&other);
  sb_tenants_destroy(&t);
  json = big_file(TENANTS, 1);
  assert_null(parse(json, err));
  assert_non_null(strstr(err, "account meta/a0-1 is listed twice"));
  free(json);
  json = big_file(TENANTS + 1, 0);
  assert_null(parse(json, err));
  assert_non_null(strstr(err, "at most 4096 tenants"));
  free(json);
}

/* printf key-a | sha256sum */
#define KEY_A_HASH "sha256:f10f781241e2246678b6b45c857069208152a53863e47fac33f607ab405006f4"

static void api_keys_are_checked_by_hash(void **state) {
  (void)state;
  char err[256];
  sb_tenants_t *t = parse("{\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" KEY_A_HASH "\"]},{\"id\":\"b\"}]}", err);
  assert_non_null(t);
  const sb_tenant_t *a = sb_tenants_find(t, "a", 1), *b = sb_tenants_find(t, "b", 1);
  assert_true(sb_tenant_key_ok(a, "key-a"));
  assert_false(sb_tenant_key_ok(a, "key-b"));
  assert_false(sb_tenant_key_ok(a, NULL));
  assert_false(sb_tenant_key_ok(a, ""));
  assert_true(sb_tenant_key_ok(b, NULL)); /* no keys: open */
  sb_tenants_destroy(&t);
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"key-a\"]}]}", err)); /* a key, not a hash */
  assert_non_null(strstr(err, "sha256"));
  assert_null(parse("{\"tenants\":[{\"id\":\"a\",\"api_keys\":\"x\"}]}", err));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_valid_file_gives_each_tenant_its_policy),
      cmocka_unit_test(bad_files_are_refused_with_a_reason),
      cmocka_unit_test(the_bundled_configuration_loads),
      cmocka_unit_test(accounts_map_platform_ids_to_tenants_with_secrets),
      cmocka_unit_test(bad_accounts_are_refused_with_a_reason),
      cmocka_unit_test(an_email_event_key_is_an_ec_public_key),
      cmocka_unit_test(lookups_stay_exact_at_the_limits),
      cmocka_unit_test(api_keys_are_checked_by_hash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
