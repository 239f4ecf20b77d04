/*
 * sb_port: ports for private stacks come from outside the kernel's
 * ephemeral range (read from /proc by the test support, not sb_port.c), are
 * free when handed out, and one process never gets the same one twice in a
 * row; a port held by someone is not free.
 */
#include "sb_testutil.h"

#include "sb_port.h"

#include <unistd.h>

static void the_range_leaves_out_the_ephemeral_ports(void **state) {
  (void)state;
  int elo, ehi, lo, hi;
  sb_test_ephemeral_range(&elo, &ehi);
  sb_port_range(&lo, &hi);
  assert_true(lo >= 1024 && lo < hi && hi <= 65535);
  if (elo - SB_PORT_SAFE_LOW >= SB_PORT_ROOM_MIN || 65535 - ehi >= SB_PORT_ROOM_MIN)
    assert_true(hi < elo || lo > ehi);
  assert_true(hi - lo + 1 >= SB_PORT_ROOM_MIN);
}

static void picked_ports_are_in_range_free_and_not_repeated(void **state) {
  (void)state;
  int lo, hi, prev = 0;
  sb_port_range(&lo, &hi);
  for (int i = 0; i < 200; i++) {
    int p = sb_port_pick();
    assert_true(p >= lo && p <= hi);
    assert_int_not_equal(p, prev);
    assert_int_equal(sb_port_free(p), 1);
    prev = p;
  }
}

static void a_held_port_is_not_free(void **state) {
  (void)state;
  int p = sb_port_pick(), fd = sb_test_listen(p);
  assert_true(fd >= 0);
  assert_int_equal(sb_port_free(p), 0);
  close(fd);
  assert_int_equal(sb_port_free(p), 1);
  assert_int_equal(sb_port_free(0), 0);
  assert_int_equal(sb_port_free(70000), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_range_leaves_out_the_ephemeral_ports),
      cmocka_unit_test(picked_ports_are_in_range_free_and_not_repeated),
      cmocka_unit_test(a_held_port_is_not_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
