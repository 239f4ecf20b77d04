/*
 * Who may publish how much on POST /v1/events. Rate limits: a tenant over
 * its rate gets 429 with Retry-After and nothing is written. API keys: a tenant with keys takes events
 * only with one of them (Authorization: Bearer), a key of tenant A cannot
 * publish for tenant B, a tenant without keys stays open; nothing is
 * written for a refused request. Keys are stored as SHA-256 only (the
 * hashes below are printf KEY | sha256sum).
 */
#include "sb_testutil.h"
#include "sb_teststack.h"

#include "sb_service.h"

#include <stdio.h>
#include <string.h>

#define TENANTS                                                                         \
  "{\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"sha256:f10f781241e2246678b6b45c857069208152a53863e47fac33f607ab405006f4\"]},"                         \
  "{\"id\":\"slow\",\"rate\":{\"events_per_s\":1,\"burst\":2}},"                            \
  "{\"id\":\"b\",\"api_keys\":[\"sha256:a30534a53b23547377ddccbd1ac85a8a84c13db43493c16e55a6abc7b0eba634\"]},{\"id\":\"open\"}]}"
#define OUT_MAX 4096

static sb_teststack_t *st;

static int setup(void **state) {
  (void)state;
  st = sb_teststack_start(TENANTS, NULL);
  return st ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_teststack_stop(&st);
  return 0;
}

static int post(const char *tenant, const char *id, const char *header, char *out) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/app\",\"type\":\"com.switchboard.interaction\","
           "\"tenant\":\"%s\",\"data\":{\"channel\":\"app\",\"customer\":\"u1\",\"text\":\"hello\"}}",
           id, tenant);
  return sb_teststack_http_header(st, SB_PORT_INGEST_HTTP, "POST", "/v1/events", header,
                                  "application/cloudevents+json", body, strlen(body), out, OUT_MAX);
}

static long long ingested(const char *tenant) {
  sbctl_stats_t s = {0};
  assert_int_equal(sbctl_view_read(sb_teststack_redis(st), tenant, &s), 0);
  return s.ingested;
}

static void the_tenants_own_key_publishes(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post("a", "a-1", "Authorization: Bearer key-a", out), 202);
  assert_int_equal(ingested("a"), 1);
}

static void no_key_is_401_and_writes_nothing(void **state) {
  (void)state;
  char out[OUT_MAX];
  long long before = ingested("a");
  assert_int_equal(post("a", "a-2", NULL, out), 401);
  assert_non_null(strstr(out, "unauthorized"));
  assert_int_equal(post("a", "a-3", "Authorization: Bearer not-a-key", out), 403);
  assert_int_equal(ingested("a"), before);
}

static void another_tenants_key_is_403(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post("b", "b-1", "Authorization: Bearer key-a", out), 403);
  assert_non_null(strstr(out, "forbidden"));
  assert_int_equal(ingested("b"), 0);
  assert_int_equal(post("b", "b-2", "Authorization: Bearer key-b", out), 202);
}

static void a_tenant_without_keys_stays_open(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post("open", "o-1", NULL, out), 202);
}

static void over_its_rate_a_tenant_gets_429_with_retry_after(void **state) {
  (void)state;
  char out[OUT_MAX];
  assert_int_equal(post("slow", "s-1", NULL, out), 202);
  assert_int_equal(post("slow", "s-2", NULL, out), 202);
  assert_int_equal(post("slow", "s-3", NULL, out), 429); /* burst of 2 spent, 1/s */
  assert_non_null(strstr(out, "rate_limited"));
  assert_int_equal(ingested("slow"), 2);
  assert_int_equal(post("open", "o-2", NULL, out), 202); /* others are not held back */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_tenants_own_key_publishes),
      cmocka_unit_test(no_key_is_401_and_writes_nothing),
      cmocka_unit_test(another_tenants_key_is_403),
      cmocka_unit_test(a_tenant_without_keys_stays_open),
      cmocka_unit_test(over_its_rate_a_tenant_gets_429_with_retry_after),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
