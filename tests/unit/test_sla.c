/* sb_sla policy: due times from the customer's time, met within target. */
#include "sb_testutil.h"

#include "sb_sla.h"

static void warn_and_breach_count_from_when_the_customer_wrote(void **state) {
  (void)state;
  sb_tenant_t t = {.first_response_ms = 60000, .warn_percent = 80};
  sb_sla_due_t d = sb_sla_due(&t, 1000000);
  assert_int_equal(d.warn_due_ms, 1000000 + 48000);
  assert_int_equal(d.breach_due_ms, 1000000 + 60000);
}

static void a_reply_at_the_target_meets_it_and_one_later_does_not(void **state) {
  (void)state;
  sb_tenant_t t = {.first_response_ms = 120000, .warn_percent = 75};
  assert_true(sb_sla_met(&t, 0, 120000));
  assert_false(sb_sla_met(&t, 0, 120001));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(warn_and_breach_count_from_when_the_customer_wrote),
      cmocka_unit_test(a_reply_at_the_target_meets_it_and_one_later_does_not),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
