/* sb_ratelimit: a tenant gets its burst at once, then its rate; a refused
 * take takes nothing and says how long to wait; no rate, no limit. */
#include "sb_testutil.h"

#include "sb_ratelimit.h"

#include <string.h>

static sb_tenants_t *tenants;

static int setup(void **state) {
  (void)state;
  const char *json = "{\"tenants\":[{\"id\":\"slow\",\"rate\":{\"events_per_s\":10,\"burst\":20}},{\"id\":\"free\"}]}";
  char err[128];
  tenants = sb_tenants_parse(json, strlen(json), err, sizeof err);
  return tenants ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sb_tenants_destroy(&tenants);
  return 0;
}

static void burst_then_rate_then_wait(void **state) {
  (void)state;
  sb_ratelimit_t *r = sb_ratelimit_new(tenants);
  const sb_tenant_t *slow = sb_tenants_find(tenants, "slow", 4);
  assert_int_equal(sb_ratelimit_take(r, slow, 20, 1000), 0); /* the burst */
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1000), 100); /* 10/s: one token per 100 ms */
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1100), 0);  /* refilled */
  assert_int_equal(sb_ratelimit_take(r, slow, 5, 1200), 400); /* 1 there, 4 more to come */
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1200), 0);   /* the refused take took nothing */
  assert_int_equal(sb_ratelimit_take(r, slow, 20, 100000), 0); /* capped at the burst after idling */
  assert_true(sb_ratelimit_take(r, slow, 1, 100000) > 0);
  sb_ratelimit_destroy(&r);
  assert_null(r);
}

static void a_refund_gives_tokens_back(void **state) {
  (void)state;
  sb_ratelimit_t *r = sb_ratelimit_new(tenants);
  const sb_tenant_t *slow = sb_tenants_find(tenants, "slow", 4);
  assert_int_equal(sb_ratelimit_take(r, slow, 20, 0), 0);
  sb_ratelimit_refund(r, slow, 3);
  assert_int_equal(sb_ratelimit_take(r, slow, 3, 0), 0);
  assert_true(sb_ratelimit_take(r, slow, 1, 0) > 0);
  sb_ratelimit_destroy(&r);
}

static void a_tenant_without_a_rate_is_never_limited(void **state) {
  (void)state;
  sb_ratelimit_t *r = sb_ratelimit_new(tenants);
  const sb_tenant_t *free_ = sb_tenants_find(tenants, "free", 4);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(sb_ratelimit_take(r, free_, 1000, 0), 0);
  sb_ratelimit_destroy(&r);
}

/* Each tenant has its own bucket, found by its place in the set: with
 * three limited tenants, one exhausting its burst leaves the others whole;
 * a tenant of another set has no bucket here (not limited). */
static void each_tenant_has_its_own_bucket(void **state) {
  (void)state;
  const char *json = "{\"tenants\":[{\"id\":\"a\",\"rate\":{\"events_per_s\":1,\"burst\":2}},"
                     "{\"id\":\"b\",\"rate\":{\"events_per_s\":1,\"burst\":3}},"
                     "{\"id\":\"c\",\"rate\":{\"events_per_s\":1,\"burst\":4}}]}";
  char err[128];
  sb_tenants_t *set = sb_tenants_parse(json, strlen(json), err, sizeof err);
  assert_non_null(set);
  sb_ratelimit_t *r = sb_ratelimit_new(set);
  for (size_t i = 0; i < 3; i++) {
    const sb_tenant_t *t = sb_tenants_at(set, i);
    assert_int_equal(sb_ratelimit_take(r, t, (size_t)t->rate_burst, 0), 0);
    assert_true(sb_ratelimit_take(r, t, 1, 0) > 0);
    if (i + 1 < 3) { /* the next one is untouched */
      assert_int_equal(sb_ratelimit_take(r, sb_tenants_at(set, i + 1), 1, 0), 0);
      sb_ratelimit_refund(r, sb_tenants_at(set, i + 1), 1);
    }
  }
  const sb_tenant_t *other = sb_tenants_find(tenants, "slow", 4); /* same rate, other set */
  for (int i = 0; i < 100; i++)
    assert_int_equal(sb_ratelimit_take(r, other, 20, 0), 0);
  sb_ratelimit_destroy(&r);
  sb_tenants_destroy(&set);
}

/* N replicas share a tenant's rate: each holds 1/N of the rate and of
 * the burst, and together they give the rate to the token. */
static void a_share_of_the_replicas_divides_rate_and_burst(void **state) {
  (void)state;
  sb_ratelimit_t *r = sb_ratelimit_new(tenants);
  const sb_tenant_t *slow = sb_tenants_find(tenants, "slow", 4);
  sb_ratelimit_set_replicas(r, 2);
  assert_int_equal(sb_ratelimit_replicas(r), 2);
  assert_true(sb_ratelimit_take(r, slow, 11, 1000) > 0); /* burst 10 of 20: 11 is more */
  assert_int_equal(sb_ratelimit_take(r, slow, 10, 1000), 0);
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1000), 200); /* 5/s here */
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1200), 0);
  /* three replicas: 10/3 per s each; 100 ms steps carry the thirds */
  sb_ratelimit_set_replicas(r, 3);
  assert_true(sb_ratelimit_take(r, slow, 1, 1200) > 0);
  assert_true(sb_ratelimit_take(r, slow, 1, 1300) > 0); /* 333 thousandths */
  assert_true(sb_ratelimit_take(r, slow, 1, 1400) > 0); /* 666 */
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 1500), 0); /* 1000: exactly one token */
  assert_true(sb_ratelimit_take(r, slow, 1, 1500) > 0);
  /* back alone: the whole burst again, after refilling */
  sb_ratelimit_set_replicas(r, 1);
  assert_int_equal(sb_ratelimit_take(r, slow, 20, 100000), 0);
  /* 0 counts as 1; a burst smaller than the replicas still lets one through */
  sb_ratelimit_set_replicas(r, 0);
  assert_int_equal(sb_ratelimit_replicas(r), 1);
  sb_ratelimit_set_replicas(r, 50);
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 200000), 0);
  assert_int_equal(sb_ratelimit_take(r, slow, 1, 200000), 5000); /* 10/50 per s: 5 s a token */
  sb_ratelimit_destroy(&r);
}

static void bad_rates_are_refused(void **state) {
  (void)state;
  char err[256];
  const char *bad[] = {"{\"tenants\":[{\"id\":\"a\",\"rate\":{\"burst\":5}}]}",
                       "{\"tenants\":[{\"id\":\"a\",\"rate\":{\"events_per_s\":0}}]}",
                       "{\"tenants\":[{\"id\":\"a\",\"rate\":{\"events_per_s\":5,\"burst\":\"x\"}}]}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null(sb_tenants_parse(bad[i], strlen(bad[i]), err, sizeof err));
    assert_non_null(strstr(err, "rate"));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(burst_then_rate_then_wait),
      cmocka_unit_test(a_refund_gives_tokens_back),
      cmocka_unit_test(a_tenant_without_a_rate_is_never_limited),
      cmocka_unit_test(each_tenant_has_its_own_bucket),
      cmocka_unit_test(a_share_of_the_replicas_divides_rate_and_burst),
      cmocka_unit_test(bad_rates_are_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
